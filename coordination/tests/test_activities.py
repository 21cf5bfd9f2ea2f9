"""activity_create/update/open/close/cancel: an association manages only its own activities."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from coordination import services
from coordination.errors import Forbidden, Invalid, NotFound
from coordination.models import Event
from maps.models import Activity

User = get_user_model()
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def this_evening() -> datetime:
    """A start today that has begun (an hour ago, or at midnight): its evening can be opened now."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    return max(now - timedelta(hours=1), now.replace(hour=0, minute=0)).astimezone(STOCKHOLM)


# The gym night takes place today: opening and closing are for an evening that takes place today.
STARTS = this_evening()
ENDS = STARTS + timedelta(hours=3)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def gym(world, **overrides) -> dict:
    """The fields of IFK Lysekil's open gym night at the youth centre."""
    return {
        "title": "Öppen gympa",
        "description": "Basket och innebandy, alla är välkomna",
        "place": world.place.pk,
        "starts_at": STARTS,
        "ends_at": ENDS,
        "weekly": True,
        "repeat_until": date(2027, 3, 26),
        "visibility": "public",
        "age_group": "13–17 år",
        "contact": "Kansliet 0523-123 45",
        **overrides,
    }


def activity_data(activity: Activity) -> dict:
    location = activity.location
    return {
        "id": activity.pk,
        "title": activity.title,
        "description": activity.description,
        "organization": activity.organization_id,
        "organization_name": activity.organization.name,
        "place": activity.place_id,
        "place_name": activity.place.name if activity.place_id else "",
        "lat": location.y,
        "lon": location.x,
        "starts_at": timezone.localtime(activity.starts_at).isoformat(),
        "ends_at": timezone.localtime(activity.ends_at).isoformat(),
        "weekly": activity.weekly,
        "repeat_until": activity.repeat_until.isoformat() if activity.repeat_until else None,
        "visibility": activity.visibility,
        "status": activity.status,
        "age_group": activity.age_group,
        "contact": activity.contact,
        "occasions": [{"date": o.date.isoformat(), "status": o.status} for o in activity.occasions.all()],
    }


def written() -> tuple[int, int]:
    return Activity.objects.count(), Event.objects.count()


@pytest.fixture
def announced(world) -> Activity:
    services.activity_create(user=world.erik, organization_id=world.club.pk, **gym(world))
    return Activity.objects.get()


# --- activity_create --------------------------------------------------------------------------------


def test_an_association_member_announces_an_activity_of_their_organisation(world):
    event = services.activity_create(user=world.erik, organization_id=world.club.pk, client_id="a1", **gym(world))

    activity = Activity.objects.get()
    assert (activity.organization, activity.title, activity.place, activity.point, activity.status) == (
        world.club,
        "Öppen gympa",
        world.place,
        None,
        "planned",
    )
    assert (activity.starts_at, activity.ends_at, activity.weekly, activity.repeat_until) == (
        STARTS,
        ENDS,
        True,
        date(2027, 3, 26),
    )
    assert Event.objects.get() == event
    assert (event.kind, event.audience, event.author, event.client_id) == ("activity", "public", world.erik, "a1")
    assert event.data == activity_data(activity)
    assert (event.data["lat"], event.data["lon"], event.data["place_name"]) == (58.275, 11.435, "Fritidsgården")
    assert event.data["contact"] == "Kansliet 0523-123 45"


def test_an_activity_at_a_point_needs_no_place(world):
    event = services.activity_create(
        user=world.erik, organization_id=world.club.pk, **gym(world, place=None, lat=58.281, lon=11.441)
    )
    activity = Activity.objects.get()
    assert (activity.place, activity.point.y, activity.point.x) == (None, 58.281, 11.441)
    assert (event.data["place"], event.data["place_name"], event.data["lat"]) == (None, "", 58.281)


def test_an_internal_activity_reaches_staff_only(world):
    fields = gym(world, visibility="internal")
    event = services.activity_create(user=world.erik, organization_id=world.club.pk, **fields)
    assert event.audience == "staff"


def test_a_superuser_announces_for_any_organisation(world):
    root = User.objects.create_superuser("root", password="pw")
    services.activity_create(user=root, organization_id=world.other_club.pk, **gym(world))
    assert Activity.objects.get().organization == world.other_club


