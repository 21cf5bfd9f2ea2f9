"""alert_raise, alert_acknowledge, alert_resolve: raised → acknowledged → resolved, one Event each."""

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from coordination import access, selectors, services
from coordination.errors import Conflict, Forbidden, Invalid, NotFound
from coordination.models import Alert, AuditLog, Event, Shift


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hamnen_out(world) -> Shift:
    return Shift.objects.create(team=world.harbour_team, started_by=world.alice)


@pytest.fixture
def alert(world, hamnen_out) -> Alert:
    services.alert_raise(user=world.alice, text="Behöver stöd vid kiosken", lat=58.28, lon=11.445)
    return Alert.objects.get()


def iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def alert_data(alert: Alert) -> dict:
    def name(user):
        return (user.get_full_name() or user.username) if user else None

    return {
        "id": alert.pk,
        "team": alert.team_id,
        "team_name": alert.team.name if alert.team_id else "",
        "text": alert.text,
        "lat": alert.point.y if alert.point else None,
        "lon": alert.point.x if alert.point else None,
        "status": alert.status,
        "raised_at": iso(alert.raised_at),
        "acknowledged_at": iso(alert.acknowledged_at),
        "resolved_at": iso(alert.resolved_at),
        "author": alert.author_id,
        "raised_by": name(alert.author),
        "acknowledged_by": name(alert.acknowledged_by),
        "source": alert.source,
        "level": alert.level,
        "escalated_at": iso(alert.escalated_at),
    }


def written() -> tuple[int, int]:
    """Alarms, and events to staff (their raiser hears them as their own: no copy)."""
    return Alert.objects.count(), Event.objects.filter(audience="staff").count()


# --- alert_raise ------------------------------------------------------------------------------------


def test_a_field_member_on_shift_raises_an_alert(world, hamnen_out):
    event = services.alert_raise(user=world.bob, client_id="a1", text="  Behöver stöd  ", lat=58.28, lon=11.445)

    alert = Alert.objects.get()
    assert (alert.author, alert.shift, alert.text, alert.status) == (world.bob, hamnen_out, "Behöver stöd", "raised")
    assert (alert.point.y, alert.point.x) == (58.28, 11.445)
    assert (alert.acknowledged_by, alert.acknowledged_at, alert.resolved_by, alert.resolved_at) == (
        None,
        None,
        None,
        None,
    )
    assert list(Event.objects.all()) == [event]
    assert (event.kind, event.audience, event.author, event.client_id) == ("alert", "staff", world.bob, "a1")
    assert event.data == alert_data(alert)
    assert event.data["author"] == world.bob.pk  # whom the alarm's events reach whatever their shift
    assert (alert.team, alert.source, alert.level) == (world.harbour_team, "page", 0)


def test_an_alert_needs_neither_text_nor_point(world, hamnen_out):
    event = services.alert_raise(user=world.alice)
    alert = Alert.objects.get()
    assert (alert.text, alert.point) == ("", None)
    assert (event.data["text"], event.data["lat"], event.data["lon"]) == ("", None, None)


def test_a_field_member_off_shift_raises_an_alert_for_their_team_without_a_shift(world):
    event = services.alert_raise(user=world.alice, text="Hjälp", lat=58.28, lon=11.445)

    alert = Alert.objects.get()
    assert (alert.author, alert.shift, alert.team, alert.status) == (world.alice, None, world.harbour_team, "raised")
    assert (event.data["team"], event.data["team_name"], event.data["lat"]) == (world.harbour_team.pk, "Hamnen", 58.28)
    assert event.data == alert_data(alert)
    assert written() == (1, 1)


def test_a_field_member_in_no_team_raises_an_alert_too(world):
    world.harbour_team.members.remove(world.bob)
    event = services.alert_raise(user=world.bob)
    assert (Alert.objects.get().team, event.data["team"], event.data["team_name"]) == (None, None, "")


