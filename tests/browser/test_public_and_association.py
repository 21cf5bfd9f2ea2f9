"""The public map for a parent and one evening of a series on the association page (issue 15, items 6–7)."""

from datetime import datetime, timedelta
from pathlib import Path

import icalendar
from django.utils import timezone
from playwright.sync_api import expect

from coordination import services
from coordination.tests.sockets import new_id
from maps.models import ActivityOccasion
from tests.browser.conftest import off_loop

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "shots" / "screens-phone"  # git-ignored
PHONE_390 = {"width": 390, "height": 844}


def evening_out(world) -> None:
    """Hamnen's team out by the harbour, Centrum's team in the north of the centre, an open gym tonight."""
    services.shift_start(user=world.alice, client_id=new_id())
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now())
    services.shift_start(user=world.charlie, client_id=new_id())
    services.position_record(user=world.charlie, client_id=new_id(), lat=58.283, lon=11.437, recorded_at=timezone.now())
    services.coverage_refresh()
    local = timezone.localtime().replace(second=0, microsecond=0)
    start = max(local - timedelta(hours=1), local.replace(hour=0, minute=0))
    gym = services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Öppen hall",
        place=world.place.pk,
        starts_at=start,
        ends_at=start + timedelta(hours=4),
    )
    services.activity_open(user=world.erik, activity_id=gym.data["id"])


def test_the_public_map_has_a_legend_a_positive_summary_no_hotspot_styling_and_items_that_open_their_place(
    world, browsers
):
    off_loop(evening_out, world)
    public = browsers.page(None, "/", viewport=PHONE_390)
    expect(public.locator("#connection")).to_have_attribute("data-state", "online")
    legend = public.locator("#map-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("Vuxna ute i området")
    expect(legend).to_contain_text("Aktivitet öppen nu")
    expect(legend).to_contain_text("Rapport från allmänheten")  # the purple markers of published reports
    # Alice is in Centrum and its hotspot Hamnen, charlie in Centrum: two adults, one district.
    expect(public.locator("#coverage-summary")).to_have_text("2 vuxna ute i 2 områden i kväll")
    expect(public.locator("#areas")).not_to_contain_text("Ingen vuxen ute")
    # No red dashed "danger zone": no area path is drawn dashed or red.
    paths = public.locator("#public-map path.leaflet-interactive")
    expect(paths).to_have_count(2)
    for i in range(paths.count()):
        assert paths.nth(i).get_attribute("stroke-dasharray") is None
        assert paths.nth(i).get_attribute("stroke") != "#c62828"
    marker = public.locator("#public-map .mk-activity")
    expect(marker).to_have_attribute("aria-label", "Öppen hall")
    SHOTS.mkdir(parents=True, exist_ok=True)
    public.screenshot(path=str(SHOTS / "public-map.png"), full_page=True)

    public.locator("#open-now .place-link", has_text="Öppen hall").click()
    expect(public.locator(".leaflet-popup")).to_contain_text("Öppen hall")  # its place, opened on the map


def weekly_gym(world) -> int:
    first = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=2), datetime.min.time())) + (
        timedelta(hours=18)
    )
    return services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Fredagsgympa",
        place=world.place.pk,
        starts_at=first,
        ends_at=first + timedelta(hours=2),
        weekly=True,
        repeat_until=timezone.localdate() + timedelta(weeks=8),
    ).data["id"]


def test_the_association_cancels_one_evening_refuses_a_past_date_and_the_calendar_keeps_it_cancelled(world, browsers):
    off_loop(weekly_gym, world)
    page = browsers.page(world.erik, "/forening/", viewport=PHONE_390)
    row = page.locator(".activity-row", has_text="Fredagsgympa")
    expect(row.locator("[data-action=open]")).to_have_count(0)  # not on a day it takes place

    row.locator("summary").click()
    past = (timezone.localdate() - timedelta(days=5)).isoformat()
    row.locator("input[name=date]").fill(past)
    row.locator("[data-action=occasion]").click()
    row = page.locator(".activity-row", has_text="Fredagsgympa")
    expect(row.locator(".form-error")).to_have_text("Datumet har redan varit. Välj i dag eller ett senare datum.")
    expect(row.locator("input[name=date]")).to_have_attribute("aria-invalid", "true")
    assert not ActivityOccasion.objects.exists()

    evening = timezone.localdate() + timedelta(days=9)
    row.locator("input[name=date]").fill(evening.isoformat())
    row.locator("select[name=status]").select_option("cancelled")
    row.locator("[data-action=occasion]").click()
    expect(page.locator(".messages")).to_contain_text("Fredagsgympa är inställd")
    expect(page.locator(".activity-row", has_text="Fredagsgympa").locator(".occasion-list")).to_contain_text("Inställt")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "association.png"), full_page=True)

    feed = page.request.get("/api/activities.ics")
    calendar = icalendar.Calendar.from_ical(feed.body())
    cancelled = [e for e in calendar.walk("VEVENT") if str(e.get("STATUS")) == "CANCELLED"]
    assert [(str(e["SUMMARY"]), e.decoded("RECURRENCE-ID").date()) for e in cancelled] == [("Fredagsgympa", evening)]


def test_open_now_asks_first_and_only_on_the_day(world, browsers):
    off_loop(evening_out, world)
    off_loop(weekly_gym, world)
    page = browsers.page(world.erik, "/forening/", viewport=PHONE_390)
    # "Öppen hall" is open already; close it, then open again through the confirmation.
    page.locator(".activity-row", has_text="Öppen hall").locator("[data-action=close]").click()
    expect(page.locator(".messages")).to_contain_text("Öppen hall är stängd i kväll")
    page.wait_for_load_state("load")  # the page's module (which asks) has run
    row = page.locator(".activity-row", has_text="Öppen hall")
    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    row.locator("[data-action=open]").click()
    page.wait_for_timeout(300)
    assert asked and asked[0].startswith("Öppna Öppen hall nu?")
    expect(row.locator(".tag")).to_have_text("Stängt i kväll")  # dismissed: nothing changed
    page.once("dialog", lambda d: answer(d, True))
    row.locator("[data-action=open]").click()
    expect(page.locator(".activity-row", has_text="Öppen hall").locator(".tag").first).to_have_text("Öppet nu")
    expect(page.locator(".activity-row", has_text="Fredagsgympa").locator("[data-action=open]")).to_have_count(0)
