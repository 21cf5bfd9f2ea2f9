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
FORGET_S = 120.0

_received: dict[int, float] = {}  # seq -> when this process first received it
_local_groups: Counter[str] = Counter()  # group -> sockets of this process in it
_swept_to = 0


def received(seq: int) -> None:
    """Note that the layer delivered `seq` to this process."""
    _received.setdefault(seq, time.monotonic())


def joined(group: str) -> None:
    _local_groups[group] += 1


def left(group: str) -> None:
    _local_groups[group] -= 1
    if _local_groups[group] <= 0:
        del _local_groups[group]


def sweep() -> list[int]:
    """Republish events from the last sweep on that a local socket needed and never got; return their seqs.

    Runs in a database thread (it reads the log and publishes synchronously).
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
    for event in events:
        if event.seq not in _received:
            if event.created_at > fresh:
                break  # may still be on its way; the next sweep looks again
            if any(_local_groups.get(group) for group in Audience.parse(event.audience).groups()):
                if not publish(event):
                    break  # the layer is down: this event and the ones after it wait for the next sweep
                republished.append(event.seq)
        _swept_to = event.seq
    # A copy: the event loop's thread adds to _received while this runs on the ticks' thread.
    for seq in [s for s, at in list(_received.items()) if now - at > FORGET_S]:
        del _received[seq]
    return republished
