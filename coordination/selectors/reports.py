"""The weekly EST picture and the presence totals it is made from."""

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from coordination.models import AggregatedDay, Alert, PresenceDay, Shift, SituationNote
from maps.models import Area

PRESENCE_SLOT_MINUTES = 5


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    return start, start + timedelta(days=1)


def presence_minutes_raw(day: date) -> dict[int, int]:
    """Person-minutes per area on one local day, counted from raw positions in 5-minute slots."""
    start, end = _local_day_bounds(day)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, count(DISTINCT (p.user_id, floor(extract(epoch FROM p.recorded_at) / %s))) * %s
            FROM coordination_positionreport p
            JOIN maps_area a ON ST_Intersects(a.polygon, p.point)
            WHERE p.recorded_at >= %s AND p.recorded_at < %s
            GROUP BY a.id
            """,
            [PRESENCE_SLOT_MINUTES * 60, PRESENCE_SLOT_MINUTES, start, end],
        )
        return dict(cursor.fetchall())


def presence_minutes(day: date) -> dict[int, int]:
    """Person-minutes per area on one day: the stored totals once the day is summed, else from raw."""
    if AggregatedDay.objects.filter(day=day).exists():
        return dict(PresenceDay.objects.filter(day=day).values_list("area_id", "person_minutes"))
    return presence_minutes_raw(day)


def weekly_report(*, week_start: date) -> dict:
    """The EST situation picture of one week (Monday to Sunday): presence, notes and alerts per area.

    Counts only: no person, no position, no note text.
    """
    days = [week_start + timedelta(days=i) for i in range(7)]
    start, _ = _local_day_bounds(days[0])
    _, end = _local_day_bounds(days[-1])
    minutes: dict[int, int] = {}
    for day in days:
        for area, value in presence_minutes(day).items():
            minutes[area] = minutes.get(area, 0) + value
    notes = SituationNote.objects.filter(created_at__gte=start, created_at__lt=end)
    notes_by_area: dict[int | None, dict[str, int]] = {}
    youth_by_area: dict[int | None, int] = {}
    for area, category, youth in notes.values_list("area_id", "category", "youth_count"):
        notes_by_area.setdefault(area, {}).setdefault(category, 0)
        notes_by_area[area][category] += 1
        youth_by_area[area] = youth_by_area.get(area, 0) + (youth or 0)
    areas = []
    for area in Area.objects.order_by("-priority", "name"):
        categories = notes_by_area.get(area.pk, {})
        areas.append(
            {
                "area": area.pk,
                "name": area.name,
                "kind": area.kind,
                "priority": area.priority,
                "presence_hours": round(minutes.get(area.pk, 0) / 60, 2),
                "notes": sum(categories.values()),
                "notes_by_category": dict(sorted(categories.items())),
                "youth_counted": youth_by_area.get(area.pk, 0),
            }
        )
    shifts = Shift.objects.filter(started_at__lt=end).filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
    by_category: dict[str, int] = {}
    for category in notes.values_list("category", flat=True):
        by_category[category] = by_category.get(category, 0) + 1
    return {
        "week": f"{week_start.isocalendar().year}-W{week_start.isocalendar().week:02d}",
        "from": days[0].isoformat(),
        "to": days[-1].isoformat(),
        "shifts": shifts.count(),
        "notes": notes.count(),
        "notes_by_category": dict(sorted(by_category.items())),
        "alerts": Alert.objects.filter(raised_at__gte=start, raised_at__lt=end).count(),
        "areas": areas,
        "uncovered_hotspots": [a["name"] for a in areas if a["kind"] == Area.Kind.HOTSPOT and a["presence_hours"] == 0],
    }
