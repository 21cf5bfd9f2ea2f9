"""What sockets cost the database: who a socket serves is read once per connect, and writes never
wait behind other sockets' reads."""

import asyncio
import threading
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.asgi import application
from coordination import services
from coordination.models import Event
from coordination.tests.sockets import new_id, receive, receive_until, send, token_for

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def head() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@database_sync_to_async
def start_shift(user):
    return services.shift_start(user=user, client_id=new_id())


# Sockets run their queries on the one database thread that database_sync_to_async shares with
# the test: the capture is entered and left in that thread, so it sees exactly what they ran.
@database_sync_to_async
def capture_start() -> CaptureQueriesContext:
    context = CaptureQueriesContext(connection)
    context.__enter__()
    return context


@database_sync_to_async
def capture_stop(context: CaptureQueriesContext) -> list[str]:
    context.__exit__(None, None, None)
    return [query["sql"] for query in context.captured_queries]


async def connect(path: str, token: str) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert connected, code
    return communicator


async def hello_answered(communicator, last_seq: int) -> None:
    """Say hello, then wait until the socket has finished with it (it answers frames in order)."""
    await send(communicator, {"type": "hello", "last_seq": last_seq})
    await send(communicator, {"type": "nonsense", "id": new_id()})  # answered without the database
    frame = await receive_until(communicator, lambda f: f.get("type") == "error")
    assert frame["code"] == "invalid", frame


@pytest.mark.parametrize("path, who", [("/ws/field/", "alice"), ("/ws/ops/", "dana")])
async def test_a_connect_and_its_hello_read_who_the_socket_serves_once(world, path, who):
    await start_shift(world.alice)
    token = await token_for(getattr(world, who))
    last_seq = await head()
    context = await capture_start()
    try:
        communicator = await connect(path, token)
        await hello_answered(communicator, last_seq)
    finally:
        queries = await capture_stop(context)
    await communicator.disconnect()
    # access.viewer_for is one statement (roles, teams, shifts, areas) and runs once: at connect.
    viewer_reads = [sql for sql in queries if "coordination_membership" in sql]
    assert len(viewer_reads) == 1, viewer_reads
    # The address's failed tokens (django-axes: a locked-out address gets no socket), the token (read,
    # its last use noted), who it is, the hello's replay (head, window, events).
    # Before issue 16 it was 13: viewer_for's four queries at connect and again at hello.
    assert len(queries) == 1 + 2 + 1 + 3, queries


async def test_a_second_hello_on_the_same_socket_reads_the_viewer_again(world):
    # A hello is a fresh start: after the first one, shifts may have changed while it was away.
    await start_shift(world.alice)
    communicator = await connect("/ws/field/", await token_for(world.alice))
    try:
        await hello_answered(communicator, await head())
        context = await capture_start()
        try:
            await hello_answered(communicator, await head())
        finally:
            queries = await capture_stop(context)
    finally:
        await communicator.disconnect()
    assert len([sql for sql in queries if "coordination_membership" in sql]) == 1


async def test_a_shift_that_starts_between_connect_and_hello_opens_the_staff_picture(world):
    # Alice connects off shift; her team goes out before her phone says hello. Her hello replays
    # the shift start, so she is on duty from then on and gets the duty officer's note.
    communicator = await connect("/ws/field/", await token_for(world.alice))
    try:
        before = await head()
        await start_shift(world.bob)
        await send(communicator, {"type": "hello", "last_seq": before})
        assert (await receive(communicator))["kind"] == "shift"
        await database_sync_to_async(services.note_create)(
            user=world.dana, client_id=new_id(), category="gathering", text="Samling vid torget.", lat=58.27, lon=11.44
        )
        note = await receive_until(communicator, lambda f: f.get("kind") == "note")
        assert note["data"]["text"] == "Samling vid torget."
    finally:
        await communicator.disconnect()


async def test_an_alarm_is_stored_and_acked_while_a_reconnecting_phone_replays_slowly(world, monkeypatch):
    """Writes have their own database thread: an alarm does not wait behind another socket's hello."""
    from coordination import selectors

    started, release = threading.Event(), threading.Event()
    real_events_after = selectors.events_after

    def slow_replay(**kwargs):
        # A long replay on the database thread every socket shares (a phone back after an hour).
        started.set()
        release.wait(timeout=10)
        return real_events_after(**kwargs)

    await start_shift(world.alice)
    alice = await connect("/ws/field/", await token_for(world.alice))
    bob = await connect("/ws/field/", await token_for(world.bob))
    try:
        await hello_answered(alice, await head())
        monkeypatch.setattr(selectors, "events_after", slow_replay)
        await send(bob, {"type": "hello", "last_seq": await head()})
        assert await asyncio.to_thread(started.wait, 5)
        sent_at = time.monotonic()
        await send(alice, {"type": "alert", "id": "a1", "text": "Behöver stöd vid hamnen"})
        # In line with bob's replay, this ack would wait until the replay is released.
        ack = await receive_until(alice, lambda f: f["type"] in ("ack", "error"), timeout=5)
        waited = time.monotonic() - sent_at
    finally:
        release.set()
        await alice.disconnect()
        await bob.disconnect()
    stored = await database_sync_to_async(Event.objects.get)(kind="alert")
    assert ack == {"type": "ack", "id": "a1", "seq": stored.seq}
    assert waited < 2.0, waited
