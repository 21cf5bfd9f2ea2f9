"""The live picture: coverage, team positions and the snapshot each viewer loads."""

import json
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from coordination import access, fieldscope, kinds
from coordination.activity_features import ActivityFeatureSerializer
from coordination.audience import FIELD, OPS
from coordination.models import Alert, Event, Shift, SituationNote
from coordination.payloads import alert_payload, note_payload, shift_payload, team_position_payload
from coordination.selectors.est import focus_features
from coordination.selectors.replay import event_head
from maps.models import Activity, Area


def coverage_counts() -> dict[int, int]:
    """Adults out per area now: distinct people on an active shift whose latest position is inside.

    Only people whose position is at most 15 minutes old count: a phone that went quiet is not a
    guarantee that someone is still there.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, count(l.user_id)
            FROM maps_area a
            LEFT JOIN coordination_latestposition l
              ON ST_Intersects(a.polygon, l.point)
             AND l.recorded_at > now() - interval '15 minutes'
             AND EXISTS (SELECT 1 FROM coordination_shift s WHERE s.id = l.shift_id AND s.ended_at IS NULL)
            WHERE a.kind <> 'municipality'
            GROUP BY a.id
            ORDER BY a.id
            """
        )
        return dict(cursor.fetchall())


# --- the live picture -----------------------------------------------------------------------------

# Notes stay on the duty map for the evening they were written in.
NOTE_HOURS = 12


def _feature(fid: str, layer: str, geometry: dict | None, properties: dict) -> dict:
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": {"layer": layer, **properties}}


def _point(props: dict) -> dict | None:
    if props.get("lat") is None:
        return None
    return {"type": "Point", "coordinates": [props["lon"], props["lat"]]}


def team_latest_positions(*, shift_ids: set[int] | None = None) -> dict[int, dict]:
    """The newest position of each team on shift (any member's), as positions events carry it.

    Two members reporting the same instant: the higher user id wins, the same in every caller.
    """
    # One query and plain rows: every flush calls this, and building model instances with their
    # geometries was the largest share of the database thread at 2,500 devices (bench/README.md).
    if shift_ids is not None and not shift_ids:
        return {}
    only = None if shift_ids is None else list(shift_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT ON (lp.shift_id) s.team_id, t.name, t.short, lp.shift_id,
                   ST_Y(lp.point), ST_X(lp.point), lp.accuracy, lp.recorded_at
            FROM coordination_latestposition lp
            JOIN coordination_shift s ON s.id = lp.shift_id
            JOIN coordination_team t ON t.id = s.team_id
            WHERE s.ended_at IS NULL AND (%s::bigint[] IS NULL OR lp.shift_id = ANY(%s::bigint[]))
            ORDER BY lp.shift_id, lp.recorded_at DESC, lp.user_id DESC
            """,
            [only, only],
        )
        rows = sorted(cursor.fetchall())  # by team: one active shift per team
    return {
        team: team_position_payload(
            team_id=team, team_name=name, short=short, shift_id=shift, lat=lat, lon=lon, accuracy=acc, recorded_at=at
        )
        for team, name, short, shift, lat, lon, acc, at in rows
    }


def published_field_positions(*, head: int, own: frozenset[int] | None = None) -> dict[int, dict]:
    """Team positions as the newest field tick at or below `head` sent them (what field devices hold).

    `own`: the viewer's teams; only they and the teams near them (coordination.fieldscope).
    """
    last = Event.objects.filter(kind=kinds.POSITIONS.name, audience=str(FIELD), seq__lte=head).order_by("-seq").first()
    if last is None:
        return {}
    teams = last.data["teams"] if own is None else fieldscope.scoped_data(last.data, own)["teams"]
    return {team["team"]: team for team in teams}


def team_features(*, positions: dict[int, dict]) -> list[dict]:
    """Teams out now, each at its position in `positions` (null before the first, or another shift's)."""
    features = []
    shifts = Shift.objects.filter(ended_at__isnull=True).select_related("team").prefetch_related("planned_areas")
    for shift in shifts.order_by("team_id"):
        props = {**shift_payload(shift), "lat": None, "lon": None, "accuracy": None, "recorded_at": None}
        position = positions.get(shift.team_id)
        if position is not None and position["shift"] == shift.pk:
            props.update(position)
        features.append(_feature(f"team.{shift.team_id}", "team", _point(props), props))
    return features


def note_features(*, now) -> list[dict]:

    notes = SituationNote.objects.filter(created_at__gte=now - timedelta(hours=NOTE_HOURS)).select_related("shift")
    return [_feature(f"note.{n.pk}", "note", _point(p), p) for n in notes.order_by("pk") for p in [note_payload(n)]]


# A resolved alarm stays in the picture this long, so the phone that raised it sees "resolved".
ALERT_HOURS = 12


def alert_features(*, now, author_id: int | None = None) -> list[dict]:
    """Alarms not resolved, and those resolved in the last ALERT_HOURS; only `author_id`'s when given."""
    alerts = Alert.objects.filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=now - timedelta(hours=ALERT_HOURS))
    ).select_related("team", "author", "acknowledged_by")
    if author_id is not None:
        alerts = alerts.filter(author_id=author_id)
    return [_feature(f"alert.{a.pk}", "alert", _point(p), p) for a in alerts.order_by("pk") for p in [alert_payload(a)]]


