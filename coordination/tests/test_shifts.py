"""shift_start, shift_end, shift_status_set: exactly one row change and exactly one Event each."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from coordination import services
from coordination.errors import Conflict, Forbidden, Invalid, NotFound
from coordination.models import Event, LatestPosition, PositionReport, Shift


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def iso(value) -> str:
    return timezone.localtime(value).isoformat()


def shift_data(shift: Shift, *, areas: list[int]) -> dict:
    return {
        "shift": shift.pk,
        "team": shift.team_id,
        "team_name": shift.team.name,
        "short": shift.team.short,
        "active": shift.ended_at is None,
        "status": shift.status,
        "started_at": iso(shift.started_at),
        "ended_at": iso(shift.ended_at) if shift.ended_at else None,
        "areas": areas,
    }


def written() -> tuple[int, int]:
    return Shift.objects.count(), Event.objects.count()


# --- shift_start ------------------------------------------------------------------------------------


def test_it_starts_a_shift_for_the_users_only_team(world):
    event = services.shift_start(user=world.alice, client_id="s1", area_ids=[world.hotspot.pk, world.district.pk])

    shift = Shift.objects.get()
    assert (shift.team, shift.started_by, shift.status, shift.ended_at) == (
        world.harbour_team,
        world.alice,
        Shift.Status.ON_ROUND,
        None,
    )
    assert set(shift.planned_areas.all()) == {world.hotspot, world.district}
    assert Event.objects.get() == event
    assert (event.kind, event.audience, event.author, event.client_id) == ("shift", "staff", world.alice, "s1")
    assert event.data == shift_data(shift, areas=sorted([world.hotspot.pk, world.district.pk]))


def test_duty_starts_a_shift_for_any_team(world):
    event = services.shift_start(user=world.dana, team_id=world.centre_team.pk)
    shift = Shift.objects.get()
    assert (shift.team, shift.started_by) == (world.centre_team, world.dana)
    assert event.data == shift_data(shift, areas=[])


def test_duty_must_name_the_team(world):
    with pytest.raises(Invalid) as refused:
        services.shift_start(user=world.dana)
    assert refused.value.field == "team"
    assert written() == (0, 0)


def test_it_refuses_a_shift_for_another_team(world):
    with pytest.raises(Forbidden) as refused:
        services.shift_start(user=world.alice, team_id=world.centre_team.pk)
    assert refused.value.code == "forbidden"
    assert written() == (0, 0)


@pytest.mark.parametrize("who", ["erik", "frida", "gustav"])
def test_it_refuses_a_shift_to_people_without_the_field_role(world, who):
    with pytest.raises(Forbidden):
        services.shift_start(user=getattr(world, who), team_id=world.harbour_team.pk)
    assert written() == (0, 0)


def test_it_refuses_a_second_shift_while_the_team_is_out(world):
    services.shift_start(user=world.alice)
    with pytest.raises(Conflict) as refused:
        services.shift_start(user=world.bob)
    assert refused.value.code == "conflict"
    assert written() == (1, 1)


def test_duty_gets_not_found_for_a_team_that_does_not_exist(world):
    with pytest.raises(NotFound) as refused:
        services.shift_start(user=world.dana, team_id=999_999)
    assert (refused.value.code, refused.value.field) == ("not_found", "team")
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"team_id": "1"}, "team"),
        ({"team_id": True}, "team"),
        ({"team_id": 1.0}, "team"),
        ({"area_ids": "1,2"}, "areas"),
        ({"area_ids": ["1"]}, "areas"),
        ({"area_ids": [True]}, "areas"),
        ({"area_ids": [999_999]}, "areas"),
        ({"client_id": ""}, "id"),
        ({"client_id": "x" * 65}, "id"),
        ({"client_id": 7}, "id"),
    ],
)
def test_it_refuses_bad_shift_start_input_naming_the_field(world, fields, field):
    with pytest.raises(Invalid) as refused:
        services.shift_start(user=world.dana, **{"team_id": world.harbour_team.pk, **fields})
    assert (refused.value.code, refused.value.field) == ("invalid", field)
    assert written() == (0, 0)


def test_a_repeated_shift_start_answers_with_the_original_seq(world):
    first = services.shift_start(user=world.alice, client_id="same")
    again = services.shift_start(user=world.alice, client_id="same")
    assert again.seq == first.seq
    assert written() == (1, 1)


def test_the_same_client_id_from_another_author_is_another_write(world):
    first = services.shift_start(user=world.alice, client_id="same")
    other = services.shift_start(user=world.charlie, client_id="same")
    assert other.seq > first.seq
    assert sorted(Shift.objects.values_list("team__name", flat=True)) == ["Centrum", "Hamnen"]
    assert Event.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_members_starting_at_once_get_one_shift_and_a_conflict(world):
    """The partial unique index decides a race the exists() check cannot see; the loser gets Conflict."""
    started = threading.Event()
    outcome: dict[str, object] = {}

    def alice_starts():
        try:
            with transaction.atomic():
                services.shift_start(user=world.alice, client_id="a")
                started.set()
                # Hold the uncommitted shift while bob runs into the unique index.
                threading.Event().wait(0.3)
        finally:
            connection.close()

    def bob_starts():
        started.wait(5)
        try:
            services.shift_start(user=world.bob, client_id="b")
        except Exception as error:  # noqa: BLE001 - the test reports whatever bob got
            outcome["bob"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=alice_starts), threading.Thread(target=bob_starts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert type(outcome["bob"]) is Conflict
    assert list(Shift.objects.values_list("started_by__username", flat=True)) == ["alice"]
    assert list(Event.objects.values_list("client_id", flat=True)) == ["a"]


# --- shift_end --------------------------------------------------------------------------------------


def test_it_ends_the_teams_shift_for_any_member(world):
    services.shift_start(user=world.alice, area_ids=[world.hotspot.pk])
    event = services.shift_end(user=world.bob, client_id="end")

    shift = Shift.objects.get()
    assert shift.ended_at is not None
    assert Event.objects.order_by("-seq").first() == event
    assert (event.kind, event.audience, event.author, event.client_id) == ("shift", "staff", world.bob, "end")
    assert event.data == shift_data(shift, areas=[world.hotspot.pk])
    assert event.data["active"] is False
    assert written() == (1, 2)


def test_duty_ends_any_shift_by_id(world):
    services.shift_start(user=world.charlie)
    shift = Shift.objects.get()
    event = services.shift_end(user=world.dana, shift_id=shift.pk)
    shift.refresh_from_db()
    assert event.data == shift_data(shift, areas=[])
    assert written() == (1, 2)


def test_it_refuses_to_end_another_teams_shift(world):
    services.shift_start(user=world.charlie)
    with pytest.raises(Forbidden):
        services.shift_end(user=world.alice, shift_id=Shift.objects.get().pk)
    assert Shift.objects.get().ended_at is None
    assert written() == (1, 1)


def test_ending_without_a_shift_is_a_conflict(world):
    with pytest.raises(Conflict):
        services.shift_end(user=world.alice)
    assert written() == (0, 0)


def test_ending_an_ended_shift_is_a_conflict(world):
    services.shift_start(user=world.alice)
    services.shift_end(user=world.alice)
    with pytest.raises(Conflict):
        services.shift_end(user=world.dana, shift_id=Shift.objects.get().pk)
    assert written() == (1, 2)


def test_ending_a_shift_that_does_not_exist_is_not_found(world):
    with pytest.raises(NotFound) as refused:
        services.shift_end(user=world.dana, shift_id=999_999)
    assert refused.value.field == "shift"
    assert written() == (0, 0)


@pytest.mark.parametrize("shift_id", ["abc", "1", 1.5, True, [1]])
def test_it_refuses_a_shift_id_that_is_not_an_integer(world, shift_id):
    services.shift_start(user=world.alice)
    with pytest.raises(Invalid) as refused:
        services.shift_end(user=world.dana, shift_id=shift_id)
    assert (refused.value.code, refused.value.field) == ("invalid", "shift")
    assert Shift.objects.get().ended_at is None
    assert written() == (1, 1)


def test_a_repeated_shift_end_answers_with_the_original_seq(world):
    services.shift_start(user=world.alice)
    first = services.shift_end(user=world.alice, client_id="end")
    again = services.shift_end(user=world.alice, client_id="end")
    assert again.seq == first.seq
    assert written() == (1, 2)


# --- shift_status_set -------------------------------------------------------------------------------


def test_it_sets_the_teams_status(world):
    services.shift_start(user=world.alice, area_ids=[world.hotspot.pk])
    event = services.shift_status_set(user=world.bob, client_id="st", status="in_conversation")

    shift = Shift.objects.get()
    assert shift.status == Shift.Status.IN_CONVERSATION
    assert (event.kind, event.audience, event.author, event.client_id) == ("status", "staff", world.bob, "st")
    assert event.data == shift_data(shift, areas=[world.hotspot.pk])
    assert event.data["status"] == "in_conversation"
    assert written() == (1, 2)


@pytest.mark.parametrize("status", ["asleep", "", None, 3, ["break"], "ON_ROUND"])
def test_it_refuses_an_unknown_status(world, status):
    services.shift_start(user=world.alice)
    with pytest.raises(Invalid) as refused:
        services.shift_status_set(user=world.alice, status=status)
    assert refused.value.field == "status"
    assert Shift.objects.get().status == Shift.Status.ON_ROUND
    assert written() == (1, 1)


@pytest.mark.parametrize("who", ["alice", "dana", "frida", "gustav"])
def test_it_refuses_a_status_from_someone_not_out_on_a_shift(world, who):
    with pytest.raises(Forbidden):
        services.shift_status_set(user=getattr(world, who), status="break")
    assert written() == (0, 0)


def test_a_repeated_status_answers_with_the_original_seq(world):
    services.shift_start(user=world.alice)
    first = services.shift_status_set(user=world.alice, client_id="st", status="break")
    again = services.shift_status_set(user=world.alice, client_id="st", status="break")
    assert again.seq == first.seq
    assert written() == (1, 2)


@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_its_own_original_shift_start_answers_with_the_original_seq(world):
    """The same device sends shift_start twice at once: the copy that loses is not a conflict."""
    started = threading.Event()
    seqs: dict[str, object] = {}

    def original():
        try:
            with transaction.atomic():
                seqs["original"] = services.shift_start(user=world.alice, client_id="same").seq
                started.set()
                threading.Event().wait(0.3)
        finally:
            connection.close()

    def retry():
        started.wait(5)
        try:
            seqs["retry"] = services.shift_start(user=world.alice, client_id="same").seq
        except Exception as error:  # noqa: BLE001 - the test reports whatever the retry got
            seqs["retry"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=original), threading.Thread(target=retry)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert seqs["retry"] == seqs["original"]
    assert written() == (1, 1)


def test_ending_the_shift_forgets_where_the_team_was(world):
    services.shift_start(user=world.alice)
    services.position_record(user=world.alice, client_id="p1", lat=58.28, lon=11.445, recorded_at=timezone.now())
    services.position_record(user=world.bob, client_id="p2", lat=58.28, lon=11.446, recorded_at=timezone.now())
    assert LatestPosition.objects.count() == 2
    services.shift_end(user=world.alice)
    assert LatestPosition.objects.count() == 0
    assert PositionReport.objects.count() == 2  # the raw track stays until retention removes it
