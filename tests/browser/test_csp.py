"""Content-Security-Policy: every main page carries it and runs in Chromium without one violation.

A listener added before any page script records each `securitypolicyviolation` event; the map, the
live socket, the service worker and the JavaScript catalogue must all work under the policy.
"""

from playwright.sync_api import expect

from coordination import services
from tests.browser.conftest import DESKTOP, HARBOUR, off_loop

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def open_watched(browsers, user, path: str, **options):
    context = browsers.context(user, **options)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    response = page.goto(path)
    return page, response


def violations(page) -> list[str]:
    page.wait_for_timeout(300)  # a late violation (a tile, a socket) is reported asynchronously
    return page.evaluate("window.__cspViolations")


def test_every_main_page_has_the_policy_and_runs_without_a_violation(world, browsers):
    off_loop(services.device_token_issue, user=world.alice, name="Traccar", app="traccar")
    pages = (
        (None, "/konto/logga-in/", None),
        (None, "/", "#connection"),
        (world.alice, "/falt/", "#connection"),
        (world.alice, "/falt/koppla/", None),
        (world.dana, "/jour/", "#connection"),
        (world.erik, "/forening/", None),
        (world.dana, "/start/", None),
    )
    for user, path, live in pages:
        page, response = open_watched(browsers, user, path, viewport=DESKTOP, geolocation=HARBOUR)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        if live:
            expect(page.locator(live)).to_have_attribute("data-state", "online")
        if path in ("/", "/falt/", "/jour/"):
            # The map started (its loader is no inline script any more). The field page's map is
            # made the first time its tab is opened.
            if path == "/falt/":
                expect(page.locator(".leaflet-container")).to_have_count(0)
                page.click(".tabbar [data-show=map]")
            expect(page.locator(".leaflet-container")).not_to_have_count(0)
        assert violations(page) == [], path
        page.context.close()


def test_the_field_pages_service_worker_registers_under_the_policy(world, browsers):
    page, _response = open_watched(browsers, world.alice, "/falt/", geolocation=HARBOUR)
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    assert violations(page) == []


def test_the_pairing_qr_code_renders_under_the_policy(world, browsers):
    page, _response = open_watched(browsers, world.alice, "/falt/koppla/")
    page.click("main form button[type=submit]")
    expect(page.locator(".qr svg")).to_be_visible()
    assert violations(page) == []
