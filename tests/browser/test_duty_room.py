"""The duty page as a control room: what waits is pinned and counted, teams are never filtered away."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from coordination import services
from coordination.models import LatestPosition, Role, Team
from coordination.tests.sockets import new_id
from tests.browser.conftest import off_loop

LAPTOP = {"width": 1366, "height": 768}
WIDE = {"width": 1920, "height": 1080}


def out_at(user, lat: float, lon: float, *, areas=()) -> None:
    """`user`'s team starts its shift and is seen at (lat, lon)."""
    services.shift_start(user=user, client_id=new_id(), area_ids=list(areas))
    services.position_record(user=user, client_id=new_id(), lat=lat, lon=lon, recorded_at=timezone.now())


def test_an_alarm_is_pinned_and_counted_in_the_title_and_shrinks_to_one_line_once_acknowledged(world, browsers):
    ops = browsers.page(world.dana, "/jour/", viewport=LAPTOP)
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ops).to_have_title("Jourkarta – Närvaro")
    expect(ops.locator("#queue-empty")).to_be_visible()

    off_loop(services.alert_raise, user=world.alice, text="Hot mot oss vid kiosken", lat=58.2755, lon=11.445)
    card = ops.locator(".ops-queue #alerts .alert-card.raised")
    expect(card).to_contain_text("Larm från Hamnen", timeout=2000)
    expect(card).to_contain_text("Hot mot oss vid kiosken")
    expect(ops).to_have_title("(1) Jourkarta – Närvaro")
    expect(ops.locator("#queue-count")).to_have_text("(1)")
    expect(ops.locator("#queue-empty")).to_be_hidden()
    raised_height = card.bounding_box()["height"]

    card.locator("[data-ack-alert]").click()
    acknowledged = ops.locator("#alerts .alert-card.acknowledged")
    expect(acknowledged).to_contain_text("Kvitterat av Dana", timeout=2000)
    expect(ops).to_have_title("Jourkarta – Närvaro")
    expect(acknowledged.locator("p")).to_have_count(0)  # the text is gone from the line (kept as its title)
    height = acknowledged.bounding_box()["height"]
    assert height < 56 and height < raised_height, (height, raised_height)
    acknowledged.locator("[data-resolve-alert]").click()
    expect(ops.locator("#alerts .alert-card")).to_have_count(0, timeout=2000)


def test_a_team_needing_backup_and_an_open_note_wait_in_the_queue_until_handled(world, browsers):
    off_loop(out_at, world.alice, 58.2755, 11.445)
    ops = browsers.page(world.dana, "/jour/", viewport=LAPTOP)
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")

    off_loop(services.shift_status_set, user=world.alice, client_id=new_id(), status="need_backup")
    backup = ops.locator("#queue .queue-backup")
    expect(backup).to_contain_text("Hamnen behöver förstärkning", timeout=2000)
    expect(ops).to_have_title("(1) Jourkarta – Närvaro")
    assert ops.locator("#teams .team-item").first.get_attribute("class").endswith("status-need_backup")

    off_loop(services.note_create, user=world.alice, category="gathering", severity=3, text="Stor grupp")
    note = ops.locator("#queue .queue-note")
    expect(note).to_contain_text("Stor grupp", timeout=2000)
    expect(ops).to_have_title("(2) Jourkarta – Närvaro")
    # The team needing backup comes first; the note waits below it.
    expect(ops.locator("#queue .queue-item").first).to_have_class("queue-item queue-backup")

    note.locator("[data-ack-note]").click()
    expect(note).to_have_count(0, timeout=2000)
    expect(ops.locator("#feed .feed-note.acknowledged")).to_contain_text("Kvitterad")
    off_loop(services.shift_status_set, user=world.alice, client_id=new_id(), status="on_round")
    expect(backup).to_have_count(0, timeout=2000)
    expect(ops).to_have_title("Jourkarta – Närvaro")


