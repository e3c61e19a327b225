"""The site's own identity on the search page and in embed.js: name, tagline, logo, a
link back to the site, the accent colour and the origins allowed to embed the box.

``Site`` is built from ``settings.Settings`` at the edge (``Site.from_settings``) and
handed to the resources that draw pages: ``brand_page`` puts it into ``index.html``
(text and attributes only, every value escaped), ``site_css`` gives the colours as CSS
variables (the page links ``/site.css``: no inline style or script, for the CSP) and
``embed_config`` is the JSON that ``/embed.js`` carries to check its origin.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

DEFAULT_NAME = "Kho tư liệu tin bài"
DEFAULT_TAGLINE = "Cổng thông tin điện tử"
DEFAULT_ACCENT = "#a8101f"
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_CONFIG_SLOT = re.compile(r"/\*SITE\*/.*?/\*END\*/", re.DOTALL)


@dataclass(frozen=True)
class Site:
    name: str = DEFAULT_NAME
    tagline: str = DEFAULT_TAGLINE
    logo: str | None = None  # an image URL (https://… or /…)
    home: str | None = None  # the site's own address: the header links back to it
    accent: str = DEFAULT_ACCENT  # #rgb or #rrggbb
    embed_origins: tuple[str, ...] = ()  # the pages' origins allowed to call the API

    @classmethod
    def from_settings(cls, settings) -> Site:
        return cls(
            name=getattr(settings, "site_name", None) or DEFAULT_NAME,
            tagline=getattr(settings, "site_tagline", None) or DEFAULT_TAGLINE,
            logo=getattr(settings, "site_logo", None),
            home=getattr(settings, "site_home", None),
            accent=getattr(settings, "site_accent", None) or DEFAULT_ACCENT,
            embed_origins=tuple(getattr(settings, "cors_origins", ()) or ()),
        )


def darker(colour: str, share: float = 0.75) -> str:
    """``colour`` (#rgb/#rrggbb) with each channel scaled by ``share``, as #rrggbb."""
    hexes = colour.lstrip("#")
    if len(hexes) == 3:
        hexes = "".join(c * 2 for c in hexes)
    channels = [int(hexes[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c * share):02x}" for c in channels)


def site_css(site: Site) -> str:
    """The colours of ``site`` as the page's CSS variables (style.css falls back to red)."""
    return f":root{{--red:{site.accent};--red-dark:{darker(site.accent)}}}\n"


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def brand_page(template: str, site: Site) -> str:
    """``index.html`` carrying the site's name, tagline, logo and link back."""
    name, tagline = escape(site.name), escape(site.tagline)
    page = template.replace(
        '<span class="brand-kicker">Cổng thông tin điện tử</span>',
        f'<span class="brand-kicker">{tagline}</span>',
    )
    page = page.replace(
        '<span class="brand-title">Kho tư liệu tin bài</span>',
        f'<span class="brand-title">{name}</span>',
    )
    page = page.replace("<title>Tra cứu tin bài</title>", f"<title>{name}</title>")
    page = page.replace(
        "<p>Kho tư liệu tin bài — tra cứu toàn văn tiếng Việt.</p>",
        f"<p>{name} — tra cứu toàn văn tiếng Việt.</p>",
    )
    page = page.replace(
        '<meta name="application-name" content="Kho tư liệu tin bài">',
        f'<meta name="application-name" content="{name}">',
    )
    if site.logo:
        page = re.sub(
            r'<svg class="brand-mark".*?</svg>',
            lambda _: f'<img class="brand-mark" src="{escape(site.logo)}" alt="">',
            page,
            count=1,
            flags=re.DOTALL,
        )
    if site.home:
        back = (
            f'<a class="home-link" href="{escape(site.home)}">‹ Về trang chủ '
            f"{escape(_host(site.home))}</a>"
        )
        page = page.replace("    </div>\n  </header>", f"      {back}\n    </div>\n  </header>", 1)
    return page


def embed_config(site: Site) -> str:
    """The JSON that ``embed.js`` reads: the allowed origins, the name and the accent."""
    return json.dumps(
        {"origins": list(site.embed_origins), "name": site.name, "accent": site.accent},
        ensure_ascii=False,
    )


def embed_script(source: str, site: Site) -> str:
    """``embed.js`` with the site's configuration in its ``/*SITE*/…/*END*/`` slot."""
    return _CONFIG_SLOT.sub(lambda _: f"/*SITE*/ {embed_config(site)} /*END*/", source, count=1)
