"""A field team's check-in at a place: the team says where it is, staff see it, the public never does."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from coordination import services
from coordination.errors import Forbidden, Invalid, NotFound
from coordination.models import CheckIn, Event
from coordination.tests.sockets import new_id, nothing_more, receive, send, socket


@pytest.mark.django_db
def test_a_team_on_shift_checks_in_at_a_place(world):
    services.shift_start(user=world.alice, client_id=new_id())
    event = services.checkin_record(user=world.bob, client_id="c1", place_id=world.place.pk)
    checkin = CheckIn.objects.get()
    assert (checkin.place, checkin.author, checkin.shift.team) == (world.place, world.bob, world.harbour_team)
    assert (event.kind, event.audience) == ("checkin", "staff")
    assert event.data == {
        "id": checkin.pk,
        "team": world.harbour_team.pk,
        "team_name": "Hamnen",
        "shift": checkin.shift_id,
        "place": world.place.pk,
        "place_name": "Fritidsgården",
        "lat": 58.275,
        "lon": 11.435,
        "created_at": timezone.localtime(checkin.created_at).isoformat(),
    }


@pytest.mark.django_db
def test_the_same_check_in_sent_twice_is_stored_once(world):
    services.shift_start(user=world.alice, client_id=new_id())
    first = services.checkin_record(user=world.alice, client_id="c1", place_id=world.place.pk)
    again = services.checkin_record(user=world.alice, client_id="c1", place_id=world.place.pk)
    assert again.seq == first.seq and CheckIn.objects.count() == 1


@pytest.mark.django_db
def test_a_check_in_needs_a_shift_running(world):
    with pytest.raises(Forbidden):
        services.checkin_record(user=world.charlie, client_id=new_id(), place_id=world.place.pk)
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("place", "error"), [(None, Invalid), ("1", Invalid), (True, Invalid), (10**9, NotFound)])
def test_a_check_in_names_a_place_that_exists(world, place, error):
    services.shift_start(user=world.alice, client_id=new_id())
    with pytest.raises(error) as refused:
        services.checkin_record(user=world.alice, client_id=new_id(), place_id=place)
    assert refused.value.field == "place"
    assert not CheckIn.objects.exists()


@pytest.mark.django_db
def test_only_field_members_check_in(world):
    with pytest.raises(Forbidden):
        services.checkin_record(user=world.dana, client_id=new_id(), place_id=world.place.pk)


@pytest.mark.django_db(transaction=True)
async def test_a_check_in_from_the_phone_is_acked_and_reaches_duty_but_not_the_public(world):
    await database_sync_to_async(services.shift_start)(user=world.alice, client_id=new_id())
    head = await database_sync_to_async(lambda: Event.objects.order_by("-seq").first().seq)()
    async with (
        socket("/ws/ops/", world.dana, hello=head) as ops,
        socket("/ws/public/", hello=head) as public,
        socket("/ws/field/", world.alice) as field,
    ):
        await send(field, {"type": "checkin", "id": "c1", "place": world.place.pk})
        ack = await receive(field)
        seen = await receive(ops)
        assert await nothing_more(public) == []
    assert ack == {"type": "ack", "id": "c1", "seq": seen["seq"]}
    assert (seen["kind"], seen["data"]["place_name"], seen["data"]["team_name"]) == (
        "checkin",
        "Fritidsgården",
        "Hamnen",
    )


@pytest.mark.django_db(transaction=True)
async def test_the_duty_socket_does_not_take_check_ins(world):
    async with socket("/ws/ops/", world.dana) as ops:
        await send(ops, {"type": "checkin", "id": "c1", "place": world.place.pk})
        error = await receive(ops)
    assert (error["code"], error["field"]) == ("invalid", "type")


@pytest.mark.django_db
def test_check_ins_go_with_the_raw_positions_after_retention(world, settings):
    # Where a team was is a track like its positions: kept as long as they are, then gone with its events.
    settings.POSITION_RETENTION_DAYS = 7
    services.shift_start(user=world.alice, client_id=new_id())
    old = services.checkin_record(user=world.alice, client_id=new_id(), place_id=world.place.pk)
    recent = services.checkin_record(user=world.alice, client_id=new_id(), place_id=world.place.pk)
    eight_days_ago = timezone.now() - timedelta(days=8)
    CheckIn.objects.filter(pk=old.data["id"]).update(created_at=eight_days_ago)
    Event.objects.filter(seq=old.seq).update(created_at=eight_days_ago)
    services.positions_purge()
    assert list(CheckIn.objects.values_list("pk", flat=True)) == [recent.data["id"]]
    assert list(Event.objects.filter(kind="checkin").values_list("seq", flat=True)) == [recent.seq]
