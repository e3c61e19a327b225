# The two commands of the README: `make serve` and `make test`; `make serve-public` is the
# production deployment (nginx in front of gunicorn, see README "Deployment").
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# `make serve` serves INDEX when you name one (it never writes into it), else the demo
# archive, indexed into DEMO_INDEX.
INDEX  ?=
DEMO_INDEX ?= index_demo
SERVE_INDEX = $(or $(INDEX),$(DEMO_INDEX))
PORT   ?= 8000
HOST   ?= 0.0.0.0
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: serve serve-public test install demo-index lint browser-deps nginx-deps clean

$(BIN)/vnsearch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/vnsearch

demo-index: install
	$(BIN)/vnsearch index demo/articles.jsonl demo/portal --index $(DEMO_INDEX) --quiet || test $$? -eq 1

serve: install $(if $(INDEX),,demo-index)
	@test -e $(SERVE_INDEX)/current || { echo "make serve: no index in $(SERVE_INDEX); build it with: $(BIN)/vnsearch index ARCHIVE --index $(SERVE_INDEX)" >&2; exit 2; }
	VNSEARCH_INDEX=$(SERVE_INDEX) $(BIN)/vnsearch serve --bind 127.0.0.1:$(PORT) --workers $(WORKERS)

# nginx in front of two gunicorn pools, in the foreground; Ctrl-C or SIGTERM stops them all
serve-public: install nginx-deps $(if $(INDEX),,demo-index)
	@test -e $(SERVE_INDEX)/current || { echo "make serve-public: no index in $(SERVE_INDEX); build it with: $(BIN)/vnsearch index ARCHIVE --index $(SERVE_INDEX)" >&2; exit 2; }
	exec $(BIN)/python -m deploy.serve --index $(SERVE_INDEX) --host $(HOST) --port $(PORT) --workers $(WORKERS)

# Debian's nginx for `make serve-public` and its tests, installed like Chromium (the system's
# nginx service is never used: deploy/serve.py runs its own, unprivileged)
nginx-deps:
	test -x /usr/sbin/nginx || command -v nginx >/dev/null || (command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null) || \
	  echo "nginx not installed: make serve-public cannot run and its tests will be skipped")

# Debian's Chromium for the browser test (Playwright drives it; it never downloads a browser)
browser-deps:
	test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: the browser test will be skipped")

test: install browser-deps nginx-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(DEMO_INDEX)
