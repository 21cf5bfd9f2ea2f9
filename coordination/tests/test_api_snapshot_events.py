"""GET /api/snapshot/ and /api/events/: per role, paging, resync, and snapshots racing with writes."""

import copy
import threading

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from coordination import services
from coordination.models import Role, Team
from coordination.tests.sockets import new_id
from coordination.tests.test_snapshot_events import apply_event, by_id, evening

pytestmark = pytest.mark.django_db


def client_for(user=None, *, session: bool = False) -> APIClient:
    """An API client signed in by device token (as a phone) or by session (as a page)."""
    client = APIClient()
    if user is not None and session:
        client.force_login(user)
    elif user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {services.device_token_issue(user=user)[1]}")
    return client


def layers(snapshot: dict) -> set[str]:
    return {f["properties"]["layer"] for f in snapshot["features"]}


def out_on_shift(world):
    services.shift_start(user=world.alice, client_id=new_id())
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now())
    services.note_create(user=world.alice, category="gathering", lat=58.2755, lon=11.445)
    services.alert_raise(user=world.alice, text="Behöver stöd")


# --- snapshot ------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["dana", "frida"])
def test_duty_and_partner_see_teams_notes_and_alerts_in_the_snapshot(world, person):
    out_on_shift(world)
    response = client_for(getattr(world, person)).get("/api/snapshot/")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert layers(body) == {"area", "team", "note", "alert"}
    assert body["seq"] > 0
    assert response["Cache-Control"] == "private, no-store"


def test_a_field_member_on_shift_sees_the_staff_picture_by_session_too(world):
    out_on_shift(world)
    body = client_for(world.bob, session=True).get("/api/snapshot/").json()
    assert {"team", "note", "alert"} <= layers(body)


@pytest.mark.parametrize("person", ["charlie", "erik", "gustav", None])
def test_off_duty_field_association_no_role_and_anonymous_get_only_the_public_snapshot(world, person):
    out_on_shift(world)
    response = client_for(getattr(world, person) if person else None).get("/api/snapshot/")
    assert response.status_code == 200
    assert layers(response.json()) == {"area"}
    assert "11.445" not in response.content.decode()


def test_a_wrong_bearer_token_is_refused_with_401_json(world):
    response = APIClient().get("/api/snapshot/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(world):
    token, key = services.device_token_issue(user=world.dana)
    services.device_token_revoke(token=token)
    response = APIClient().get("/api/snapshot/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401


# --- events ---------------------------------------------------------------------------------------


def test_events_after_the_snapshot_seq_are_the_envelopes_the_socket_sends(world):
    client = client_for(world.dana)
    seq = client.get("/api/snapshot/").json()["seq"]
    note = services.note_create(user=world.dana, category="other", text="Lugnt i centrum")
    body = client.get(f"/api/events/?after={seq}").json()
    assert body["events"] == [
        {
            "type": "event",
            "seq": note.seq,
            "kind": "note",
            "at": timezone.localtime(note.created_at).isoformat(),
            "data": note.data,
        }
    ]
    assert body["after"] == body["head"] == note.seq
    assert body["more"] is False and body["next"] is None


def test_the_public_sees_only_public_events(world):
    seq = client_for().get("/api/snapshot/").json()["seq"]
    out_on_shift(world)
    services.coverage_refresh()
    body = client_for().get(f"/api/events/?after={seq}").json()
    assert [e["kind"] for e in body["events"]] == ["coverage"]
    assert body["head"] - seq > 1  # the staff events before it exist, unseen
    assert body["after"] == body["head"]


def test_events_come_a_page_at_a_time_with_a_next_link(world):
    client = client_for(world.dana)
    start = client.get("/api/snapshot/").json()["seq"]
    sent = [services.chat_send(user=world.dana, channel="everyone", text=f"Meddelande {i}").seq for i in range(5)]
    first = client.get(f"/api/events/?after={start}&limit=2").json()
    assert [e["seq"] for e in first["events"]] == sent[:2]
    assert first["more"] is True and first["after"] == sent[1]
    assert f"after={sent[1]}" in first["next"] and "limit=2" in first["next"]
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert [e["seq"] for e in second["events"] + third["events"]] == sent[2:]
    assert third["more"] is False and third["next"] is None


@override_settings(REPLAY_WINDOW=3)
def test_an_after_older_than_the_replay_window_is_410_resync(world):
    client = client_for(world.dana)
    start = client.get("/api/snapshot/").json()["seq"]
    for i in range(4):
        last = services.chat_send(user=world.dana, channel="everyone", text=f"Meddelande {i}")
    response = client.get(f"/api/events/?after={start}")
    assert response.status_code == 410
    body = response.json()
    assert body["code"] == "resync" and body["head"] == last.seq
    assert "/api/snapshot/" in body["message"]


def test_an_after_beyond_the_log_is_410_resync(world):
    assert client_for(world.dana).get("/api/events/?after=999999999").status_code == 410


@pytest.mark.parametrize("query", ["", "?after=", "?after=abc", "?after=-1", "?after=0&limit=0", "?after=0&limit=5000"])
def test_a_missing_or_bad_after_or_limit_is_400_naming_the_field(world, query):
    response = client_for(world.dana).get(f"/api/events/{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["field"] in ("after", "limit")


# --- snapshots racing with writes -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("person", ["dana", None])
def test_snapshots_taken_while_writes_commit_plus_their_events_equal_the_snapshot_at_the_end(world, person):
    user = getattr(world, person) if person else None
    # A third team walks the whole time, so its positions race with the evening of the other two.
    north = Team.objects.create(name="Norr", organization=world.municipality, short="NO")
    hanna = world.person("hanna", Role.FIELD, world.municipality, team=north)
    services.shift_start(user=hanna, client_id=new_id())
    services.position_record(user=hanna, client_id=new_id(), lat=58.276, lon=11.445, recorded_at=timezone.now())
    failures: list[BaseException] = []

    def in_thread(work):
        try:
            work()
        except Exception as error:  # noqa: BLE001 - surfaced in the main thread
            failures.append(error)
        finally:
            connection.close()

    def walk():
        for i in range(1, 30):
            lat = 58.276 + i * 1e-5
            services.position_record(user=hanna, client_id=new_id(), lat=lat, lon=11.445, recorded_at=timezone.now())

    threads = [threading.Thread(target=in_thread, args=(work,)) for work in (lambda: evening(world), walk)]
    client = client_for(user)
    snapshots = [client.get("/api/snapshot/").json()]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        snapshots.append(client.get("/api/snapshot/").json())
    for thread in threads:
        thread.join()
    assert not failures, failures
    services.coverage_refresh()
    final = client.get("/api/snapshot/").json()
    assert len({s["seq"] for s in snapshots}) >= 2  # the race really happened
    for snapshot in snapshots:
        features = copy.deepcopy(by_id(snapshot))
        after, more = snapshot["seq"], True
        while more:
            page = client.get(f"/api/events/?after={after}&limit=1000").json()
            for event in page["events"]:
                apply_event(features, event, public_only=user is None)
            after, more = page["after"], page["more"]
        assert features == by_id(final), f"the snapshot at {snapshot['seq']} plus its events differs from the end"
        assert after == final["seq"]
