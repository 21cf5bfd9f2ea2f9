"""The four screens in a real browser: field, duty map, association page, public map."""

import json
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from coordination import services
from coordination.models import Alert, SituationNote, Team
from coordination.tests.sockets import new_id
from tests.browser.conftest import DESKTOP, HARBOUR, PHONE, off_loop, screenshot


def test_a_field_worker_and_the_duty_officer_share_the_evening(world, browsers):
    field = browsers.page(world.alice, "/falt/", geolocation=HARBOUR)
    ops = browsers.page(world.dana, "/jour/", viewport=DESKTOP)
    expect(field.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")

    field.locator("#shift-areas label", has_text="Hamnen").click()
    field.click("#shift-start")
    expect(ops.locator("#teams")).to_contain_text("Hamnen", timeout=2000)
    expect(field.locator("#sharing")).to_have_attribute("data-state", "on")
    expect(ops.locator("#ops-map .mk-team")).to_have_count(1)
    field.click("#status-buttons [data-status=in_conversation]")
    expect(ops.locator("#teams")).to_contain_text("I samtal", timeout=2000)
    field.select_option("#checkin-place", label="Fritidsgården")
    field.click("#checkin-form button[type=submit]")
    expect(ops.locator("#feed .feed-checkin")).to_contain_text("Hamnen är vid Fritidsgården", timeout=2000)
    field.click("#sharing-toggle")
    expect(field.locator("#sharing")).to_have_attribute("data-state", "paused")
    field.click("#sharing-toggle")
    expect(field.locator("#sharing")).to_have_attribute("data-state", "on")

    field.click(".tabbar [data-show=note]")
    field.locator("#note-form .chip", has_text="Samling av unga").click()
    field.locator("#note-severity label", has_text="Hög").click()
    field.fill("#youth-count", "8")
    field.fill("#note-form textarea", "Grupp vid kiosken")
    field.click("#note-form button[type=submit]")
    expect(ops.locator("#feed .feed-note")).to_contain_text("Samling av unga", timeout=2000)
    expect(ops.locator("#ops-map .mk-note")).to_have_count(1, timeout=2000)

    # Filters: another category hides the note from the feed and the map, "all" brings it back.
    ops.select_option("#filter-category", "alcohol")
    expect(ops.locator("#ops-map .mk-note")).to_have_count(0)
    expect(ops.locator("#feed .feed-note")).to_have_count(0)
    ops.select_option("#filter-category", "")
    ops.select_option("#filter-area", label="Hamnen")
    expect(ops.locator("#feed .feed-note")).to_have_count(1)
    ops.select_option("#filter-area", "")

    # Chat: duty writes to the team, the team answers everyone on duty.
    ops.select_option("#chat-channel", label="Hamnen")
    ops.fill("#chat-form input[name=text]", "Ring när ni är vid kiosken")
    ops.click("#chat-form button[type=submit]")
    expect(field.locator("#chat-unread")).to_have_text("1")
    field.click(".tabbar [data-show=chat]")
    expect(field.locator("#chat-list")).to_contain_text("Ring när ni är vid kiosken")
    field.select_option("#chat-channel", "everyone")
    field.fill("#chat-form input[name=text]", "Vi är vid kiosken nu")
    field.click("#chat-form button[type=submit]")
    expect(ops.locator("#chat-list")).to_contain_text("Vi är vid kiosken nu")

    # A refused note leaves the queue with the server's reason, and its text comes back to fix.
    field.click(".tabbar [data-show=note]")
    field.locator("#note-form .chip", has_text="Övrigt").click()
    field.fill("#note-form textarea", "Pratade med 811218-9876")
    field.click("#note-form button[type=submit]")
    expect(field.locator("#toast")).to_contain_text("personnummer")
    expect(field.locator("#outbox-card")).to_be_hidden()
    expect(field.locator("#note-form textarea")).to_have_value("Pratade med 811218-9876")

    field.click("#alert-open")
    field.fill("#alert-text", "Behöver en till vuxen")
    field.click("#alert-confirm")
    expect(ops.locator("#alerts .alert-card.raised")).to_contain_text("Hamnen", timeout=2000)
    expect(ops.locator("#ops-map .mk-alert-raised")).to_have_count(1, timeout=2000)

    partner = browsers.page(world.frida, "/jour/", viewport=DESKTOP)
    expect(partner.locator("#alerts .alert-card.raised")).to_contain_text("Hamnen")
    expect(partner.locator("#alerts button, #feed button, #chat-form")).to_have_count(0)  # reads only

    ops.locator("#alerts [data-ack-alert]").click()
    expect(field.locator("#my-feed .alert-item")).to_contain_text("Kvitterat av Dana", timeout=2000)
    assert Alert.objects.get().status == "acknowledged"
    note = SituationNote.objects.get()
    assert (note.category, note.severity, note.youth_count, note.text) == ("gathering", 3, 8, "Grupp vid kiosken")


def evening(world):
    """Some life on the map: a team out with a position, a note, an alert, an open activity."""
    now = timezone.now()
    services.shift_start(user=world.alice, client_id=new_id(), area_ids=[world.hotspot.pk])
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=now)
    services.note_create(
        user=world.alice,
        category="gathering",
        severity=2,
        youth_count=12,
        lat=58.276,
        lon=11.446,
        text="Grupp vid kiosken, lugnt",
    )
    services.alert_raise(user=world.alice, text="Behöver en till vuxen", lat=58.2755, lon=11.445)
    services.chat_send(user=world.dana, channel="everyone", text="Fika på stationen kl 21")
    services.chat_send(user=world.alice, channel=f"team.{world.harbour_team.pk}", text="Vi tar hamnen först")
    services.shift_start(user=world.charlie, client_id=new_id())
    services.shift_status_set(user=world.charlie, client_id=new_id(), status="in_conversation")
    services.position_record(user=world.charlie, client_id=new_id(), lat=58.283, lon=11.437, recorded_at=now)
    services.coverage_refresh()
    # Under way tonight (local time): an evening can be opened only on its day, never announced for a past one.
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    start = max(local - timedelta(hours=1), local.replace(hour=0, minute=0))
    gym = services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Öppen hall",
        place=world.place.pk,
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        age_group="13–17 år",
        contact="IFK Lysekil",
    )
    services.activity_open(user=world.erik, activity_id=gym.data["id"])
    services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Spontanfotboll",
        lat=58.28,
        lon=11.44,
        starts_at=start + timedelta(days=2),
        ends_at=start + timedelta(days=2, hours=2),
        weekly=True,
    )


