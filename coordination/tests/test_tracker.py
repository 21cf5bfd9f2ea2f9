"""The phone-tracker endpoints with requests as Traccar Client and OwnTracks send them.

Traccar Client speaks the OsmAnd protocol: up to version 8 a POST (or GET) whose parameters are in
the query string and the body is empty, some senders a form body; version 9 a JSON body with
`device_id` and a `location` object. OwnTracks in HTTP mode POSTs one JSON message per request
with HTTP Basic auth and reads a JSON array of friends' locations back.
"""

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coordination import services
from coordination.models import Alert, Event, LatestPosition, PositionReport
from coordination.tests.sockets import new_id

pytestmark = pytest.mark.django_db


def token(user) -> str:
    return services.device_token_issue(user=user, name="telefon")[1]


def on_shift(user) -> str:
    services.shift_start(user=user, client_id=new_id())
    return token(user)


def now_seconds() -> int:
    return int(time.time()) - 5


def osmand_query(key: str, **override) -> str:
    """The query string Traccar Client builds (parameter names and order as it sends them)."""
    params = {
        "id": key,
        "timestamp": now_seconds(),
        "lat": "58.2755",
        "lon": "11.445",
        "speed": "0.0",
        "bearing": "0.0",
        "altitude": "12.0",
        "accuracy": "5.0",
        "batt": "87.0",
        **override,
    }
    return "&".join(f"{k}={v}" for k, v in params.items() if v is not None)


def error(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return response.json()


# --- OsmAnd (Traccar Client) ------------------------------------------------------------------------


def test_a_traccar_post_with_query_parameters_is_stored_and_answered_with_an_empty_200(world):
    key = on_shift(world.alice)
    stamp = now_seconds()
    response = APIClient().post(f"/track/osmand/?{osmand_query(key, timestamp=stamp)}")
    assert response.status_code == 200
    assert response.content == b""
    report = PositionReport.objects.get()
    assert (report.user, report.point.y, report.point.x, report.accuracy) == (world.alice, 58.2755, 11.445, 5.0)
    assert report.recorded_at == datetime.fromtimestamp(stamp, tz=UTC)
    assert LatestPosition.objects.get().user == world.alice
    assert Event.objects.filter(kind="positions").count() == 1


def test_a_traccar_get_is_stored_too(world):
    key = on_shift(world.alice)
    assert APIClient().get(f"/track/osmand/?{osmand_query(key)}").status_code == 200
    assert PositionReport.objects.count() == 1


def test_a_form_body_is_read_like_the_query_string(world):
    key = on_shift(world.alice)
    response = APIClient().post("/track/osmand/", osmand_query(key), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert PositionReport.objects.count() == 1


@pytest.mark.parametrize(
    "stamp",
    [
        lambda t: str(t),
        lambda t: str(t * 1000),  # milliseconds
        lambda t: datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        lambda t: datetime.fromtimestamp(t, tz=UTC).astimezone().isoformat(),
        lambda t: datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),  # no zone: UTC
    ],
    ids=["unix-seconds", "unix-milliseconds", "iso-z", "iso-offset", "iso-naive"],
)
def test_the_timestamp_may_be_unix_time_or_iso_8601(world, stamp):
    key = on_shift(world.alice)
    t = now_seconds()
    response = APIClient().post(f"/track/osmand/?{osmand_query(key, timestamp=stamp(t).replace('+', '%2B'))}")
    assert response.status_code == 200, response.content
    assert PositionReport.objects.get().recorded_at == datetime.fromtimestamp(t, tz=UTC)


def test_a_traccar_client_9_json_body_is_stored(world):
    key = on_shift(world.alice)
    stamp = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    body = {
        "location": {
            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "coords": {
                "latitude": 58.2755,
                "longitude": 11.445,
                "accuracy": 7.5,
                "speed": 0.4,
                "heading": 90,
                "altitude": 12.3,
            },
            "is_moving": True,
            "odometer": 1234.5,
            "event": "motionchange",
            "battery": {"level": 0.87, "is_charging": False},
            "activity": {"type": "walking"},
        },
        "device_id": key,
    }
    response = APIClient().post("/track/osmand/", body, format="json")
    assert response.status_code == 200
    report = PositionReport.objects.get()
    assert (report.accuracy, report.recorded_at) == (7.5, stamp)


def test_the_same_device_and_timestamp_twice_is_stored_once(world):
    key = on_shift(world.alice)
    query = osmand_query(key, timestamp=now_seconds())
    assert APIClient().post(f"/track/osmand/?{query}").status_code == 200
    assert APIClient().post(f"/track/osmand/?{query}").status_code == 200  # the offline buffer again
    assert PositionReport.objects.count() == 1
    assert Event.objects.filter(kind="positions").count() == 1


def test_two_devices_at_the_same_second_are_two_positions(world):
    alice, bob = on_shift(world.alice), token(world.bob)
    stamp = now_seconds()
    assert APIClient().post(f"/track/osmand/?{osmand_query(alice, timestamp=stamp)}").status_code == 200
    assert APIClient().post(f"/track/osmand/?{osmand_query(bob, timestamp=stamp)}").status_code == 200
    assert PositionReport.objects.count() == 2


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"lat": None}, "lat"),
        ({"lon": None}, "lon"),
        ({"lon": "east"}, "lon"),
        ({"lat": "91"}, "lat"),
        ({"accuracy": "good"}, "accuracy"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "1000000000"}, "recorded_at"),  # 2001: older than any queue is kept
    ],
)
def test_a_bad_osmand_position_is_400_and_stores_nothing(world, override, field):
    key = on_shift(world.alice)
    response = APIClient().post(f"/track/osmand/?{osmand_query(key, **override)}")
    assert response.status_code == 400
    assert error(response) == {"code": "invalid", "message": error(response)["message"], "field": field}
    assert not PositionReport.objects.exists()


