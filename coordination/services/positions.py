"""Positions: the high-rate stream, stored in batches with one coalesced event per batch.

The per-process buffer that gathers the batches is coordination.stream; the reads maps and ticks
share are coordination.selectors.team_latest_positions and published_field_positions.
"""

import functools
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import kinds
from coordination.audience import OPS
from coordination.errors import Forbidden, Invalid, NotSaved, ServiceError
from coordination.events import event_append, event_order_lock
from coordination.models import Membership, Role, Shift, Team
from coordination.revocation import Credentials, revoked
from coordination.selectors import team_latest_positions
from coordination.validation import (
    MAX_CLOCK_SKEW,
    MAX_POSITION_AGE,
    clean_client_id,
    clean_recorded_at,
    lat_lon,
    number,
)

log = logging.getLogger(__name__)

__all__ = ["PositionIn", "PositionOut", "position_record", "positions_record"]


@dataclass(frozen=True)
class PositionIn:
    """One position as a device sent it; validated by positions_record."""

    user_id: int
    client_id: str
    lat: object
    lon: object
    accuracy: object = None
    recorded_at: object = None
    # What the sending socket signed in with: a report from a revoked token or ended session is
    # refused even before the socket is closed (coordination.revocation). None: checked by the caller.
    credentials: Credentials | None = None


@dataclass(frozen=True)
class PositionOut:
    """The outcome for one PositionIn: the seq it is stored under, or why it was refused."""

    client_id: str
    seq: int | None = None
    error: ServiceError | None = None


@dataclass(frozen=True, slots=True)
class _Span:
    """What a batch needs of a shift: its id and when it ran (a row, not a model instance)."""

    pk: int
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class _Clean:
    """A report that passed validation, with the index of its answer."""

    index: int
    user_id: int
    client_id: str
    lat: float
    lon: float
    accuracy: float | None
    recorded_at: datetime
    shift: _Span | Shift | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.user_id, self.client_id)


def _clean(index: int, report: PositionIn, *, now: datetime) -> _Clean:
    client_id = clean_client_id(report.client_id)
    if client_id is None:
        raise Invalid(_("id krävs."), field="id")
    lat, lon = lat_lon(report.lat, report.lon)
    accuracy = None if report.accuracy is None else number(report.accuracy, "accuracy")
    if accuracy is not None and not 0 <= accuracy <= 100_000:
        raise Invalid(_("accuracy måste ligga mellan 0 och 100000 meter."), field="accuracy")
    recorded_at = clean_recorded_at(report.recorded_at, now=now)
    return _Clean(index, report.user_id, client_id, lat, lon, accuracy, recorded_at)


def _outside_shift() -> Forbidden:
    return Forbidden(_("Positioner delas bara under ett pågående pass."))


def _signed_out() -> Forbidden:
    return Forbidden(_("Inloggningen gäller inte längre; logga in igen."))


def _not_saved() -> NotSaved:
    return NotSaved(_("Positionen kunde inte sparas; skicka igen."))


def _senders(user_ids: set[int]) -> tuple[dict[int, list[int]], dict[int, _Span]]:
    """The senders of each of their teams, and each sender's team's active shift (the latest started).

    Only active people with the field role report (access.may_report). One statement of plain rows:
    every batch reads this, and the ORM's per-value `IN` work and model instances were an eighth of
    a busy server's interpreter (issue 16, bench/README.md).
    """
    with connection.cursor() as cursor:
        cursor.execute(_senders_sql(), [list(user_ids), Role.FIELD])
        rows = cursor.fetchall()
    users_of_team: dict[int, list[int]] = {}
    shift_of: dict[int, _Span] = {}
    for team_id, user_id, shift_id, started_at in rows:  # ordered by started_at: the latest wins
        users_of_team.setdefault(team_id, []).append(user_id)
        if shift_id is not None:
            shift_of[user_id] = _Span(shift_id, started_at)
    return users_of_team, shift_of


@functools.cache
def _senders_sql() -> str:
    members = Team.members.through._meta.db_table
    users = get_user_model()._meta.db_table
    return f"""
        SELECT m.team_id, m.user_id, s.id, s.started_at
        FROM {members} m
        JOIN {users} u ON u.id = m.user_id AND u.is_active
        LEFT JOIN {Shift._meta.db_table} s ON s.team_id = m.team_id AND s.ended_at IS NULL
        WHERE m.user_id = ANY(%s::bigint[])
          AND EXISTS (SELECT 1 FROM {Membership._meta.db_table} r WHERE r.user_id = m.user_id AND r.role = %s)
        ORDER BY s.started_at NULLS FIRST
    """