def test_screenshots_of_the_four_screens_at_phone_and_desktop_width(world, browsers):
    off_loop(evening, world)
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        for name, user, path in (
            ("field", world.alice, "/falt/"),
            ("ops", world.dana, "/jour/"),
            ("association", world.erik, "/forening/"),
            ("public", None, "/"),
        ):
            page = browsers.page(user, path, viewport=viewport, geolocation=HARBOUR)
            if path != "/forening/":
                expect(page.locator("#connection")).to_have_attribute("data-state", "online")
            page.wait_for_timeout(300)  # markers and fonts settle
            screenshot(page, f"{name}-{size}")
            if name == "field" and size == "phone":
                for tab in ("note", "map", "chat"):
                    page.click(f".tabbar [data-show={tab}]")
                    page.wait_for_timeout(300)
                    screenshot(page, f"field-{tab}-phone")
                page.click("#alert-open")
                screenshot(page, "field-alert-phone")
            if name == "association" and size == "phone":
                screenshot(page, "association-whole-phone", full_page=True)
            page.context.close()
    login = browsers.page(None, "/konto/logga-in/")
    screenshot(login, "login-phone")
    english = browsers.context(world.alice, geolocation=HARBOUR)
    english.add_cookies([{"name": "django_language", "value": "en", "url": browsers.base}])
    field = english.new_page()
    field.goto("/falt/")
    expect(field.locator("#connection")).to_have_text("Connected")
    screenshot(field, "field-english-phone")


def test_a_note_written_offline_survives_a_reload_and_is_delivered_once(world, browsers):
    services.shift_start(user=world.alice, client_id=new_id())
    ops = browsers.page(world.dana, "/jour/", viewport=DESKTOP)
    context = browsers.context(world.alice, geolocation=HARBOUR)
    field = context.new_page()
    field.goto("/falt/")
    expect(field.locator("#connection")).to_have_attribute("data-state", "online")
    # The service worker has installed and holds the page shell before the network goes.
    assert field.evaluate(
        "navigator.serviceWorker.ready.then(() => caches.open('narvaro-field-v1')).then(c => c.match('/falt/'))"
        ".then(r => !!r)"
    )

    context.set_offline(True)
    expect(field.locator("#connection")).to_have_attribute("data-state", "offline")
    field.click(".tabbar [data-show=note]")
    field.locator("#note-form .chip", has_text="Skadegörelse").click()
    field.fill("#note-form textarea", "Krossad busskur")
    field.locator("#note-where label", has_text="Tryck på kartan").click()  # the map opens for a tap
    expect(field.locator("#pick-banner")).to_be_visible()
    field.locator("#field-map").click()
    expect(field.locator("#note-where-text")).to_contain_text("Vald plats")  # back on the form
    field.click("#note-form button[type=submit]")
    expect(field.locator("#outbox-list li")).to_contain_text("Krossad busskur")

    failed: list[str] = []
    field.on("requestfailed", lambda request: failed.append(request.url))
    response = field.reload()
    assert response is not None and response.from_service_worker, "the reload offline came from the network"
    expect(field.locator("#outbox-list li")).to_contain_text("Krossad busskur")  # read back from IndexedDB
    expect(field.locator("#connection")).to_have_attribute("data-state", "offline")
    assert [url for url in failed if "/static/" in url or url.endswith("/falt/")] == []  # the whole shell was cached
    assert not SituationNote.objects.exists()

    context.set_offline(False)
    expect(field.locator("#outbox-card")).to_be_hidden(timeout=10_000)
    expect(ops.locator("#feed .feed-note")).to_contain_text("Krossad busskur", timeout=2000)
    expect(field.locator("#my-feed .note-item")).to_contain_text("Krossad busskur")
    field.wait_for_timeout(500)  # any duplicate send would have been answered by now
    note = SituationNote.objects.get(text="Krossad busskur")  # exactly one
    assert note.point is not None and note.category == "vandalism"


