"""REST activities: who sees which, filters, and announcing, changing, opening, closing, cancelling."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coordination import services
from coordination.tests.sockets import new_id
from coordination.tests.test_api_snapshot_events import client_for
from maps.models import Activity

pytestmark = pytest.mark.django_db


def announce(world, *, title="Öppen hall", visibility="public", organization=None, hours=1, **fields):
    starts_at = timezone.now() + timedelta(hours=hours)
    return services.activity_create(
        user=world.erik,
        organization_id=(organization or world.club).pk,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        visibility=visibility,
        **({"place": world.place.pk} if "lat" not in fields else {}),
        **fields,
    ).data["id"]


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [a["title"] for a in response.json()["results"]]


# --- reading ---------------------------------------------------------------------------------------


def test_anyone_lists_public_activities_and_staff_and_the_organisation_also_internal_ones(world):
    announce(world, title="Öppen hall")
    announce(world, title="Ledarmöte", visibility="internal")
    assert titles(APIClient().get("/api/activities/")) == ["Öppen hall"]
    assert titles(client_for(world.gustav).get("/api/activities/")) == ["Öppen hall"]
    assert titles(client_for(world.charlie).get("/api/activities/")) == ["Öppen hall"]  # off duty
    for person in (world.dana, world.frida, world.erik):
        assert titles(client_for(person).get("/api/activities/")) == ["Ledarmöte", "Öppen hall"]


def test_an_internal_activity_is_404_to_the_public_and_there_for_staff(world):
    internal = announce(world, title="Ledarmöte", visibility="internal")
    response = APIClient().get(f"/api/activities/{internal}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = client_for(world.dana).get(f"/api/activities/{internal}/")
    assert response.status_code == 200 and response.json()["title"] == "Ledarmöte"


def test_an_unknown_activity_is_404(world):
    assert APIClient().get("/api/activities/999999/").status_code == 404


def test_activities_filter_by_organisation_status_area_and_time(world):
    gym = announce(world, title="Öppen hall")
    services.activity_open(user=world.erik, activity_id=gym)
    announce(world, title="Segling", lat=58.2, lon=11.3, hours=48)
    client = APIClient()
    assert titles(client.get(f"/api/activities/?organization={world.club.pk}")) == ["Segling", "Öppen hall"]
    assert titles(client.get(f"/api/activities/?organization={world.other_club.pk}")) == []
    assert titles(client.get("/api/activities/?status=open")) == ["Öppen hall"]
    assert titles(client.get(f"/api/activities/?area={world.district.pk}")) == ["Öppen hall"]  # its place is inside
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat().replace("+", "%2B")
    assert titles(client.get(f"/api/activities/?since={tomorrow}")) == ["Segling"]
    assert titles(client.get(f"/api/activities/?until={tomorrow}")) == ["Öppen hall"]


def test_a_weekly_activity_without_an_end_is_still_listed_after_its_first_evening(world):
    weekly = announce(world, title="Fredagsfotboll", weekly=True)
    Activity.objects.filter(pk=weekly).update(
        starts_at=timezone.now() - timedelta(days=8), ends_at=timezone.now() - timedelta(days=8, hours=-2)
    )
    now = timezone.now().isoformat().replace("+", "%2B")
    assert titles(APIClient().get(f"/api/activities/?since={now}")) == ["Fredagsfotboll"]


# --- writing -----------------------------------------------------------------------------------------


def activity_body(world, **fields) -> dict:
    starts_at = timezone.now() + timedelta(days=1)
    return {
        "organization": world.club.pk,
        "title": "Öppen hall",
        "place": world.place.pk,
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        **fields,
    }


def test_an_association_member_announces_an_activity_for_their_club(world):
    body = activity_body(world, weekly=True, repeat_until="2099-06-01", age_group="13–17", id=new_id())
    response = client_for(world.erik).post("/api/activities/", body)
    assert response.status_code == 201
    event = response.json()
    assert event["kind"] == "activity" and event["data"]["weekly"] is True
    activity = Activity.objects.get()
    assert (activity.title, activity.age_group, str(activity.repeat_until)) == ("Öppen hall", "13–17", "2099-06-01")


@pytest.mark.parametrize("person", ["alice", "dana", "frida", "gustav"])
def test_people_without_the_association_role_may_not_announce(world, person):
    response = client_for(getattr(world, person)).post("/api/activities/", activity_body(world))
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_an_association_may_not_announce_for_another_club(world):
    response = client_for(world.erik).post("/api/activities/", activity_body(world, organization=world.other_club.pk))
    assert response.status_code == 403


def test_an_anonymous_announcement_is_401(world):
    assert APIClient().post("/api/activities/", activity_body(world), format="json").status_code == 401


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"ends_at": (timezone.now() - timedelta(days=1)).isoformat()}, "ends_at"),
        ({"place": 999999}, "place"),
        ({"visibility": "secret"}, "visibility"),
        ({"colour": "red"}, "colour"),
        ({"organization": "IFK"}, "organization"),
    ],
)
def test_a_bad_announcement_is_400_naming_the_field(world, fields, field):
    response = client_for(world.erik).post("/api/activities/", activity_body(world, **fields))
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not Activity.objects.exists()


def test_an_organisation_the_person_is_not_in_is_refused_even_when_it_does_not_exist(world):
    response = client_for(world.erik).post("/api/activities/", activity_body(world, organization=999999))
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_the_club_changes_opens_closes_and_cancels_its_activity(world):
    activity = announce(world)
    client = client_for(world.erik)
    response = client.patch(f"/api/activities/{activity}/", {"title": "Öppen hall och pingis"})
    assert response.status_code == 201 and response.json()["data"]["title"] == "Öppen hall och pingis"
    assert client.post(f"/api/activities/{activity}/open/", {}).json()["data"]["status"] == "open"
    assert client.post(f"/api/activities/{activity}/close/", {}).json()["data"]["status"] == "closed"
    assert client.post(f"/api/activities/{activity}/cancel/", {}).json()["data"]["status"] == "cancelled"
    reopened = client.post(f"/api/activities/{activity}/open/", {})
    assert reopened.status_code == 400 and reopened.json()["field"] == "status"


def test_a_change_may_not_move_an_activity_to_another_organisation(world):
    activity = announce(world)
    response = client_for(world.erik).patch(f"/api/activities/{activity}/", {"organization": world.other_club.pk})
    assert response.status_code == 400 and response.json()["field"] == "organization"


@pytest.mark.parametrize("person", ["dana", "alice", "gustav"])
def test_only_the_organisation_changes_its_activity(world, person):
    activity = announce(world)
    client = client_for(getattr(world, person))
    assert client.patch(f"/api/activities/{activity}/", {"title": "Kapad"}).status_code == 403
    assert client.post(f"/api/activities/{activity}/cancel/", {}).status_code == 403
    assert Activity.objects.get().status == "planned"


def test_changing_an_unknown_activity_is_404(world):
    assert client_for(world.erik).post("/api/activities/999999/open/", {}).status_code == 404


def test_a_device_token_works_for_the_club_as_for_a_phone(world):
    _token, key = services.device_token_issue(user=world.erik, name="Klubbens dator")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.post("/api/activities/", activity_body(world), format="json").status_code == 201
