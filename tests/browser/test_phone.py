"""The field page tells the truth (issue 15, items 3–5): what the duty officer sees of this phone,
how old the picture is, a lost session, the alarm sheet, and consent before sharing."""

from pathlib import Path

from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect

from coordination import services
from coordination.models import PositionReport
from coordination.tests.sockets import new_id
from tests.browser.conftest import HARBOUR, off_loop

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "shots" / "screens-phone"  # git-ignored
PHONE_390 = {"width": 390, "height": 844}
# 60 m north of HARBOUR: far enough for the phone to send a new position.
MOVED = {"latitude": HARBOUR["latitude"] + 0.0006, "longitude": HARBOUR["longitude"]}


def shot(page: Page, name: str) -> None:
    """A light-mode phone screenshot for the issue's note (kept outside the repository)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def sharing_field(browsers, person):
    """`person`'s phone on a shift this phone started, sharing its position, with the offline shell cached."""
    context = browsers.context(person, viewport=PHONE_390, geolocation=HARBOUR)
    page = context.new_page()
    page.goto("/falt/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    page.click("#shift-start")
    expect(page.locator("#sharing")).to_have_attribute("data-state", "on")
    return context, page


def test_a_sharing_phone_says_the_duty_officer_sees_it_and_when(world, browsers):
    _context, field = sharing_field(browsers, world.alice)
    expect(field.locator("#sharing-text")).to_contain_text("Jouren ser dig – senast")
    expect(field.locator("#consent")).to_be_hidden()  # starting the shift myself was my yes
    expect(field.locator("#phone-line")).to_be_hidden()  # live: nothing to warn about
    assert PositionReport.objects.filter(shift__team=world.harbour_team).exists()
    shot(field, "field-sharing")


def test_offline_the_phone_says_not_sent_since_also_after_a_reload(world, browsers):
    context, field = sharing_field(browsers, world.alice)
    sent_at = field.locator("#sharing-text").inner_text().rsplit("senast ", 1)[1][:5]
    # The service worker holds the page shell before the network goes.
    assert field.evaluate(
        "navigator.serviceWorker.ready.then(() => caches.open('narvaro-field-v1')).then(c => c.match('/falt/'))"
        ".then(r => !!r)"
    )
    field.reload()  # the cached copy now has the shift in its picture
    expect(field.locator("#sharing")).to_have_attribute("data-state", "on")

    context.set_offline(True)
    expect(field.locator("#connection")).to_have_attribute("data-state", "offline")
    expect(field.locator("#sharing")).to_have_attribute("data-state", "queued")
    expect(field.locator("#sharing-text")).to_have_text(f"Inte skickat sedan {sent_at} – sparas på telefonen")
    expect(field.locator("#phone-line")).to_contain_text("Ingen anslutning. Data från")
    # Moving while offline: the position waits in the outbox, and the line still says so.
    context.set_geolocation(MOVED)
    field.wait_for_function(
        "new Promise((ok) => { const r = indexedDB.open('narvaro-outbox-' + "
        f"{world.alice.pk}); r.onsuccess = () => r.result.transaction('items').objectStore('items').count()"
        ".onsuccess = (e) => ok(e.target.result > 0); })",
        timeout=15000,
    )
    expect(field.locator("#sharing")).to_have_attribute("data-state", "queued")
    shot(field, "field-offline")

    response = field.reload()
    assert response is not None and response.from_service_worker
    expect(field.locator("#connection")).to_have_attribute("data-state", "offline")  # not "Ansluter …"
    expect(field.locator("#connection")).to_have_text("Frånkopplad")
    expect(field.locator("#sharing")).to_have_attribute("data-state", "queued")
    expect(field.locator("#sharing-text")).to_contain_text("sparas på telefonen")
    expect(field.locator("#phone-line")).to_contain_text("Data från")
    shot(field, "field-offline-reloaded")

    context.set_offline(False)
    expect(field.locator("#sharing")).to_have_attribute("data-state", "on", timeout=15000)
    expect(field.locator("#phone-line")).to_be_hidden()


def test_a_phone_whose_session_is_gone_says_log_in_again_with_a_link(world, browsers):
    _context, field = sharing_field(browsers, world.alice)
    off_loop(lambda: Session.objects.all().delete())  # logged out server-side (or expired)
    expect(field.locator("#connection")).to_have_text("Utloggad – logga in igen", timeout=8000)
    expect(field.locator("#phone-line")).to_contain_text("Du är utloggad.")
    link = field.locator("#phone-login")
    expect(link).to_be_visible()
    expect(link).to_have_text("Logga in igen")
    expect(field.locator("#sharing")).to_have_attribute("data-state", "signed_out")
    expect(field.locator("#sharing-toggle")).to_be_hidden()  # pausing means nothing now; signing in does
    shot(field, "field-session-lost")
    link.click()
    expect(field).to_have_url("/konto/logga-in/?next=/falt/")


def test_the_alarm_sheet_puts_up_no_keyboard_closes_with_escape_and_keeps_focus_inside(world, browsers):
    field = browsers.page(world.alice, "/falt/", viewport=PHONE_390, geolocation=HARBOUR)
    expect(field.locator("#connection")).to_have_attribute("data-state", "online")
    # The status and the alarm have different names.
    expect(field.locator(".tabbar #alert-open")).to_have_text("Larm: hjälp nu")
    field.click("#alert-open")
    sheet = field.locator("#alert-sheet")
    expect(sheet).to_be_visible()
    assert field.evaluate("document.activeElement.tagName") == "H2"  # no text field, no keyboard
    assert field.evaluate("document.activeElement.closest('[role=dialog]') !== null")
    for _ in range(6):
        field.keyboard.press("Tab")
        assert field.evaluate("document.activeElement.closest('#alert-sheet') !== null")
    field.keyboard.press("Shift+Tab")
    assert field.evaluate("document.activeElement.closest('#alert-sheet') !== null")

    # A toast while the sheet is open is not drawn over its buttons.
    field.evaluate("import('/static/js/ui.js').then((ui) => ui.toast('Skickat.'))")
    toast = field.locator("#toast")
    expect(toast).to_be_visible()
    toast_box = toast.bounding_box()
    for button in ("#alert-confirm", "#alert-cancel"):
        box = field.locator(button).bounding_box()
        assert box["height"] >= 48
        overlaps = not (
            toast_box["y"] + toast_box["height"] <= box["y"]
            or box["y"] + box["height"] <= toast_box["y"]
            or toast_box["x"] + toast_box["width"] <= box["x"]
            or box["x"] + box["width"] <= toast_box["x"]
        )
        assert not overlaps, f"the toast covers {button}"
    shot(field, "field-alarm-sheet")

    field.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    assert field.evaluate("document.activeElement.id") == "alert-open"  # focus back where it was


def test_position_and_shift_controls_are_at_least_48_px(world, browsers):
    _context, field = sharing_field(browsers, world.alice)
    for selector in ("#sharing-toggle", "#shift-end", "#checkin-form button", "#status-buttons button"):
        box = field.locator(selector).first.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48, (selector, box)
    expect(field.locator("#status-buttons [data-status=need_backup]")).to_have_text("Status: behöver förstärkning")


def test_a_teammates_shift_start_asks_before_this_phone_shares(world, browsers):
    alice = browsers.page(world.alice, "/falt/", viewport=PHONE_390, geolocation=HARBOUR)
    bob = browsers.page(world.bob, "/falt/", viewport=PHONE_390, geolocation=HARBOUR)
    expect(alice.locator("#connection")).to_have_attribute("data-state", "online")
    expect(bob.locator("#connection")).to_have_attribute("data-state", "online")
    alice.click("#shift-start")  # alice starts the team's shift on her phone
    expect(alice.locator("#sharing")).to_have_attribute("data-state", "on")

    expect(bob.locator("#consent")).to_be_visible()
    expect(bob.locator("#consent")).to_contain_text("Teamet har börjat passet – dela din position?")
    expect(bob.locator("#sharing")).to_have_attribute("data-state", "ask")
    shot(bob, "field-consent")
    bob.wait_for_timeout(1500)  # time enough for a position, had the phone shared one
    assert not PositionReport.objects.filter(user=world.bob).exists()

    bob.click("#consent-yes")
    expect(bob.locator("#consent")).to_be_hidden()
    expect(bob.locator("#sharing")).to_have_attribute("data-state", "on")
    assert PositionReport.objects.filter(user=world.bob).exists()
    bob.reload()  # the answer holds for this shift
    expect(bob.locator("#consent")).to_be_hidden()

    # alice ends the shift: bob's phone says so instead of going quiet.
    alice.on("dialog", lambda dialog: dialog.accept())
    alice.click("#shift-end")
    expect(bob.locator("#shift-ended")).to_be_visible()
    expect(bob.locator("#shift-ended")).to_contain_text("Teamet avslutade passet kl")
    expect(bob.locator("#shift-off")).to_be_visible()
    expect(alice.locator("#shift-ended")).to_be_hidden()  # her own end is no news to her


def test_saying_not_now_keeps_the_phone_quiet_until_it_chooses_to_share(world, browsers):
    off_loop(services.shift_start, user=world.alice, client_id=new_id())
    bob = browsers.page(world.bob, "/falt/", viewport=PHONE_390, geolocation=HARBOUR)
    expect(bob.locator("#consent")).to_be_visible()
    bob.click("#consent-no")
    expect(bob.locator("#sharing")).to_have_attribute("data-state", "paused")
    expect(bob.locator("#sharing-text")).to_have_text("Positionen delas inte (du valde att inte dela)")
    bob.wait_for_timeout(1000)
    assert not PositionReport.objects.filter(user=world.bob).exists()
    bob.click("#sharing-toggle")  # "Dela"
    expect(bob.locator("#sharing")).to_have_attribute("data-state", "on")
