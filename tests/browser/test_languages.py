"""The scripts' own text in the reader's language: Django's JavaScript catalog reaches the pages."""

from playwright.sync_api import expect

from coordination import services
from coordination.tests.sockets import new_id
from tests.browser.conftest import DESKTOP, HARBOUR, off_loop


def english_page(browsers, user, path, **options):
    context = browsers.context(user, **options)
    context.add_cookies([{"name": "django_language", "value": "en", "url": browsers.base}])
    page = context.new_page()
    page.goto(path)
    return page


def test_an_english_reader_gets_the_field_pages_script_text_in_english(world, browsers):
    off_loop(services.shift_start, user=world.alice, client_id=new_id())
    field = english_page(browsers, world.alice, "/falt/", geolocation=HARBOUR)
    expect(field.locator("#connection")).to_have_text("Connected")
    expect(field.locator("#shift-since")).to_contain_text("On shift since")
    expect(field.locator("#my-feed")).to_have_text("Nothing reported yet tonight.")
    expect(field.locator("#chat-channel option")).to_have_text(["My team", "Everyone on duty"])


def test_an_english_duty_officer_gets_the_duty_maps_script_text_in_english(world, browsers):
    off_loop(services.shift_start, user=world.alice, client_id=new_id())
    ops = english_page(browsers, world.dana, "/jour/", viewport=DESKTOP)
    expect(ops.locator("#connection")).to_have_text("Connected")
    expect(ops.locator("#teams")).to_contain_text("no position yet")
    expect(ops.locator("#chat-channel optgroup")).to_have_count(2)
    assert ops.locator("#chat-channel optgroup").evaluate_all("groups => groups.map(g => g.label)") == ["Team", "Area"]
    expect(ops.locator("#chat-channel option").first).to_have_text("Everyone on duty")


def test_a_swedish_reader_gets_the_swedish_source_text(world, browsers):
    field = browsers.page(world.alice, "/falt/", geolocation=HARBOUR)
    expect(field.locator("#connection")).to_have_text("Ansluten")
    expect(field.locator("#my-feed")).to_have_text("Inget rapporterat än i kväll.")
