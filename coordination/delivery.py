"""What this server process received from the channel layer, and the sweep that repairs losses.

A consumer notices a lost message when the next event of the same audience arrives (its `prev`
points past what the socket has). A quiet audience (one team's chat) may have no next event for
hours, so every few seconds each process also reads the newest events from the log and publishes
again any that one of its sockets should have had but the layer never delivered. Consumers drop
what they already sent, so a needless republish costs a message, never a duplicate on screen.

An event whose publish failed (Redis down when it was written) is published again by the sweep
once the layer is back: the sweep never moves past an event it could not publish.
"""

import time
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from coordination.audience import Audience
from coordination.events import publish
from coordination.models import Event

# An event younger than this may still be on its way through the layer: not yet a loss.
GRACE_S = 1.0
# How long the sweep keeps publishing an event no local socket has received (Redis may be back
# before this process's subscriptions are: a message published then reaches nobody).
RETRY_FOR_S = 60.0
FORGET_S = 180.0

_received: dict[tuple[int, str], float] = {}  # (seq, group) -> when this process first received it
_first_sent: dict[int, float] = {}  # seq -> when the sweep first published it successfully
_local_groups: Counter[str] = Counter()  # group -> sockets of this process in it
_swept_to = 0


def received(seq: int, group: str | None) -> None:
    """Note that the layer delivered `seq` to this process through `group`."""
    _received.setdefault((seq, group), time.monotonic())


def joined(group: str) -> None:
    _local_groups[group] += 1


def left(group: str) -> None:
    _local_groups[group] -= 1
    if _local_groups[group] <= 0:
        del _local_groups[group]


def sweep() -> list[int]:
    """Publish again the events a local socket needed and this process never received; return their seqs.

    Everything up to `_swept_to` is settled: received through every group a local socket is in, or
    needed by none, or given up on after RETRY_FOR_S. Past it, an unsettled event is published again
    on every sweep until it arrives, so neither a failed publish (Redis down) nor a publish into a
    subscription not yet restored (Redis just back) loses it. Runs in a database thread (it reads
    the log and publishes synchronously).
    """
    global _swept_to
    now = time.monotonic()
    if _swept_to == 0:
        # First sweep of this process: start from the present, not from the dawn of the log.
        _swept_to = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        return []
    events = list(Event.objects.filter(seq__gt=_swept_to).order_by("seq")[:2000])
    fresh = timezone.now() - timedelta(seconds=GRACE_S)
    republished = []
    settled = True  # so far every event is settled: _swept_to may move
    for event in events:
        if event.created_at > fresh:
            break  # may still be on its way; the next sweep looks again
        missing = [
            group
            for group in Audience.parse(event.audience).groups()
            if _local_groups.get(group) and (event.seq, group) not in _received
        ]
        # Counted from the first publish that went through, not from the write: an outage longer
        # than RETRY_FOR_S must not settle what it kept from being published at all.
        if missing and now - _first_sent.get(event.seq, now) < RETRY_FOR_S:
            if not publish(event, groups=missing):
                break  # the layer is down: this event and the ones after it wait for the next sweep
            _first_sent.setdefault(event.seq, now)
            republished.append(event.seq)
            settled = False  # settled once it arrives
        if settled:
            _swept_to = event.seq
    # A copy: the event loop's thread adds to _received while this runs on the ticks' thread.
    for key in [key for key, at in list(_received.items()) if now - at > FORGET_S]:
        del _received[key]
    for seq in [seq for seq, at in list(_first_sent.items()) if seq <= _swept_to]:
        del _first_sent[seq]
    return republished