def test_an_alert_is_raised_for_the_team_whose_shift_runs(world):
    world.centre_team.members.add(world.alice)  # alice in two teams; Centrum is out
    shift = Shift.objects.create(team=world.centre_team, started_by=world.charlie)
    services.alert_raise(user=world.alice)
    assert (Alert.objects.get().shift, Alert.objects.get().team) == (shift, world.centre_team)


@pytest.mark.parametrize("who", ["dana", "frida", "erik", "gustav"])
def test_it_refuses_an_alert_from_someone_who_is_not_field_staff(world, who):
    with pytest.raises(Forbidden) as refused:
        services.alert_raise(user=getattr(world, who), text="Hjälp")
    assert refused.value.code == "forbidden"
    assert written() == (0, 0)


def test_every_step_of_an_alert_is_in_the_audit_log_without_its_text_or_place(world, alert):
    services.alert_acknowledge(user=world.dana, alert_id=alert.pk)
    services.alert_resolve(user=world.dana, alert_id=alert.pk)

    rows = list(AuditLog.objects.order_by("at", "pk").values_list("user__username", "action", "detail"))
    assert rows == [
        ("alice", "alert.raise", {"alert": alert.pk, "team": alert.team_id, "shift": alert.shift_id, "source": "page"}),
        ("dana", "alert.acknowledge", {"alert": alert.pk, "level": 0}),
        ("dana", "alert.resolve", {"alert": alert.pk, "level": 0}),
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": "x" * 501}, "text"),
        ({"text": 5}, "text"),
        ({"text": "Ring 070-123 45 67"}, "text"),
        ({"text": "Gäller 811218-9876"}, "text"),
        ({"lat": 58.28}, "lon"),
        ({"lat": 100, "lon": 11.4}, "lat"),
        ({"lat": 58.28, "lon": math.inf}, "lon"),
        ({"client_id": ""}, "id"),
    ],
)
def test_it_refuses_bad_alert_input_naming_the_field(world, hamnen_out, fields, field):
    with pytest.raises(Invalid) as refused:
        services.alert_raise(user=world.alice, **fields)
    assert (refused.value.code, refused.value.field) == ("invalid", field)
    assert written() == (0, 0)


def test_a_repeated_alert_answers_with_the_original_seq(world, hamnen_out):
    first = services.alert_raise(user=world.alice, client_id="a1", text="Hjälp")
    again = services.alert_raise(user=world.alice, client_id="a1", text="Hjälp")
    assert again.seq == first.seq
    assert written() == (1, 1)


def test_the_same_client_id_from_another_author_is_another_alert(world, hamnen_out):
    first = services.alert_raise(user=world.alice, client_id="a1")
    other = services.alert_raise(user=world.bob, client_id="a1")
    assert other.seq > first.seq
    assert written() == (2, 2)


# --- acknowledge and resolve ------------------------------------------------------------------------


def test_duty_acknowledges_a_raised_alert(world, alert):
    event = services.alert_acknowledge(user=world.dana, client_id="k1", alert_id=alert.pk)

    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by, alert.resolved_by, alert.resolved_at) == (
        "acknowledged",
        world.dana,
        None,
        None,
    )
    assert alert.acknowledged_at is not None
    assert (event.kind, event.audience, event.author, event.client_id) == ("alert_ack", "staff", world.dana, "k1")
    assert event.data == alert_data(alert)
    assert event.data["acknowledged_by"] == "Dana"
    assert written() == (1, 2)


def test_duty_resolves_an_acknowledged_alert_and_keeps_when_it_was_acknowledged(world, alert):
    services.alert_acknowledge(user=world.dana, alert_id=alert.pk)
    acknowledged_at = Alert.objects.get().acknowledged_at

    event = services.alert_resolve(user=world.dana, client_id="r1", alert_id=alert.pk)

    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by, alert.acknowledged_at) == ("resolved", world.dana, acknowledged_at)
    assert alert.resolved_at >= acknowledged_at
    assert (event.kind, event.audience) == ("alert_resolved", "staff")
    assert event.data == alert_data(alert)
    assert written() == (1, 3)


