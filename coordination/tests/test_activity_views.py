"""The public map and the association page over HTTP; erik (IFK Lysekil) manages only his club's activities."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from coordination import services
from coordination.models import Event, Role
from coordination.tests.sockets import new_id
from coordination.tests.test_views import embedded
from maps.models import Activity


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def tonight(hours: float = 1) -> tuple:
    start = timezone.now() + timedelta(hours=hours)
    return start, start + timedelta(hours=2)


def announce(world, *, user=None, organization=None, title="Öppen hall", **fields) -> Activity:
    """An activity announced through the service (by erik for IFK Lysekil unless told otherwise)."""
    starts_at, ends_at = tonight()
    event = services.activity_create(
        user=user or world.erik,
        organization_id=(organization or world.club).pk,
        title=title,
        place=world.place.pk,
        starts_at=starts_at,
        ends_at=ends_at,
        **fields,
    )
    return Activity.objects.get(pk=event.data["id"])


def form_data(world, **overrides) -> dict:
    """What the association page's form posts for a public activity at the youth centre tonight."""
    starts_at, ends_at = (timezone.localtime(t) for t in tonight())
    return {
        "organization": world.club.pk,
        "title": "Öppen hall",
        "description": "Innebandy och basket",
        "place": world.place.pk,
        "lat": "",
        "lon": "",
        "starts_at": starts_at.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": ends_at.strftime("%Y-%m-%dT%H:%M"),
        "repeat_until": "",
        "visibility": "public",
        "age_group": "13–17 år",
        "contact": "IFK Lysekil",
        **overrides,
    }


@pytest.fixture
def sailing_night(world) -> Activity:
    """An activity of the other club (announced by its own member sigrid), which erik may not touch."""
    sigrid = world.person("sigrid", Role.ASSOCIATION, world.other_club)
    return announce(world, user=sigrid, organization=world.other_club, title="Seglarkväll")


# --- public map -------------------------------------------------------------------------------------


def test_the_public_map_needs_no_login_and_shows_public_activities(world, client):
    announce(world, title="Öppen hall")
    announce(world, title="Ledarmöte", visibility="internal")
    response = client.get("/")
    assert response.status_code == 200
    config = embedded(response, "public-config")
    titles = [f["properties"]["title"] for f in config["snapshot"]["features"] if f["id"].startswith("activity.")]
    assert titles == ["Öppen hall"]
    assert config["ws_path"] == "/ws/public/"
    html = response.content.decode()
    assert 'href="/api/activities.ics"' in html and 'href="/api/activities.geojson"' in html


def test_the_public_map_shows_the_public_layer_even_to_the_duty_officer(world, client):
    services.shift_start(user=world.alice, client_id=new_id())
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now())
    services.note_create(user=world.alice, category="drugs", text="Langning vid stigen")
    services.coverage_refresh()
    client.force_login(world.dana)
    response = client.get("/")
    snapshot = embedded(response, "public-config")["snapshot"]
    assert {f["properties"]["layer"] for f in snapshot["features"]} <= {"area", "activity"}
    hotspot = next(f for f in snapshot["features"] if f["id"] == f"area.{world.hotspot.pk}")
    assert hotspot["properties"]["adults"] == 1
    html = response.content.decode()
    assert "11.445" not in html and "Langning" not in html and "Alice" not in html


def test_the_public_snapshot_json_is_the_public_layer_whoever_asks(world, client):
    services.shift_start(user=world.alice, client_id=new_id())
    client.force_login(world.dana)
    response = client.get("/lage.json")
    assert response.status_code == 200
    snapshot = response.json()
    assert snapshot["type"] == "FeatureCollection" and "seq" in snapshot
    assert {f["properties"]["layer"] for f in snapshot["features"]} <= {"area", "activity"}


# --- association page: who may use it -----------------------------------------------------------------


def test_the_association_page_lists_only_the_clubs_own_activities(world, client, sailing_night):
    announce(world, title="Öppen hall")
    client.force_login(world.erik)
    response = client.get("/forening/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Öppen hall" in html
    assert "Seglarkväll" not in html


@pytest.mark.parametrize("person", ["alice", "dana", "frida", "gustav"])
def test_the_association_page_refuses_people_without_an_association(world, client, person):
    client.force_login(getattr(world, person))
    assert client.get("/forening/").status_code == 403


def test_the_association_page_sends_an_anonymous_visitor_to_sign_in(client, db):
    response = client.get("/forening/")
    assert response.status_code == 302
    assert response["Location"] == "/konto/logga-in/?next=/forening/"


# --- creating -----------------------------------------------------------------------------------------


def test_erik_announces_an_activity_for_his_club(world, client):
    client.force_login(world.erik)
    response = client.post("/forening/", form_data(world))
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.organization, activity.title, activity.place, activity.status) == (
        world.club,
        "Öppen hall",
        world.place,
        "planned",
    )
    assert Event.objects.filter(kind="activity", audience="public", author=world.erik).count() == 1


def test_an_activity_at_a_point_on_the_map(world, client):
    client.force_login(world.erik)
    client.post("/forening/", form_data(world, place="", lat="58.2801", lon="11.4402"))
    activity = Activity.objects.get()
    assert activity.place is None
    assert (round(activity.point.y, 4), round(activity.point.x, 4)) == (58.2801, 11.4402)


