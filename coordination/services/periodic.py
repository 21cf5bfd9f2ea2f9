"""Work on a clock: coverage, the field tick, presence totals and the retention purge.

coordination.jobs says which process runs each of these and how often.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from coordination import kinds
from coordination.audience import FIELD, PUBLIC
from coordination.events import event_append, event_order_lock
from coordination.models import CheckIn, Event, PositionReport, PresenceDay
from coordination.selectors import coverage_counts, presence_minutes_raw, team_latest_positions
from coordination.validation import MAX_POSITION_AGE

__all__ = [
    "coverage_refresh",
    "field_positions_refresh",
    "positions_purge",
    "presence_aggregate",
    "presence_finished_days",
]


def presence_aggregate(*, day: date) -> int:
    """Store person-minutes per area for one finished local day, once; return the rows stored.

    Written only once the day is over by more than MAX_POSITION_AGE (the latest a queued position
    is still accepted), and only once: by then every raw position of the day is there, and later
    purges delete them, so a recount would come out short.
    """
    settled = (timezone.localtime() - MAX_POSITION_AGE).date()
    if day >= settled or PresenceDay.objects.filter(day=day).exists():
        return 0
    rows = [PresenceDay(area_id=area, day=day, person_minutes=m) for area, m in presence_minutes_raw(day).items()]
    PresenceDay.objects.bulk_create(rows, ignore_conflicts=True)  # two purges at once store one set
    return len(rows)


def presence_finished_days() -> int:
    """Sum into PresenceDay each finished day that has raw positions and no totals yet; return the rows stored.

    presence_aggregate decides when a day is settled and writes it once; the purge does the same
    before it deletes, this only makes the totals ready without waiting for it.
    """
    summed = PresenceDay.objects.values("day")
    days = (
        PositionReport.objects.annotate(day=TruncDate("recorded_at"))
        .exclude(day__in=summed)
        .values_list("day", flat=True)
        .distinct()
    )
    return sum(presence_aggregate(day=day) for day in days)


def positions_purge(*, now: datetime | None = None) -> int:
    """Delete raw positions (and their broadcast events) past POSITION_RETENTION_DAYS; return how many.

    Finished days are first summed into PresenceDay, so the EST reports keep presence per area
    while the tracks themselves go.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.POSITION_RETENTION_DAYS)
    presence_finished_days()
    deleted, _ = PositionReport.objects.filter(received_at__lt=cutoff).delete()
    # The `positions` events are a track of every team too; they go with the raw positions, and the
    # coverage counts (written whenever someone moves) with them. Check-ins say where a team was: the same.
    CheckIn.objects.filter(created_at__lt=cutoff).delete()
    gone = [kinds.POSITIONS.name, kinds.COVERAGE.name, kinds.CHECKIN.name]
    Event.objects.filter(kind__in=gone, created_at__lt=cutoff).delete()
    return deleted


def field_positions_refresh() -> Event | None:
    """Publish to field devices the latest position of every team on shift, when any has changed.

    The whole set each time, so the newest field tick is all a field snapshot needs, and only
    where a team is (names and status come with shift events). Each device gets only its own team
    and the teams near it, as deltas (coordination.fieldscope).
    """
    keep = ("team", "shift", "lat", "lon", "recorded_at")
    teams = [{k: team[k] for k in keep} for team in team_latest_positions().values()]  # before the lock
    with transaction.atomic():
        event_order_lock()  # ticks at once publish one change, once
        last = Event.objects.filter(kind=kinds.POSITIONS.name, audience=str(FIELD)).order_by("-seq").first()
        if last is not None:
            if teams == last.data["teams"]:
                return None
            if last.created_at > timezone.now() - timedelta(seconds=settings.FIELD_POSITION_TICK_S * 0.9):
                return None  # another server process has just ticked
        return event_append(kind=kinds.POSITIONS, audience=FIELD, data={"teams": teams})


def coverage_refresh() -> Event | None:
    """Recount adults per area; publish a `coverage` event to everyone when a count changed."""
    # Counted before the lock: every writer of the deployment waits while it is held.
    areas = [{"area": area, "adults": adults} for area, adults in coverage_counts().items()]
    with transaction.atomic():
        event_order_lock()
        last = Event.objects.filter(kind=kinds.COVERAGE.name).order_by("-seq").first()
        if last is not None and last.data.get("areas") == areas:
            return None
        return event_append(kind=kinds.COVERAGE, audience=PUBLIC, data={"areas": areas})
