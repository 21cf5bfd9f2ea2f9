"""Static files as a deployment serves them: hashed names, compressed copies, a year in the cache.

The other tests render pages from static/ as it is (conftest.py); these run collectstatic with the
deployment's storage (config/storage.py) into a folder of their own and serve from it.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import leaflet
import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings

from coordination.views import field_service_worker

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
}


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """STATIC_ROOT after collectstatic of static/ and Leaflet's files (the admin's and the API
    browser's left out: they only cost time here)."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(
        STATIC_ROOT=root,
        STORAGES=DEPLOYED,
        STATICFILES_DIRS=[ROOT / "static", Path(leaflet.__file__).parent / "static"],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
    ):
        call_command("collectstatic", "--noinput", verbosity=0)
    return root


def deployed(root: Path):
    return override_settings(STATIC_ROOT=root, STORAGES=DEPLOYED, DEBUG=False, WHITENOISE_USE_FINDERS=False)


def test_collectstatic_writes_hashed_modules_that_import_each_others_hashed_names(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    ops = (collected / manifest["coordination/ops.js"]).read_text()
    imported = re.findall(r'from "(\.\./js/[^"]+)";', ops)
    assert imported, "ops.js imports nothing?"
    for name in imported:
        assert re.fullmatch(r"\.\./js/\w+\.[0-9a-f]{12}\.js", name), name  # a hashed copy, not ui.js itself
    for path in ("coordination/ops.js", "css/narvaro.css", "js/live.js"):
        hashed = collected / manifest[path]
        assert Path(f"{hashed}.gz").exists() and Path(f"{hashed}.br").exists(), path


def test_whitenoise_serves_a_hashed_file_compressed_and_cached_for_a_year(collected):
    with deployed(collected):
        manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
        response = Client().get(f"/static/{manifest['js/live.js']}", HTTP_ACCEPT_ENCODING="gzip, br")
        assert response.status_code == 200
        assert response["Content-Encoding"] == "br"
        assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
        plain = Client().get("/static/js/live.js")  # an unhashed name is served, but not for long
        assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]


def test_the_service_worker_precaches_the_deployed_hashed_names(collected, db):
    with deployed(collected):
        manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
        worker = field_service_worker(RequestFactory().get("/falt/sw.js")).content.decode()
    shell = re.findall(r'"(/static/[^"]+)"', re.search(r"const SHELL = \[(.*?)\];", worker).group(1))
    assert f"/static/{manifest['coordination/field.js']}" in shell
    assert f"/static/{manifest['js/live.js']}" in shell
    assert "/static/js/live.js" not in shell
    assert not any("leaflet-src" in url for url in shell)


def test_the_manifest_offers_a_maskable_icon_with_its_drawing_inside_the_safe_zone(client, db):
    from PIL import Image

    icons = json.loads(client.get("/falt/manifest.webmanifest").content)["icons"]
    maskable = [icon for icon in icons if icon.get("purpose") == "maskable"]
    assert [icon["sizes"] for icon in maskable] == ["512x512"]
    image = Image.open(ROOT / "static" / maskable[0]["src"].removeprefix("/static/")).convert("RGB")
    assert image.size == (512, 512)
    navy = image.getpixel((0, 0))
    # Full bleed (no transparent corners), and every pixel that is not background lies inside the
    # central circle of 80 % of the width that every mask keeps.
    assert all(image.getpixel(corner) == navy for corner in ((0, 511), (511, 0), (511, 511)))
    for x in range(0, 512, 4):
        for y in range(0, 512, 4):
            # (a pixel or two of rounding differs from the background by a shade; the drawing by far more)
            if max(abs(a - b) for a, b in zip(image.getpixel((x, y)), navy, strict=True)) > 16:
                assert (x - 255.5) ** 2 + (y - 255.5) ** 2 <= (0.4 * 512) ** 2, (x, y)


def settings_of(**env) -> dict:
    """Static and compression settings as a fresh interpreter reads them from exactly `env`."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'deployed': s.STATIC_DEPLOYED, 'finders': getattr(s, 'WHITENOISE_USE_FINDERS', s.DEBUG),"
        "'autorefresh': getattr(s, 'WHITENOISE_AUTOREFRESH', s.DEBUG),"
        "'gzip': 'django.middleware.gzip.GZipMiddleware' in s.MIDDLEWARE}))"
    )
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings"}
    base |= {"DATABASE_URL": "postgis://u@127.0.0.1:5432/db", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_make_run_serves_static_files_as_deployed_although_its_development_env_turns_debug_on():
    # scripts/serve (make run) exports STATIC_DEPLOYED=1 unless told otherwise.
    assert re.search(r"^export STATIC_DEPLOYED=\$\{STATIC_DEPLOYED:-1\}$", (ROOT / "scripts/serve").read_text(), re.M)
    development = {"DEBUG": "1", "SECRET_KEY": "dev-only-not-secret"}
    assert settings_of(**development, STATIC_DEPLOYED="1") == {
        "deployed": True,
        "finders": False,
        "autorefresh": False,
        "gzip": True,
    }
    # runserver while editing JavaScript: static/ as it is, found again on every request.
    assert settings_of(**development)["finders"] is True
    assert settings_of(DEBUG="0", SECRET_KEY="x" * 50)["deployed"] is True
    # Behind the TLS proxy Caddy compresses pages; the app does not do it twice.
    assert settings_of(DEBUG="0", SECRET_KEY="x" * 50, BEHIND_TLS_PROXY="1")["gzip"] is False


def test_under_debug_a_deployed_page_links_hashed_names_that_are_served_compressed_for_a_year(collected, db):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    with deployed(collected), override_settings(DEBUG=True, STATIC_DEPLOYED=True):
        page = Client().get("/").content.decode()
        assert f'href="/static/{manifest["css/narvaro.css"]}"' in page
        assert "/static/css/narvaro.css" not in page and "/static/leaflet/leaflet.js" not in page
        module = re.search(r'src="(/static/maps/public\.[0-9a-f]{12}\.js)"', page).group(1)
        response = Client().get(module, HTTP_ACCEPT_ENCODING="gzip, br")
        assert response.status_code == 200 and response["Content-Encoding"] == "br"
        assert "immutable" in response["Cache-Control"]


def test_pages_go_to_the_browser_gzip_compressed(client, db):
    response = client.get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
