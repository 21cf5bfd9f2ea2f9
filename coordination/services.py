"""Every write of the coordination app: check access, write the row and its Event, publish after commit.

Callers (consumers, views, tracker endpoints, admin) pass what the person sent; these functions
own validation and access. Each returns the Event that was stored (or the original one, when a
device repeats a client id) and raises a ServiceError subclass when nothing was stored.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access, payloads
from coordination.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from coordination.events import EVENT_ORDER_LOCK, event_append, written_once
from coordination.models import (
    Alert,
    AuditLog,
    ChatMessage,
    DeviceToken,
    Event,
    LatestPosition,
    NoteCategory,
    PositionReport,
    PresenceDay,
    Role,
    Shift,
    SituationNote,
    Team,
)
from coordination.selectors import coverage_counts, presence_minutes_raw, team_latest_positions
from coordination.validation import (
    MAX_CLOCK_SKEW,
    MAX_POSITION_AGE,
    clean_client_id,
    clean_recorded_at,
    clean_text,
    lat_lon,
    number,
    point_from,
)
from maps.models import Area

User = get_user_model()

NOTE_TEXT_MAX = 1000
CHAT_TEXT_MAX = 1000
ALERT_TEXT_MAX = 500


def area_at(point: Point | None) -> Area | None:
    """The most specific area holding `point`: a hotspot before a district before the municipality."""
    if point is None:
        return None
    order = {Area.Kind.HOTSPOT: 0, Area.Kind.DISTRICT: 1, Area.Kind.MUNICIPALITY: 2}
    areas = list(Area.objects.filter(polygon__intersects=point).only("id", "kind", "priority"))
    return min(areas, key=lambda a: (order.get(a.kind, 3), -a.priority), default=None)


def _active_shift_for(viewer: access.Viewer) -> Shift:
    """The shift of the viewer's team that is out now (the latest started, if several), locked.

    Read again inside the writer's transaction: the shift may have ended since the viewer was read.
    """
    shift = (
        Shift.objects.select_for_update(of=("self",))
        .filter(pk__in=viewer.active_shift_ids, ended_at__isnull=True)
        .select_related("team")
        .order_by("-started_at")
        .first()
    )
    if shift is None:
        raise Forbidden(_("Du har inget pågående pass. Starta passet först."))
    return shift


# --- shifts ---------------------------------------------------------------------------------------


def shift_start(*, user, client_id: str | None = None, team_id: int | None = None, area_ids=()) -> Event:
    """Start a shift for the user's team (the only one, or `team_id`) with planned areas."""
    client_id = clean_client_id(client_id)
    viewer = access.viewer_for(user)
    if team_id is None:
        if len(viewer.team_ids) != 1:
            raise Invalid(_("Välj vilket team passet gäller."), field="team")
        team_id = next(iter(viewer.team_ids))
    if isinstance(team_id, bool) or not isinstance(team_id, int):
        raise Invalid(_("team måste vara ett team-id."), field="team")
    if not isinstance(area_ids, list | tuple) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in area_ids
    ):
        raise Invalid(_("areas måste vara en lista med område-id."), field="areas")
    if not access.may_start_shift(viewer, team_id):
        raise Forbidden(_("Du kan bara starta pass för ditt eget team."))
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("Teamet finns inte."), field="team")
    areas = list(Area.objects.filter(pk__in=area_ids))
    if len(areas) != len(set(area_ids)):
        raise Invalid(_("Okänt område i areas."), field="areas")

    def write() -> Event:
        if Shift.objects.select_for_update().filter(team=team, ended_at__isnull=True).exists():
            raise Conflict(_("Teamet har redan ett pågående pass."))
        try:
            with transaction.atomic():
                shift = Shift.objects.create(team=team, started_by=user)
        except IntegrityError:
            # Another member started it at the same moment: exists() could not see an uncommitted row.
            raise Conflict(_("Teamet har redan ett pågående pass.")) from None
        shift.planned_areas.set(areas)
        return event_append(
            kind="shift", audience="staff", data=payloads.shift_payload(shift), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


def shift_end(*, user, client_id: str | None = None, shift_id: int | None = None) -> Event:
    """End the user's team's active shift (duty may end any shift by id). Positions stop here."""
    client_id = clean_client_id(client_id)
    if shift_id is not None and (isinstance(shift_id, bool) or not isinstance(shift_id, int)):
        raise Invalid(_("shift måste vara ett pass-id."), field="shift")
    viewer = access.viewer_for(user)

    def write() -> Event:
        if shift_id is not None:
            shift = Shift.objects.select_for_update().select_related("team").filter(pk=shift_id).first()
            if shift is None:
                raise NotFound(_("Passet finns inte."), field="shift")
        else:
            shift = (
                Shift.objects.select_for_update()
                .select_related("team")
                .filter(pk__in=viewer.active_shift_ids)
                .order_by("-started_at")
                .first()
            )
            if shift is None:
                raise Conflict(_("Det finns inget pågående pass att avsluta."))
        if not access.may_start_shift(viewer, shift.team_id):
            raise Forbidden(_("Du kan bara avsluta ditt eget teams pass."))
        if shift.ended_at is not None:
            raise Conflict(_("Passet är redan avslutat."))
        shift.ended_at = timezone.now()
        shift.save(update_fields=["ended_at"])
        # Nobody sees where a team is once it has gone home.
        LatestPosition.objects.filter(shift=shift).delete()
        return event_append(
            kind="shift", audience="staff", data=payloads.shift_payload(shift), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


def shift_status_set(*, user, client_id: str | None = None, status) -> Event:
    """Set the status of the user's team (on round, at place, in conversation, break, need backup)."""
    client_id = clean_client_id(client_id)
    if status not in Shift.Status.values:
        raise Invalid(
            _("status måste vara en av: %(values)s.") % {"values": ", ".join(Shift.Status.values)}, field="status"
        )
    viewer = access.viewer_for(user)
    if not access.may_report(viewer):
        raise Forbidden(_("Du har inget pågående pass. Starta passet först."))

    def write() -> Event:
        shift = _active_shift_for(viewer)
        shift.status = status
        shift.save(update_fields=["status"])
        return event_append(
            kind="status", audience="staff", data=payloads.shift_payload(shift), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


# --- positions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionIn:
    """One position as a device sent it; validated by positions_record."""

    user_id: int
    client_id: str
    lat: object
    lon: object
    accuracy: object = None
    recorded_at: object = None


@dataclass(frozen=True)
class PositionOut:
    """The outcome for one PositionIn: the seq it is stored under, or why it was refused."""

    client_id: str
    seq: int | None = None
    error: ServiceError | None = None


def positions_record(*, reports: list[PositionIn]) -> list[PositionOut]:
    """Store a batch of positions in one transaction and one coalesced `positions` event.

    Each report is checked on its own (range, clock, an active shift of the sender's team); refused
    ones get an error and are stored nowhere. A repeated (user, client_id) answers with the seq it
    was stored under. The event carries the latest position of each team that moved.
    """
    now = timezone.now()
    results: dict[int, PositionOut] = {}
    valid: list[tuple[int, PositionIn, tuple[float, float], float | None, datetime]] = []
    for index, report in enumerate(reports):
        try:
            client_id = clean_client_id(report.client_id)
            if client_id is None:
                raise Invalid(_("id krävs."), field="id")
            coords = lat_lon(report.lat, report.lon)
            accuracy = None if report.accuracy is None else number(report.accuracy, "accuracy")
            if accuracy is not None and not 0 <= accuracy <= 100_000:
                raise Invalid(_("accuracy måste ligga mellan 0 och 100000 meter."), field="accuracy")
            recorded_at = clean_recorded_at(report.recorded_at, now=now)
        except ServiceError as error:
            results[index] = PositionOut(client_id=str(report.client_id), error=error)
            continue
        valid.append((index, report, coords, accuracy, recorded_at))

    # Two queries for the shifts of every sender: their teams, then those teams' active shifts.
    user_ids = {report.user_id for _, report, *_ in valid}
    users_of_team: dict[int, list[int]] = {}
    # Only field members report (access.may_report): a team member without the role is never tracked.
    memberships = (
        Team.members.through.objects.filter(user_id__in=user_ids, user__memberships__role=Role.FIELD)
        .values_list("team_id", "user_id")
        .distinct()
    )
    for team_id, user_id in memberships:
        users_of_team.setdefault(team_id, []).append(user_id)
    shift_of: dict[int, Shift] = {}
    for shift in (
        Shift.objects.filter(ended_at__isnull=True, team_id__in=users_of_team)
        .select_related("team")
        .order_by("started_at")
    ):
        for user_id in users_of_team[shift.team_id]:
            shift_of[user_id] = shift  # the latest started wins

    rows = []
    for index, report, coords, accuracy, recorded_at in valid:
        shift = shift_of.get(report.user_id)
        if shift is None or recorded_at < shift.started_at - MAX_CLOCK_SKEW:
            # Privacy: a position exists only during a shift.
            results[index] = PositionOut(
                client_id=report.client_id,
                error=_outside_shift(),
            )
            continue
        rows.append((index, report, coords, accuracy, recorded_at, shift))

    if rows:
        with transaction.atomic():
            # Shifts read above may have ended since; FOR KEY SHARE waits for a shift_end in flight
            # and keeps one from ending these shifts until this batch commits.
            active = _lock_active_shifts({row[5].pk for row in rows})
            for index, report, *_row, shift in rows:
                if shift.pk not in active:
                    results[index] = PositionOut(client_id=report.client_id, error=_outside_shift())
            rows = [row for row in rows if row[5].pk in active]
            seqs, inserted = _insert_positions(rows, received_at=now) if rows else ({}, set())
            moved: set[int] = set()
            for index, report, _coords, _accuracy, _recorded_at, shift in rows:
                results[index] = PositionOut(client_id=report.client_id, seq=seqs[(report.user_id, report.client_id)])
                if (report.user_id, report.client_id) in inserted:
                    moved.add(shift.pk)
            # A retry moves nobody; a late queued position must not move the team back on the map:
            # each moved team's newest position comes from the stored latest positions of its members.
            teams = list(team_latest_positions(shift_ids=moved).values())
            if teams:
                # Every flush reaches the duty map; field devices get the slower field tick instead
                # (field_positions_refresh): sending every flush to every device grows with devices².
                event_append(kind="positions", audience="ops", data={"teams": teams})
    return [results[i] for i in range(len(reports))]


def _outside_shift() -> Forbidden:
    return Forbidden(_("Positioner delas bara under ett pågående pass."))


def _lock_active_shifts(shift_ids: set[int]) -> set[int]:
    """The ids among `shift_ids` still active, share-locked until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM coordination_shift WHERE id = ANY(%s) AND ended_at IS NULL FOR KEY SHARE",
            [list(shift_ids)],
        )
        return {row[0] for row in cursor.fetchall()}


def _insert_positions(rows, *, received_at) -> tuple[dict[tuple[int, str], int], set[tuple[int, str]]]:
    """Bulk insert in one statement; return the seq of each (user, client_id), old or new, and the new ones."""
    columns = list(
        zip(*[(s.pk, r.user_id, lon, lat, a, t, r.client_id) for _, r, (lat, lon), a, t, s in rows], strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO coordination_positionreport
                (shift_id, user_id, point, accuracy, recorded_at, received_at, client_id)
            SELECT s, u, ST_SetSRID(ST_MakePoint(x, y), 4326), a, t, %s, c
            FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::float8[], %s::float8[],
                        %s::timestamptz[], %s::text[]) AS v(s, u, x, y, a, t, c)
            ON CONFLICT (user_id, client_id) DO NOTHING
            RETURNING user_id, client_id
            """,
            [received_at, *[list(col) for col in columns]],
        )
        inserted = set(cursor.fetchall())
        # The newest position of each sender, unless a newer one of the same shift is already there.
        cursor.execute(
            """
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
            """,
            [list(col) for col in columns[:6]],
        )
        cursor.execute(
            """
            SELECT p.user_id, p.client_id, p.seq FROM coordination_positionreport p
            JOIN unnest(%s::int[], %s::text[]) AS v(u, c) ON p.user_id = v.u AND p.client_id = v.c
            """,
            [list(columns[1]), list(columns[6])],
        )
        return {(user_id, client_id): seq for user_id, client_id, seq in cursor.fetchall()}, inserted


def position_record(*, user, client_id: str, lat, lon, accuracy=None, recorded_at=None) -> PositionOut:
    """Store one position with its own event (the simple path; devices in bulk use positions_record)."""
    (result,) = positions_record(
        reports=[
            PositionIn(
                user_id=user.pk, client_id=client_id, lat=lat, lon=lon, accuracy=accuracy, recorded_at=recorded_at
            )
        ]
    )
    if result.error:
        raise result.error
    return result


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


def positions_purge(*, now: datetime | None = None) -> int:
    """Delete raw positions (and their broadcast events) past POSITION_RETENTION_DAYS; return how many.

    Finished days are first summed into PresenceDay, so the EST reports keep presence per area
    while the tracks themselves go.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.POSITION_RETENTION_DAYS)
    raw_days = PositionReport.objects.annotate(day=TruncDate("recorded_at")).values_list("day", flat=True)
    for day in raw_days.distinct():
        presence_aggregate(day=day)
    deleted, _ = PositionReport.objects.filter(received_at__lt=cutoff).delete()
    # The `positions` events are a track of every team too; they go with the raw positions, and the
    # coverage counts (written whenever someone moves) with them.
    Event.objects.filter(kind__in=["positions", "coverage"], created_at__lt=cutoff).delete()
    return deleted


def field_positions_refresh() -> Event | None:
    """Publish to field devices the latest position of every team on shift, when any has changed.

    The whole set each time, so the newest field tick is all a field snapshot needs, and only
    where a team is: every device gets it, so its size is devices × teams (names and status come
    with shift events).
    """
    keep = ("team", "shift", "lat", "lon", "recorded_at")
    teams = [{k: team[k] for k in keep} for team in team_latest_positions().values()]  # before the lock
    with transaction.atomic():
        # Under the event lock, so server processes ticking at once publish one change, once a tick.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_ORDER_LOCK])
        last = Event.objects.filter(kind="positions", audience="field").order_by("-seq").first()
        if last is not None:
            if teams == last.data["teams"]:
                return None
            if last.created_at > timezone.now() - timedelta(seconds=settings.FIELD_POSITION_TICK_S * 0.9):
                return None  # another server process has just ticked
        return event_append(kind="positions", audience="field", data={"teams": teams})


def coverage_refresh() -> Event | None:
    """Recount adults per area; publish a `coverage` event to everyone when a count changed."""
    # Counted before the lock: every writer of the deployment waits while it is held.
    areas = [{"area": area, "adults": adults} for area, adults in coverage_counts().items()]
    with transaction.atomic():
        # Under the event lock, so two server processes ticking at once publish one change once.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_ORDER_LOCK])
        last = Event.objects.filter(kind="coverage").order_by("-seq").first()
        if last is not None and last.data.get("areas") == areas:
            return None
        return event_append(kind="coverage", audience="public", data={"areas": areas})


# --- notes and alerts -----------------------------------------------------------------------------


def note_create(
    *,
    user,
    client_id: str | None = None,
    category,
    severity: int | None = None,
    text="",
    lat=None,
    lon=None,
    youth_count=None,
) -> Event:
    """Record a situation note about a place; refused when the text names a person's numbers."""
    client_id = clean_client_id(client_id)
    if category not in NoteCategory.values:
        raise Invalid(
            _("category måste vara en av: %(values)s.") % {"values": ", ".join(NoteCategory.values)},
            field="category",
        )
    if severity is None:
        severity = SituationNote.Severity.LOW
    # An int, not 2.0 or True: the event must carry exactly the value the row stores.
    if isinstance(severity, bool) or not isinstance(severity, int) or severity not in SituationNote.Severity.values:
        raise Invalid(_("severity måste vara 1, 2 eller 3."), field="severity")
    if youth_count is not None and (
        isinstance(youth_count, bool) or not isinstance(youth_count, int) or not 0 <= youth_count <= 10_000
    ):
        raise Invalid(_("youth_count måste vara ett heltal, 0 eller mer."), field="youth_count")
    text = clean_text(text, field="text", max_length=NOTE_TEXT_MAX)
    point = point_from(lat, lon)
    viewer = access.viewer_for(user)
    if not access.may_write_note(viewer):
        raise Forbidden(_("Lägesnoteringar skrivs under ett pågående pass."))

    def write() -> Event:
        shift = _active_shift_for(viewer) if viewer.on_duty else None
        note = SituationNote.objects.create(
            author=user,
            shift=shift,
            point=point,
            area=area_at(point),
            category=category,
            severity=severity,
            youth_count=youth_count,
            text=text,
        )
        return event_append(
            kind="note", audience="staff", data=payloads.note_payload(note), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


def note_acknowledge(*, user, client_id: str | None = None, note_id) -> Event:
    """Duty marks a note as seen; acknowledging twice is refused as a conflict."""
    client_id = clean_client_id(client_id)
    if not access.may_acknowledge(access.viewer_for(user)):
        raise Forbidden(_("Bara jouren kan kvittera noteringar."))
    if isinstance(note_id, bool) or not isinstance(note_id, int):
        raise Invalid(_("note måste vara ett noterings-id."), field="note")

    def write() -> Event:
        # of=self: the shift is an outer join (a duty officer's note has none) and cannot be locked.
        note = SituationNote.objects.select_for_update(of=("self",)).select_related("shift").filter(pk=note_id).first()
        if note is None:
            raise NotFound(_("Noteringen finns inte."), field="note")
        if note.status == SituationNote.Status.ACKNOWLEDGED:
            raise Conflict(_("Noteringen är redan kvitterad."))
        note.status = SituationNote.Status.ACKNOWLEDGED
        note.acknowledged_by = user
        note.acknowledged_at = timezone.now()
        note.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        return event_append(
            kind="note_ack", audience="staff", data=payloads.note_payload(note), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


def alert_raise(*, user, client_id: str | None = None, text="", lat=None, lon=None) -> Event:
    """A team on shift asks for support; duty sees it at once."""
    client_id = clean_client_id(client_id)
    text = clean_text(text, field="text", max_length=ALERT_TEXT_MAX)
    point = point_from(lat, lon)
    viewer = access.viewer_for(user)
    if not access.may_report(viewer):
        raise Forbidden(_("Larm skickas under ett pågående pass."))

    def write() -> Event:
        alert = Alert.objects.create(author=user, shift=_active_shift_for(viewer), point=point, text=text)
        return event_append(
            kind="alert", audience="staff", data=payloads.alert_payload(alert), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


def _alert_transition(*, user, client_id, alert_id, to: str, kind: str) -> Event:
    client_id = clean_client_id(client_id)
    if not access.may_acknowledge(access.viewer_for(user)):
        raise Forbidden(_("Bara jouren kan kvittera och avsluta larm."))
    if isinstance(alert_id, bool) or not isinstance(alert_id, int):
        raise Invalid(_("alert måste vara ett larm-id."), field="alert")

    def write() -> Event:
        alert = Alert.objects.select_for_update().select_related("shift__team").filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(_("Larmet finns inte."), field="alert")
        allowed = {
            Alert.Status.ACKNOWLEDGED: {Alert.Status.RAISED},
            Alert.Status.RESOLVED: {Alert.Status.RAISED, Alert.Status.ACKNOWLEDGED},
        }[to]
        if alert.status not in allowed:
            raise Conflict(_("Larmet är redan %(status)s.") % {"status": alert.get_status_display().lower()})
        now = timezone.now()
        alert.status = to
        if to == Alert.Status.ACKNOWLEDGED:
            alert.acknowledged_by, alert.acknowledged_at = user, now
        else:
            alert.resolved_by, alert.resolved_at = user, now
            if alert.acknowledged_at is None:
                alert.acknowledged_by, alert.acknowledged_at = user, now
        alert.save()
        return event_append(
            kind=kind, audience="staff", data=payloads.alert_payload(alert), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


def alert_acknowledge(*, user, client_id: str | None = None, alert_id) -> Event:
    """Duty has seen the alert and is acting on it."""
    return _alert_transition(
        user=user, client_id=client_id, alert_id=alert_id, to=Alert.Status.ACKNOWLEDGED, kind="alert_ack"
    )


def alert_resolve(*, user, client_id: str | None = None, alert_id) -> Event:
    """The situation behind the alert is over."""
    return _alert_transition(
        user=user, client_id=client_id, alert_id=alert_id, to=Alert.Status.RESOLVED, kind="alert_resolved"
    )


# --- chat -------------------------------------------------------------------------------------------


def chat_audience(channel) -> tuple[str, str, int | None]:
    """Parse a channel name (everyone, team.<id>, area.<id>) into (audience, kind, target id)."""
    if channel == "everyone":
        return "chat.everyone", ChatMessage.Channel.EVERYONE, None
    if isinstance(channel, str):
        kind, _sep, target = channel.partition(".")
        # isascii(): isdigit() also admits "²", which int() refuses.
        if kind in ("team", "area") and target.isascii() and target.isdigit() and len(target) < 12:
            return f"chat.{kind}.{int(target)}", kind, int(target)
    raise Invalid(_("channel måste vara everyone, team.<id> eller area.<id>."), field="channel")


def chat_send(*, user, client_id: str | None = None, channel, text) -> Event:
    """Send a chat message to everyone on duty, a team or an area."""
    client_id = clean_client_id(client_id)
    audience, kind, target = chat_audience(channel)
    text = clean_text(text, field="text", max_length=CHAT_TEXT_MAX, required=True)
    if kind == "team" and not Team.objects.filter(pk=target).exists():
        raise NotFound(_("Teamet finns inte."), field="channel")
    if kind == "area" and not Area.objects.filter(pk=target).exists():
        raise NotFound(_("Området finns inte."), field="channel")
    if not access.may_chat(access.viewer_for(user), audience):
        raise Forbidden(_("Du kan inte skriva i den kanalen."))

    def write() -> Event:
        message = ChatMessage.objects.create(
            author=user,
            channel=kind,
            team_id=target if kind == "team" else None,
            area_id=target if kind == "area" else None,
            text=text,
        )
        return event_append(
            kind="chat", audience=audience, data=payloads.chat_payload(message), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


# --- devices and audit --------------------------------------------------------------------------------


def device_token_issue(*, user, name: str = "") -> tuple[DeviceToken, str]:
    """Create a device token for `user`; return it and the clear key, shown only this once."""
    key = secrets.token_urlsafe(32)
    token = DeviceToken.objects.create(user=user, name=name[:80], key_hash=DeviceToken.hash(key), prefix=key[:8])
    return token, key


def device_token_touch(*, token: DeviceToken) -> None:
    """Note when a token was last used, at most once a minute (every position would be a write)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def device_token_revoke(*, token: DeviceToken) -> None:
    """Revoke a token: the device is refused from its next request or connection on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def audit_record(*, user, action: str, detail: dict) -> None:
    """Write who exported or read history, and what they asked for."""
    AuditLog.objects.create(user=user if user and user.is_authenticated else None, action=action, detail=detail)
