"""The EST situation picture's numbers: a constructed evening counted by hand, levels, trend, retention."""

from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from coordination import kinds, services
from coordination.errors import Forbidden, Invalid
from coordination.lagesbild import Level
from coordination.models import (
    AggregatedDay,
    Alert,
    AuditLog,
    ChatMessage,
    Event,
    NoteHour,
    PositionReport,
    PresenceDay,
    PresenceHour,
    Shift,
    SituationNote,
)
from coordination.selectors.lagesbild import (
    level_for_points,
    period_for_month,
    period_for_range,
    period_for_week,
    picture,
)

pytestmark = pytest.mark.django_db

HOTSPOT = "POINT(11.445 58.28)"  # inside Hamnen, which lies inside Centrum
DISTRICT_ONLY = "POINT(11.432 58.272)"  # inside Centrum, outside Hamnen
NOWHERE = "POINT(11.0 57.0)"


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=timezone.get_current_timezone())


def weeks_ago(n: int) -> date:
    """The Monday `n` weeks before this one."""
    today = timezone.localdate()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=n)


def walked(team, day: date, *visits) -> None:
    """Raw positions as devices left them (older than the live API accepts): (person, hour, minute, point)."""
    shift = Shift.objects.create(team=team, started_by=visits[0][0], started_at=at(day, 18, 0), ended_at=at(day, 23, 0))
    for user, hour, minute, point in visits:
        when = at(day, hour, minute)
        PositionReport.objects.create(
            shift=shift, user=user, point=point, recorded_at=when, received_at=when, client_id=f"{when}-{user.pk}"
        )


def note(world, when: datetime, category: str, *, area, severity: int = 1, youth: int | None = None, by=None):
    return SituationNote.objects.create(
        author=by or world.alice, area=area, category=category, severity=severity, youth_count=youth, created_at=when
    )


def friday_evening(world) -> date:
    """Team Hamnen (field staff) and charlie's team, night walkers, out on a Friday three weeks ago.

    By hand, in 5-minute slots: alice 20:00, 20:02 (same slot), 20:07 in Hamnen: 10 min, hour 20.
    bob 20:58 and 21:01 in Hamnen: 5 min in hour 20, 5 in hour 21. charlie (night walker) 21:10
    in Centrum outside Hamnen: 5 min, hour 21; and 21:20 outside every area: counted anywhere only.
    """
    world.centre_team.adult_kind = "night_walker"
    world.centre_team.save()
    friday = weeks_ago(3) + timedelta(days=4)
    walked(
        world.harbour_team,
        friday,
        (world.alice, 20, 0, HOTSPOT),
        (world.alice, 20, 2, HOTSPOT),
        (world.alice, 20, 7, HOTSPOT),
        (world.bob, 20, 58, HOTSPOT),
        (world.bob, 21, 1, HOTSPOT),
    )
    walked(world.centre_team, friday, (world.charlie, 21, 10, DISTRICT_ONLY), (world.charlie, 21, 20, NOWHERE))
    # alice is there when she writes the first; nobody is in Hamnen at 22:30 when duty writes the second.
    note(world, at(friday, 20, 3), "gathering", area=world.hotspot, severity=3, youth=12)
    note(world, at(friday, 22, 30), "vandalism", area=world.hotspot, by=world.dana)
    note(world, at(friday, 21, 12), "positive", area=world.district, youth=4, by=world.charlie)
    Alert.objects.create(
        author=world.bob,
        team=world.harbour_team,
        point="POINT(11.4451 58.2801)",
        status=Alert.Status.RESOLVED,
        raised_at=at(friday, 20, 40),
        acknowledged_at=at(friday, 20, 41, 30),
        resolved_at=at(friday, 20, 55),
    )
    return friday


def stored_presence() -> set[tuple]:
    return set(PresenceHour.objects.values_list("area_id", "hour", "adult_kind", "person_minutes"))


def test_a_friday_evening_is_summed_per_area_hour_and_kind_of_adult_as_counted_by_hand(world):
    friday = friday_evening(world)

    assert services.presence_aggregate(day=friday) == 2  # Hamnen and Centrum had adults

    hamnen, centrum = world.hotspot.pk, world.district.pk
    assert stored_presence() == {
        (hamnen, 20, "field", 15),
        (hamnen, 21, "field", 5),
        (centrum, 20, "field", 15),
        (centrum, 21, "field", 5),
        (centrum, 21, "night_walker", 5),
        (None, 20, "field", 15),
        (None, 21, "field", 5),
        (None, 21, "night_walker", 10),  # charlie's second slot was outside every area
    }
    assert dict(PresenceDay.objects.values_list("area_id", "person_minutes")) == {hamnen: 20, centrum: 25}
    notes = set(NoteHour.objects.values_list("area_id", "hour", "category", "severity", "notes", "youth", "uncovered"))
    assert notes == {
        (hamnen, 20, "gathering", 3, 1, 12, 0),
        (hamnen, 22, "vandalism", 1, 1, 0, 1),
        (centrum, 21, "positive", 1, 1, 4, 0),
    }