def test_resolving_a_raised_alert_also_acknowledges_it(world, alert):
    services.alert_resolve(user=world.dana, alert_id=alert.pk)
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by, alert.resolved_by) == ("resolved", world.dana, world.dana)
    assert alert.acknowledged_at == alert.resolved_at


@pytest.mark.parametrize(
    ("before", "action", "message"),
    [
        (["ack"], "ack", "Larmet är redan kvitterat."),
        (["resolve"], "ack", "Larmet är redan avslutat."),
        (["ack", "resolve"], "ack", "Larmet är redan avslutat."),
        (["resolve"], "resolve", "Larmet är redan avslutat."),
    ],
)
def test_a_transition_the_alert_has_passed_is_a_conflict(world, alert, before, action, message):
    act = {"ack": services.alert_acknowledge, "resolve": services.alert_resolve}
    for step in before:
        act[step](user=world.dana, alert_id=alert.pk)
    status = Alert.objects.get().status

    with pytest.raises(Conflict) as refused:
        act[action](user=world.dana, alert_id=alert.pk)

    assert (refused.value.code, refused.value.message) == ("conflict", message)
    assert Alert.objects.get().status == status
    assert written() == (1, 1 + len(before))


def test_a_repeated_acknowledgement_answers_with_the_original_seq(world, alert):
    first = services.alert_acknowledge(user=world.dana, client_id="k1", alert_id=alert.pk)
    again = services.alert_acknowledge(user=world.dana, client_id="k1", alert_id=alert.pk)
    assert again.seq == first.seq
    assert written() == (1, 2)


@pytest.mark.parametrize("who", ["alice", "bob", "frida", "erik", "gustav"])
@pytest.mark.parametrize("action", ["alert_acknowledge", "alert_resolve"])
def test_only_duty_acknowledges_and_resolves_alerts(world, alert, who, action):
    with pytest.raises(Forbidden):
        getattr(services, action)(user=getattr(world, who), alert_id=alert.pk)
    assert Alert.objects.get().status == "raised"
    assert written() == (1, 1)


def test_an_alert_that_does_not_exist_is_not_found(world):
    with pytest.raises(NotFound) as refused:
        services.alert_acknowledge(user=world.dana, alert_id=999_999)
    assert refused.value.field == "alert"
    assert written() == (0, 0)


@pytest.mark.parametrize("alert_id", ["1", None, True, 2.0])
def test_it_refuses_an_alert_id_that_is_not_an_integer(world, alert_id):
    with pytest.raises(Invalid) as refused:
        services.alert_resolve(user=world.dana, alert_id=alert_id)
    assert refused.value.field == "alert"
    assert written() == (0, 0)


# --- the snapshot: the raiser follows their alarm ---------------------------------------------------


def alert_features(user) -> list[dict]:
    snapshot = selectors.live_snapshot(viewer=access.viewer_for(user))
    return [f["properties"] for f in snapshot["features"] if f["properties"]["layer"] == "alert"]


def test_the_raisers_snapshot_off_shift_holds_their_own_alarm_until_after_it_is_resolved(world):
    mine = services.alert_raise(user=world.charlie, text="Hjälp").data["id"]
    services.alert_raise(user=world.bob)  # bob's, also off shift
    services.alert_acknowledge(user=world.dana, alert_id=mine)
    services.alert_resolve(user=world.dana, alert_id=mine)

    (own,) = alert_features(world.charlie)
    assert (own["id"], own["status"], own["acknowledged_by"]) == (mine, "resolved", "Dana")
    assert alert_features(world.alice) == []  # off shift, and not hers
    assert alert_features(world.erik) == alert_features(None) == []
    assert [a["id"] for a in alert_features(world.dana)] == sorted(Alert.objects.values_list("pk", flat=True))


def test_an_alarm_resolved_more_than_12_hours_ago_leaves_the_snapshot(world):
    old = services.alert_raise(user=world.charlie).data["id"]
    services.alert_resolve(user=world.dana, alert_id=old)
    Alert.objects.filter(pk=old).update(resolved_at=timezone.now() - timedelta(hours=13))
    assert alert_features(world.charlie) == alert_features(world.dana) == []