def test_an_activity_the_association_opens_appears_on_the_public_map_without_reload(world, browsers):
    public = browsers.page(None, "/", viewport=PHONE)
    expect(public.locator("#connection")).to_have_attribute("data-state", "online")
    public.evaluate("window.stayed = true")  # gone if the page reloads
    association = browsers.page(world.erik, "/forening/", viewport=DESKTOP)

    start = timezone.localtime() + timedelta(minutes=30)
    association.fill("#id_title", "Öppen hall")
    association.select_option("#id_place", label="Fritidsgården")
    association.fill("#id_starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    association.fill("#id_ends_at", (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    association.fill("#id_age_group", "13–17 år")
    association.click("#activity-form button[type=submit]")
    expect(association.locator(".messages")).to_contain_text("Aktiviteten är upplagd")
    expect(public.locator("#upcoming")).to_contain_text("Öppen hall", timeout=2000)

    association.once("dialog", lambda dialog: dialog.accept())  # "Öppna … nu?" asks first
    association.locator(".activity-row", has_text="Öppen hall").locator("[data-action=open]").click()
    expect(public.locator("#open-now")).to_contain_text("Öppen hall", timeout=2000)
    expect(public.locator("#open-now")).to_contain_text("Fritidsgården")
    expect(public.locator("#public-map .mk-activity-open")).to_have_count(1)
    assert public.evaluate("window.stayed === true")


def test_the_public_map_never_shows_a_staff_position_or_name(world, browsers):
    Team.objects.filter(pk=world.harbour_team.pk).update(name="Nattpatrullen Väst")
    off_loop(evening, world)
    frames: list[str] = []
    context = browsers.context(None, viewport=PHONE)
    public = context.new_page()
    public.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    public.goto("/")
    expect(public.locator("#connection")).to_have_attribute("data-state", "online")
    expect(public.locator("#areas")).to_contain_text("1 vuxen ute")

    # The evening goes on while the public page is open: a move, a note, an alert, a chat message.
    off_loop(
        services.position_record,
        user=world.alice,
        client_id=new_id(),
        lat=58.2712,
        lon=11.4321,
        recorded_at=timezone.now(),
    )
    off_loop(services.note_create, user=world.alice, category="drugs", lat=58.2712, lon=11.4321, text="Langning")
    off_loop(services.alert_raise, user=world.alice, text="Hot mot fältare")
    off_loop(services.chat_send, user=world.dana, channel="everyone", text="Alice, ring jouren")
    # Only areas with adults out are listed: Hamnen leaves the list, Centrum (where alice went) stays.
    expect(public.locator("#areas li", has_text="Hamnen")).to_have_count(0, timeout=5000)
    expect(public.locator("#areas li", has_text="Centrum")).to_contain_text("2 vuxna ute")  # alice and charlie
    public.wait_for_timeout(500)

    page_text = public.content()
    wire = "\n".join(f if isinstance(f, str) else f.decode() for f in frames)
    assert '"kind":"coverage"' in wire.replace(" ", "")  # the socket was live
    for secret in (
        "Alice",
        "alice",
        "Dana",
        "Nattpatrullen",
        "58.2755",
        "11.445",
        "58.2712",
        "11.4321",
        "Langning",
        "Hot mot",
        "ring jouren",
        "Grupp vid kiosken",
        "team_name",
        "recorded_at",
    ):
        assert secret not in page_text, f"{secret!r} on the public page"
        assert secret not in wire, f"{secret!r} on the public socket"
    kinds = {json.loads(f)["kind"] for f in frames if json.loads(f).get("type") == "event"}
    assert kinds <= {"activity", "activity_removed", "coverage"}
