"""The site's identity (web/site.py): settings from the environment or a TOML file, the
branded page, /site.css, and the configuration /embed.js carries."""

from __future__ import annotations

import json
import re

import falcon.testing
import pytest

from api import create_app
from settings import Settings, SettingsError
from web.site import Site, brand_page, darker, site_css

PORTAL = "https://portal.hongphuc.example"
BRAND = Settings(
    site_name="Cổng <TTĐT> quận Hồng Phúc",
    site_tagline="Tra cứu tin bài",
    site_logo="https://portal.hongphuc.example/logo.svg",
    site_home="https://portal.hongphuc.example",
    site_accent="#0b4f9c",
    cors_origins=(PORTAL,),
)


@pytest.fixture(scope="module")
def branded(engine):
    return falcon.testing.TestClient(create_app(engine, BRAND))


# --------------------------------------------------------------------------- settings
def test_site_settings_from_the_environment():
    env = {
        "VNSEARCH_SITE_NAME": "Cổng quận",
        "VNSEARCH_SITE_ACCENT": "#0b4f9c",
        "VNSEARCH_SITE_HOME": "https://a.example",
        "VNSEARCH_SITE_LOGO": "/static/logo.svg",
    }
    s = Settings.from_env(env)
    assert (s.site_name, s.site_accent, s.site_home, s.site_logo) == (
        "Cổng quận",
        "#0b4f9c",
        "https://a.example",
        "/static/logo.svg",
    )
    assert Site.from_settings(Settings()) == Site()


def test_site_settings_from_a_file_the_environment_wins(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(
        'site_name = "Cổng quận"\nsite_accent = "#123"\n'
        'cors_origins = ["https://a.example/", "https://B.example"]\n',
        encoding="utf-8",
    )
    s = Settings.from_env({"VNSEARCH_SETTINGS": str(path)})
    assert s.site_name == "Cổng quận" and s.site_accent == "#123"
    assert s.cors_origins == ("https://a.example", "https://b.example")
    s = Settings.from_env({"VNSEARCH_SETTINGS": str(path), "VNSEARCH_SITE_NAME": "Khác"})
    assert s.site_name == "Khác"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"VNSEARCH_SITE_ACCENT": "red; background:url(x)"}, "VNSEARCH_SITE_ACCENT"),
        ({"VNSEARCH_SITE_LOGO": "javascript:alert(1)"}, "VNSEARCH_SITE_LOGO"),
        ({"VNSEARCH_SITE_HOME": "portal.example"}, "VNSEARCH_SITE_HOME"),
        ({"VNSEARCH_CORS_ORIGINS": "https://a.example/tin-tuc"}, "VNSEARCH_CORS_ORIGINS"),
        ({"VNSEARCH_CORS_ORIGINS": "a.example"}, "VNSEARCH_CORS_ORIGINS"),
        ({"VNSEARCH_SETTINGS": "/nonexistent/site.toml"}, "VNSEARCH_SETTINGS"),
    ],
)
def test_bad_site_settings_stop_the_start_naming_the_variable(env, variable):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env)


def test_unknown_key_in_the_file_is_an_error(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('site_nam = "typo"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="site_nam"):
        Settings.from_env({"VNSEARCH_SETTINGS": str(path)})


def test_a_trailing_slash_in_an_origin_still_allows_that_origin(engine):
    settings = Settings.from_env({"VNSEARCH_CORS_ORIGINS": PORTAL + "/"})
    client = falcon.testing.TestClient(create_app(engine, settings))
    resp = client.simulate_get("/suggest", params={"q": "thanh"}, headers={"Origin": PORTAL})
    assert resp.headers.get("access-control-allow-origin") == PORTAL


# --------------------------------------------------------------------------- the page
def test_the_page_carries_the_site(branded):
    html = branded.simulate_get("/").text
    assert "Cổng &lt;TTĐT&gt; quận Hồng Phúc" in html and "<TTĐT>" not in html
    assert '<span class="brand-kicker">Tra cứu tin bài</span>' in html
    assert '<img class="brand-mark" src="https://portal.hongphuc.example/logo.svg"' in html
    assert '<a class="home-link" href="https://portal.hongphuc.example">' in html
    assert '<meta name="application-name" content="Cổng &lt;TTĐT&gt; quận Hồng Phúc">' in html
    assert '<link rel="stylesheet" href="/site.css">' in html
    assert "Kho tư liệu tin bài" not in html


def test_the_article_page_carries_the_site(branded):
    html = branded.simulate_get("/a/demo-001").text
    assert '<meta property="og:site_name" content="Cổng &lt;TTĐT&gt; quận Hồng Phúc">' in html
    assert "– Cổng &lt;TTĐT&gt; quận Hồng Phúc</title>" in html


def test_default_page_keeps_its_default_brand(client):
    html = client.simulate_get("/").text
    assert '<span class="brand-title">Kho tư liệu tin bài</span>' in html
    assert "home-link" not in html


def test_site_css_has_the_accent(branded, client):
    css = branded.simulate_get("/site.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--red:#0b4f9c" in css.text and f"--red-dark:{darker('#0b4f9c')}" in css.text
    assert "--red:#a8101f" in client.simulate_get("/site.css").text
    assert darker("#fff", 0.5) == "#808080"
    assert site_css(Site(accent="#000")) == ":root{--red:#000;--red-dark:#000000}\n"


def test_embed_js_carries_the_allowed_origins(branded):
    resp = branded.simulate_get("/embed.js")
    assert resp.headers["content-type"].startswith("text/javascript")
    config = json.loads(re.search(r"/\*SITE\*/(.*?)/\*END\*/", resp.text).group(1))
    assert config == {"origins": [PORTAL], "name": BRAND.site_name, "accent": "#0b4f9c"}
    again = branded.simulate_get("/embed.js", headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304


def test_brand_page_escapes_every_value():
    site = Site(name='"><script>x</script>', logo='/l.svg"><script>', home="https://a/?x=<y>")
    html = brand_page("<title>Tra cứu tin bài</title>\n    </div>\n  </header>", site)
    assert "<script>" not in html
