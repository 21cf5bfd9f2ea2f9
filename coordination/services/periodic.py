"""Work on a clock: coverage, the field tick, presence totals and the retention purge.

coordination.jobs says which process runs each of these and how often.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from coordination import kinds
from coordination.audience import FIELD, PUBLIC
from coordination.events import event_append, event_order_lock
from coordination.models import (
    AggregatedDay,
    AuditLog,
    ChatMessage,
    CheckIn,
    Event,
    NoteHour,
    PositionReport,
    PresenceHour,
    SituationNote,
    Team,
)
from coordination.selectors import PRESENCE_SLOT_MINUTES, coverage_counts, team_latest_positions
from coordination.services.dialogue import dialogue_purge
from coordination.validation import MAX_POSITION_AGE

__all__ = [
    "aggregate_days",
    "coverage_refresh",
    "day_aggregate",
    "field_positions_refresh",
    "positions_purge",
    "presence_aggregate",
    "presence_finished_days",
    "records_purge",
]

SLOT_S = PRESENCE_SLOT_MINUTES * 60
# Held while a day is summed: the presence job and the purge job run on their own threads.
AGGREGATE_LOCK = 0x4E41525652  # "NARVR"


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _settled_before() -> date:
    """The first local day that may still receive queued positions: days before it are finished."""
    return (timezone.localtime() - MAX_POSITION_AGE).date()


def _complete_from(now: datetime | None = None) -> date:
    """The first local day whose raw positions and notes no purge can have touched yet."""
    now = now or timezone.now()
    # A retention of 0 keeps notes for ever: only the positions' retention limits a recount then.
    days = min(d for d in (settings.POSITION_RETENTION_DAYS, settings.NOTE_RETENTION_DAYS or 10**5))
    return timezone.localdate(now - timedelta(days=days)) + timedelta(days=1)


def _slot_hour(slot: int, tz) -> int:
    return datetime.fromtimestamp(slot * SLOT_S, tz=tz).hour


def _presence_slots(start: datetime, end: datetime) -> tuple[list[tuple], list[tuple]]:
    """(area, team, slot, people) inside each area, and (team, slot, people) anywhere, from raw positions.

    Runs inside the caller's transaction. The day's positions are read once (a sequential read
    beats the spatial index over every day's positions) and collected per person, team and slot:
    one multipoint intersects an area exactly when one of its positions lies inside, so each
    slot is tested against the few areas once, not each of its positions.
    """
    with connection.cursor() as cursor:
        # The planner's estimates make JIT compile for a second on a query that runs in less.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # A person counts once per slot and area, however often they sent.
        cursor.execute(
            """
            WITH day AS MATERIALIZED (
                SELECT p.user_id, s.team_id, floor(extract(epoch FROM p.recorded_at) / %s)::bigint AS slot,
                       ST_Collect(p.point) AS points
                FROM coordination_positionreport p
                JOIN coordination_shift s ON s.id = p.shift_id
                WHERE p.recorded_at >= %s AND p.recorded_at < %s
                GROUP BY 1, 2, 3
            )
            SELECT a.id, d.team_id, d.slot, count(DISTINCT d.user_id)
            FROM day d JOIN maps_area a ON ST_Intersects(a.polygon, d.points)
            GROUP BY 1, 2, 3
            UNION ALL
            SELECT NULL, team_id, slot, count(DISTINCT user_id) FROM day GROUP BY 2, 3
            """,
            [SLOT_S, start, end],
        )
        rows = cursor.fetchall()
    in_areas = [row for row in rows if row[0] is not None]
    anywhere = [row[1:] for row in rows if row[0] is None]
    return in_areas, anywhere


def _day_rows(day: date) -> tuple[list[PresenceHour], list[NoteHour]]:
    """The presence and note totals of one local day, from its raw positions and notes."""
    start, end = _day_bounds(day)
    in_areas, anywhere = _presence_slots(start, end)
    kind_of = {team.pk: team.presence_kind for team in Team.objects.select_related("organization")}
    tz = timezone.get_current_timezone()  # once: it is looked up through a context-local each time
    minutes: dict[tuple, int] = defaultdict(int)
    covered: set[tuple[int, int]] = set()
    hours: dict[int, int] = {}
    for area, team, slot, people in in_areas:
        hour = hours[slot] if slot in hours else hours.setdefault(slot, _slot_hour(slot, tz))
        minutes[(area, hour, kind_of.get(team, "field"))] += people * PRESENCE_SLOT_MINUTES
        covered.add((area, slot))
    for team, slot, people in anywhere:
        hour = hours[slot] if slot in hours else hours.setdefault(slot, _slot_hour(slot, tz))
        minutes[(None, hour, kind_of.get(team, "field"))] += people * PRESENCE_SLOT_MINUTES
    presence = [
        PresenceHour(area_id=area, day=day, hour=hour, adult_kind=kind, person_minutes=value)
        for (area, hour, kind), value in sorted(minutes.items(), key=lambda item: str(item[0]))
    ]
    notes: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = SituationNote.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "area_id", "category", "severity", "youth_count", "created_at"
    )
    for area, category, severity, youth, created in rows:
        slot = int(created.timestamp() // SLOT_S)
        cell = notes[(area, created.astimezone(tz).hour, category, severity)]
        cell[0] += 1
        cell[1] += youth or 0
        # No adult inside the note's area in its slot or the ones either side: nobody there when it happened.
        if area is not None and not any((area, s) in covered for s in (slot - 1, slot, slot + 1)):
            cell[2] += 1
    note_rows = [
        NoteHour(area_id=a, day=day, hour=h, category=c, severity=s, notes=n, youth=y, uncovered=u)
        for (a, h, c, s), (n, y, u) in notes.items()
    ]
    return presence, note_rows


def day_aggregate(*, day: date, rebuild: bool = False) -> int | None:
    """Store the presence and note totals of one finished local day once; return its areas with presence.

    None when nothing was written: the day is not finished (queued positions may still arrive until
    MAX_POSITION_AGE after it), or it is summed already. `rebuild` recounts a summed day, but only
    while no purge can have touched its raw rows; otherwise the stored totals are the truth. Either
    way a rerun gives the same numbers.
    """
    if day >= _settled_before():
        return None
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AGGREGATE_LOCK])
        if AggregatedDay.objects.filter(day=day).exists():
            if not rebuild or day < _complete_from():
                return None
            PresenceHour.objects.filter(day=day).delete()
            NoteHour.objects.filter(day=day).delete()
            AggregatedDay.objects.filter(day=day).delete()
        presence, notes = _day_rows(day)
        PresenceHour.objects.bulk_create(presence)
        NoteHour.objects.bulk_create(notes)
        AggregatedDay.objects.create(day=day)
    return len({row.area_id for row in presence if row.area_id is not None})


def presence_aggregate(*, day: date) -> int:
    """Store the totals of one finished local day, once; return the areas with presence stored (0 if none)."""
    return day_aggregate(day=day) or 0


def aggregate_days(*, start: date, end: date, rebuild: bool = False) -> int:
    """Sum each finished day from `start` to `end` (inclusive) not summed yet, or recount with rebuild; days summed."""
    done = 0
    day = start
    while day <= end:
        done += day_aggregate(day=day, rebuild=rebuild) is not None
        day += timedelta(days=1)
    return done


def presence_finished_days() -> int:
    """Sum each finished day that has raw positions or notes and no totals yet; return the areas with presence stored.

    day_aggregate decides when a day is settled and writes it once; the purge does the same before
    it deletes, this only makes the totals ready without waiting for it.
    """
    summed = AggregatedDay.objects.values("day")
    days = set(
        PositionReport.objects.annotate(day=TruncDate("recorded_at"))
        .exclude(day__in=summed)
        .values_list("day", flat=True)
        .distinct()
    )
    days |= set(
        SituationNote.objects.annotate(day=TruncDate("created_at"))
        .exclude(day__in=summed)
        .values_list("day", flat=True)
        .distinct()
    )
    return sum(presence_aggregate(day=day) for day in sorted(days))


def _unsummed(queryset, field: str):
    """`queryset` without the rows of finished local days not summed yet: those wait for their totals.

    (A day not finished cannot be summed; a row received before the cut-off but stamped in such a day
    carries a clock that cannot be trusted, and goes.)
    """
    summed = AggregatedDay.objects.values("day")
    waiting = (
        queryset.annotate(day=TruncDate(field))
        .filter(day__lt=_settled_before())
        .exclude(day__in=summed)
        .values_list("day", flat=True)
        .distinct()
    )
    for day in set(waiting):
        start, end = _day_bounds(day)
        queryset = queryset.exclude(**{f"{field}__gte": start, f"{field}__lt": end})
    return queryset


def positions_purge(*, now: datetime | None = None) -> int:
    """The retention purge: raw positions (and their events) past POSITION_RETENTION_DAYS; return how many.

    Finished days are first summed (presence per area and hour, notes), and positions of a day that
    is not summed stay: the EST picture of an old week is the same before and after. Then notes,
    chat and the audit log past their own retention (records_purge).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.POSITION_RETENTION_DAYS)
    presence_finished_days()
    expired = _unsummed(PositionReport.objects.filter(received_at__lt=cutoff), "recorded_at")
    deleted, _ = expired.delete()
    # The `positions` events are a track of every team too; they go with the raw positions, and the
    # coverage counts (written whenever someone moves) with them. Check-ins say where a team was: the same.
    CheckIn.objects.filter(created_at__lt=cutoff).delete()
    gone = [kinds.POSITIONS.name, kinds.COVERAGE.name, kinds.CHECKIN.name]
    Event.objects.filter(kind__in=gone, created_at__lt=cutoff).delete()
    records_purge(now=now)
    dialogue_purge(now=now)  # citizen reports past DIALOGUE_RETENTION_DAYS: the same daily purge
    return deleted