def test_the_service_refusal_is_shown_on_the_field_it_names(world, client):
    client.force_login(world.erik)
    data = form_data(world)
    data["ends_at"] = data["starts_at"]
    response = client.post("/forening/", data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"ends_at": ["Aktiviteten måste sluta efter att den börjar."]}
    assert not Activity.objects.exists()


def test_an_activity_without_place_or_point_is_refused_on_the_place_field(world, client):
    client.force_login(world.erik)
    response = client.post("/forening/", form_data(world, place=""))
    assert response.context["form"].errors == {"place": ["Välj en plats eller en punkt på kartan."]}


def test_a_personal_identity_number_in_the_description_is_refused(world, client):
    client.force_login(world.erik)
    response = client.post("/forening/", form_data(world, description="Ring Kalle 811218-9876"))
    assert list(response.context["form"].errors) == ["description"]
    assert not Activity.objects.exists()


def test_erik_cannot_announce_for_another_organisation(world, client):
    client.force_login(world.erik)
    response = client.post("/forening/", form_data(world, organization=world.other_club.pk))
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not Activity.objects.exists()


# --- changing and status --------------------------------------------------------------------------------


def test_erik_opens_closes_and_cancels_his_activity(world, client):
    activity = announce(world)
    client.force_login(world.erik)
    for action, status in (("oppna", "open"), ("stang", "closed"), ("oppna", "open"), ("stall-in", "cancelled")):
        response = client.post(f"/forening/{activity.pk}/{action}/")
        assert response.status_code == 302
        activity.refresh_from_db()
        assert activity.status == status


def test_a_cancelled_activity_cannot_be_opened_again(world, client):
    activity = announce(world)
    services.activity_cancel(user=world.erik, activity_id=activity.pk)
    client.force_login(world.erik)
    response = client.post(f"/forening/{activity.pk}/oppna/", follow=True)
    assert "En inställd aktivitet kan inte öppnas igen" in response.content.decode()
    activity.refresh_from_db()
    assert activity.status == "cancelled"


@pytest.mark.parametrize("action", ["oppna", "stang", "stall-in"])
def test_erik_cannot_change_the_status_of_another_clubs_activity(world, client, sailing_night, action):
    client.force_login(world.erik)
    response = client.post(f"/forening/{sailing_night.pk}/{action}/")
    assert response.status_code == 403
    sailing_night.refresh_from_db()
    assert sailing_night.status == "planned"
    assert not Event.objects.filter(author=world.erik).exists()


def test_erik_cannot_edit_another_clubs_activity(world, client, sailing_night):
    client.force_login(world.erik)
    assert client.get(f"/forening/{sailing_night.pk}/").status_code == 403
    response = client.post(f"/forening/{sailing_night.pk}/", form_data(world, title="Kapad"))
    assert response.status_code == 403
    sailing_night.refresh_from_db()
    assert sailing_night.title == "Seglarkväll"


def test_erik_edits_his_activity(world, client):
    activity = announce(world)
    client.force_login(world.erik)
    page = client.get(f"/forening/{activity.pk}/")
    assert page.status_code == 200
    assert page.context["form"].initial["title"] == "Öppen hall"
    data = form_data(world, title="Öppen hall och pingis", visibility="internal")
    del data["organization"]
    response = client.post(f"/forening/{activity.pk}/", data)
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.title, activity.visibility) == ("Öppen hall och pingis", "internal")
    # The public map is told to drop it: it is internal now.
    assert Event.objects.filter(kind="activity_removed", data={"id": activity.pk}).exists()


def test_an_unknown_status_action_is_not_found(world, client):
    activity = announce(world)
    client.force_login(world.erik)
    assert client.post(f"/forening/{activity.pk}/radera/").status_code == 404


def test_a_status_change_needs_a_post(world, client):
    activity = announce(world)
    client.force_login(world.erik)
    assert client.get(f"/forening/{activity.pk}/oppna/").status_code == 405


def test_a_missing_activity_is_not_found(world, client):
    client.force_login(world.erik)
    assert client.get("/forening/999999/").status_code == 404


def test_the_form_lists_places_for_the_map(world, client):
    client.force_login(world.erik)
    places = embedded(client.get("/forening/"), "places")
    assert places == [{"id": world.place.pk, "name": "Fritidsgården", "lat": 58.275, "lon": 11.435}]
    assert json.dumps(places)  # plain JSON for the map script


def test_a_system_owner_with_an_admin_membership_may_announce_for_any_organisation(world, client):
    from django.contrib.auth import get_user_model

    from coordination.models import Membership

    owner = get_user_model().objects.create_user("owner", password="pw")
    Membership.objects.create(user=owner, organization=world.municipality, role=Role.ADMIN)
    client.force_login(owner)
    response = client.get("/forening/")
    assert response.status_code == 200
    choices = {org.name for org in response.context["form"].fields["organization"].queryset}
    assert choices == {"Lysekils kommun", "IFK Lysekil", "Lysekils Segelsällskap", "Polisen Lysekil"}
