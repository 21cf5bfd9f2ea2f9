"""Presence per area is kept after raw tracks go, and the weekly EST picture counts without naming."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from coordination import selectors, services
from coordination.models import PositionReport, PresenceDay, Shift, SituationNote
from coordination.validation import MAX_POSITION_AGE

pytestmark = pytest.mark.django_db

HOTSPOT_POINT = "POINT(11.445 58.28)"  # inside the Hamnen hotspot, which lies inside the Centrum district


def at(day, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def walked(world, day, *visits) -> None:
    """Raw positions as devices would have left them on `day` (older than the live API accepts)."""
    shift = Shift.objects.create(team=world.harbour_team, started_by=world.alice, ended_at=at(day, 23, 59))
    for n, (user, hour, minute, point) in enumerate(visits):
        when = at(day, hour, minute)
        PositionReport.objects.create(
            shift=shift, user=user, point=point, recorded_at=when, received_at=when, client_id=f"{day}-{n}"
        )


def test_presence_counts_each_person_once_per_five_minute_slot(world):
    day = timezone.localdate() - timedelta(days=1)
    walked(
        world,
        day,
        (world.alice, 22, 0, HOTSPOT_POINT),
        (world.alice, 22, 1, HOTSPOT_POINT),  # same slot as 22:00
        (world.alice, 22, 6, HOTSPOT_POINT),
        (world.bob, 22, 2, HOTSPOT_POINT),
        (world.bob, 22, 3, "POINT(11.0 57.0)"),  # outside every area
    )
    minutes = selectors.presence_minutes_raw(day)
    assert minutes == {world.hotspot.pk: 15, world.district.pk: 15}


def test_a_finished_day_is_stored_once_and_survives_the_purge_of_its_tracks(world, settings):
    settings.POSITION_RETENTION_DAYS = 2
    day = timezone.localdate() - timedelta(days=5)
    walked(world, day, (world.alice, 21, 0, HOTSPOT_POINT), (world.bob, 21, 0, HOTSPOT_POINT))

    deleted = services.positions_purge()

    assert deleted == 2 and PositionReport.objects.count() == 0
    stored = dict(PresenceDay.objects.filter(day=day).values_list("area_id", "person_minutes"))
    assert stored == {world.hotspot.pk: 10, world.district.pk: 10}
    assert services.presence_aggregate(day=day) == 0  # never recounted from what is left
    assert selectors.presence_minutes(day) == stored


def test_today_is_not_stored_while_it_is_still_going_on(world):
    walked(world, timezone.localdate(), (world.alice, 0, 1, HOTSPOT_POINT))
    assert services.presence_aggregate(day=timezone.localdate()) == 0
    assert PresenceDay.objects.count() == 0


def test_the_weekly_report_counts_presence_notes_and_alerts_per_area_without_names(world):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    walked(world, monday, (world.alice, 20, 0, HOTSPOT_POINT))
    services.shift_start(user=world.charlie, client_id="s")
    services.note_create(
        user=world.charlie, category="gathering", lat=58.28, lon=11.445, youth_count=12, text="Samling vid kiosken"
    )
    services.note_create(user=world.charlie, category="vandalism", lat=58.28, lon=11.445)
    services.alert_raise(user=world.charlie)
    SituationNote.objects.filter(category="vandalism").update(created_at=at(monday, 21, 0))

    report = selectors.weekly_report(week_start=monday)

    hotspot = next(a for a in report["areas"] if a["area"] == world.hotspot.pk)
    assert hotspot == {
        "area": world.hotspot.pk,
        "name": "Hamnen",
        "kind": "hotspot",
        "priority": 5,
        "presence_hours": round(5 / 60, 2),
        "notes": 2,
        "notes_by_category": {"gathering": 1, "vandalism": 1},
        "youth_counted": 12,
    }
    assert (report["notes"], report["alerts"], report["shifts"]) == (2, 1, 2)
    assert report["uncovered_hotspots"] == []
    text = str(report)
    assert "kiosken" not in text and "alice" not in text and "charlie" not in text.lower()


def test_a_hotspot_nobody_walked_is_listed_as_uncovered(world):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    report = selectors.weekly_report(week_start=monday)
    assert report["uncovered_hotspots"] == ["Hamnen"]
    assert report["week"] == f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"


def test_a_day_is_stored_only_once_late_queued_positions_can_no_longer_arrive(world):
    unsettled = (timezone.localtime() - MAX_POSITION_AGE).date()
    walked(world, unsettled, (world.alice, 12, 0, HOTSPOT_POINT))
    walked(world, unsettled - timedelta(days=1), (world.alice, 12, 0, HOTSPOT_POINT))
    assert services.presence_aggregate(day=unsettled) == 0
    assert services.presence_aggregate(day=unsettled - timedelta(days=1)) == 2  # the hotspot and its district
