"""Every screen by night at phone and desktop width, the duty map at control-room sizes by day and night.

Each page must fit its width (no sideways scrolling); the screenshots land in test-artifacts/night/
for a person to look at.
"""

from playwright.sync_api import expect

from maps.models import Activity
from tests.browser.conftest import ARTIFACTS, HARBOUR, off_loop
from tests.browser.test_screens import evening

PHONE_390 = {"width": 390, "height": 844}
DESKTOP_1440 = {"width": 1440, "height": 900}
ROOMS = {"1366x768": {"width": 1366, "height": 768}, "1920x1080": {"width": 1920, "height": 1080}}


def shoot(page, name: str) -> None:
    folder = ARTIFACTS / "night"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def opened(browsers, user, path, viewport, scheme):
    page = browsers.context(user, viewport=viewport, geolocation=HARBOUR, color_scheme=scheme).new_page()
    page.goto(path)
    if page.locator("#connection").count():
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    page.wait_for_timeout(400)  # markers and fonts settle
    return page


def test_every_screen_by_night_fits_its_width_and_the_duty_map_fits_control_room_screens(world, browsers):
    off_loop(evening, world)
    activity = off_loop(lambda: Activity.objects.order_by("pk").first().pk)
    for size, viewport in (("1366", ROOMS["1366x768"]), ("1920", ROOMS["1920x1080"])):
        for scheme in ("light", "dark"):
            page = opened(browsers, world.dana, "/jour/", viewport, scheme)
            assert page.evaluate("document.scrollingElement.scrollHeight") <= viewport["height"]
            shoot(page, f"ops-{size}-{scheme}")
            page.context.close()
    for name, user, path in (
        ("public", None, "/"),
        ("login", None, "/konto/logga-in/"),
        ("field", world.alice, "/falt/"),
        ("ops", world.dana, "/jour/"),
        ("association", world.erik, "/forening/"),
        ("activity-edit", world.erik, f"/forening/{activity}/"),
    ):
        for size, viewport in (("390", PHONE_390), ("1440", DESKTOP_1440)):
            page = opened(browsers, user, path, viewport, "dark")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"], (name, size)
            shoot(page, f"{name}-{size}-dark")
            if name == "field" and size == "390":
                page.click("#alert-open")
                shoot(page, "field-alarm-390-dark")
            page.context.close()