def records_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete notes, chat messages and audit rows past their own retention; return how many of each.

    NOTE_RETENTION_DAYS, CHAT_RETENTION_DAYS, AUDIT_RETENTION_DAYS (0: kept for ever). Notes of a day
    go only once the day is summed, and their events (which carry the text) with them.
    """
    now = now or timezone.now()
    presence_finished_days()  # notes wait for their day's totals
    counts = {"notes": 0, "chat": 0, "audit": 0}
    if settings.NOTE_RETENTION_DAYS:
        cutoff = now - timedelta(days=settings.NOTE_RETENTION_DAYS)
        counts["notes"], _ = _unsummed(SituationNote.objects.filter(created_at__lt=cutoff), "created_at").delete()
        Event.objects.filter(kind__in=[kinds.NOTE.name, kinds.NOTE_ACK.name], created_at__lt=cutoff).delete()
    if settings.CHAT_RETENTION_DAYS:
        cutoff = now - timedelta(days=settings.CHAT_RETENTION_DAYS)
        counts["chat"], _ = ChatMessage.objects.filter(created_at__lt=cutoff).delete()
        Event.objects.filter(kind=kinds.CHAT.name, created_at__lt=cutoff).delete()
    if settings.AUDIT_RETENTION_DAYS:
        cutoff = now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
        counts["audit"], _ = AuditLog.objects.filter(at__lt=cutoff).delete()
    return counts


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