def test_the_picture_of_that_week_shows_the_hand_counted_figures(world):
    friday = friday_evening(world)
    services.aggregate_days(start=friday, end=friday)
    year, week, _ = friday.isocalendar()

    seen = picture(period=period_for_week(year, week))

    hamnen = next(a for a in seen.areas if a.name == "Hamnen")
    assert hamnen.presence_minutes == {"field": 20, "youth_centre": 0, "night_walker": 0, "association": 0}
    assert hamnen.presence_hours == 0.3
    assert hamnen.notes_by_category == {"gathering": 1, "vandalism": 1}
    assert hamnen.notes_by_severity == {1: 1, 2: 0, 3: 1}
    assert (hamnen.youth_counted, hamnen.alerts, hamnen.activities_held) == (12, 1, 0)
    # 2 notes + 2 for the high-severity one + 3 for the alert = 7: yellow (3) but not orange (8).
    assert hamnen.level_by_rule == hamnen.level == Level.YELLOW and not hamnen.overridden
    assert hamnen.level_reason.startswith("7 poäng")
    centrum = next(a for a in seen.areas if a.name == "Centrum")
    assert centrum.presence_minutes["night_walker"] == 5 and centrum.presence_minutes["field"] == 20
    assert centrum.notes_by_category == {"gathering": 1, "positive": 1, "vandalism": 1}  # its hotspot's too
    assert centrum.youth_counted == 16
    friday_row = friday.weekday()
    assert seen.notes_matrix[friday_row][20] == seen.notes_matrix[friday_row][21] == seen.notes_matrix[friday_row][22]
    assert sum(map(sum, seen.notes_matrix)) == 3
    assert seen.presence_matrix[friday_row][20] == 0.25  # 15 person-minutes
    assert seen.presence_matrix[friday_row][21] == 0.25  # bob 5, charlie 10 anywhere
    assert seen.uncovered_hotspots == ["Hamnen"]
    assert seen.alerts.raised == seen.alerts.acknowledged == seen.alerts.resolved == 1
    assert (seen.alerts.median_seconds_to_ack, seen.alerts.median_seconds_to_resolve) == (90, 900)
    assert seen.presence_trend.current == 0.5  # 30 person-minutes anywhere
    assert seen.trend_by_category["gathering"].current == 1
    assert "Hamnen: 1 notering gjordes när inga vuxna var på plats." in seen.summary
    assert "1 larm: kvitterat efter 1 min 30 s i median (längst 1 min 30 s), avslutat efter 15 min 0 s." in seen.summary
    assert "2 av 3 noteringar gjordes en timme då vuxna var ute." in seen.summary
    text = str(seen)
    assert "alice" not in text and "bob" not in text and "58.28" not in text


def test_one_area_s_picture_holds_that_area_and_the_areas_inside_it(world):
    friday = friday_evening(world)
    services.aggregate_days(start=friday, end=friday)
    year, week, _ = friday.isocalendar()

    seen = picture(period=period_for_week(year, week), area_id=world.hotspot.pk)

    assert [a.name for a in seen.areas] == ["Hamnen"]
    assert sum(map(sum, seen.notes_matrix)) == 2
    assert seen.presence_trend.current == 0.3
    with pytest.raises(ValueError, match="Området finns inte"):
        picture(period=period_for_week(year, week), area_id=999_999)


def test_summing_again_gives_the_same_numbers(world):
    friday = friday_evening(world)
    first = services.aggregate_days(start=friday - timedelta(days=1), end=friday)
    before = (stored_presence(), set(NoteHour.objects.values_list("area_id", "hour", "category", "notes")))

    assert services.aggregate_days(start=friday - timedelta(days=1), end=friday) == 0  # summed once
    assert services.aggregate_days(start=friday, end=friday, rebuild=True) == 0  # past retention: kept as stored
    call_command("aggregate", "--from", str(friday), "--to", str(friday), stdout=StringIO())

    assert first == 2
    assert (stored_presence(), set(NoteHour.objects.values_list("area_id", "hour", "category", "notes"))) == before


