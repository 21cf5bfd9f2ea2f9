"""seed_demo: the Lysekil demo, its people and roles, its activities, and a second run that changes nothing."""

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from coordination.management.commands.seed_demo import DEFAULT_PASSWORD, STOCKHOLM
from coordination.models import Event, Membership, Organization, Role, Team
from maps.models import Activity, Area, Place

User = get_user_model()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Seven PBKDF2 hashes per run add seconds and prove nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def no_demo_password(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def roles_of(username: str) -> set[tuple[str, str]]:
    return set(Membership.objects.filter(user__username=username).values_list("role", "organization__name"))


@pytest.mark.usefixtures("no_demo_password")
def test_it_creates_the_demo_people_with_their_roles(db):
    seed()

    assert roles_of("falt1") == {(Role.FIELD, "Lysekils kommun")}
    assert roles_of("falt2") == {(Role.FIELD, "Lysekils kommun")}
    assert roles_of("falt3") == {(Role.FIELD, "Lysekils kommun")}
    assert roles_of("jour") == {(Role.DUTY, "Lysekils kommun")}
    assert roles_of("forening") == {(Role.ASSOCIATION, "IFK Lysekil")}
    assert roles_of("polis") == {(Role.PARTNER, "Polisen")}
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.filter(is_staff=True).exclude(username="admin").exists()
    for username in ("falt1", "falt2", "falt3", "jour", "forening", "polis", "admin"):
        assert User.objects.get(username=username).check_password(DEFAULT_PASSWORD)


@pytest.mark.usefixtures("no_demo_password")
def test_it_puts_the_field_workers_in_two_teams(db):
    seed()

    team_1, team_2 = Team.objects.filter(organization__name="Lysekils kommun").order_by("name")
    assert sorted(team_1.members.values_list("username", flat=True)) == ["falt1", "falt2"]
    assert list(team_2.members.values_list("username", flat=True)) == ["falt3"]


@pytest.mark.usefixtures("no_demo_password")
def test_it_creates_the_organisations_of_each_kind(db):
    seed()

    kinds = set(Organization.objects.values_list("kind", flat=True))
    assert kinds == set(Organization.Kind.values)
    assert Organization.objects.filter(kind=Organization.Kind.ASSOCIATION).count() >= 2


@pytest.mark.usefixtures("no_demo_password")
def test_the_municipality_outline_holds_every_district_hotspot_and_place(db):
    seed()

    municipality = Area.objects.get(kind=Area.Kind.MUNICIPALITY)
    assert municipality.name == "Lysekil"
    assert municipality.polygon.valid
    inner = Area.objects.exclude(pk=municipality.pk)
    assert inner.filter(kind=Area.Kind.DISTRICT).exists()
    assert inner.filter(kind=Area.Kind.HOTSPOT, priority__gt=0).count() >= 4
    for area in inner:
        assert municipality.polygon.contains(area.polygon), area.name
    assert set(Place.objects.values_list("kind", flat=True)) == set(Place.Kind.values) - {Place.Kind.OTHER}
    for place in Place.objects.all():
        assert municipality.polygon.contains(place.point), place.name


@pytest.mark.usefixtures("no_demo_password")
def test_a_second_run_creates_nothing_new(db):
    seed()
    before = row_counts()
    activities_before = list(Activity.objects.order_by("pk").values())

    output = seed()

    assert row_counts() == before
    assert list(Activity.objects.order_by("pk").values()) == activities_before
    assert "nothing changed" in output


@pytest.mark.usefixtures("no_demo_password")
def test_every_activity_was_announced_with_an_activity_event(db):
    seed()

    activities = list(Activity.objects.all())
    assert len(activities) >= 4
    assert {a.visibility for a in activities} == {Activity.Visibility.PUBLIC, Activity.Visibility.INTERNAL}
    admin = User.objects.get(username="admin")
    for activity in activities:
        event = Event.objects.filter(kind="activity", data__id=activity.pk).order_by("seq").first()
        assert event is not None, activity.title
        assert event.author == admin
        assert event.audience == ("public" if activity.visibility == Activity.Visibility.PUBLIC else "staff")


@pytest.mark.usefixtures("no_demo_password")
def test_something_public_is_on_tonight_and_more_is_coming_this_week(db):
    seed()

    today = timezone.localdate(timezone.now(), STOCKHOLM)
    public = Activity.objects.filter(visibility=Activity.Visibility.PUBLIC)
    tonight = [a for a in public if timezone.localtime(a.starts_at, STOCKHOLM).date() == today]
    assert any(a.status == Activity.Status.OPEN for a in tonight)
    for activity in public:
        starts_on = timezone.localtime(activity.starts_at, STOCKHOLM).date()
        assert today <= starts_on < today + timedelta(days=7)
        assert activity.weekly and activity.repeat_until > today


@pytest.mark.usefixtures("no_demo_password")
def test_it_prints_every_login_and_the_password(db):
    output = seed()

    for username in ("falt1", "falt2", "falt3", "jour", "forening", "polis", "admin"):
        assert f"\n{username} " in output
    assert DEFAULT_PASSWORD in output


def test_the_password_comes_from_demo_password(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "kvällspass-2026")
    output = seed()

    assert User.objects.get(username="jour").check_password("kvällspass-2026")
    assert "kvällspass-2026" in output


def test_a_second_run_resets_passwords_only_when_demo_password_is_set(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    seed()
    jour = User.objects.get(username="jour")
    jour.set_password("changed-by-jour")
    jour.save()

    seed()
    assert User.objects.get(username="jour").check_password("changed-by-jour")

    monkeypatch.setenv("DEMO_PASSWORD", DEFAULT_PASSWORD)
    seed()
    assert User.objects.get(username="jour").check_password(DEFAULT_PASSWORD)


@pytest.mark.usefixtures("no_demo_password")
def test_the_demo_holds_citizen_reports_in_each_state_and_a_dialogue_officer(db):
    from coordination.models import CitizenReport

    seed()
    assert roles_of("dialog") == {(Role.DIALOGUE, "Lysekils kommun")}
    reports = CitizenReport.objects.all()
    assert {r.status for r in reports} == {"received", "handling", "answered", "closed"}
    assert reports.filter(published=True).count() >= 2 and reports.filter(rejected=True).exists()
    assert reports.filter(taken_by__username="dialog").exists()
    assert Event.objects.filter(kind="report_published").exists()
