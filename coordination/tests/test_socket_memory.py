"""Issue 16, item 6: what an idle socket keeps in the server process (bench/README.md, per-socket memory)."""

import gc

import pytest
from channels.layers import get_channel_layer

from coordination.consumers.base import TokenBucket
from coordination.layer import Inbox
from coordination.models import DeviceToken
from coordination.tests.sockets import socket

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
