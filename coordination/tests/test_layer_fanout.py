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


async def test_a_big_fan_out_goes_in_chunks_the_duty_map_passes_it_and_each_socket_keeps_the_order():
    """Issue 16: a field tick to thousands of sockets no longer holds the duty map's frame behind it."""
    import asyncio

    from coordination import groups
    from coordination.layer import FANOUT_CHUNK

    layer = get_channel_layer()
    loop_layer = layer._get_layer()
    crowd = [await layer.new_channel() for _ in range(FANOUT_CHUNK * 3)]
    duty = await layer.new_channel()
    for channel in crowd:
        await layer.group_add("fanout-crowd", channel)
    await layer.group_add(groups.OPS, duty)
    inbox = loop_layer.channels
    try:
        loop_layer.hand_out(loop_layer._get_group_channel_name("fanout-crowd"), b"tick")
        # The first chunk at once, the rest on later passes of the loop.
        assert sum(not inbox[c].empty() for c in crowd) == FANOUT_CHUNK
        loop_layer.hand_out(loop_layer._get_group_channel_name(groups.OPS), b"duty-frame")
        assert inbox[duty].qsize() == 1  # past the crowd
        # A small group (a team chat) of one socket the tick has not reached yet: set without awaiting
        # group_add, which would let the loop hand out the rest meanwhile.
        late = next(c for c in crowd if inbox[c].empty())
        loop_layer.groups[loop_layer._get_group_channel_name("fanout-team")] = {late}
        loop_layer.hand_out(loop_layer._get_group_channel_name("fanout-team"), b"chat")
        assert inbox[late].empty()  # a later message waits behind the fan-out in progress
        for _ in range(10):
            await asyncio.sleep(0)
        assert all(inbox[c].qsize() == 1 for c in crowd if c != late)
        assert list(inbox[late]._items) == [b"tick", b"chat"]
    finally:
        loop_layer.groups.pop(loop_layer._get_group_channel_name("fanout-team"), None)
        for channel in crowd:
            await layer.group_discard("fanout-crowd", channel)
            await layer.release(channel)
        await layer.group_discard(groups.OPS, duty)
        await layer.release(duty)


@pytest.mark.django_db(True)
def test_the_priority_groups_are_the_only_groups_of_duty_and_partner_sockets(world):
    """The chunks may be passed only by groups whose sockets are in no other group (coordination.layer)."""
    from coordination import access
    from coordination.consumers import OpsConsumer
    from coordination.layer import PRIORITY_GROUPS

    for person in (world.dana, world.frida):
        viewer = access.viewer_for(person)
        assert OpsConsumer().may_connect(viewer)
        assert set(OpsConsumer().groups_for(viewer)) <= set(PRIORITY_GROUPS)
