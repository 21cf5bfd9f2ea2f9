"""Tests and deployments on one Redis never hear each other (issue 12, item 9)."""

import asyncio
import os

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from config.env import channel_prefix_for
from coordination import groups, services

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_tests_use_a_prefix_of_their_own_whatever_the_environment_says(deployment_channel_prefix):
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    assert prefix == f"narvaro-test-{os.getpid()}"
    assert prefix not in (deployment_channel_prefix, os.environ.get("CHANNEL_PREFIX"), "narvaro")


def test_each_database_gets_its_own_default_prefix():
    one = {"HOST": "127.0.0.1", "PORT": "5432", "NAME": "narvaro"}
    assert channel_prefix_for(one) == channel_prefix_for(dict(one))
    assert channel_prefix_for(one) != channel_prefix_for({**one, "NAME": "narvaro_demo"})
    assert channel_prefix_for(one) != channel_prefix_for({**one, "HOST": "db.other"})


async def test_a_demo_on_the_same_redis_never_hears_the_tests_events(world, deployment_channel_prefix):
    """The demo's duty map listens under the deployment's prefix; a test's note must not reach it."""
    demo = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=deployment_channel_prefix)
    ours = get_channel_layer()
    demo_channel, our_channel = await demo.new_channel(), await ours.new_channel()
    await demo.group_add(groups.OPS, demo_channel)
    await ours.group_add(groups.OPS, our_channel)
    try:
        event = await database_sync_to_async(services.note_create)(user=world.dana, category="other")
        assert (await asyncio.wait_for(ours.receive(our_channel), 3))["seq"] == event.seq
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(demo.receive(demo_channel), 1)
    finally:
        await demo.flush()
        await ours.group_discard(groups.OPS, our_channel)