@pytest.mark.parametrize("who", ["alice", "dana", "frida", "gustav"])
def test_it_refuses_an_activity_from_someone_without_the_association_role(world, who):
    with pytest.raises(Forbidden):
        services.activity_create(user=getattr(world, who), organization_id=world.club.pk, **gym(world))
    assert written() == (0, 0)


def test_it_refuses_an_activity_for_another_organisation_and_writes_nothing(world):
    with pytest.raises(Forbidden) as refused:
        services.activity_create(user=world.erik, organization_id=world.other_club.pk, **gym(world))
    assert refused.value.code == "forbidden"
    assert written() == (0, 0)


def test_an_organisation_that_does_not_exist_is_not_found_for_a_superuser(world):
    root = User.objects.create_superuser("root", password="pw")
    with pytest.raises(NotFound) as refused:
        services.activity_create(user=root, organization_id=999_999, **gym(world))
    assert refused.value.field == "organization"
    assert written() == (0, 0)


@pytest.mark.parametrize("organization_id", ["1", "abc", None, 1.0, True])
def test_it_refuses_an_organisation_id_that_is_not_an_integer(world, organization_id):
    root = User.objects.create_superuser("root", password="pw")
    with pytest.raises(Invalid) as refused:
        services.activity_create(user=root, organization_id=organization_id, **gym(world))
    assert refused.value.field == "organization"
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"title": "Ring 070-123 45 67"}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "Ledare: 811218-9876"}, "description"),
        ({"age_group": "x" * 41}, "age_group"),
        ({"contact": "x" * 121}, "contact"),
        ({"place": 999_999}, "place"),
        ({"place": "1"}, "place"),
        ({"place": True}, "place"),
        ({"place": None}, "place"),
        ({"place": None, "lat": 58.2}, "lon"),
        ({"place": None, "lat": 91, "lon": 11.4}, "lat"),
        ({"starts_at": datetime(2026, 11, 27, 18, 0)}, "starts_at"),
        ({"starts_at": "2026-11-27T18:00:00+01:00"}, "starts_at"),
        ({"ends_at": STARTS}, "ends_at"),
        ({"ends_at": STARTS - timedelta(hours=1)}, "ends_at"),
        ({"ends_at": STARTS + timedelta(hours=24, minutes=1)}, "ends_at"),
        ({"weekly": "yes"}, "weekly"),
        ({"repeat_until": "2027-03-26"}, "repeat_until"),
        ({"repeat_until": date(2026, 11, 26)}, "repeat_until"),
        ({"visibility": "secret"}, "visibility"),
        ({"colour": "red"}, "colour"),
        ({"client_id": ""}, "id"),
    ],
)
def test_it_refuses_bad_activity_input_naming_the_field(world, overrides, field):
    with pytest.raises(Invalid) as refused:
        services.activity_create(user=world.erik, organization_id=world.club.pk, **gym(world, **overrides))
    assert (refused.value.code, refused.value.field) == ("invalid", field)
    assert refused.value.message
    assert written() == (0, 0)


def test_times_must_be_given_on_create(world):
    fields = gym(world)
    del fields["ends_at"]
    with pytest.raises(Invalid) as refused:
        services.activity_create(user=world.erik, organization_id=world.club.pk, **fields)
    assert refused.value.field == "ends_at"
    assert written() == (0, 0)


def test_a_repeated_announcement_answers_with_the_original_seq(world):
    first = services.activity_create(user=world.erik, organization_id=world.club.pk, client_id="a1", **gym(world))
    again = services.activity_create(user=world.erik, organization_id=world.club.pk, client_id="a1", **gym(world))
    assert again.seq == first.seq
    assert written() == (1, 1)


# --- activity_update --------------------------------------------------------------------------------


def test_the_organisation_changes_its_activity(world, announced):
    event = services.activity_update(
        user=world.erik, activity_id=announced.pk, client_id="u1", title="Öppen hall", ends_at=ENDS + timedelta(hours=1)
    )
    announced.refresh_from_db()
    assert (announced.title, announced.ends_at, announced.description) == (
        "Öppen hall",
        ENDS + timedelta(hours=1),
        "Basket och innebandy, alla är välkomna",
    )
    assert (event.kind, event.audience, event.client_id) == ("activity", "public", "u1")
    assert event.data == activity_data(announced)
    assert written() == (1, 2)