def test_a_recent_day_may_be_recounted_and_comes_out_the_same(world, settings):
    settings.POSITION_RETENTION_DAYS = 60
    friday = friday_evening(world)
    services.aggregate_days(start=friday, end=friday)
    before = stored_presence()
    marked = AggregatedDay.objects.get(day=friday).pk

    assert services.aggregate_days(start=friday, end=friday, rebuild=True) == 1

    assert stored_presence() == before and AggregatedDay.objects.get(day=friday).pk != marked


def test_the_level_rule_follows_the_thresholds_in_settings(settings):
    settings.LAGESBILD_LEVEL_THRESHOLDS = (3, 8, 15)
    assert [level_for_points(p) for p in (0, 2, 3, 7, 8, 14, 15, 40)] == [
        Level.GREEN,
        Level.GREEN,
        Level.YELLOW,
        Level.YELLOW,
        Level.ORANGE,
        Level.ORANGE,
        Level.RED,
        Level.RED,
    ]
    # A four-week period needs four times the points.
    assert (level_for_points(11, days=28), level_for_points(12, days=28)) == (Level.GREEN, Level.YELLOW)
    settings.LAGESBILD_LEVEL_THRESHOLDS = (1, 2, 3)
    assert level_for_points(2) == Level.ORANGE


def test_duty_overrides_an_area_s_level_for_a_week_with_a_reason_and_staff_hear_of_it(world):
    friday = friday_evening(world)
    services.aggregate_days(start=friday, end=friday)
    year, week, _ = friday.isocalendar()

    event = services.area_level_override(
        actor=world.dana, area_id=world.hotspot.pk, year=year, week=week, level="red", reason="Polisen ser en ökning"
    )

    assert event.kind == kinds.LEVEL_OVERRIDE.name and event.audience == "staff"
    assert event.data == {
        "area": world.hotspot.pk,
        "area_name": "Hamnen",
        "year": year,
        "week": week,
        "level": "red",
        "reason": "Polisen ser en ökning",
    }
    hamnen = next(a for a in picture(period=period_for_week(year, week)).areas if a.name == "Hamnen")
    assert (hamnen.level, hamnen.level_by_rule, hamnen.overridden) == (Level.RED, Level.YELLOW, True)
    assert hamnen.level_reason == "Polisen ser en ökning"
    # A second decision replaces the first; the week after keeps the rule's level.
    services.area_level_override(
        actor=world.dana, area_id=world.hotspot.pk, year=year, week=week, level="orange", reason="Lugnare"
    )
    hamnen = next(a for a in picture(period=period_for_week(year, week)).areas if a.name == "Hamnen")
    assert hamnen.level == Level.ORANGE
    later = next(a for a in picture(period=period_for_week(*weeks_ago(2).isocalendar()[:2])).areas)
    assert not later.overridden


@pytest.mark.parametrize(("who", "allowed"), [("dana", True), ("admin", True), ("frida", False), ("alice", False)])
def test_who_may_override_a_level(world, who, allowed, django_user_model):
    person = (
        django_user_model.objects.create_superuser("admin", password="pw") if who == "admin" else getattr(world, who)
    )
    year, week, _ = weeks_ago(1).isocalendar()
    override = {"area_id": world.hotspot.pk, "year": year, "week": week, "level": "orange", "reason": "Oro"}
    if allowed:
        services.area_level_override(actor=person, **override)
    else:
        with pytest.raises(Forbidden):
            services.area_level_override(actor=person, **override)
        assert not Event.objects.filter(kind="level_override").exists()


def test_a_level_override_refuses_bad_input_and_writes_nothing(world):
    good = {"area_id": world.hotspot.pk, "year": 2026, "week": 47, "level": "red", "reason": "Oro"}
    for bad, field in [
        ({"week": 54}, "week"),
        ({"year": 1999}, "week"),
        ({"level": "purple"}, "level"),
        ({"reason": "  "}, "reason"),
        ({"reason": "Ring 070-123 45 67"}, "reason"),
        ({"area_id": "7"}, "area_id"),
    ]:
        with pytest.raises(Invalid) as refused:
            services.area_level_override(actor=world.dana, **{**good, **bad})
        assert refused.value.field == field
    assert not Event.objects.filter(kind="level_override").exists()


