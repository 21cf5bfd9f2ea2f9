"""Redis (the channel layer) down and back: nothing written meanwhile is lost, no socket gets a 500.

Each test runs its own throwaway redis-server on a free port and stops and starts it; the shared
Redis other checkouts use is never touched.
"""

import asyncio
import contextlib
import shutil
import socket as sockets
import subprocess
import time
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings

from coordination import services
from coordination.tests.sockets import new_id, process_jobs, receive, receive_until, send, socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]


class ThrowawayRedis:
    """A private redis-server without persistence, to stop and start at will."""

    def __init__(self, directory: Path) -> None:
        with contextlib.closing(sockets.socket()) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.pidfile = directory / "redis.pid"
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            assert time.monotonic() < deadline, "the throwaway redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        deadline = time.monotonic() + 5
        while self.pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def redis(tmp_path, settings):
    """The channel layer on a throwaway redis-server (this test run's prefix kept)."""
    server = ThrowawayRedis(tmp_path)
    server.start()
    layer = dict(django_settings.CHANNEL_LAYERS["default"])
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [server.url]}}}
    try:
        yield server
    finally:
        server.stop()


@database_sync_to_async
def start_shift(user):
    return services.shift_start(user=user, client_id=new_id())


@database_sync_to_async
def head() -> int:
    from coordination.models import Event

    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


async def hello_handled(communicator) -> None:
    """Wait until the socket has handled its hello (frames are handled in order): no replay races the test."""
    await send(communicator, {"type": "no-such-type", "id": "probe"})
    assert (await receive_until(communicator, lambda frame: frame.get("id") == "probe"))["code"] == "invalid"


async def test_a_team_chat_written_while_redis_is_down_reaches_the_team_and_duty_once_it_is_back(world, redis):
    """Item 7: acked while the layer was down, then delivered by the sweep once Redis returns."""
    await start_shift(world.alice)
    seq = await head()
    async with (
        process_jobs(),
        socket("/ws/field/", world.alice, hello=seq) as alice,
        socket("/ws/field/", world.bob, hello=seq) as bob,
        socket("/ws/ops/", world.dana, hello=seq) as dana,
    ):
        for viewer in (alice, bob, dana):
            await hello_handled(viewer)
        await asyncio.to_thread(redis.stop)
        channel = f"team.{world.harbour_team.pk}"
        await send(alice, {"type": "chat", "id": "c1", "channel": channel, "text": "Vi går mot hamnen"})
        ack = await receive_until(alice, lambda frame: frame["type"] == "ack")
        await asyncio.sleep(2.5)  # a sweep or two while the layer is still down
        assert await bob.receive_nothing(timeout=0.1)
        await asyncio.to_thread(redis.start)
        for viewer in (bob, dana):
            event = await receive(viewer, timeout=10)
            assert (event["kind"], event["seq"], event["data"]["text"]) == ("chat", ack["seq"], "Vi går mot hamnen")


async def test_a_socket_opened_while_redis_is_down_is_accepted_and_catches_up_when_it_is_back(world, redis):
    """Item 8: no HTTP 500; the socket answers from the event log and joins its groups later."""
    await start_shift(world.alice)
    seq = await head()
    await asyncio.to_thread(redis.stop)
    async with socket("/ws/ops/", world.dana, hello=seq) as dana, socket("/ws/field/", world.alice) as alice:
        await send(alice, {"type": "hello", "last_seq": seq})
        await send(alice, {"type": "note", "id": "n1", "category": "gathering", "text": "Samling vid kiosken"})
        ack = await receive_until(alice, lambda frame: frame["type"] == "ack")
        await asyncio.to_thread(redis.start)
        event = await receive(dana, timeout=10)
        assert (event["kind"], event["seq"]) == ("note", ack["seq"])
        # Joined now: the next event arrives live.
        await send(alice, {"type": "status", "id": "s1", "status": "break"})
        status = await receive_until(dana, lambda frame: frame.get("kind") == "status", timeout=5)
        assert status["data"]["status"] == "break"


async def test_the_sweep_publishes_again_until_the_event_arrives(world, monkeypatch):
    """Redis back, subscriptions not yet: a publish that reaches nobody must not settle the event."""
    from coordination import delivery, events

    real = delivery.publish
    lost = []

    def lost_in_the_layer(event, **kwargs):  # "sent", but nobody was subscribed yet
        lost.append(event.seq)
        return True

    def first_republish_lost(event, **kwargs):
        return lost_in_the_layer(event) if event.kind == "chat" and len(lost) < 2 else real(event, **kwargs)

    await start_shift(world.alice)
    seq = await head()
    monkeypatch.setattr(events, "publish", lost_in_the_layer)  # the publish after commit
    monkeypatch.setattr(delivery, "publish", first_republish_lost)  # and the sweep's first try
    async with process_jobs(), socket("/ws/field/", world.bob, hello=seq) as bob:
        await hello_handled(bob)
        chat = await database_sync_to_async(services.chat_send)(
            user=world.alice, channel=f"team.{world.harbour_team.pk}", text="Hör ni?"
        )
        event = await receive(bob, timeout=10)
    assert lost == [chat.seq, chat.seq]
    assert (event["kind"], event["seq"]) == ("chat", chat.seq)


def test_an_outage_longer_than_the_retry_window_still_publishes_what_it_held_back(world, monkeypatch):
    """RETRY_FOR_S counts from the first publish that went through, not from when the event was written."""
    from datetime import timedelta

    from django.utils import timezone

    from coordination import delivery, groups
    from coordination.models import Event

    monkeypatch.setattr(
        delivery, "_swept_to", Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 1
    )
    delivery.joined(groups.OPS)
    try:
        note = services.note_create(user=world.dana, category="other")
        Event.objects.filter(seq=note.seq).update(created_at=timezone.now() - timedelta(minutes=10))  # a long outage
        monkeypatch.setattr(delivery, "publish", lambda event, **kwargs: False)  # Redis still down
        assert delivery.sweep() == []
        sent = []
        monkeypatch.setattr(delivery, "publish", lambda event, **kwargs: sent.append(event.seq) or True)  # back
        assert delivery.sweep() == [note.seq]
        assert delivery.sweep() == [note.seq]  # not received yet: again, until it arrives
        delivery.received(note.seq, groups.OPS)
        assert delivery.sweep() == []
        assert delivery._swept_to >= note.seq
    finally:
        delivery.left(groups.OPS)