def test_making_a_public_activity_internal_tells_the_public_map_to_drop_it(world, announced):
    services.activity_update(user=world.erik, activity_id=announced.pk, visibility="internal")
    removed, changed = Event.objects.order_by("seq")[1:]
    assert (removed.kind, removed.audience, removed.data) == ("activity_removed", "public", {"id": announced.pk})
    assert (changed.kind, changed.audience, changed.data["visibility"]) == ("activity", "staff", "internal")


def test_it_refuses_to_change_another_organisations_activity(world, announced):
    sailor = User.objects.create_user("sven", password="pw")
    world.other_club.memberships.create(user=sailor, role="association")
    with pytest.raises(Forbidden):
        services.activity_update(user=sailor, activity_id=announced.pk, title="Segling")
    assert Activity.objects.get().title == "Öppen gympa"
    assert written() == (1, 1)


def test_an_update_that_breaks_the_time_window_changes_nothing(world, announced):
    with pytest.raises(Invalid) as refused:
        services.activity_update(user=world.erik, activity_id=announced.pk, title="Ny", starts_at=ENDS)
    assert refused.value.field == "ends_at"
    assert Activity.objects.get().title == "Öppen gympa"
    assert written() == (1, 1)


def test_an_update_may_not_leave_the_activity_without_a_location(world, announced):
    with pytest.raises(Invalid) as refused:
        services.activity_update(user=world.erik, activity_id=announced.pk, place=None)
    assert refused.value.field == "place"
    assert written() == (1, 1)


def test_updating_an_activity_that_does_not_exist_is_not_found(world):
    with pytest.raises(NotFound):
        services.activity_update(user=world.erik, activity_id=999_999, title="X")
    assert written() == (0, 0)


# --- open, close, cancel ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "status"),
    [("activity_open", "open"), ("activity_close", "closed"), ("activity_cancel", "cancelled")],
)
def test_the_organisation_sets_the_status_of_its_activity(world, announced, action, status):
    event = getattr(services, action)(user=world.erik, activity_id=announced.pk, client_id="s1")
    announced.refresh_from_db()
    assert announced.status == status
    assert (event.kind, event.audience, event.author, event.client_id) == ("activity", "public", world.erik, "s1")
    assert event.data == activity_data(announced)
    assert written() == (1, 2)


@pytest.mark.parametrize("action", ["activity_open", "activity_close", "activity_cancel"])
def test_another_organisations_member_may_not_set_the_status(world, announced, action):
    sailor = User.objects.create_user("sven", password="pw")
    world.other_club.memberships.create(user=sailor, role="association")
    for user in (sailor, world.dana, world.alice):
        with pytest.raises(Forbidden):
            getattr(services, action)(user=user, activity_id=announced.pk)
    assert Activity.objects.get().status == "planned"
    assert written() == (1, 1)


@pytest.mark.parametrize("action", ["activity_open", "activity_close"])
def test_a_cancelled_activity_cannot_be_opened_or_closed_again(world, announced, action):
    services.activity_cancel(user=world.erik, activity_id=announced.pk)
    with pytest.raises(Invalid) as refused:
        getattr(services, action)(user=world.erik, activity_id=announced.pk)
    assert refused.value.field == "status"
    assert Activity.objects.get().status == "cancelled"
    assert written() == (1, 2)


def test_a_repeated_status_change_answers_with_the_original_seq(world, announced):
    first = services.activity_open(user=world.erik, activity_id=announced.pk, client_id="o1")
    again = services.activity_open(user=world.erik, activity_id=announced.pk, client_id="o1")
    assert again.seq == first.seq
    assert written() == (1, 2)


@pytest.mark.parametrize("activity_id", ["1", None, True, 1.0])
def test_it_refuses_an_activity_id_that_is_not_an_integer(world, activity_id):
    with pytest.raises(Invalid) as refused:
        services.activity_open(user=world.erik, activity_id=activity_id)
    assert refused.value.field == "activity"
    assert written() == (0, 0)
