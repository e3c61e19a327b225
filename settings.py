"""The service's settings: one frozen object, read from the environment once at the edge.

``Settings.from_env()`` is called by ``api.get_app()`` (what gunicorn runs) and by the
command line; everything below them receives the values it needs as arguments, so no
module reads ``os.environ`` on its own and tests build apps with their own ``Settings``.

=========================== ================================================ ==============
variable                    meaning                                          default
=========================== ================================================ ==============
``VNSEARCH_INDEX``          the index directory                              ``index_data``
``VNSEARCH_WARM_POSTINGS``  postings each worker reads ahead (0: none)       2% of free RAM
``VNSEARCH_PREFETCH``       read the index files into the page cache (0/1)   1
``VNSEARCH_CORS_ORIGINS``   comma-separated origins allowed to call the API  none
``VNSEARCH_EXPORT``         ``off``, ``public`` or ``key``                   ``public``
``VNSEARCH_EXPORT_KEY``     the key ``/export`` needs when ``key``           none
``VNSEARCH_HEAVY_SLOTS``    expensive requests a worker runs at once         1
``VNSEARCH_SITE_NAME``      the site's name on the page and in link previews ``Kho tư liệu…``
``VNSEARCH_SITE_TAGLINE``   the line above the name                          ``Cổng thông…``
``VNSEARCH_SITE_LOGO``      a logo image address (https://… or /…)           the star
``VNSEARCH_SITE_HOME``      the site's own address (the header links back)   none
``VNSEARCH_SITE_ACCENT``    the accent colour, #rgb or #rrggbb               ``#a8101f``
``VNSEARCH_ANALYTICS``      the query log: on (beside the index), off, path  on
``VNSEARCH_SETTINGS``       a TOML file with any of the keys above           none
=========================== ================================================ ==============

In the file the keys are the field names (``site_name``, ``cors_origins`` as a list…);
the environment wins over the file. docs/embedding.md shows both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from search.scoring import WARM_POSTINGS

DEFAULT_INDEX = Path("index_data")
ANALYTICS_NAME = "queries.sqlite"
EXPORT_MODES = ("off", "public", "key")
FALSE_WORDS = {"0", "off", "false", "no"}
TRUE_WORDS = {"1", "on", "true", "yes"}


class SettingsError(ValueError):
    """An environment variable with a value that cannot be used (names the variable)."""


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may change; the defaults serve the demo on one machine."""

    index: Path = DEFAULT_INDEX
    # postings each worker reads ahead and keeps; 0 reads none; None: a share of the
    # available memory (``search.pagecache.warm_budget``)
    warm_postings: int | None = WARM_POSTINGS
    prefetch: bool = True  # read each new generation's files into the page cache
    # processes serving the index on this machine: each keeps ahead its share of the
    # memory budget (``search.memory``); VNSEARCH_WORKERS, else gunicorn's WEB_CONCURRENCY
    workers: int = 1
    cors_origins: tuple[str, ...] = ()  # origins whose pages may call the API
    export: str = "public"  # "off", "public" or "key" (then ``export_key`` is required)
    export_key: str | None = None
    heavy_slots: int = 1  # exports, drafts and long queries a worker runs at once
    long_query_chars: int = 200  # a longer /search query is expensive: it takes a slot
    max_page: int = 1_000  # the deepest /search page (deeper: a cursor); not from the env
    site_name: str | None = None  # None: the defaults of web.site
    site_tagline: str | None = None
    site_logo: str | None = None
    site_home: str | None = None
    site_accent: str | None = None
    analytics: str = "on"  # the query log: "on" (beside the index), "off" or a file path

    def analytics_path(self, index: Path | None = None) -> Path | None:
        """Where the query log is kept (``search.analytics``); None when it is off."""
        if self.analytics == "off":
            return None
        if self.analytics == "on":
            return Path(index or self.index) / ANALYTICS_NAME
        return Path(self.analytics)

    def __post_init__(self):
        if self.export not in EXPORT_MODES:
            raise SettingsError(f"export must be one of {', '.join(EXPORT_MODES)}")
        if self.export == "key" and not self.export_key:
            raise SettingsError("export 'key' needs a key (VNSEARCH_EXPORT_KEY)")
        if self.heavy_slots < 1:
            raise SettingsError("heavy_slots must be at least 1")
        if self.workers < 1:
            raise SettingsError("workers must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``environ`` (``os.environ`` by default); ``overrides`` win.

        Raises ``SettingsError`` naming the variable when a value cannot be used, so a
        deployment fails at start rather than serving with a silent default.
        """
        env = os.environ if environ is None else environ
        env = {**_settings_file(env.get("VNSEARCH_SETTINGS")), **env}
        values: dict = {
            "index": Path(env.get("VNSEARCH_INDEX") or DEFAULT_INDEX),
            "warm_postings": _count(env, "VNSEARCH_WARM_POSTINGS", WARM_POSTINGS),
            "prefetch": _switch(env, "VNSEARCH_PREFETCH", True),
            "cors_origins": _origins(env, "VNSEARCH_CORS_ORIGINS"),
            **_site(env),
            "analytics": _analytics(env),
            "export": (env.get("VNSEARCH_EXPORT") or "public").strip().lower(),
            "export_key": env.get("VNSEARCH_EXPORT_KEY") or None,
            "heavy_slots": _count(env, "VNSEARCH_HEAVY_SLOTS", 1, minimum=1),
            "workers": _count(
                env, "VNSEARCH_WORKERS", _count(env, "WEB_CONCURRENCY", 1, minimum=1), minimum=1
            ),
        }
        if values["export"] not in EXPORT_MODES:
            raise SettingsError(
                f"VNSEARCH_EXPORT must be one of {', '.join(EXPORT_MODES)}, "
                f"not {values['export']!r}"
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


SITE_KEYS = ("site_name", "site_tagline", "site_logo", "site_home", "site_accent")
FILE_KEYS = (
    *SITE_KEYS,
    "cors_origins",
    "index",
    "warm_postings",
    "prefetch",
    "export",
    "export_key",
    "heavy_slots",
    "workers",
    "analytics",
)
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


def _settings_file(path: str | None) -> dict[str, str]:
    """The TOML file named by VNSEARCH_SETTINGS as environment-style values."""
    if not path:
        return {}
    import tomllib  # only where a settings file is named (a one-query CLI reads none)

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise SettingsError(f"VNSEARCH_SETTINGS: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"VNSEARCH_SETTINGS: {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise SettingsError(
            f"VNSEARCH_SETTINGS: unknown key {unknown[0]!r} in {path} "
            f"(known: {', '.join(FILE_KEYS)})"
        )
    out = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        out["VNSEARCH_" + key.upper()] = str(value)
    return out


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Origins as browsers send them: ``scheme://host[:port]``, lowercased, no trailing
    slash (``https://a.vn/`` is ``https://a.vn``); a path is an error naming ``name``."""
    out = []
    for word in _words(env.get(name, "")):
        origin = word.rstrip("/").lower()
        if origin != "*" and not ORIGIN.match(origin):
            raise SettingsError(
                f"{name}: {word!r} is not an origin; write scheme://host[:port] "
                "with no path, e.g. https://portal.example.vn"
            )
        out.append(origin)
    return tuple(dict.fromkeys(out))


def _site(env: Mapping[str, str]) -> dict:
    values = {}
    for key in SITE_KEYS:
        name = "VNSEARCH_" + key.upper()
        raw = (env.get(name) or "").strip()
        if key == "site_accent" and raw and not HEX_COLOUR.match(raw):
            raise SettingsError(f"{name} must be a colour like #0b4f9c, not {raw!r}")
        if key in ("site_logo", "site_home") and raw and not re.match(r"^(https?://|/)", raw):
            raise SettingsError(f"{name} must be an address starting https:// or /, not {raw!r}")
        values[key] = raw or None
    return values


def _analytics(env: Mapping[str, str]) -> str:
    raw = (env.get("VNSEARCH_ANALYTICS") or "").strip()
    if not raw or raw.lower() in TRUE_WORDS:
        return "on"
    if raw.lower() in FALSE_WORDS:
        return "off"
    return raw


def _count(
    env: Mapping[str, str], name: str, default: int | None, minimum: int | None = None
) -> int | None:
    """A whole number; below ``minimum`` an error naming ``name`` (the field's own check
    cannot say which variable); without a minimum, a negative number reads as 0."""
    raw = (env.get(name) or "").strip().replace("_", "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {raw!r}")
    return max(0, value)


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in FALSE_WORDS | TRUE_WORDS:
        return raw in TRUE_WORDS
    raise SettingsError(f"{name} must be 0 or 1, not {raw!r}")


def _words(raw: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in raw.split(",") if w.strip())
