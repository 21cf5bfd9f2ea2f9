"""REST notes, alerts and chat: who may write and read, filters, paging, idempotency and the audit log."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coordination import services
from coordination.models import Alert, AuditLog, ChatMessage, SituationNote
from coordination.tests.sockets import new_id
from coordination.tests.test_api_snapshot_events import client_for

pytestmark = pytest.mark.django_db


def start(user):
    services.shift_start(user=user, client_id=new_id())


# --- notes: writing --------------------------------------------------------------------------------


def test_a_field_member_on_shift_writes_a_note_and_gets_the_event(world):
    start(world.alice)
    body = {"id": "n-1", "category": "gathering", "severity": 2, "text": "Samling vid kiosken", "lat": 58.2755}
    response = client_for(world.alice).post("/api/notes/", {**body, "lon": 11.445, "youth_count": 12})
    assert response.status_code == 201
    note = SituationNote.objects.get()
    event = response.json()
    assert event["type"] == "event" and event["kind"] == "note"
    assert event["data"]["id"] == note.pk and event["data"]["area"] == world.hotspot.pk
    assert (note.category, note.severity, note.youth_count, note.author) == ("gathering", 2, 12, world.alice)


def test_a_repeated_client_id_answers_with_the_original_event_and_stores_once(world):
    start(world.alice)
    client = client_for(world.alice)
    first = client.post("/api/notes/", {"id": "same", "category": "other"}).json()
    again = client.post("/api/notes/", {"id": "same", "category": "other"}).json()
    assert again["seq"] == first["seq"]
    assert SituationNote.objects.count() == 1


def test_duty_writes_a_note_without_a_shift(world):
    response = client_for(world.dana).post("/api/notes/", {"category": "unsafe_place", "text": "Trasig lampa"})
    assert response.status_code == 201


@pytest.mark.parametrize("person", ["charlie", "erik", "frida", "gustav"])
def test_people_not_on_shift_and_without_duty_may_not_write_notes(world, person):
    response = client_for(getattr(world, person)).post("/api/notes/", {"category": "other"})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not SituationNote.objects.exists()


def test_an_anonymous_note_is_401(world):
    response = APIClient().post("/api/notes/", {"category": "other"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "fight"}, "category"),
        ({"category": "other", "severity": 7}, "severity"),
        ({"category": "other", "lat": 58.2}, "lon"),
        ({"category": "other", "lat": "north", "lon": 11.4}, "lat"),
        ({"category": "other", "text": "Ring 070-123 45 67"}, "text"),
        ({"category": "other", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_note_is_400_naming_the_field_and_stores_nothing(world, body, field):
    response = client_for(world.dana).post("/api/notes/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["field"] == field
    assert not SituationNote.objects.exists()


def test_a_note_that_is_not_a_json_object_is_400(world):
    response = client_for(world.dana).post("/api/notes/", ["other"])
    assert response.status_code == 400


def test_a_session_write_without_the_csrf_token_is_refused(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.dana)
    response = client.post("/api/notes/", {"category": "other"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not SituationNote.objects.exists()


def test_duty_acknowledges_a_note_once(world):
    note = services.note_create(user=world.dana, category="other")
    client = client_for(world.dana)
    response = client.post(f"/api/notes/{note.data['id']}/acknowledge/", {})
    assert response.status_code == 201
    assert response.json()["kind"] == "note_ack"
    assert SituationNote.objects.get().status == "acknowledged"
    again = client.post(f"/api/notes/{note.data['id']}/acknowledge/", {})
    assert again.status_code == 409 and again.json()["code"] == "conflict"


@pytest.mark.parametrize("person", ["alice", "frida", "erik"])
def test_only_duty_acknowledges_notes(world, person):
    note = services.note_create(user=world.dana, category="other")
    response = client_for(getattr(world, person)).post(f"/api/notes/{note.data['id']}/acknowledge/", {})
    assert response.status_code == 403


def test_an_action_needs_no_body_at_all(world):
    note = services.note_create(user=world.dana, category="other")
    client = client_for(world.dana)
    response = client.generic("POST", f"/api/notes/{note.data['id']}/acknowledge/", "", content_type="")
    assert response.status_code == 201


def test_acknowledging_an_unknown_note_is_404(world):
    response = client_for(world.dana).post("/api/notes/999999/acknowledge/", {})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


# --- notes: history --------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["dana", "frida"])
def test_duty_and_partner_read_note_history_and_the_read_is_audited(world, person):
    services.note_create(user=world.dana, category="drugs", lat=58.2755, lon=11.445)
    user = getattr(world, person)
    response = client_for(user).get("/api/notes/?category=drugs")
    assert response.status_code == 200
    assert [n["category"] for n in response.json()["results"]] == ["drugs"]
    audit = AuditLog.objects.get()
    assert (audit.user, audit.action, audit.detail["category"]) == (user, "api.notes", "drugs")


@pytest.mark.parametrize("person", ["alice", "erik", "gustav"])
def test_field_association_and_no_role_may_not_read_note_history(world, person):
    start(world.alice)
    response = client_for(getattr(world, person)).get("/api/notes/")
    assert response.status_code == 403
    assert not AuditLog.objects.exists()


def test_anonymous_note_history_is_401(world):
    assert APIClient().get("/api/notes/").status_code == 401


def test_note_history_filters_by_time_area_status_and_team(world):
    start(world.alice)
    old = services.note_create(user=world.alice, category="other", lat=58.2755, lon=11.445)
    SituationNote.objects.filter(pk=old.data["id"]).update(created_at=timezone.now() - timedelta(days=3))
    in_hotspot = services.note_create(user=world.alice, category="gathering", lat=58.2756, lon=11.445)
    elsewhere = services.note_create(user=world.dana, category="gathering", lat=58.2, lon=11.3)
    services.note_acknowledge(user=world.dana, note_id=elsewhere.data["id"])
    client = client_for(world.dana)

    def ids(query):
        response = client.get(f"/api/notes/?{query}")
        assert response.status_code == 200, response.json()
        return [n["id"] for n in response.json()["results"]]

    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert ids(f"since={since}") == [elsewhere.data["id"], in_hotspot.data["id"]]
    assert ids(f"until={since}") == [old.data["id"]]
    # The district holds the hotspot: a note filed under the hotspot is in the district too.
    assert ids(f"area={world.district.pk}") == [in_hotspot.data["id"], old.data["id"]]
    assert ids("status=acknowledged") == [elsewhere.data["id"]]
    assert ids(f"team={world.harbour_team.pk}") == [in_hotspot.data["id"], old.data["id"]]


def test_note_history_pages_newest_first(world):
    made = [services.note_create(user=world.dana, category="other").data["id"] for _ in range(5)]
    client = client_for(world.dana)
    first = client.get("/api/notes/?limit=2").json()
    assert [n["id"] for n in first["results"]] == made[:-3:-1]
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert [n["id"] for n in second["results"] + third["results"]] == made[-3::-1]
    assert third["next"] is None


@pytest.mark.parametrize(
    "query", ["since=yesterday", "until=", "category=fight", "limit=0", "limit=501", "team=1&team=2"]
)
def test_bad_history_filters_are_400(world, query):
    response = client_for(world.dana).get(f"/api/notes/?{query}")
    assert response.status_code == 400
    assert response.json()["field"] == query.partition("=")[0]


def test_an_unknown_area_is_404(world):
    response = client_for(world.dana).get("/api/notes/?area=999999")
    assert response.status_code == 404
    assert response.json()["field"] == "area"


# --- alerts ------------------------------------------------------------------------------------------


def test_a_field_member_on_shift_raises_an_alert(world):
    start(world.bob)
    response = client_for(world.bob).post("/api/alerts/", {"text": "Stöd vid busstationen"})
    assert response.status_code == 201
    assert response.json()["kind"] == "alert"
    assert Alert.objects.get().author == world.bob


@pytest.mark.parametrize("person", ["dana", "erik", "frida", "gustav"])
def test_only_field_members_raise_alerts(world, person):
    response = client_for(getattr(world, person)).post("/api/alerts/", {})
    assert response.status_code == 403
    assert not Alert.objects.exists()


def test_a_field_member_off_shift_raises_an_alert_over_the_api(world):
    response = client_for(world.charlie).post("/api/alerts/", {"text": "Behöver stöd", "lat": 58.27, "lon": 11.43})
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["data"]["source"]) == ("alert", "api")
    alert = Alert.objects.get()
    assert (alert.author, alert.shift, alert.team, alert.source) == (world.charlie, None, world.centre_team, "api")


def test_duty_acknowledges_then_resolves_an_alert_and_resolving_twice_is_a_conflict(world):
    start(world.bob)
    alert = services.alert_raise(user=world.bob)
    client = client_for(world.dana)
    assert client.post(f"/api/alerts/{alert.data['id']}/acknowledge/", {}).json()["kind"] == "alert_ack"
    assert client.post(f"/api/alerts/{alert.data['id']}/resolve/", {}).json()["kind"] == "alert_resolved"
    again = client.post(f"/api/alerts/{alert.data['id']}/resolve/", {})
    assert again.status_code == 409


@pytest.mark.parametrize("person", ["bob", "frida"])
def test_only_duty_acknowledges_and_resolves_alerts(world, person):
    start(world.bob)
    alert = services.alert_raise(user=world.bob)
    client = client_for(getattr(world, person))
    assert client.post(f"/api/alerts/{alert.data['id']}/acknowledge/", {}).status_code == 403
    assert client.post(f"/api/alerts/{alert.data['id']}/resolve/", {}).status_code == 403
    assert Alert.objects.get().status == "raised"


def test_an_unknown_alert_is_404(world):
    assert client_for(world.dana).post("/api/alerts/999999/resolve/", {}).status_code == 404


def test_alert_history_filters_by_status_and_is_audited(world):
    start(world.bob)
    first = services.alert_raise(user=world.bob)
    second = services.alert_raise(user=world.bob, lat=58.2756, lon=11.445)
    services.alert_resolve(user=world.dana, alert_id=first.data["id"])
    client = client_for(world.frida)
    resolved = client.get("/api/alerts/?status=resolved").json()["results"]
    assert [a["id"] for a in resolved] == [first.data["id"]]
    in_hotspot = client.get(f"/api/alerts/?area={world.hotspot.pk}").json()["results"]
    assert [a["id"] for a in in_hotspot] == [second.data["id"]]
    assert AuditLog.objects.filter(user=world.frida, action="api.alerts").count() == 2


@pytest.mark.parametrize("person", ["bob", "erik", "gustav"])
def test_alert_history_is_refused_to_field_association_and_no_role(world, person):
    assert client_for(getattr(world, person)).get("/api/alerts/").status_code == 403


# --- chat --------------------------------------------------------------------------------------------


def test_duty_and_a_field_member_on_shift_send_chat(world):
    start(world.alice)
    response = client_for(world.dana).post("/api/chat/", {"channel": "everyone", "text": "Fika kl 21"})
    assert response.status_code == 201 and response.json()["kind"] == "chat"
    channel = f"team.{world.harbour_team.pk}"
    response = client_for(world.alice).post("/api/chat/", {"channel": channel, "text": "Vi går mot hamnen"})
    assert response.status_code == 201
    assert ChatMessage.objects.count() == 2


@pytest.mark.parametrize("person", ["frida", "erik", "gustav"])
def test_partner_association_and_no_role_may_not_chat(world, person):
    response = client_for(getattr(world, person)).post("/api/chat/", {"channel": "everyone", "text": "Hej"})
    assert response.status_code == 403


def test_a_field_member_may_not_write_to_another_team(world):
    response = client_for(world.charlie).post("/api/chat/", {"channel": f"team.{world.harbour_team.pk}", "text": "Hej"})
    assert response.status_code == 403


@pytest.mark.parametrize(("channel", "status"), [("all", 400), ("team.999999", 404), ("area.x", 400), ("team.²", 400)])
def test_a_bad_or_unknown_channel_is_refused(world, channel, status):
    response = client_for(world.dana).post("/api/chat/", {"channel": channel, "text": "Hej"})
    assert response.status_code == status
    assert response.json()["field"] == "channel"


def test_chat_history_holds_only_the_channels_the_reader_may_read(world):
    start(world.alice)
    everyone = services.chat_send(user=world.dana, channel="everyone", text="Alla")
    harbour = services.chat_send(user=world.dana, channel=f"team.{world.harbour_team.pk}", text="Hamnen")
    centre = services.chat_send(user=world.dana, channel=f"team.{world.centre_team.pk}", text="Centrum")

    def ids(user, query=""):
        response = client_for(user).get(f"/api/chat/{query}")
        assert response.status_code == 200
        return [m["id"] for m in response.json()["results"]]

    assert ids(world.dana) == [centre.data["id"], harbour.data["id"], everyone.data["id"]]
    assert ids(world.bob) == [harbour.data["id"], everyone.data["id"]]  # his team is out
    assert ids(world.charlie) == [centre.data["id"]]  # off duty: only his own team's channel
    assert ids(world.dana, "?channel=everyone") == [everyone.data["id"]]
    assert AuditLog.objects.filter(action="api.chat").count() == 4


@pytest.mark.parametrize("person", ["frida", "erik", "gustav"])
def test_chat_history_is_refused_to_partner_association_and_no_role(world, person):
    assert client_for(getattr(world, person)).get("/api/chat/").status_code == 403


def test_anonymous_chat_history_is_401(world):
    assert APIClient().get("/api/chat/").status_code == 401
