"""An alarm raised off shift, end to end over the sockets: the raiser follows it, nobody else off shift hears it."""

import pytest
from channels.db import database_sync_to_async

from coordination import services
from coordination.models import Event
from coordination.tests.sockets import nothing_more, receive, send, socket

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def head() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


async def test_a_phone_off_shift_raises_an_alarm_and_sees_it_acknowledged_by_name_then_resolved(world):
    async with (
        socket("/ws/ops/", world.dana, hello=await head()) as ops,
        socket("/ws/ops/", world.frida, hello=await head()) as partner,
        socket("/ws/field/", world.charlie, hello=await head()) as phone,
        socket("/ws/field/", world.alice, hello=await head()) as other_phone,
    ):
        await send(phone, {"type": "alert", "id": "sos1", "text": "Behöver stöd", "lat": 58.28, "lon": 11.44})
        assert (await receive(phone))["type"] == "ack"
        raised = await receive(phone)
        assert (raised["kind"], raised["data"]["status"], raised["data"]["team"]) == (
            "alert",
            "raised",
            world.centre_team.pk,
        )
        assert (await receive(ops))["data"] == raised["data"]
        assert (await receive(partner))["data"] == raised["data"]

        await send(ops, {"type": "ack_alert", "id": "k1", "alert": raised["data"]["id"]})
        acknowledged = await receive(phone)
        assert (acknowledged["kind"], acknowledged["data"]["acknowledged_by"]) == ("alert_ack", "Dana")

        await send(ops, {"type": "resolve_alert", "id": "r1", "alert": raised["data"]["id"]})
        resolved = await receive(phone)
        assert (resolved["kind"], resolved["data"]["status"]) == ("alert_resolved", "resolved")
        # Alice's team is not out: she hears none of it.
        assert await nothing_more(other_phone) == []


async def test_a_phone_off_shift_that_reconnects_is_replayed_its_alarms_progress(world):
    start = await head()
    raised = await database_sync_to_async(services.alert_raise)(user=world.charlie)
    await database_sync_to_async(services.alert_acknowledge)(user=world.dana, alert_id=raised.data["id"])
    async with socket("/ws/field/", world.charlie, hello=start) as phone:
        kinds = [(await receive(phone))["kind"], (await receive(phone))["kind"]]
        assert await nothing_more(phone) == []
    assert kinds == ["alert", "alert_ack"]
