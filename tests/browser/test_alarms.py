"""The alarm chain in the browser: a phone off shift calls for help and follows it; escalation on the duty screens."""

from datetime import timedelta

from playwright.sync_api import expect

from coordination import services
from coordination.models import Alert
from tests.browser.conftest import DESKTOP, HARBOUR, off_loop


def test_a_phone_off_shift_raises_an_alarm_and_follows_it_until_resolved_also_after_a_reload(world, browsers):
    ops = browsers.page(world.dana, "/jour/", viewport=DESKTOP)
    field = browsers.page(world.charlie, "/falt/", geolocation=HARBOUR)
    expect(field.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")
    expect(field.locator("#shift-off")).to_be_visible()  # Centrum is not out

    field.click("#alert-open")
    field.fill("#alert-text", "Behöver stöd vid busstationen")
    field.click("#alert-confirm")
    mine = field.locator("#my-alarms .alert-item")
    expect(mine).to_contain_text("Larm skickat", timeout=2000)
    expect(ops.locator("#alerts .alert-card.raised")).to_contain_text("Centrum", timeout=2000)
    expect(ops.locator("#ops-map .mk-alert-raised")).to_have_count(1)  # at the phone's position

    ops.locator("#alerts [data-ack-alert]").click()
    expect(mine).to_contain_text("Kvitterat av Dana", timeout=2000)
    ops.locator("#alerts [data-resolve-alert]").click()
    expect(mine).to_contain_text("Avslutat", timeout=2000)
    expect(ops.locator("#alerts .alert-card")).to_have_count(0)
    expect(ops.locator("#ops-map .mk-alert")).to_have_count(0)

    field.reload()
    expect(field.locator("#my-alarms .alert-item")).to_contain_text("Avslutat")


def test_an_escalated_alarm_puts_a_banner_on_every_duty_screen_then_on_the_partners(world, browsers):
    off_loop(services.alert_raise, user=world.charlie, text="Hot")
    alert = off_loop(Alert.objects.get)
    ops = browsers.page(world.dana, "/jour/", viewport=DESKTOP)
    partner = browsers.page(world.frida, "/jour/", viewport=DESKTOP)
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")
    expect(partner.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ops.locator("#alarm-banner")).to_be_hidden()

    off_loop(services.alerts_escalate, now=alert.raised_at + timedelta(seconds=121))
    expect(ops.locator("#alarm-banner")).to_contain_text("1 larm utan kvittens", timeout=2000)
    expect(ops.locator("#alerts .alert-card.escalated")).to_have_count(1)
    expect(partner.locator("#alarm-banner")).to_be_hidden()

    off_loop(services.alerts_escalate, now=alert.raised_at + timedelta(seconds=241))
    expect(partner.locator("#alarm-banner")).to_contain_text("1 larm utan kvittens", timeout=2000)
    expect(partner.locator("#alerts .alert-card")).to_contain_text("andra kontakten larmad")

    ops.locator("#alerts [data-ack-alert]").click()
    expect(ops.locator("#alarm-banner")).to_be_hidden(timeout=2000)
    expect(partner.locator("#alarm-banner")).to_be_hidden(timeout=2000)
