"""The service's settings: one frozen object, read from the environment once at the edge.

``Settings.from_env()`` is called by ``api.get_app()`` (what gunicorn runs) and by the
command line; everything below them receives the values it needs as arguments, so no
module reads ``os.environ`` on its own and tests build apps with their own ``Settings``.

=========================== ================================================ ==============
variable                    meaning                                          default
=========================== ================================================ ==============
``VNSEARCH_INDEX``          the index directory                              ``index_data``
``VNSEARCH_WARM_POSTINGS``  postings each worker reads ahead (0: none)       32,000,000
``VNSEARCH_PREFETCH``       read the index files into the page cache (0/1)   1
``VNSEARCH_CORS_ORIGINS``   comma-separated origins allowed to call the API  none
``VNSEARCH_EXPORT``         ``off``, ``public`` or ``key``                   ``public``
``VNSEARCH_EXPORT_KEY``     the key ``/export`` needs when ``key``           none
``VNSEARCH_HEAVY_SLOTS``    expensive requests a worker runs at once         1
=========================== ================================================ ==============
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from search.scoring import WARM_POSTINGS

DEFAULT_INDEX = Path("index_data")
EXPORT_MODES = ("off", "public", "key")
FALSE_WORDS = {"0", "off", "false", "no"}
TRUE_WORDS = {"1", "on", "true", "yes"}


class SettingsError(ValueError):
    """An environment variable with a value that cannot be used (names the variable)."""


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may change; the defaults serve the demo on one machine."""

    index: Path = DEFAULT_INDEX
    warm_postings: int = WARM_POSTINGS  # postings each worker reads ahead; 0 reads none
    prefetch: bool = True  # read each new generation's files into the page cache
    cors_origins: tuple[str, ...] = ()  # origins whose pages may call the API
    export: str = "public"  # "off", "public" or "key" (then ``export_key`` is required)
    export_key: str | None = None
    heavy_slots: int = 1  # exports, drafts and long queries a worker runs at once
    long_query_chars: int = 200  # a longer /search query is expensive: it takes a slot
    max_page: int = 1_000  # the deepest /search page (deeper: a cursor); not from the env

    def __post_init__(self):
        if self.export not in EXPORT_MODES:
            raise SettingsError(f"export must be one of {', '.join(EXPORT_MODES)}")
        if self.export == "key" and not self.export_key:
            raise SettingsError("export 'key' needs a key (VNSEARCH_EXPORT_KEY)")
        if self.heavy_slots < 1:
            raise SettingsError("heavy_slots must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``environ`` (``os.environ`` by default); ``overrides`` win.

        Raises ``SettingsError`` naming the variable when a value cannot be used, so a
        deployment fails at start rather than serving with a silent default.
        """
        env = os.environ if environ is None else environ
        values: dict = {
            "index": Path(env.get("VNSEARCH_INDEX") or DEFAULT_INDEX),
            "warm_postings": _count(env, "VNSEARCH_WARM_POSTINGS", WARM_POSTINGS),
            "prefetch": _switch(env, "VNSEARCH_PREFETCH", True),
            "cors_origins": _words(env.get("VNSEARCH_CORS_ORIGINS", "")),
            "export": (env.get("VNSEARCH_EXPORT") or "public").strip().lower(),
            "export_key": env.get("VNSEARCH_EXPORT_KEY") or None,
            "heavy_slots": _count(env, "VNSEARCH_HEAVY_SLOTS", 1),
        }
        if values["export"] not in EXPORT_MODES:
            raise SettingsError(
                f"VNSEARCH_EXPORT must be one of {', '.join(EXPORT_MODES)}, "
                f"not {values['export']!r}"
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip().replace("_", "")
    if not raw:
        return default
    try:
        return max(0, int(raw))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in FALSE_WORDS | TRUE_WORDS:
        return raw in TRUE_WORDS
    raise SettingsError(f"{name} must be 0 or 1, not {raw!r}")


def _words(raw: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in raw.split(",") if w.strip())
