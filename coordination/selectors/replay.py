"""What a reconnecting client missed: the events after a seq that a viewer may see."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max

from coordination import access, fieldscope
from coordination.audience import FIELD
from coordination.models import Event


@dataclass(frozen=True)
class Replay:
    """What a reconnecting client missed: the events after its seq, or a request to resync."""

    events: list[Event]
    head: int  # every event with seq <= head is committed and accounted for
    resync: bool = False


def event_head() -> int:
    """The newest event's seq. Events commit in seq order, so all below it are committed too."""
    return Event.objects.aggregate(head=Max("seq"))["head"] or 0


def events_after(*, viewer: access.Viewer, after: int, limit: int | None = None) -> Replay:
    """The events after `after` that `viewer` may see, oldest first, up to the current head.

    When more than REPLAY_WINDOW events this viewer may see were written since `after` (or `after`
    is not a seq this log has reached), the answer is `resync`: the client reloads the snapshot.
    """
    head = event_head()
    window = settings.REPLAY_WINDOW
    if after > head or after < 0:
        return Replay(events=[], head=head, resync=True)
    missed = Event.objects.filter(access.visible_events(viewer), seq__gt=after, seq__lte=head)
    if missed.order_by("seq")[window : window + 1].exists():
        return Replay(events=[], head=head, resync=True)
    events = [
        e for e in missed.order_by("seq") if access.may_see_event(viewer, audience=e.audience, kind=e.kind, data=e.data)
    ]
    for event in events:
        if event.kind == "positions" and event.audience == str(FIELD):
            # A field tick holds every team; a field viewer gets its own and the near ones, in full.
            event.data = fieldscope.scoped_data(event.data, viewer.team_ids)
    if limit is not None:
        events = events[:limit]
    return Replay(events=events, head=head)


def events_between(*, audience: str, after: int, before: int) -> list[Event]:
    """The events of one audience strictly between two seqs, oldest first (gap repair)."""
    return list(Event.objects.filter(audience=audience, seq__gt=after, seq__lt=before).order_by("seq"))