def activity_features(*, now, public_only: bool, organization_id: int | None = None) -> list[dict]:
    """Activities not cancelled whose (last) occurrence has not ended: tonight's and upcoming."""

    activities = (
        Activity.objects.exclude(status=Activity.Status.CANCELLED)
        .not_over(now)
        .select_related("organization", "place")
        .prefetch_related("occasions")
        .order_by("pk")
    )
    if public_only:
        activities = activities.filter(visibility=Activity.Visibility.PUBLIC)
    if organization_id is not None:
        activities = activities.filter(organization_id=organization_id)
    return [dict(feature) for feature in ActivityFeatureSerializer(activities, many=True).data["features"]]


def published_coverage(*, head: int) -> dict[int, int]:
    """Adults per area as the newest `coverage` event at or below `head` says, else counted now.

    Clients change counts only on coverage events, so the snapshot must agree with the last one:
    a live count that differs from it would stay on a screen until the next change.
    """
    last = Event.objects.filter(kind=kinds.COVERAGE.name, seq__lte=head).order_by("-seq").first()
    if last is None:
        return coverage_counts()
    return {area["area"]: area["adults"] for area in last.data["areas"]}


def area_features(*, counts: dict[int, int]) -> list[dict]:
    """Districts and hotspots with how many adults are out in each (the public may see this)."""
    features = []
    for area in Area.objects.exclude(kind=Area.Kind.MUNICIPALITY).order_by("pk"):
        props = {
            "id": area.pk,
            "name": area.name,
            "kind": area.kind,
            "priority": area.priority,
            "adults": counts.get(area.pk, 0),
        }
        features.append(_feature(f"area.{area.pk}", "area", json.loads(area.polygon.geojson), props))
    return features


def live_snapshot(*, viewer: access.Viewer) -> dict:
    """The live state `viewer` may see as a GeoJSON FeatureCollection, with the seq it is valid at.

    Read in one REPEATABLE READ transaction: the head seq and every row come from the same database
    snapshot, and events commit in seq order, so snapshot + events after `seq` misses nothing.
    """
    nested = connection.in_atomic_block  # inside a caller's transaction (tests), its isolation holds
    with transaction.atomic():
        if not nested:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        seq = event_head()
        now = timezone.now()
        staff = access.may_read_live(viewer)
        features = area_features(counts=published_coverage(head=seq))
        features += activity_features(now=now, public_only=not staff)
        if staff:
            # The duty map gets every flush; field devices hold what the last field tick sent.
            ops = access.may_see(viewer, OPS)
            positions = team_latest_positions() if ops else published_field_positions(head=seq, own=viewer.team_ids)
            features += team_features(positions=positions) + note_features(now=now) + alert_features(now=now)
            features += focus_features(now=now)  # EST decisions: "Veckans fokus" (selectors/est.py)
        elif viewer.user_id is not None:
            # Off shift a field member still follows the alarms they raised (kinds.Own.AUTHOR).
            features += alert_features(now=now, author_id=viewer.user_id)
    return {"type": "FeatureCollection", "seq": seq, "features": features}


# --- the weekly EST picture -----------------------------------------------------------------------
