"""Zulip's per-action check: for every service that emits events, and every role, the snapshot
taken before the action plus the events that role receives equals the snapshot taken after.

The rule book is coordination.kinds (applied by test_snapshot_events.apply_event), so a kind whose
events do not say what changed, or a snapshot that shows what no event announced, fails here.
"""

import copy
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from coordination import access, selectors, services
from coordination.kinds import KINDS
from coordination.models import Event
from coordination.tests.sockets import new_id
from coordination.tests.test_snapshot_events import apply_event, by_id

pytestmark = pytest.mark.django_db

# Who looks, by the names of conftest.World: alice's team is out, charlie's is not.
ROLES = {
    "duty": "dana",
    "partner": "frida",
    "field on shift": "alice",
    "field off shift": "charlie",
    "association": "erik",
    "public": None,
}


def near_harbour(i: int = 0) -> dict:
    return {"lat": 58.2755 + i * 1e-4, "lon": 11.445, "recorded_at": timezone.now()}


def evening_under_way(world) -> dict:
    """Team Hamnen (alice, bob) out at the harbour with a note, an alert and an activity announced."""
    services.shift_start(user=world.alice, client_id=new_id(), area_ids=[world.hotspot.pk])
    services.position_record(user=world.alice, client_id=new_id(), **near_harbour())
    start = timezone.now() + timedelta(hours=1)
    ids = {
        "note": services.note_create(user=world.alice, category="gathering", youth_count=6, **_where()).data["id"],
        "alert": services.alert_raise(user=world.bob, text="Stöd vid hamnen").data["id"],
        "activity": services.activity_create(
            user=world.erik,
            organization_id=world.club.pk,
            title="Öppen hall",
            place=world.place.pk,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
        ).data["id"],
    }
    services.coverage_refresh()
    services.field_positions_refresh()
    return ids


def _where() -> dict:
    where = near_harbour()
    return {"lat": where["lat"], "lon": where["lon"]}


def _moved_then(tick: Callable) -> Callable:
    def action(world, ids):
        services.position_record(user=world.bob, client_id=new_id(), **near_harbour(3))
        tick()

    return action


def _internal_activity(world, ids):
    start = timezone.now() + timedelta(hours=2)
    services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Ledarmöte",
        lat=58.27,
        lon=11.44,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        visibility="internal",
    )


def _off_shift_alert_handled(world, ids):
    alert = services.alert_raise(user=world.charlie).data["id"]
    services.alert_acknowledge(user=world.dana, alert_id=alert)
    services.alert_resolve(user=world.dana, alert_id=alert)


def _later(level: int):
    """A moment at which the evening's alarm, still unacknowledged, is due for escalation `level`."""
    return timezone.now() + timedelta(seconds=level * settings.ALERT_ESCALATE_AFTER_S + 1)


def _decision(world) -> dict:
    """An EST decision for next week (its evenings all to come: in the staff snapshot, whatever the hour)."""
    year, week, _day = (timezone.localdate() + timedelta(days=7)).isocalendar()
    return {
        "actor": world.dana,
        "iso_year": year,
        "iso_week": week,
        "area_ids": [world.hotspot.pk],
        "weekdays": [4, 5],
        "start": "19:00",
        "end": "23:00",
        "who": "team",
        "team_id": world.harbour_team.pk,
        "note": "Fokus på hamnplanen",
    }


def _decision_withdrawn(world, ids):
    decision = services.est_decision_record(**_decision(world))
    services.est_decision_withdraw(actor=world.dana, decision_id=decision.data["id"])


def _citizen_report() -> int:
    report, _token = services.report_submit(category="lighting", text="Mörkt vid stigen", **_where())
    return report.pk


