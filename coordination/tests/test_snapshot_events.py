"""The zulip-style check: the snapshot at N plus the events after N equals the snapshot now.

`apply_event` applies each kind by the rule coordination.kinds declares for it (static/js/live.js
does the same); if a service changes what it writes without an event saying so, this test fails.
"""

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from coordination import access, selectors, services
from coordination.kinds import KINDS, Rule
from coordination.tests.sockets import new_id

pytestmark = pytest.mark.django_db


def apply_event(features: dict[str, dict], event: dict, *, public_only: bool) -> None:
    """Apply one event to features keyed by id, as a client does: by its kind's declared rule."""
    spec, data = KINDS[event["kind"]], event["data"]  # an undeclared kind fails here

    def point(props):
        return None if props.get("lat") is None else {"type": "Point", "coordinates": [props["lon"], props["lat"]]}

    def upsert(fid, layer, props):
        geometry = point(props)
        features[fid] = {"type": "Feature", "id": fid, "geometry": geometry, "properties": {"layer": layer, **props}}

    match spec.rule:
        case Rule.TEAM:
            fid = f"team.{data['team']}"
            if not data["active"]:
                features.pop(fid, None)
                return
            old = features.get(fid, {}).get("properties", {})
            where = {k: old.get(k) for k in ("lat", "lon", "accuracy", "recorded_at")}
            upsert(fid, "team", {**old, **data, **where})
        case Rule.POSITIONS:
            # A field tick is scoped (coordination.fieldscope): `full` is the whole scope, `gone` left it.
            shown = {f"team.{team['team']}" for team in data["teams"]} if data.get("full") else None
            gone = {f"team.{t}" for t in data.get("gone", ())}
            for fid, feature in list(features.items()):
                leaves = fid not in shown if shown is not None else fid in gone
                if feature["properties"]["layer"] == "team" and leaves:
                    nowhere = {"lat": None, "lon": None, "accuracy": None, "recorded_at": None}
                    upsert(fid, "team", {**feature["properties"], **nowhere})
            for team in data["teams"]:
                fid = f"team.{team['team']}"
                # A position of a shift that has ended (or of the team's earlier shift) is history.
                if fid in features and features[fid]["properties"]["shift"] == team["shift"]:
                    upsert(fid, "team", {**features[fid]["properties"], **team})
        case Rule.UPSERT:
            upsert(f"{spec.layer}.{data['id']}", spec.layer, data)
        case Rule.REMOVE:
            features.pop(f"{spec.layer}.{data['id']}", None)
        case Rule.ACTIVITY:
            fid = f"activity.{data['id']}"
            if data["status"] == "cancelled" or (public_only and data["visibility"] != "public"):
                features.pop(fid, None)
            else:
                upsert(fid, "activity", data)
        case Rule.COVERAGE:
            for area in data["areas"]:
                fid = f"area.{area['area']}"
                if fid in features:
                    features[fid]["properties"]["adults"] = area["adults"]
        case Rule.HISTORY:
            pass  # chat is history, not part of the live picture


def by_id(snapshot: dict) -> dict[str, dict]:
    return {f["id"]: f for f in snapshot["features"]}


def evening(world):
    """A busy evening touching every kind of state the snapshot shows."""
    now = timezone.now()
    services.shift_start(user=world.alice, client_id=new_id(), area_ids=[world.hotspot.pk])
    services.shift_start(user=world.charlie, client_id=new_id())
    for i, who in enumerate([world.alice, world.bob, world.charlie, world.alice]):
        services.position_record(
            user=who, client_id=new_id(), lat=58.2755 + i * 1e-4, lon=11.445, accuracy=5, recorded_at=now
        )
    note = services.note_create(user=world.alice, category="gathering", lat=58.2755, lon=11.445, youth_count=8)
    services.note_create(user=world.charlie, category="unsafe_place", text="Trasig belysning vid stigen")
    services.note_acknowledge(user=world.dana, note_id=note.data["id"])
    alert = services.alert_raise(user=world.bob, text="Stöd vid busstationen")
    services.alert_acknowledge(user=world.dana, alert_id=alert.data["id"])
    other = services.alert_raise(user=world.charlie)
    services.alert_resolve(user=world.dana, alert_id=other.data["id"])
    services.shift_status_set(user=world.charlie, status="at_place")
    services.chat_send(user=world.dana, channel="everyone", text="Fika kl 21")
    start = now + timedelta(hours=1)
    gym = services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Öppen hall",
        place=world.place.pk,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        weekly=True,
    )
    services.activity_open(user=world.erik, activity_id=gym.data["id"])
    internal = services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Ledarmöte",
        lat=58.27,
        lon=11.44,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        visibility="internal",
    )
    cancelled = services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Fotboll",
        lat=58.27,
        lon=11.44,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    services.activity_cancel(user=world.erik, activity_id=cancelled.data["id"])
    services.activity_update(user=world.erik, activity_id=internal.data["id"], visibility="public")
    services.activity_update(user=world.erik, activity_id=gym.data["id"], visibility="internal")
    services.shift_end(user=world.charlie)
    services.coverage_refresh()  # the ticks that follow the moves
    services.field_positions_refresh()


