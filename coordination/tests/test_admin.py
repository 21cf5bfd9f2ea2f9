"""The admin: pages open for a superuser, activities go through the services, tokens revoke, others stay out."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from coordination.models import Alert, AuditLog, ChatMessage, DeviceToken, Event, LatestPosition, Shift, SituationNote
from coordination.services import device_token_issue, note_create, position_record, shift_start
from maps.models import Activity

User = get_user_model()

OUR_APPS = {"coordination", "maps", "auth"}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The world's people each get a password; PBKDF2 would make these tests slow for nothing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def root(world):
    return User.objects.create_superuser("root", password="pw")


@pytest.fixture
def root_client(client, root):
    client.force_login(root)
    return client


def registered():
    return [
        (model, model_admin) for model, model_admin in admin.site._registry.items() if model._meta.app_label in OUR_APPS
    ]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def tomorrow_at(hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def activity_form(world, **overrides) -> dict:
    """The POST body of the activity add form: IFK's open gym at the youth centre tomorrow evening."""
    starts, ends = tomorrow_at(18), tomorrow_at(21)
    data = {
        "title": "Öppen hall",
        "organization": world.club.pk,
        "description": "Innebandy och basket.",
        "place": world.place.pk,
        "point": "",
        "starts_at_0": starts.date().isoformat(),
        "starts_at_1": "18:00",
        "ends_at_0": ends.date().isoformat(),
        "ends_at_1": "21:00",
        "weekly": "on",
        "repeat_until": (starts.date() + timedelta(weeks=8)).isoformat(),
        "visibility": "public",
        "age_group": "13–17 år",
        "contact": "IFK Lysekil",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def announce(world, root, **fields) -> Activity:
    """An activity as the association page would have created it (directly: the admin is under test)."""
    values = {
        "organization": world.club,
        "title": "Fotboll",
        "place": world.place,
        "starts_at": tomorrow_at(17),
        "ends_at": tomorrow_at(19),
    }
    values.update(fields)
    return Activity.objects.create(**values)


# --- pages ------------------------------------------------------------------------------------------


def test_every_changelist_opens_for_a_superuser(root_client):
    for model, _ in registered():
        response = root_client.get(url(model, "changelist"))
        assert response.status_code == 200, model


def test_every_add_page_opens_for_a_superuser_where_adding_is_allowed(root_client, root):
    request = RequestFactory().get("/admin/")
    request.user = root
    with_add = [model for model, model_admin in registered() if model_admin.has_add_permission(request)]
    assert {m._meta.model_name for m in with_add} >= {"user", "organization", "membership", "team", "area", "place"}
    for model in with_add:
        response = root_client.get(url(model, "add"))
        assert response.status_code == 200, model


def test_the_changelists_filter_and_search(root_client, world):
    assert root_client.get(url(Activity, "changelist"), {"status__exact": "open", "q": "fotboll"}).status_code == 200
    assert root_client.get(url(User, "changelist"), {"memberships__role__exact": "field"}).status_code == 200
    response = root_client.get(url(DeviceToken, "changelist"), {"q": "alice"})
    assert response.status_code == 200


def test_the_area_add_page_has_a_leaflet_map(root_client):
    response = root_client.get(reverse("admin:maps_area_add"))

    content = response.content.decode()
    assert "leaflet/leaflet.js" in content
    assert 'id="id_polygon-map"' in content


def test_the_user_page_shows_memberships_and_teams(root_client, world):
    response = root_client.get(url(User, "change", world.alice.pk))
    assert response.status_code == 200
    assert "Lysekils kommun" in response.content.decode()

    listing = root_client.get(url(User, "changelist")).content.decode()
    assert "Hamnen" in listing and "Centrum" in listing


def test_notes_alerts_chat_and_the_audit_log_are_read_only(root_client):
    for name in ("situationnote", "alert", "chatmessage", "auditlog", "shift"):
        assert root_client.get(reverse(f"admin:coordination_{name}_add")).status_code == 403, name


def test_a_note_can_be_read_but_not_changed(root_client, world):
    note = SituationNote.objects.create(author=world.alice, category="gathering", text="Tio unga vid hamnen")

    response = root_client.get(url(SituationNote, "change", note.pk))
    assert response.status_code == 200
    assert "Tio unga vid hamnen" in response.content.decode()
    root_client.post(url(SituationNote, "change", note.pk), {"text": "ändrad"})
    note.refresh_from_db()
    assert note.text == "Tio unga vid hamnen"


def test_a_non_staff_user_is_redirected_to_the_login(client, world):
    client.force_login(world.alice)

    for path in (reverse("admin:index"), reverse("admin:maps_activity_add")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


# --- device tokens ----------------------------------------------------------------------------------


def test_the_revoke_action_revokes_the_selected_tokens_only(root_client, world):
    token, _ = device_token_issue(user=world.alice, name="Hamnens telefon")
    other, _ = device_token_issue(user=world.bob, name="Bobs telefon")

    response = root_client.post(
        url(DeviceToken, "changelist"), {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert response.status_code == 200
    token.refresh_from_db()
    other.refresh_from_db()
    assert token.revoked_at is not None
    assert other.revoked_at is None


def test_tokens_cannot_be_added_in_the_admin(root_client):
    assert root_client.get(url(DeviceToken, "add")).status_code == 403


# --- activities go through coordination.services ------------------------------------------------------------


def test_creating_an_activity_in_the_admin_writes_an_activity_event(root_client, world, root):
    response = root_client.post(url(Activity, "add"), activity_form(world))

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    activity = Activity.objects.get()
    assert activity.title == "Öppen hall"
    assert activity.organization == world.club
    assert activity.weekly
    assert timezone.localtime(activity.starts_at).time() == time(18)
    event = Event.objects.get(kind="activity")
    assert event.data["id"] == activity.pk
    assert event.data["title"] == "Öppen hall"
    assert event.author == root
    assert event.audience == "public"
    assert LogEntry.objects.filter(object_id=str(activity.pk)).exists()
    assert response.url == url(Activity, "changelist")


def test_an_activity_at_a_point_on_the_map_keeps_the_point(root_client, world):
    point = '{"type": "Point", "coordinates": [11.4428, 58.2848]}'

    root_client.post(url(Activity, "add"), activity_form(world, place="", point=point))

    activity = Activity.objects.get()
    assert activity.place is None
    assert (round(activity.point.x, 4), round(activity.point.y, 4)) == (11.4428, 58.2848)
    assert Event.objects.get(kind="activity").data["lat"] == 58.2848


def test_a_refusal_of_the_service_is_a_form_error_and_nothing_is_written(root_client, world):
    two_days_later = (tomorrow_at(18) + timedelta(days=2)).date().isoformat()

    response = root_client.post(url(Activity, "add"), activity_form(world, ends_at_0=two_days_later))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "Ett tillfälle får vara högst ett dygn" in str(form.errors["ends_at"])
    assert form["title"].value() == "Öppen hall"  # what was typed is kept
    assert not Activity.objects.exists()
    assert not Event.objects.exclude(kind="coverage").exists()  # the coverage tick may run anywhere


def test_a_personal_number_in_the_description_is_refused_on_the_form(root_client, world):
    response = root_client.post(
        url(Activity, "add"), activity_form(world, description="Anmälan till 19811218-9876 senast fredag.")
    )

    assert response.status_code == 200
    assert "personnummer" in str(response.context["adminform"].form.errors["description"])
    assert not Activity.objects.exists()


def test_changing_an_activity_in_the_admin_writes_an_event_with_the_change(root_client, world, root):
    activity = announce(world, root)
    form = activity_form(world, title="Fotboll på konstgräset")

    response = root_client.post(url(Activity, "change", activity.pk), form)

    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.title == "Fotboll på konstgräset"
    assert activity.organization == world.club
    event = Event.objects.get(kind="activity")
    assert event.data["title"] == "Fotboll på konstgräset"
    assert event.author == root


def test_making_a_public_activity_internal_removes_it_from_the_public_map(root_client, world):
    activity = announce(world, None)

    root_client.post(url(Activity, "change", activity.pk), activity_form(world, visibility="internal"))

    assert Event.objects.get(kind="activity_removed").data == {"id": activity.pk}
    assert Event.objects.get(kind="activity").audience == "staff"


def test_saving_an_unchanged_activity_writes_no_event(root_client, world):
    activity = announce(world, None, title="Öppen hall", starts_at=tomorrow_at(18), ends_at=tomorrow_at(21))
    activity.description = "Innebandy och basket."
    activity.weekly = True
    activity.repeat_until = tomorrow_at(18).date() + timedelta(weeks=8)
    activity.age_group = "13–17 år"
    activity.contact = "IFK Lysekil"
    activity.save()

    response = root_client.post(url(Activity, "change", activity.pk), activity_form(world))

    assert response.status_code == 302
    assert not Event.objects.exclude(kind="coverage").exists()  # the coverage tick may run anywhere


def test_the_open_action_opens_through_the_service(root_client, world):
    start = timezone.now()  # opening is for an evening that takes place today
    activity = announce(world, None, starts_at=start, ends_at=start + timedelta(hours=2))

    root_client.post(url(Activity, "changelist"), {"action": "open_activities", "_selected_action": [activity.pk]})

    activity.refresh_from_db()
    assert activity.status == Activity.Status.OPEN
    assert Event.objects.get(kind="activity").data["status"] == "open"


def test_a_cancelled_activity_cannot_be_reopened_and_the_admin_says_why(root_client, world):
    activity = announce(world, None, status=Activity.Status.CANCELLED)

    response = root_client.post(
        url(Activity, "changelist"), {"action": "open_activities", "_selected_action": [activity.pk]}, follow=True
    )

    activity.refresh_from_db()
    assert activity.status == Activity.Status.CANCELLED
    assert "kan inte öppnas igen" in response.content.decode()
    assert not Event.objects.exclude(kind="coverage").exists()  # the coverage tick may run anywhere


def test_activities_cannot_be_deleted_in_the_admin(root_client, world):
    activity = announce(world, None)

    assert root_client.get(url(Activity, "delete", activity.pk)).status_code == 403


def test_the_end_shifts_action_ends_a_forgotten_shift_through_the_service(root_client, world):
    shift_start(user=world.alice, client_id="s1")
    position_record(user=world.alice, client_id="p1", lat=58.27, lon=11.44, recorded_at=timezone.now())
    shift = Shift.objects.get()

    response = root_client.post(
        url(Shift, "changelist"), {"action": "end_shifts", "_selected_action": [shift.pk]}, follow=True
    )

    assert response.status_code == 200
    shift.refresh_from_db()
    assert shift.ended_at is not None
    assert Event.objects.filter(kind="shift", data__active=False).count() == 1
    assert LatestPosition.objects.count() == 0


def test_reading_note_alert_and_chat_history_in_the_admin_is_audit_logged(root_client, world):
    shift_start(user=world.alice, client_id="s1")
    note = note_create(user=world.alice, category="other")
    for model in (SituationNote, Alert, ChatMessage):
        assert root_client.get(url(model, "changelist"), {"q": "kiosk"}).status_code == 200
    assert (
        root_client.get(reverse("admin:coordination_situationnote_change", args=[note.data["id"]])).status_code == 200
    )
    logged = list(AuditLog.objects.order_by("at").values_list("action", "detail"))
    assert logged == [
        ("admin.situationnote.list", {"q": "kiosk"}),
        ("admin.alert.list", {"q": "kiosk"}),
        ("admin.chatmessage.list", {"q": "kiosk"}),
        ("admin.situationnote.view", {"id": str(note.data["id"])}),
    ]