@pytest.mark.parametrize("person", ["alice", "dana"])
def test_without_an_active_shift_osmand_is_403_and_stores_nothing(world, person):
    response = APIClient().post(f"/track/osmand/?{osmand_query(token(getattr(world, person)))}")
    assert response.status_code == 403
    assert error(response)["code"] == "forbidden"
    assert not PositionReport.objects.exists() and not LatestPosition.objects.exists()


def test_a_position_taken_after_the_shift_ended_osmand_is_403(world):
    key = on_shift(world.alice)
    services.shift_end(user=world.alice)
    later = str(now_seconds() + 10)
    assert APIClient().post(f"/track/osmand/?{osmand_query(key, timestamp=later)}").status_code == 403


def test_a_buffered_position_from_a_shift_that_has_ended_osmand_is_stored_on_that_shift(world):
    """Traccar's offline buffer uploads after the shift ended what it recorded during it (issue 12, item 10)."""
    key = on_shift(world.alice)
    during = str(now_seconds())
    shift = services.shift_end(user=world.alice).data["shift"]
    assert APIClient().post(f"/track/osmand/?{osmand_query(key, timestamp=during)}").status_code == 200
    assert PositionReport.objects.get().shift_id == shift
    assert not LatestPosition.objects.exists()


@pytest.mark.parametrize("key", ["wrong-token", ""])
def test_a_wrong_or_missing_osmand_id_is_401(world, key):
    on_shift(world.alice)
    response = APIClient().post(f"/track/osmand/?{osmand_query(key)}")
    assert response.status_code == 401
    assert error(response)["code"] == "unauthenticated"
    assert not PositionReport.objects.exists()


def test_the_device_token_may_come_as_deviceid(world):
    key = on_shift(world.alice)
    response = APIClient().post(f"/track/osmand/?{osmand_query(None, deviceid=key)}")
    assert response.status_code == 200, response.content
    assert PositionReport.objects.get().user == world.alice


