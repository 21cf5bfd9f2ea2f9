"""Night mode: every page follows the device's colour scheme, a switch overrides it and is kept."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP

DARK_BACKGROUND = "rgb(14, 21, 28)"  # --bg by night (static/css/narvaro.css)
LIGHT_BACKGROUND = "rgb(244, 246, 248)"
DARK_TILES = "https://tiles.night.test/{z}/{x}/{y}.png"


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


@pytest.mark.parametrize(("scheme", "colour"), [("dark", DARK_BACKGROUND), ("light", LIGHT_BACKGROUND)])
def test_every_page_follows_the_devices_colour_scheme(world, browsers, scheme, colour):
    for user, path in ((None, "/"), (None, "/konto/logga-in/"), (world.alice, "/falt/"), (world.dana, "/jour/")):
        page = browsers.context(user, color_scheme=scheme).new_page()
        page.goto(path)
        assert background(page) == colour, path
        page.context.close()


def test_the_switch_in_the_menu_overrides_the_device_and_is_remembered_across_a_reload(world, browsers):
    page = browsers.page(world.alice, "/falt/")
    assert background(page) == LIGHT_BACKGROUND
    page.click(".menu summary")
    page.click("[data-theme-choice=dark]")
    assert background(page) == DARK_BACKGROUND
    expect(page.locator("[data-theme-choice=dark]")).to_have_attribute("aria-pressed", "true")

    response = page.reload()
    # The server draws the choice into the page itself: dark from the first paint, no script needed.
    assert '<html lang="sv" data-theme="dark">' in response.text()
    assert background(page) == DARK_BACKGROUND
    assert page.evaluate("localStorage.getItem('narvaro-theme')") == "dark"
    other = page.context.new_page()
    other.goto("/")
    assert background(other) == DARK_BACKGROUND  # every page of the site, not just this one

    page.click(".menu summary")
    page.click("[data-theme-choice='']")  # back to the device's setting (light here)
    assert background(page) == LIGHT_BACKGROUND
    page.reload()
    assert background(page) == LIGHT_BACKGROUND


def test_by_night_the_map_is_darkened_when_no_dark_tiles_are_configured(world, browsers):
    page = browsers.context(world.dana, viewport=DESKTOP, color_scheme="dark").new_page()
    page.goto("/jour/")
    expect(page.locator("#ops-map .leaflet-tile-pane")).to_have_count(1)
    assert "invert(1)" in page.locator("#ops-map .leaflet-tile-pane").evaluate("e => getComputedStyle(e).filter")
    assert page.locator("#ops-map").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(27, 37, 47)"
    legend = page.locator(".ops-map .legend").evaluate("e => getComputedStyle(e).backgroundColor")
    assert legend.startswith("rgba(23, 33, 43")  # the overlays go dark too

    page.click(".menu summary")
    page.click("[data-theme-choice=light]")
    assert page.locator("#ops-map .leaflet-tile-pane").evaluate("e => getComputedStyle(e).filter") == "none"


@pytest.fixture
def dark_tiles(monkeypatch):
    """The deployment names a dark tile style (read by the server the browsers fixture starts)."""
    monkeypatch.setenv("MAP_TILES_DARK_URL", DARK_TILES)


def test_by_night_the_map_takes_the_dark_tile_style_when_one_is_configured(dark_tiles, world, browsers):
    context = browsers.context(None, color_scheme="dark")
    asked: list[str] = []

    def answer(route):
        asked.append(route.request.url)
        route.fulfill(status=204)

    context.route("https://tiles.night.test/**", answer)
    page = context.new_page()
    page.goto("/")
    expect(page.locator("#public-map.dark-tiles")).to_have_count(1)
    page.wait_for_function("document.querySelectorAll('#public-map .leaflet-tile').length > 0")
    sources = page.locator("#public-map .leaflet-tile").evaluate_all("tiles => tiles.map(t => t.src)")
    assert sources and all(src.startswith("https://tiles.night.test/") for src in sources)
    assert page.locator("#public-map .leaflet-tile-pane").evaluate("e => getComputedStyle(e).filter") == "none"

    page.click(".menu summary")
    page.click("[data-theme-choice=light]")  # by day, the day tiles again
    page.wait_for_function(
        "[...document.querySelectorAll('#public-map .leaflet-tile')].some(t => t.src.includes('openstreetmap'))"
    )
