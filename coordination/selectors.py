"""Reads that several callers share: replay, coverage, the live picture."""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Max

from coordination import access
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

    When more than REPLAY_WINDOW events were written since `after` (or `after` is not a seq this
    log has reached), the answer is `resync`: the client reloads the snapshot instead.
    """
    head = event_head()
    window = settings.REPLAY_WINDOW
    if after > head or after < 0:
        return Replay(events=[], head=head, resync=True)
    missed = Event.objects.filter(seq__gt=after, seq__lte=head)
    if missed.order_by("seq")[window : window + 1].exists():
        return Replay(events=[], head=head, resync=True)
    events = [e for e in missed.order_by("seq") if access.may_see(viewer, e.audience)]
    if limit is not None:
        events = events[:limit]
    return Replay(events=events, head=head)


def events_between(*, audience: str, after: int, before: int) -> list[Event]:
    """The events of one audience strictly between two seqs, oldest first (gap repair)."""
    return list(Event.objects.filter(audience=audience, seq__gt=after, seq__lt=before).order_by("seq"))


def coverage_counts() -> dict[int, int]:
    """Adults out per area now: distinct people on an active shift whose latest position is inside.

    Only people whose position is at most 15 minutes old count: a phone that went quiet is not a
    guarantee that someone is still there.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, count(l.user_id)
            FROM maps_area a
            LEFT JOIN coordination_latestposition l
              ON ST_Intersects(a.polygon, l.point)
             AND l.recorded_at > now() - interval '15 minutes'
             AND EXISTS (SELECT 1 FROM coordination_shift s WHERE s.id = l.shift_id AND s.ended_at IS NULL)
            WHERE a.kind <> 'municipality'
            GROUP BY a.id
            ORDER BY a.id
            """
        )
        return dict(cursor.fetchall())