def _ended_shifts_of(users_of_team: dict[int, list[int]], *, now: datetime) -> dict[int, list[Shift]]:
    """Each sender's team's shifts that ended within MAX_POSITION_AGE: where a late position may belong."""
    ended_of: dict[int, list[Shift]] = {}
    shifts = Shift.objects.filter(
        team_id__in=users_of_team, ended_at__isnull=False, ended_at__gte=now - MAX_POSITION_AGE
    )
    for shift in shifts:
        for user_id in users_of_team[shift.team_id]:
            ended_of.setdefault(user_id, []).append(shift)
    return ended_of


def _covers(shift: _Span | Shift, recorded_at: datetime) -> bool:
    """Whether `shift` was out when a position was recorded (a device clock may run a little ahead)."""
    if recorded_at < shift.started_at - MAX_CLOCK_SKEW:
        return False
    return shift.ended_at is None or recorded_at <= shift.ended_at


def positions_record(*, reports: list[PositionIn]) -> list[PositionOut]:
    """Store a batch of positions in one transaction and one coalesced `positions` event.

    Each report is checked on its own (range, clock, a shift of the sender's team that covers its
    time); refused ones get an error and are stored nowhere. A position recorded during a shift that
    has ended since (a tracker's offline buffer) is stored on that shift but moves nobody on the map.
    A repeated (user, client_id) answers with the seq it was stored under. The event carries the
    latest position of each team that moved. When the batch cannot be written, each report is
    written on its own, so one bad report costs only its own answer.
    """
    now = timezone.now()
    results: dict[int, PositionOut] = {}
    valid: list[_Clean] = []
    for index, report in enumerate(reports):
        try:
            valid.append(_clean(index, report, now=now))
        except ServiceError as error:
            results[index] = PositionOut(client_id=str(report.client_id)[:64], error=error)
    gone = revoked({reports[row.index].credentials for row in valid} - {None})
    if gone:
        for row in [row for row in valid if reports[row.index].credentials in gone]:
            results[row.index] = PositionOut(client_id=row.client_id, error=_signed_out())
        valid = [row for row in valid if reports[row.index].credentials not in gone]
    users_of_team, shift_of = _senders({row.user_id for row in valid}) if valid else ({}, {})
    ended_of: dict[int, list[Shift]] | None = None
    rows = []
    for row in valid:
        shift = shift_of.get(row.user_id)
        if shift is None or not _covers(shift, row.recorded_at):
            if ended_of is None:
                ended_of = _ended_shifts_of(users_of_team, now=now)
            shift = next((s for s in ended_of.get(row.user_id, ()) if _covers(s, row.recorded_at)), None)
        if shift is None:
            results[row.index] = PositionOut(client_id=row.client_id, error=_outside_shift())  # privacy
        else:
            rows.append(replace(row, shift=shift))
    if rows:
        results.update(_store_isolated(rows, now=now))
    return [results[i] for i in range(len(reports))]


def _store_isolated(rows: list[_Clean], *, now: datetime) -> dict[int, PositionOut]:
    """_store the batch; if the statement fails, store each row alone so only a bad row fails."""
    try:
        return _store(rows, now=now)
    except DatabaseError as error:
        if len(rows) == 1:
            log.error("position not saved: %s", type(error).__qualname__)
            return {rows[0].index: PositionOut(client_id=rows[0].client_id, error=_not_saved())}
        log.error("position batch of %d failed (%s); storing one by one", len(rows), type(error).__qualname__)
    results = {}
    for row in rows:
        results.update(_store_isolated([row], now=now))
    return results