# Every service that emits events, each as one action on the evening above.
ACTIONS: dict[str, Callable] = {
    "shift_start": lambda w, ids: services.shift_start(user=w.charlie, client_id=new_id(), area_ids=[w.district.pk]),
    "shift_end": lambda w, ids: services.shift_end(user=w.bob, client_id=new_id()),
    "shift_status_set": lambda w, ids: services.shift_status_set(user=w.bob, status="need_backup"),
    "positions_record": lambda w, ids: services.position_record(user=w.bob, client_id=new_id(), **near_harbour(2)),
    "field_positions_refresh": _moved_then(services.field_positions_refresh),
    "coverage_refresh": _moved_then(services.coverage_refresh),
    "note_create": lambda w, ids: services.note_create(user=w.bob, category="vandalism", severity=2, **_where()),
    "note_create by duty": lambda w, ids: services.note_create(user=w.dana, category="unsafe_place", text="Mörkt"),
    "note_acknowledge": lambda w, ids: services.note_acknowledge(user=w.dana, note_id=ids["note"]),
    "alert_raise": lambda w, ids: services.alert_raise(user=w.alice, **_where()),
    "alert_acknowledge": lambda w, ids: services.alert_acknowledge(user=w.dana, alert_id=ids["alert"]),
    "alert_resolve": lambda w, ids: services.alert_resolve(user=w.dana, alert_id=ids["alert"]),
    "alert_raise off shift": lambda w, ids: services.alert_raise(user=w.charlie, text="Hjälp", lat=58.28, lon=11.44),
    "alert_acknowledge and alert_resolve off shift": _off_shift_alert_handled,
    "alerts_escalate to level 1": lambda w, ids: services.alerts_escalate(now=_later(1)),
    "alerts_escalate to level 2": lambda w, ids: services.alerts_escalate(now=_later(2)),
    "chat_send everyone": lambda w, ids: services.chat_send(user=w.dana, channel="everyone", text="Fika"),
    "chat_send team": lambda w, ids: services.chat_send(user=w.bob, channel=f"team.{w.harbour_team.pk}", text="Hej"),
    "chat_send area": lambda w, ids: services.chat_send(user=w.dana, channel=f"area.{w.hotspot.pk}", text="Kom"),
    "activity_create internal": _internal_activity,
    "activity_update": lambda w, ids: services.activity_update(user=w.erik, activity_id=ids["activity"], title="Hall"),
    "activity_update to internal": lambda w, ids: services.activity_update(
        user=w.erik, activity_id=ids["activity"], visibility="internal"
    ),
    "activity_open": lambda w, ids: services.activity_open(user=w.erik, activity_id=ids["activity"]),
    "activity_close": lambda w, ids: services.activity_close(user=w.erik, activity_id=ids["activity"]),
    "activity_cancel": lambda w, ids: services.activity_cancel(user=w.erik, activity_id=ids["activity"]),
    "activity_occasion_set": lambda w, ids: services.activity_occasion_set(
        user=w.erik, activity_id=ids["activity"], date=timezone.localdate(), status="cancelled"
    ),
    "checkin_record": lambda w, ids: services.checkin_record(user=w.bob, place_id=w.place.pk),
    "area_level_override": lambda w, ids: services.area_level_override(
        actor=w.dana, area_id=w.hotspot.pk, year=2026, week=47, level="red", reason="Oro vid hamnen"
    ),
    "est_decision_record": lambda w, ids: services.est_decision_record(**_decision(w)),
    "est_decision_record and est_decision_withdraw": _decision_withdrawn,
    "report_submit": lambda w, ids: _citizen_report(),
    "report_take": lambda w, ids: services.report_take(user=w.dana, report_id=_citizen_report()),
    "report_publish": lambda w, ids: services.report_publish(user=w.dana, report_id=_citizen_report()),
    "report_reject": lambda w, ids: services.report_reject(user=w.dana, report_id=_citizen_report(), reason="Reklam"),
}


def seen_by(world, person: str | None, action: Callable) -> tuple[dict, list, dict, bool]:
    """(features before, events received, features after, public only) for `person` around `action`."""
    ids = evening_under_way(world)
    user = getattr(world, person) if person else None
    before = selectors.live_snapshot(viewer=access.viewer_for(user))
    action(world, ids)
    viewer = access.viewer_for(user)  # a shift start or end changes what this person may see
    replay = selectors.events_after(viewer=viewer, after=before["seq"])
    assert not replay.resync
    return by_id(before), replay.events, by_id(selectors.live_snapshot(viewer=viewer)), not access.may_read_live(viewer)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ACTIONS)
def test_the_snapshot_before_an_action_plus_its_events_is_the_snapshot_after(world, name, role):
    before, events, after, public_only = seen_by(world, ROLES[role], ACTIONS[name])
    features = copy.deepcopy(before)
    viewer = access.viewer_for(getattr(world, ROLES[role]) if ROLES[role] else None)
    for event in events:
        if access.hears_own(viewer, kind=event.kind, data=event.data) and event.kind == "shift":
            # The page reloads its snapshot when its own team's shift starts or ends (what it may
            # see changed); the event itself is what tells it to.
            features = copy.deepcopy(after)
            continue
        apply_event(features, {"kind": event.kind, "data": copy.deepcopy(event.data)}, public_only=public_only)
    assert features == after


def test_the_actions_above_emit_every_declared_kind(world):
    ids = evening_under_way(world)
    start = selectors.event_head()
    emitted = set()
    for action in ACTIONS.values():
        savepoint = transaction.savepoint()  # each action on the same evening
        action(world, ids)
        emitted |= set(Event.objects.filter(seq__gt=start).values_list("kind", flat=True))
        transaction.savepoint_rollback(savepoint)
    assert set(KINDS) - emitted == set(), "no action here emits these kinds"


def test_every_service_a_socket_frame_calls_is_one_of_the_actions_above():
    from coordination.inbound import FRAMES

    called = {name.split(" ")[0] for name in ACTIONS}
    assert {frame.service.__name__ for frame in FRAMES.values()} - called == set()