def test_deviceid_in_a_form_body_is_read_too(world):
    key = on_shift(world.alice)
    body = osmand_query(None, deviceid=key)
    response = APIClient().post("/track/osmand/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    assert PositionReport.objects.count() == 1


def test_a_wrong_deviceid_is_401(world):
    response = APIClient().post(f"/track/osmand/?{osmand_query(None, deviceid='wrong-token')}")
    assert response.status_code == 401


# --- SOS: Traccar Client's alarm button --------------------------------------------------------------


def test_an_sos_raises_an_alarm_at_its_position_and_stores_the_position_on_shift(world):
    key = on_shift(world.alice)
    response = APIClient().post(f"/track/osmand/?{osmand_query(key, alarm='sos')}")
    assert response.status_code == 200, response.content
    alert = Alert.objects.get()
    assert (alert.author, alert.source, alert.status) == (world.alice, "tracker", "raised")
    assert alert.team == world.harbour_team
    assert (alert.point.y, alert.point.x) == (58.2755, 11.445)
    assert Event.objects.filter(kind="alert", audience="staff").count() == 1
    assert PositionReport.objects.count() == 1


def test_an_sos_off_shift_raises_an_alarm_and_stores_no_position(world):
    response = APIClient().post(f"/track/osmand/?{osmand_query(token(world.charlie), alarm='sos')}")
    assert response.status_code == 200, response.content
    alert = Alert.objects.get()
    assert (alert.author, alert.shift, alert.team) == (world.charlie, None, world.centre_team)
    assert not PositionReport.objects.exists()


def test_an_sos_resent_from_the_offline_buffer_raises_one_alarm(world):
    key = token(world.charlie)
    query = osmand_query(key, alarm="sos", timestamp=now_seconds())
    assert APIClient().post(f"/track/osmand/?{query}").status_code == 200
    assert APIClient().post(f"/track/osmand/?{query}").status_code == 200
    assert Alert.objects.count() == 1
    assert Event.objects.filter(kind="alert", audience="staff").count() == 1


def test_an_sos_in_a_form_body_raises_an_alarm(world):
    body = osmand_query(token(world.charlie), alarm="sos")
    response = APIClient().post("/track/osmand/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Alert.objects.get().source == "tracker"


def test_an_sos_in_a_traccar_client_9_json_body_raises_an_alarm(world):
    stamp = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    body = {
        "location": {
            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "coords": {"latitude": 58.2755, "longitude": 11.445, "accuracy": 7.5},
            "extras": {"alarm": "sos"},
        },
        "device_id": token(world.charlie),
    }
    response = APIClient().post("/track/osmand/", body, format="json")
    assert response.status_code == 200, response.content
    assert (Alert.objects.get().author, Alert.objects.get().source) == (world.charlie, "tracker")


@pytest.mark.parametrize("where", [{"lat": None, "lon": None}, {"lat": "north"}, {"lat": "95"}])
def test_an_sos_whose_position_cannot_be_read_still_raises_an_alarm_without_a_point(world, where):
    response = APIClient().post(f"/track/osmand/?{osmand_query(token(world.charlie), alarm='sos', **where)}")
    assert response.status_code == 200, response.content
    assert (Alert.objects.get().point, PositionReport.objects.exists()) == (None, False)


@pytest.mark.parametrize("alarm", ["", "lowBattery", "geofenceEnter"])
def test_another_alarm_type_is_an_ordinary_position(world, alarm):
    key = on_shift(world.alice)
    assert APIClient().post(f"/track/osmand/?{osmand_query(key, alarm=alarm)}").status_code == 200
    assert not Alert.objects.exists()
    assert PositionReport.objects.count() == 1


def test_an_sos_from_someone_without_the_field_role_is_403(world):
    response = APIClient().post(f"/track/osmand/?{osmand_query(token(world.dana), alarm='sos')}")
    assert response.status_code == 403
    assert not Alert.objects.exists()


def test_a_revoked_osmand_token_is_401(world):
    services.shift_start(user=world.alice, client_id=new_id())
    device, key = services.device_token_issue(user=world.alice)
    services.device_token_revoke(token=device)
    assert APIClient().post(f"/track/osmand/?{osmand_query(key)}").status_code == 401


# --- OwnTracks ---------------------------------------------------------------------------------------


def owntracks(user, key: str, message: dict, *, username: str | None = None):
    """POST one message as OwnTracks HTTP mode does (Basic auth, its X-Limit headers)."""
    credentials = base64.b64encode(f"{username or user.username}:{key}".encode()).decode()
    return APIClient().post(
        "/track/owntracks/",
        message,
        format="json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
        HTTP_X_LIMIT_U=user.username,
        HTTP_X_LIMIT_D="phone",
    )


def location(**override) -> dict:
    """A location message as the OwnTracks app sends it."""
    stamp = now_seconds()
    return {
        "_type": "location",
        "acc": 8,
        "alt": 12,
        "batt": 87,
        "bs": 1,
        "conn": "m",
        "created_at": stamp,
        "lat": 58.2755,
        "lon": 11.445,
        "m": 1,
        "t": "u",
        "tid": "al",
        "tst": stamp,
        "vac": 3,
        "vel": 0,
        **override,
    }


def test_an_owntracks_location_is_stored_and_answered_with_the_teams_on_shift(world):
    key = on_shift(world.alice)
    services.shift_start(user=world.charlie, client_id=new_id())
    services.position_record(user=world.charlie, client_id=new_id(), lat=58.28, lon=11.44, recorded_at=timezone.now())
    message = location()
    response = owntracks(world.alice, key, message)
    assert response.status_code == 200
    report = PositionReport.objects.get(user=world.alice)
    assert (report.point.y, report.point.x, report.accuracy) == (58.2755, 11.445, 8.0)
    assert report.recorded_at == datetime.fromtimestamp(message["tst"], tz=UTC)
    friends = {friend["tid"]: friend for friend in response.json()}
    assert set(friends) == {"HA", "CE"}
    assert friends["HA"] == {
        "_type": "location",
        "lat": 58.2755,
        "lon": 11.445,
        "tst": message["tst"],
        "acc": 8,
        "tid": "HA",
        "topic": f"owntracks/narvaro/team{world.harbour_team.pk}",
    }


def test_an_owntracks_location_with_numbers_as_text_is_stored_as_before(world):
    key = on_shift(world.alice)
    assert owntracks(world.alice, key, location(lat="58.2755", lon="11.445", acc="8")).status_code == 200
    report = PositionReport.objects.get(user=world.alice)
    assert (report.point.y, report.point.x, report.accuracy) == (58.2755, 11.445, 8.0)


@pytest.mark.parametrize("kind", ["transition", "waypoint", "waypoints", "lwt", "card", "cmd", "status"])
def test_other_owntracks_messages_are_ignored_with_an_empty_array(world, kind):
    key = token(world.alice)  # no shift: nothing is stored, so nothing is refused either
    message = {"_type": kind, "tst": now_seconds(), "event": "enter", "desc": "Hamnen", "tid": "al"}
    response = owntracks(world.alice, key, message)
    assert response.status_code == 200
    assert response.json() == []
    assert not PositionReport.objects.exists()


def test_the_same_owntracks_message_twice_is_stored_once(world):
    key = on_shift(world.alice)
    message = location()
    assert owntracks(world.alice, key, message).status_code == 200
    assert owntracks(world.alice, key, message).status_code == 200
    assert PositionReport.objects.count() == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [({"lat": None}, "lat"), ({"lon": "east"}, "lon"), ({"acc": "good"}, "accuracy"), ({"tst": "soon"}, "tst")],
)
def test_a_bad_owntracks_location_is_400_and_stores_nothing(world, override, field):
    key = on_shift(world.alice)
    message = {k: v for k, v in location(**override).items() if v is not None}
    response = owntracks(world.alice, key, message)
    assert response.status_code == 400
    assert error(response)["field"] == field
    assert not PositionReport.objects.exists()


def test_an_owntracks_body_that_is_not_an_object_is_400(world):
    key = on_shift(world.alice)
    assert owntracks(world.alice, key, [location()]).status_code == 400


def test_without_an_active_shift_owntracks_is_403_and_stores_nothing(world):
    response = owntracks(world.alice, token(world.alice), location())
    assert response.status_code == 403
    assert error(response)["code"] == "forbidden"
    assert not PositionReport.objects.exists()


def test_a_wrong_owntracks_token_is_401(world):
    on_shift(world.alice)
    response = owntracks(world.alice, "wrong-token", location())
    assert response.status_code == 401
    assert error(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Basic")


def test_another_persons_username_with_my_token_is_401(world):
    key = on_shift(world.alice)
    assert owntracks(world.alice, key, location(), username="bob").status_code == 401
    assert not PositionReport.objects.exists()


def test_a_revoked_owntracks_token_is_401(world):
    services.shift_start(user=world.alice, client_id=new_id())
    device, key = services.device_token_issue(user=world.alice)
    services.device_token_revoke(token=device)
    assert owntracks(world.alice, key, location()).status_code == 401


def test_owntracks_without_credentials_is_401(world):
    response = APIClient().post("/track/owntracks/", location(), format="json")
    assert response.status_code == 401