def test_a_citizen_report_waits_in_the_queue_and_the_title_until_someone_takes_or_rejects_it(world, browsers):
    ops = browsers.page(world.dana, "/jour/", viewport=LAPTOP)
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ops).to_have_title("Jourkarta – Närvaro")

    lamp, _ = off_loop(services.report_submit, category="lighting", text="Mörkt vid stigen", lat=58.2755, lon=11.445)
    bench, _ = off_loop(services.report_submit, category="other", text="Bänken är sönder", lat=58.2756, lon=11.446)
    reports = ops.locator("#queue .queue-report")
    expect(reports).to_have_count(2, timeout=3000)
    expect(reports.first).to_contain_text("Mörkt vid stigen")  # the oldest first
    expect(ops).to_have_title("(2) Jourkarta – Närvaro")
    expect(ops.locator("#queue-count")).to_have_text("(2)")
    expect(ops.locator("#queue-empty")).to_be_hidden()
    expect(ops.locator("#reports-count")).to_have_text("2")

    off_loop(services.report_take, user=world.dana, report_id=lamp.pk)
    expect(reports).to_have_count(1, timeout=3000)
    expect(reports).to_contain_text("Bänken är sönder")
    expect(ops).to_have_title("(1) Jourkarta – Närvaro")

    off_loop(services.report_reject, user=world.dana, report_id=bench.pk, reason="Inte kommunens bänk")
    expect(reports).to_have_count(0, timeout=3000)
    expect(ops).to_have_title("Jourkarta – Närvaro")
    expect(ops.locator("#queue-count")).to_have_text("")
    expect(ops.locator("#queue-empty")).to_be_visible()


def test_the_filters_narrow_the_events_but_never_the_teams(world, browsers):
    off_loop(out_at, world.alice, 58.2755, 11.445, areas=[world.hotspot.pk])
    off_loop(out_at, world.charlie, 58.281, 11.436, areas=[world.district.pk])
    off_loop(services.note_create, user=world.alice, category="gathering", lat=58.276, lon=11.446, text="Grupp")
    ops = browsers.page(world.dana, "/jour/", viewport=LAPTOP)
    expect(ops.locator("#teams .team-item")).to_have_count(2)

    ops.select_option("#filter-category", "alcohol")
    ops.select_option("#filter-area", label="Centrum")
    expect(ops.locator("#feed .feed-note")).to_have_count(0)
    expect(ops.locator("#ops-map .mk-note")).to_have_count(0)
    expect(ops.locator("#teams .team-item")).to_have_count(2)
    expect(ops.locator("#ops-map .mk-team")).to_have_count(2)
    expect(ops.locator("#areas .area-item")).to_have_count(2, timeout=1)  # the areas stay listed too


def open_hall_at_the_harbour(world) -> None:
    """Erik's club opens a hall right where Alice's team stands: an activity marker under a team's."""
    off_loop(
        services.activity_create,
        user=world.erik,
        organization_id=world.club.pk,
        title="Öppen hall",
        lat=58.2755,
        lon=11.445,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=2),
    )


def test_team_markers_lie_above_activities_the_map_frames_the_evening_and_look_alike_teams_are_told_apart(
    world, browsers
):
    # Hamnen's code is HA; Havsbadet has none, and its first letters would read HA too.
    other = Team.objects.create(name="Havsbadet", organization=world.other_club, short="")
    hugo = world.person("hugo", Role.FIELD, world.other_club, team=other)
    off_loop(out_at, world.alice, 58.2755, 11.445)
    off_loop(out_at, hugo, 58.35, 11.52)  # far outside every area: the view must still take it in
    open_hall_at_the_harbour(world)
    ops = browsers.page(world.dana, "/jour/", viewport=WIDE)
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ops.locator("#ops-map .mk-team")).to_have_count(2)
    codes = ops.locator("#ops-map .mk-team span").all_inner_texts()
    assert sorted(codes) == ["HA", "HA2"]
    expect(ops.locator("#teams .team-item", has_text="Havsbadet").locator(".code")).to_have_text("HA2")

    team_z = ops.locator("#ops-map .mk-team").first.evaluate("e => Number(e.style.zIndex)")
    activity_z = ops.locator("#ops-map .mk-activity").evaluate("e => Number(e.style.zIndex)")
    assert team_z > activity_z

    box = ops.locator("#ops-map").bounding_box()
    for marker in ops.locator("#ops-map .mk-team").all():
        m = marker.bounding_box()
        assert box["x"] <= m["x"] and m["x"] + m["width"] <= box["x"] + box["width"], (m, box)
        assert box["y"] <= m["y"] and m["y"] + m["height"] <= box["y"] + box["height"], (m, box)


