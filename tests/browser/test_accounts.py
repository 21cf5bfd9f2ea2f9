"""The account screens on a phone: pairing a tracker app by QR code, the device list, the second factor."""

from django.utils import timezone
from playwright.sync_api import expect

from coordination import services
from coordination.models import DeviceToken
from tests.browser.conftest import off_loop, screenshot

IPHONE = {"width": 390, "height": 844}


def test_alice_pairs_owntracks_on_her_phone_and_sees_her_devices(world, browsers):
    token, _key = off_loop(services.device_token_issue, user=world.alice, name="Jobbtelefonen", app="traccar")
    off_loop(lambda: DeviceToken.objects.filter(pk=token.pk).update(last_position_at=timezone.now()))
    page = browsers.page(world.alice, "/falt/koppla/", viewport=IPHONE)
    page.check("input[value=owntracks]")
    page.fill("input[name=name]", "Privata mobilen")
    page.click("main form button[type=submit]")
    expect(page.locator(".qr svg")).to_be_visible()
    link = page.locator("a.button.primary").get_attribute("href")
    assert link.startswith("owntracks:///config?inline=")
    screenshot(page, "accounts-pairing-phone")
    page.locator("#devices-title").scroll_into_view_if_needed()
    expect(page.locator(".device")).to_have_count(2)
    expect(page.locator(".device").first).to_contain_text("Privata mobilen")
    screenshot(page, "accounts-devices-phone", full_page=True)

    # Revoking one from the list.
    page.locator(".device", has_text="Jobbtelefonen").locator("button").click()
    expect(page.locator(".messages")).to_contain_text("Jobbtelefonen är återkallad")
    expect(page.locator(".device.revoked")).to_contain_text("Återkallad")
    screenshot(page, "accounts-devices-revoked-phone", full_page=True)

    field = browsers.page(world.alice, "/falt/", viewport=IPHONE)
    expect(field.locator("#tracker-links")).to_contain_text("Starta OwnTracks")
    field.locator("#tracker-links").scroll_into_view_if_needed()
    screenshot(field, "accounts-field-links-phone")
