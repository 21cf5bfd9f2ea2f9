"""Access taken away while a socket is open: it stores nothing more and closes within seconds (4401)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from config.asgi import application
from coordination import services
from coordination.models import DeviceToken, PositionReport, SituationNote
from coordination.tests.sockets import closed_with, new_id, nothing_more, process_jobs, receive_until, send, socket

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def start_shift(user):
    return services.shift_start(user=user, client_id=new_id())


@database_sync_to_async
def revoke_tokens(user) -> None:
    for token in DeviceToken.objects.filter(user=user):
        services.device_token_revoke(token=token)


@database_sync_to_async
def deactivate(user) -> None:
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


@database_sync_to_async
def notes() -> int:
    return SituationNote.objects.count()


def note() -> dict:
    return {"type": "note", "id": new_id(), "category": "gathering"}


async def test_a_socket_whose_token_is_revoked_closes_within_seconds_even_when_it_sends_nothing(world):
    await start_shift(world.alice)
    async with process_jobs(), socket("/ws/field/", world.alice, hello=0) as field:
        await send(field, note())
        assert (await receive_until(field, lambda frame: frame["type"] != "event"))["type"] == "ack"
        await receive_until(field, lambda frame: frame.get("kind") == "note")
        await revoke_tokens(world.alice)
        assert await closed_with(field, timeout=4) == 4401


async def test_a_note_sent_right_after_the_revoke_is_not_stored(world):
    """No job runs here: the check before every write refuses it, and the socket closes at once."""
    await start_shift(world.alice)
    async with socket("/ws/field/", world.alice, hello=0) as field:
        await revoke_tokens(world.alice)
        for _ in range(5):
            await send(field, note())
        assert await closed_with(field, skip_events=True) == 4401
    assert await notes() == 0


async def test_a_position_sent_right_after_the_revoke_is_not_stored(world):
    await start_shift(world.alice)
    async with socket("/ws/field/", world.alice, hello=0) as field:
        await revoke_tokens(world.alice)
        recorded_at = timezone.now().isoformat()
        await send(field, {"type": "position", "id": "p1", "lat": 58.27, "lon": 11.44, "recorded_at": recorded_at})
        answer = await receive_until(field, lambda frame: frame["type"] != "event")
    assert (answer["type"], answer["code"]) == ("error", "forbidden")
    assert not await database_sync_to_async(PositionReport.objects.exists)()


async def test_a_deactivated_person_is_signed_out_within_seconds(world):
    async with process_jobs(), socket("/ws/ops/", world.dana, hello=0) as ops:
        await deactivate(world.dana)
        assert await closed_with(ops, timeout=4) == 4401


async def test_a_browser_socket_closes_when_its_session_ends(world):
    @database_sync_to_async
    def signed_in_cookie() -> str:
        client = Client()
        client.force_login(world.dana)
        return client.cookies["sessionid"].value

    key = await signed_in_cookie()
    headers = [(b"origin", b"http://127.0.0.1"), (b"cookie", f"sessionid={key}".encode())]
    ops = WebsocketCommunicator(application, "/ws/ops/", headers=headers)
    connected, _ = await ops.connect(timeout=5)
    assert connected
    try:
        async with process_jobs():
            await send(ops, {"type": "hello", "last_seq": 0})
            assert await ops.receive_nothing(timeout=0.5)
            await database_sync_to_async(Session.objects.filter(session_key=key).delete)()  # logged out elsewhere
            assert await closed_with(ops, timeout=4) == 4401
    finally:
        await ops.disconnect()


async def test_sockets_whose_access_holds_stay_open(world):
    await start_shift(world.alice)
    async with (
        process_jobs(),
        socket("/ws/field/", world.alice, hello=0) as field,
        socket("/ws/ops/", world.dana, hello=0) as ops,
    ):
        await revoke_tokens(world.bob)  # somebody else's
        assert await nothing_more(field, ignore=("shift",), timeout=2.5) == []
        assert await nothing_more(ops, ignore=("shift",), timeout=0.1) == []
        await send(field, note())
        assert (await receive_until(field, lambda frame: frame["type"] != "event"))["type"] == "ack"


async def test_a_public_socket_is_not_closed_when_the_visitor_signs_out(world):
    """The public map carries what anyone may see: signing out takes nothing away from it."""

    @database_sync_to_async
    def signed_in_cookie() -> str:
        client = Client()
        client.force_login(world.dana)
        return client.cookies["sessionid"].value

    key = await signed_in_cookie()
    headers = [(b"origin", b"http://127.0.0.1"), (b"cookie", f"sessionid={key}".encode())]
    public = WebsocketCommunicator(application, "/ws/public/", headers=headers)
    connected, _ = await public.connect(timeout=5)
    assert connected
    try:
        async with process_jobs():
            await send(public, {"type": "hello", "last_seq": 0})
            await database_sync_to_async(Session.objects.filter(session_key=key).delete)()
            assert await public.receive_nothing(timeout=2.5)
    finally:
        await public.disconnect()


@pytest.mark.django_db(transaction=False)
def test_revoked_names_exactly_the_credentials_whose_access_is_gone_in_one_query(world, django_assert_num_queries):
    """Tokens, sessions, deactivated and deleted people together: one statement however many sockets."""
    from coordination.revocation import Credentials, revoked

    User = get_user_model()
    live, _key = services.device_token_issue(user=world.alice)
    gone_token, _key = services.device_token_issue(user=world.bob)
    services.device_token_revoke(token=gone_token)
    client = Client()
    client.force_login(world.dana)
    session = client.cookies["sessionid"].value
    expired = Session.objects.create(session_key="x" * 32, session_data="", expire_date=timezone.now())
    inactive = User.objects.create_user("inactive", is_active=False)
    holding = {
        Credentials(world.alice.pk, token_id=live.pk),
        Credentials(world.dana.pk, session_key=session),
    }
    gone = {
        Credentials(world.bob.pk, token_id=gone_token.pk),  # token revoked
        Credentials(world.alice.pk, token_id=live.pk + 10_000),  # token deleted
        Credentials(world.dana.pk, session_key=expired.session_key),  # session expired
        Credentials(world.dana.pk, session_key="missing"),  # signed out: the session row is gone
        Credentials(world.dana.pk, session_key=None),  # a socket without a session
        Credentials(inactive.pk, token_id=live.pk),  # person deactivated
        Credentials(User.objects.order_by("-pk").first().pk + 1, session_key=session),  # person deleted
    }
    many = {Credentials(world.alice.pk, token_id=live.pk + n) for n in range(20_000, 23_000)}
    with django_assert_num_queries(1):
        assert revoked(holding | gone | many) == gone | many
    assert revoked(set()) == set()
