"""Issue 16, item 6: what an idle socket keeps in the server process (bench/README.md, per-socket memory)."""

import gc

import pytest
from channels.layers import get_channel_layer

from coordination.consumers.base import TokenBucket
from coordination.layer import Inbox
from coordination.models import DeviceToken
from coordination.tests.sockets import receive_until, send, socket

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_an_idle_channel_holds_no_message_buffer_and_delivers_in_order():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("inbox-test", channel)
    try:
        inbox = layer._get_layer().channels[channel]
        assert isinstance(inbox, Inbox)
        assert inbox.empty() and inbox._items is None  # no deque until a message arrives
        for seq in (1, 2, 3):
            await layer.group_send("inbox-test", {"type": "narvaro.event", "seq": seq})
        received = [(await layer.receive(channel))["seq"] for _ in range(3)]
        assert received == [1, 2, 3]
        assert inbox._items is None  # read empty: the buffer is gone again
    finally:
        await layer.group_discard("inbox-test", channel)


async def test_an_open_device_socket_keeps_no_token_row_in_memory(world):
    async with socket("/ws/field/", world.alice, hello=0):
        gc.collect()
        # type(), not isinstance(): a weak proxy among the objects raises when its referent has died.
        rows = [o for o in gc.get_objects() if type(o) is DeviceToken and o.user_id == world.alice.pk]
        # The socket knows its token by id (revocation); the row it was looked up with is gone.
        assert rows == []


def test_a_sockets_token_bucket_has_no_instance_dict():
    bucket = TokenBucket(5)
    assert not hasattr(bucket, "__dict__")
    assert bucket.take()


async def test_an_open_socket_runs_two_tasks_and_its_channel_is_forgotten_when_it_closes(world):
    """One loop over the WebSocket and the layer (consumers.base `__call__`): channels ran three tasks a
    socket and made a new one for every message; the channel is unsubscribed when the socket ends."""
    import asyncio

    layer = get_channel_layer()

    async def handled(communicator) -> None:
        await send(communicator, {"type": "no-such-type", "id": "probe"})  # frames are handled in order
        assert (await receive_until(communicator, lambda frame: frame.get("id") == "probe"))["code"] == "invalid"

    # The first socket also starts the layer's own tasks (its Redis reader); count from the second.
    async with socket("/ws/field/", world.alice, hello=0) as alice:
        await handled(alice)
        before, channels_before = len(asyncio.all_tasks()), set(layer._get_layer().channels)
        async with socket("/ws/field/", world.bob, hello=0) as bob:
            await handled(bob)
            # The communicator's application task and the pump; nothing per message.
            assert len(asyncio.all_tasks()) - before == 2
            (bobs,) = set(layer._get_layer().channels) - channels_before
        await asyncio.sleep(0.1)
        assert bobs not in layer._get_layer().channels