def evening_seen_by(world, person: str | None):
    """(snapshot loaded, replay after it, snapshot now, public only) for one viewer over an evening.

    Shared with tests/browser/test_live_rules.py, which applies the same replay with live.js.
    """
    # An evening already under way when the client loads its snapshot.
    services.shift_start(user=world.bob, client_id=new_id())
    services.position_record(user=world.bob, client_id=new_id(), lat=58.28, lon=11.44, recorded_at=timezone.now())
    services.coverage_refresh()
    user = getattr(world, person) if person else None
    viewer = access.viewer_for(user)
    before = selectors.live_snapshot(viewer=viewer)
    public_only = not access.may_read_live(viewer)

    services.shift_end(user=world.bob)
    evening(world)

    viewer = access.viewer_for(user)  # alice's team went out again meanwhile
    replay = selectors.events_after(viewer=viewer, after=before["seq"])
    return before, replay, selectors.live_snapshot(viewer=viewer), public_only


@pytest.mark.parametrize("person", ["dana", "frida", "alice", None])
def test_the_snapshot_at_n_plus_events_after_n_equals_the_snapshot_now(world, person):
    before, replay, after, public_only = evening_seen_by(world, person)
    assert not replay.resync
    features = copy.deepcopy(by_id(before))
    for event in replay.events:
        frame = {"kind": event.kind, "data": copy.deepcopy(event.data), "seq": event.seq}
        apply_event(features, frame, public_only=public_only)
    assert by_id(after) != by_id(before)  # the evening changed what this viewer sees
    assert features == by_id(after)
    assert after["seq"] == replay.head


def test_the_public_snapshot_holds_no_staff_position_name_or_note(world):
    services.shift_start(user=world.alice, client_id=new_id())
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now())
    services.note_create(user=world.alice, category="drugs", lat=58.2755, lon=11.445)
    snapshot = selectors.live_snapshot(viewer=access.ANONYMOUS)
    layers = {f["properties"]["layer"] for f in snapshot["features"]}
    assert layers <= {"area", "activity"}
    text = str(snapshot)
    assert "Hamnen" not in [f["properties"].get("team_name") for f in snapshot["features"]]
    assert "alice" not in text.lower() and "11.445" not in text
    hotspot = next(f for f in snapshot["features"] if f["id"] == f"area.{world.hotspot.pk}")
    assert hotspot["properties"]["adults"] == 1


def test_the_snapshot_shows_the_counts_of_the_last_coverage_event_not_a_newer_live_count(world):
    services.coverage_refresh()  # everyone at 0
    services.shift_start(user=world.alice, client_id=new_id())
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now())
    snapshot = by_id(selectors.live_snapshot(viewer=access.ANONYMOUS))
    # The tick has not run: clients hold 0 and the snapshot must agree, or a later return to 0
    # (which publishes nothing) would leave this client showing 1 for good.
    assert snapshot[f"area.{world.hotspot.pk}"]["properties"]["adults"] == 0
    services.coverage_refresh()
    snapshot = by_id(selectors.live_snapshot(viewer=access.ANONYMOUS))
    assert snapshot[f"area.{world.hotspot.pk}"]["properties"]["adults"] == 1


def test_the_replay_window_counts_only_what_the_viewer_may_see(world, settings):
    settings.REPLAY_WINDOW = 2
    services.shift_start(user=world.alice, client_id=new_id())
    start = selectors.event_head()
    for i in range(5):  # duty-map frames the public never gets
        services.position_record(
            user=world.alice, client_id=new_id(), lat=58.27 + i * 1e-3, lon=11.44, recorded_at=timezone.now()
        )
    coverage = services.coverage_refresh()
    public = selectors.events_after(viewer=access.ANONYMOUS, after=start)
    duty = selectors.events_after(viewer=access.viewer_for(world.dana), after=start)
    assert not public.resync and [e.seq for e in public.events] == [coverage.seq]
    assert duty.resync
