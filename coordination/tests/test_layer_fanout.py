"""Issue 16, item 3: a group message that reaches many sockets of one process is decoded once."""

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.django_db(False)


async def test_every_socket_of_a_group_gets_the_same_decoded_message():
    layer = get_channel_layer()
    channels = [await layer.new_channel() for _ in range(3)]
    for channel in channels:
        await layer.group_add("fanout-test", channel)
    try:
        frame = '{"type":"event","seq":1,"kind":"positions","data":{"teams":[]}}'
        await layer.group_send("fanout-test", {"type": "narvaro.event", "seq": 1, "frame": frame})
        received = [await layer.receive(channel) for channel in channels]
    finally:
        for channel in channels:
            await layer.group_discard("fanout-test", channel)
    assert received[0]["frame"] == frame
    # One decode for the process: the same dict (and the same frame text) for every socket.
    assert all(message is received[0] for message in received)