def _store(rows: list[_Clean], *, now: datetime) -> dict[int, PositionOut]:
    """Write `rows` and the coalesced event in one transaction; the answer for each row's index."""
    results = {}
    with transaction.atomic():
        # Shifts read above may have ended since; FOR KEY SHARE waits for a shift_end in flight
        # and keeps one from ending these shifts until this batch commits.
        live = [row for row in rows if row.shift.ended_at is None]
        active = _lock_active_shifts({row.shift.pk for row in live}) if live else set()
        for row in live:
            if row.shift.pk not in active:
                results[row.index] = PositionOut(client_id=row.client_id, error=_outside_shift())
        live = [row for row in live if row.shift.pk in active]
        # Late positions of an ended shift are kept for the record (presence, the track), never shown live.
        late = [row for row in rows if row.shift.ended_at is not None]
        seqs, inserted = _insert_positions(live, received_at=now) if live else ({}, set())
        if late:
            late_seqs, _late_inserted = _insert_positions(late, received_at=now, latest=False)
            seqs |= late_seqs
        for row in [*live, *late]:
            results[row.index] = PositionOut(client_id=row.client_id, seq=seqs[row.key])
        # A retry moves nobody; a late queued position must not move the team back on the map:
        # each moved team's newest position comes from the stored latest positions of its members.
        moved = {row.shift.pk for row in live if row.key in inserted}
        if moved:
            # Read under the event lock: a batch of another process that committed a newer position
            # of the same team with a lower seq is then seen, so the last event of a team is its newest.
            event_order_lock()
        teams = list(team_latest_positions(shift_ids=moved).values()) if moved else []
        if teams:
            # Every flush reaches the duty map; field devices get the slower field tick instead
            # (field_positions_refresh): sending every flush to every device grows with devices².
            event_append(kind=kinds.POSITIONS, audience=OPS, data={"teams": teams})
    return results


def _lock_active_shifts(shift_ids: set[int]) -> set[int]:
    """The ids among `shift_ids` still active, share-locked until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM coordination_shift WHERE id = ANY(%s) AND ended_at IS NULL FOR KEY SHARE",
            [list(shift_ids)],
        )
        return {row[0] for row in cursor.fetchall()}


INSERT_REPORTS = """
    INSERT INTO coordination_positionreport
        (shift_id, user_id, point, accuracy, recorded_at, received_at, client_id)
    SELECT s, u, ST_SetSRID(ST_MakePoint(x, y), 4326), a, t, %s, c
    FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::float8[], %s::float8[],
                %s::timestamptz[], %s::text[]) AS v(s, u, x, y, a, t, c)
    ON CONFLICT (user_id, client_id) DO NOTHING
    RETURNING user_id, client_id
"""
# The newest position of each sender, unless a newer one of the same shift is already there.
UPSERT_LATEST = """
    INSERT INTO coordination_latestposition (user_id, shift_id, point, accuracy, recorded_at)
    SELECT DISTINCT ON (u) u, s, ST_SetSRID(ST_MakePoint(x, y), 4326), a, t
    FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::float8[], %s::float8[],
                %s::timestamptz[]) AS v(s, u, x, y, a, t)
    ORDER BY u, t DESC
    ON CONFLICT (user_id) DO UPDATE
    SET shift_id = EXCLUDED.shift_id, point = EXCLUDED.point,
        accuracy = EXCLUDED.accuracy, recorded_at = EXCLUDED.recorded_at
    WHERE coordination_latestposition.shift_id <> EXCLUDED.shift_id
       OR coordination_latestposition.recorded_at <= EXCLUDED.recorded_at
"""
SEQS_OF = """
    SELECT p.user_id, p.client_id, p.seq FROM coordination_positionreport p
    JOIN unnest(%s::int[], %s::text[]) AS v(u, c) ON p.user_id = v.u AND p.client_id = v.c
"""


def _insert_positions(
    rows: list[_Clean], *, received_at, latest: bool = True
) -> tuple[dict[tuple[int, str], int], set[tuple[int, str]]]:
    """Bulk insert in one statement; return the seq of each (user, client_id), old or new, and the new ones.

    `latest`: also make each sender's newest row their LatestPosition (not for an ended shift's).
    """
    shifts = [row.shift.pk for row in rows]
    users = [row.user_id for row in rows]
    where = [[row.lon for row in rows], [row.lat for row in rows], [row.accuracy for row in rows]]
    times = [row.recorded_at for row in rows]
    client_ids = [row.client_id for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_REPORTS, [received_at, shifts, users, *where, times, client_ids])
        inserted = set(cursor.fetchall())
        if latest:
            cursor.execute(UPSERT_LATEST, [shifts, users, *where, times])
        cursor.execute(SEQS_OF, [users, client_ids])
        return {(user_id, client_id): seq for user_id, client_id, seq in cursor.fetchall()}, inserted


def position_record(*, user, client_id: str, lat, lon, accuracy=None, recorded_at=None) -> PositionOut:
    """Store one position with its own event (the simple path; devices in bulk use positions_record)."""
    report = PositionIn(user.pk, client_id, lat, lon, accuracy, recorded_at)
    (result,) = positions_record(reports=[report])
    if result.error:
        raise result.error
    return result