def test_the_trend_compares_with_the_mean_of_the_four_weeks_before(world):
    # Gatherings in Hamnen: 2, 4, 0 and 6 the four weeks before, 5 this week; nothing a year ago.
    for weeks_back, count in [(5, 2), (4, 4), (3, 0), (2, 6), (1, 5)]:
        tuesday = weeks_ago(weeks_back) + timedelta(days=1)
        for i in range(count):
            note(world, at(tuesday, 21, i), "gathering", area=world.hotspot)
    services.aggregate_days(start=weeks_ago(5), end=weeks_ago(1) + timedelta(days=6))
    year, week, _ = weeks_ago(1).isocalendar()

    seen = picture(period=period_for_week(year, week))

    trend = seen.trend_by_category["gathering"]
    assert (trend.current, trend.previous_mean, trend.change, trend.last_year) == (5, 3.0, 2.0, None)
    assert seen.trend_by_category["drugs"].previous_mean == 0.0
    assert any(line.startswith("Samling av unga ökade: 5 mot i snitt 3,0") for line in seen.summary), seen.summary
    assert "Hamnen: fler noteringar, 5 mot i snitt 3,0." in seen.summary
    assert "Centrum: fler noteringar, 5 mot i snitt 3,0." in seen.summary


def test_a_week_not_over_yet_says_so_and_is_not_compared_with_whole_weeks(world):
    # Four whole weeks with gatherings in Hamnen, then this week: on Tuesday morning it has Monday only.
    for weeks_back, count in [(4, 4), (3, 4), (2, 4), (1, 4)]:
        for i in range(count):
            note(world, at(weeks_ago(weeks_back) + timedelta(days=1), 21, i), "gathering", area=world.hotspot)
    services.aggregate_days(start=weeks_ago(4), end=weeks_ago(1) + timedelta(days=6))
    monday = weeks_ago(0)
    year, week, _ = monday.isocalendar()
    tuesday_morning = at(monday + timedelta(days=1), 8, 30)
    from coordination.tests.test_est_decisions import _now

    with _now(tuesday_morning):
        seen = picture(period=period_for_week(year, week))
    assert seen.summary[:2] == [
        f"v. {week} {year} pågår: 1 av 7 dagar hittills. Jämförelsen med perioderna före görs när perioden är slut.",
        "Hittills 0 noteringar och 0,0 vuxentimmar ute.",
    ]
    assert not any("minskade" in line or "färre noteringar" in line for line in seen.summary), seen.summary
    # Once the week is over, it is compared as every week is.
    with _now(at(monday + timedelta(days=7), 8, 30)):
        later = picture(period=period_for_week(year, week))
    assert any(line.startswith("Samling av unga minskade: 0 mot i snitt 4,0") for line in later.summary), later.summary


def test_the_trend_counts_only_weeks_that_were_summed_and_names_last_year_when_there_is_data(world):
    this_monday = weeks_ago(1)
    year, week, _ = this_monday.isocalendar()
    last_year = date.fromisocalendar(year - 1, week, 3)
    note(world, at(this_monday, 20, 0), "alcohol", area=world.hotspot)
    note(world, at(last_year, 20, 0), "alcohol", area=world.hotspot)
    note(world, at(last_year, 20, 5), "alcohol", area=world.hotspot)
    services.aggregate_days(start=this_monday, end=this_monday)
    services.aggregate_days(start=last_year, end=last_year)

    trend = picture(period=period_for_week(year, week)).trend_by_category["alcohol"]

    assert (trend.current, trend.previous_mean, trend.last_year) == (1, 0.0, 2)


def test_purging_raw_positions_and_notes_leaves_the_picture_of_an_old_week_unchanged(world, settings):
    settings.POSITION_RETENTION_DAYS = 7
    settings.NOTE_RETENTION_DAYS = 7
    friday = friday_evening(world)
    year, week, _ = friday.isocalendar()
    services.aggregate_days(start=friday - timedelta(days=4), end=friday + timedelta(days=2))
    before = picture(period=period_for_week(year, week))

    deleted = services.positions_purge()

    assert deleted == 7 and not PositionReport.objects.exists() and not SituationNote.objects.exists()
    assert picture(period=period_for_week(year, week)) == before


def test_the_purge_sums_a_day_before_it_deletes_its_positions(world, settings):
    settings.POSITION_RETENTION_DAYS = 7
    friday = friday_evening(world)
    assert not AggregatedDay.objects.exists()

    services.positions_purge()

    assert AggregatedDay.objects.filter(day=friday).exists() and not PositionReport.objects.exists()
    assert dict(PresenceDay.objects.values_list("area_id", "person_minutes"))[world.hotspot.pk] == 20


