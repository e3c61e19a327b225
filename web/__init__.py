"""The search page and embed.js: static files served by api.py (a package so installs carry them)."""
