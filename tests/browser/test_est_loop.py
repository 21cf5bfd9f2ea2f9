"""The EST loop in the browser: a decision recorded during the evening appears as "Veckans fokus" on the
open duty map without a reload, the duty map lists where adults are needed, and the field page suggests
the nearest places with their reasons."""

from datetime import datetime, time, timedelta
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from coordination import services
from coordination.tests.sockets import new_id
from tests.browser.conftest import HARBOUR, off_loop, screenshot

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "shots" / "est-loop"  # git-ignored
DUTY = {"width": 1440, "height": 900}
PHONE_390 = {"width": 390, "height": 844}


def decision_now(world, area_ids: list[int]) -> dict:
    """A decision for this week whose hours on today's evening hold the present moment."""
    now = timezone.localtime()
    start = time(now.hour, 0)
    end = min(datetime.combine(now.date(), start) + timedelta(hours=3), datetime.combine(now.date(), time(23, 59)))
    year, week, weekday = now.date().isocalendar()
    return {
        "actor": world.dana,
        "iso_year": year,
        "iso_week": week,
        "area_ids": area_ids,
        "weekdays": [weekday - 1],
        "start": start,
        "end": end.time(),
        "who": "team",
        "team_id": world.harbour_team.pk,
        "note": "Samlingar vid hamnplanen efter skolavslutningen",
    }


def shot(page, name: str) -> None:
    screenshot(page, name)  # test-artifacts/, as every browser test
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_decision_shows_as_veckans_fokus_on_the_open_duty_map_and_the_field_page_suggests_where_next(world, browsers):
    duty = browsers.page(world.dana, "/jour/", viewport=DUTY)
    expect(duty.locator("#connection")).to_have_attribute("data-state", "online")
    expect(duty.locator("#focus-panel")).to_be_hidden()
    # Recorded at the meeting while the map is open: the decision event brings the focus.
    off_loop(services.est_decision_record, **decision_now(world, [world.district.pk]))
    expect(duty.locator("#focus-panel")).to_be_visible()
    expect(duty.locator("#focus-list")).to_contain_text("Centrum")
    expect(duty.locator("#focus-list")).to_contain_text("Samlingar vid hamnplanen")
    # Coverage ranks the focus area first although Hamnen has the higher priority.
    expect(duty.locator("#areas li").first).to_contain_text("Centrum")
    # The focus area is outlined on the map (a dashed amber path).
    expect(duty.locator("#ops-map path[stroke='#e08a00']")).to_have_count(1)
    # The duty map's whole ranking, with reasons.
    ranking = duty.locator("[data-where-next] ol li")
    expect(ranking.first).to_contain_text("Centrum")
    expect(ranking.first).to_contain_text("Veckans fokus")
    duty.wait_for_timeout(300)
    shot(duty, "duty-veckans-fokus-1440")

    off_loop(services.shift_start, user=world.alice, client_id=new_id())
    field = browsers.page(world.alice, "/falt/", viewport=PHONE_390, geolocation=HARBOUR)
    expect(field.locator("#connection")).to_have_attribute("data-state", "online")
    expect(field.locator("#focus-panel")).to_be_visible()
    suggestions = field.locator("[data-where-next] ol li")
    expect(suggestions.first).to_be_visible()
    expect(suggestions).to_have_count(2)  # Centrum (focus) and Hamnen (a hotspot without adults)
    expect(field.locator("[data-where-next]")).to_contain_text("du är där")  # the phone is inside Hamnen
    # The list's top under the top bar, its end above the tab bar.
    field.locator("#focus-panel").evaluate("(el) => window.scrollBy(0, el.getBoundingClientRect().top - 64)")
    field.wait_for_timeout(300)
    shot(field, "field-where-next-390")

    # Withdrawn: gone from the open duty map.
    decision_id = duty.locator("#focus-list li").first.get_attribute("data-decision")
    off_loop(services.est_decision_withdraw, actor=world.dana, decision_id=int(decision_id))
    expect(duty.locator("#focus-panel")).to_be_hidden()
    expect(duty.locator("#ops-map path[stroke='#e08a00']")).to_have_count(0)


def test_the_decisions_page_reads_on_a_projector(world, browsers):
    services_args = decision_now(world, [world.hotspot.pk, world.district.pk])
    off_loop(services.est_decision_record, **services_args)
    year, week = services_args["iso_year"], services_args["iso_week"]
    page = browsers.page(world.dana, f"/lagesbild/{year}/v{week}/beslut/", viewport=DUTY)
    expect(page.locator(".est-table")).to_contain_text("Hamnen, Centrum")
    page.fill("#id_end", "18:00")
    page.fill("#id_start", "19:00")
    page.click("label.chip:has-text('Hamnen')")
    page.click("label.chip:has-text('fredag')")
    page.click("button:has-text('Registrera beslutet')")
    expect(page.locator("[data-field=end] .form-error")).to_contain_text("högst 12 timmar i sträck")
    shot(page, "decisions-page-error-1440")
