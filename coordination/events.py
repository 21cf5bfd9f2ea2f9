"""The event log: append an Event inside the writer's transaction, publish it after commit.

Every frame that leaves the server is built here (`event_frame`), so the wire envelope exists once.
"""

import logging
from collections.abc import Callable

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from coordination.audience import Audience
from coordination.errors import ServiceError
from coordination.kinds import Kind
from coordination.models import Event

log = logging.getLogger(__name__)

# Held from the event insert until commit, so events become visible in seq order: a client that
# has seen seq N can never later find a committed event below N (replay relies on this).
EVENT_ORDER_LOCK = 0x6E61727661726F  # "narvaro"


def event_order_lock() -> None:
    """Take the lock that orders events, held until the current transaction ends.

    A writer whose event data is read from shared rows (a team's newest position) takes it before
    that read: every transaction that took it earlier has committed by then, so the data is at least
    as new as that of every event with a lower seq.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_ORDER_LOCK])


def event_append(*, kind: Kind, audience: Audience, data: dict, author=None, client_id: str | None = None) -> Event:
    """Insert an Event in the current transaction and publish it once the transaction commits.

    The kind's declaration (coordination.kinds) must allow `audience` and name exactly `data`'s keys.
    """
    assert transaction.get_connection().in_atomic_block, "event_append needs the writer's transaction"
    # Programming errors, refused before anything is written (they would reach clients that cannot read them).
    if audience.scope not in kind.scopes:
        raise ValueError(f"{kind} is not sent to {audience}")
    if set(data) != kind.fields:
        raise ValueError(f"{kind} data differs from its declaration in {sorted(set(data) ^ kind.fields)}")
    audience = str(audience)
    event_order_lock()
    # The previous event of the same audience lets a consumer notice a message the layer lost.
    prev = Event.objects.filter(audience=audience).aggregate(prev=Max("seq"))["prev"] or 0
    event = Event.objects.create(kind=kind.name, audience=audience, data=data, author=author, client_id=client_id)
    event.prev = prev
    transaction.on_commit(lambda: publish(event))
    return event


def event_frame(event: Event) -> str:
    """The wire form of an event: {"type":"event","seq","kind","at","data"} as JSON text."""
    return orjson.dumps(
        {
            "type": "event",
            "seq": event.seq,
            "kind": event.kind,
            "at": timezone.localtime(event.created_at).isoformat(),
            "data": event.data,
        }
    ).decode()


def layer_message(event: Event) -> dict:
    """The channel-layer message consumers receive; the frame is encoded once for all viewers."""
    return {
        "type": "narvaro.event",
        "seq": event.seq,
        "prev": getattr(event, "prev", 0),
        "kind": event.kind,
        "audience": event.audience,
        "frame": event_frame(event),
    }


def publish(event: Event, *, groups: list[str] | None = None) -> bool:
    """Send `event` to the groups of its audience (or to `groups`); False when the layer failed for one.

    Never raises: the event log is the truth, and the delivery sweep publishes it again. Each
    group's copy names its group, so a process can tell through which groups an event arrived.
    """
    message = layer_message(event)
    targets = Audience.parse(event.audience).groups() if groups is None else groups
    # Every group in one trip to the event loop: the writer's thread waits for the loop once per
    # trip, and a loop busy with hundreds of sockets makes each trip cost milliseconds (issue 16).
    try:
        sent = async_to_sync(_group_sends)(event.seq, targets, message)
    except Exception as exc:  # noqa: BLE001 - no loop to run on: the sweep publishes it again
        log.warning("publish of event %s failed: %s", event.seq, type(exc).__qualname__)
        sent = False
    return sent


async def _group_sends(seq: int, groups: list[str], message: dict) -> bool:
    """Send `message` to each group in turn, naming the group; False when one failed (the others still go)."""
    layer = get_channel_layer()
    sent = True
    for group in groups:
        try:
            await layer.group_send(group, {**message, "group": group})
        except Exception as exc:  # noqa: BLE001 - Redis down: the sweep publishes it again
            log.warning("publish of event %s to %s failed: %s", seq, group, type(exc).__qualname__)
            sent = False
    return sent


def written_once(*, author, client_id: str | None, write: Callable[[], Event]) -> Event:
    """Run `write` in a transaction unless `author` already stored `client_id`; return the event.

    A repeated client id answers with the original event and stores nothing new, also when two
    copies race (the unique constraint on Event decides, and the loser's transaction rolls back).
    A copy that lost the race on the domain row instead (the shift already started, the note
    already acknowledged, by the original) answers with the original too, not with its refusal.
    """
    if client_id:
        existing = Event.objects.filter(author=author, client_id=client_id).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            return write()
    except (IntegrityError, ServiceError):
        if client_id:
            existing = Event.objects.filter(author=author, client_id=client_id).first()
            if existing:
                return existing
        raise
