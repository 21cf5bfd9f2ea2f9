"""Static files as a deployment serves them: hashed names, compressed copies, a year in the cache.

The other tests render pages from static/ as it is (conftest.py); these run collectstatic with the
deployment's storage (config/storage.py) into a folder of their own and serve from it.
"""

import json
import re
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
