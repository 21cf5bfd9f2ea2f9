"""Citizen reports over the real sockets: moderators hear every step, the public socket only what
was published, and never a reporter's text, e-mail or the point given (issue 14)."""

import orjson
import pytest
from channels.db import database_sync_to_async

from coordination import selectors, services
from coordination.tests.sockets import nothing_more, receive, socket

pytestmark = [pytest.mark.django_db(transaction=True)]

SECRET = "Hemligt: lampan vid bryggan"
EXACT = {"lat": 58.27551234, "lon": 11.44567891}


@database_sync_to_async
def head() -> int:
    return selectors.event_head()


@database_sync_to_async
def submitted():
    return services.report_submit(category="lighting", text=SECRET, email="kim@example.se", **EXACT)[0]


@database_sync_to_async
def publish(world, report):
    services.report_publish(user=world.dana, report_id=report.pk, level="point")


async def test_duty_hears_a_new_report_and_the_public_socket_only_its_published_form(world):
    async with (
        socket("/ws/ops/", world.dana, hello=await head()) as duty,
        socket("/ws/ops/", world.frida, hello=await head()) as partner,
        socket("/ws/public/", hello=await head()) as public,
    ):
        report = await submitted()
        arrived = await receive(duty)
        assert arrived["kind"] == "report" and arrived["data"]["text"] == SECRET
        assert "kim@example.se" not in orjson.dumps(arrived).decode()
        assert await nothing_more(public) == [] and await nothing_more(partner) == []

        await publish(world, report)
        changed = await receive(duty)
        assert changed["kind"] == "report_changed" and changed["data"]["published"] is True
        assert (await receive(duty))["kind"] == "report_published"
        frames = [await receive(public)] + await nothing_more(public)
        assert [f["kind"] for f in frames] == ["report_published"]
        wire = orjson.dumps(frames).decode()
        assert SECRET not in wire and "kim@example.se" not in wire
        assert "58.2755" not in wire and "11.4456" not in wire
        assert frames[0]["data"]["lat"] == 58.276
        assert [f["kind"] for f in [await receive(partner)] + await nothing_more(partner)] == ["report_published"]


async def test_a_reconnecting_public_socket_replays_no_moderation_event(world):
    before = await head()
    report = await submitted()
    await publish(world, report)
    async with socket("/ws/public/", hello=before) as public:
        frames = await nothing_more(public)
    wire = orjson.dumps(frames).decode()
    assert [f.get("kind") for f in frames if f.get("type") == "event"] == ["report_published"]
    assert SECRET not in wire and "kim@example.se" not in wire and "58.2755" not in wire