def test_a_team_seen_long_ago_still_covers_the_activity_under_it_and_only_its_disc_fades(world, browsers):
    off_loop(out_at, world.alice, 58.2755, 11.445)
    LatestPosition.objects.filter(user=world.alice).update(recorded_at=timezone.now() - timedelta(minutes=20))
    open_hall_at_the_harbour(world)
    ops = browsers.page(world.dana, "/jour/", viewport=LAPTOP)
    team = ops.locator("#ops-map .mk-team")
    expect(team).to_have_count(1)
    expect(ops.locator("#ops-map .mk-activity")).to_have_count(1)
    assert float(team.locator("span").evaluate("e => getComputedStyle(e).opacity")) < 0.5  # old: faded

    box = team.bounding_box()
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    assert ops.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('.mk-team')", centre)
    # Nothing shows through: the marker itself is not faded and its round backing is opaque (rgb, not
    # rgba). Compared as styles, not as screenshots: the fade follows the clock between two shots.
    opacity, backing = team.evaluate("e => [getComputedStyle(e).opacity, getComputedStyle(e).backgroundColor]")
    assert float(opacity) == 1 and backing.startswith("rgb("), (opacity, backing)


def test_the_sound_is_asked_for_once_and_the_answer_is_remembered(world, browsers):
    ops = browsers.page(world.dana, "/jour/", viewport=LAPTOP)
    expect(ops.locator("#sound-ask")).to_be_visible()
    expect(ops.locator("#sound")).to_have_attribute("aria-pressed", "false")
    ops.locator("#sound-ask [data-sound-choice=on]").click()
    expect(ops.locator("#sound-ask")).to_be_hidden()
    expect(ops.locator("#sound")).to_have_attribute("aria-pressed", "true")
    ops.reload()
    expect(ops.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ops.locator("#sound-ask")).to_be_hidden()
    expect(ops.locator("#sound")).to_have_attribute("aria-pressed", "true")
    expect(ops.locator("#sound")).to_have_text("Ljud på")
    ops.click("#sound")
    ops.reload()
    expect(ops.locator("#sound")).to_have_attribute("aria-pressed", "false")
    expect(ops.locator("#sound-ask")).to_be_hidden()


def test_at_control_room_sizes_queue_teams_events_and_chat_are_all_on_screen_beside_the_map(world, browsers):
    for viewport, sections in (
        (LAPTOP, (".ops-queue", ".ops-teams", ".ops-feed", ".ops-chat")),
        (WIDE, (".ops-queue", ".ops-teams", ".ops-feed", ".ops-areas", ".ops-chat")),
    ):
        ops = browsers.page(world.dana, "/jour/", viewport=viewport)
        expect(ops.locator("#connection")).to_have_attribute("data-state", "online")
        map_box = ops.locator("#ops-map").bounding_box()
        assert map_box["width"] >= 600 and map_box["height"] >= viewport["height"] - 60
        for selector in sections:
            box = ops.locator(selector).bounding_box()
            assert box is not None and box["width"] >= 300, selector
            assert box["x"] >= map_box["x"] + map_box["width"] - 1, selector  # beside the map, not under it
            assert box["y"] + box["height"] <= viewport["height"] + 1, selector  # no scrolling the page
        if viewport is LAPTOP:  # events and areas share a column: the switch shows one or the other
            ops.click(".ops-switch [data-view=areas]")
            expect(ops.locator(".ops-areas")).to_be_visible()
            expect(ops.locator(".ops-feed")).to_be_hidden()
        ops.context.close()