def test_notes_chat_and_the_audit_log_each_go_after_their_own_retention(world, settings):
    settings.NOTE_RETENTION_DAYS = 30
    settings.CHAT_RETENTION_DAYS = 10
    settings.AUDIT_RETENTION_DAYS = 60
    now = timezone.now()
    old_note = note(world, now - timedelta(days=31), "drugs", area=world.hotspot)
    kept_note = note(world, now - timedelta(days=20), "drugs", area=world.hotspot)
    old_chat = ChatMessage.objects.create(author=world.dana, channel="everyone", text="Fika", created_at=now)
    ChatMessage.objects.filter(pk=old_chat.pk).update(created_at=now - timedelta(days=11))
    ChatMessage.objects.create(author=world.dana, channel="everyone", text="Ny", created_at=now - timedelta(days=9))
    AuditLog.objects.create(user=world.dana, action="export", at=now - timedelta(days=61))
    AuditLog.objects.create(user=world.dana, action="export", at=now - timedelta(days=59))

    counts = services.records_purge()

    assert counts == {"notes": 1, "chat": 1, "audit": 1}
    assert list(SituationNote.objects.values_list("pk", flat=True)) == [kept_note.pk]
    assert not SituationNote.objects.filter(pk=old_note.pk).exists()
    # The old note's day was summed before it went.
    assert NoteHour.objects.filter(day=timezone.localdate(now - timedelta(days=31)), category="drugs").exists()
    assert ChatMessage.objects.get().text == "Ny" and AuditLog.objects.count() == 1


def test_a_team_counts_as_its_organisation_s_kind_of_adult_unless_it_says_otherwise(world):
    assert world.harbour_team.presence_kind == "field"
    world.harbour_team.organization = world.club
    assert world.harbour_team.presence_kind == "association"
    world.harbour_team.adult_kind = "youth_centre"
    assert world.harbour_team.presence_kind == "youth_centre"


@pytest.mark.parametrize(
    ("year", "week", "message"),
    [
        (2026, 54, "Vecka 54 finns inte år 2026: året har veckorna 1–53."),
        (2027, 53, "Vecka 53 finns inte år 2027: året har veckorna 1–52."),
        (2026, 0, "Vecka 0 finns inte år 2026"),
        (1999, 10, "Året måste vara mellan 2000 och 2100."),
        (2101, 1, "Året måste vara mellan 2000 och 2100."),
    ],
)
def test_a_week_that_does_not_exist_is_refused_with_a_clear_message(year, week, message):
    with pytest.raises(ValueError, match=message):
        period_for_week(year, week)


def test_weeks_months_and_ranges():
    week = period_for_week(2026, 53)
    assert (week.start, week.end, week.iso_week, week.label) == (
        date(2026, 12, 28),
        date(2027, 1, 3),
        (2026, 53),
        "v. 53 2026",
    )
    month = period_for_month(2026, 2)
    assert (month.start, month.end, month.iso_week) == (date(2026, 2, 1), date(2026, 2, 28), None)
    assert period_for_range(date(2026, 11, 23), date(2026, 11, 29)).iso_week == (2026, 48)
    assert period_for_range(date(2026, 9, 1), date(2026, 12, 31)).iso_week is None
    with pytest.raises(ValueError, match="före sin början"):
        period_for_range(date(2026, 5, 2), date(2026, 5, 1))
    with pytest.raises(ValueError, match="högst 400 dagar"):
        period_for_range(date(2024, 1, 1), date(2026, 1, 1))
    with pytest.raises(ValueError, match="Månaden"):
        period_for_month(2026, 13)


def test_the_aggregate_command_sums_a_range_and_refuses_one_that_ends_before_it_starts(world):
    friday = friday_evening(world)
    out = StringIO()

    call_command("aggregate", "--from", str(friday - timedelta(days=1)), "--to", str(friday), stdout=out)

    assert out.getvalue().startswith(f"Summed 2 day(s) from {friday - timedelta(days=1)} to {friday}")
    assert AggregatedDay.objects.count() == 2
    with pytest.raises(CommandError, match="before"):
        call_command("aggregate", "--from", str(friday), "--to", str(friday - timedelta(days=1)))
    with pytest.raises(CommandError, match="Not a date"):
        call_command("aggregate", "--from", "fredag")


def test_the_summary_and_the_period_errors_are_in_english_for_an_english_reader(world):
    friday = friday_evening(world)
    services.aggregate_days(start=friday, end=friday)
    year, week, _ = friday.isocalendar()

    with translation.override("en"):
        seen = picture(period=period_for_week(year, week))
        with pytest.raises(ValueError, match="Week 54 does not exist in 2026: the year has weeks 1–53"):
            period_for_week(2026, 54)

    assert seen.period.label == f"week {week} {year}"
    assert "Hamnen: 1 note was made when no adults were there." in seen.summary
    assert "2 of 3 notes were made in an hour when adults were out." in seen.summary
