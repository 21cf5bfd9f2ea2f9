"""Reads behind the REST lists: notes, alerts, chat and activities filtered by time, area and kind.

Access is decided by the caller with coordination.access; chat is filtered message by message with
access.may_see, so the rule of who reads which channel still lives in one place.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from coordination import access
from coordination.audience import Audience
from coordination.models import Alert, ChatMessage, SituationNote
from coordination.payloads import chat_message_audience
from maps.models import Activity, Area


@dataclass(frozen=True)
class Window:
    """What every history list filters on: a time range, an area, and a page (newest first, by id)."""

    since: datetime | None = None
    until: datetime | None = None
    area: Area | None = None
    before: int | None = None
    limit: int = 100


def _page(query: QuerySet, *, window: Window, time_field: str) -> QuerySet:
    if window.since is not None:
        query = query.filter(**{f"{time_field}__gte": window.since})
    if window.until is not None:
        query = query.filter(**{f"{time_field}__lt": window.until})
    if window.before is not None:
        query = query.filter(pk__lt=window.before)
    return query.order_by("-pk")


def notes_history(
    *, window: Window, category: str | None = None, status: str | None = None, team: int | None = None
) -> list[SituationNote]:
    """Situation notes in the window, newest first, up to limit + 1 (the extra one says there is more)."""
    query = SituationNote.objects.select_related("shift")
    if window.area is not None:
        # The area a note was filed under is the most specific one; a district also holds its hotspots.
        query = query.filter(Q(area=window.area) | Q(point__intersects=window.area.polygon))
    if category:
        query = query.filter(category=category)
    if status:
        query = query.filter(status=status)
    if team is not None:
        query = query.filter(shift__team_id=team)
    return list(_page(query, window=window, time_field="created_at")[: window.limit + 1])


def alerts_history(*, window: Window, status: str | None = None, team: int | None = None) -> list[Alert]:
    """Alerts raised in the window, newest first, up to limit + 1."""
    query = Alert.objects.select_related("team", "author", "acknowledged_by")
    if window.area is not None:
        query = query.filter(point__intersects=window.area.polygon)
    if status:
        query = query.filter(status=status)
    if team is not None:
        query = query.filter(team_id=team)
    return list(_page(query, window=window, time_field="raised_at")[: window.limit + 1])


def chat_history(*, viewer: access.Viewer, window: Window, channel: Audience | None = None) -> list:
    """The messages `viewer` may read now, newest first, up to limit + 1; `channel` is a chat audience."""
    query = ChatMessage.objects.select_related("author")
    if channel is not None:
        kind = channel.chat_kind
        query = query.filter(channel=kind, team_id=channel.target if kind == "team" else None)
        query = query.filter(area_id=channel.target if kind == "area" else None)
    if window.area is not None:
        query = query.filter(channel=ChatMessage.Channel.AREA, area=window.area)
    out = []
    # Chat is a few hundred messages an evening: reading in chunks and asking access.may_see per
    # message is cheap and keeps the channel rules out of this query.
    for message in _page(query, window=window, time_field="created_at").iterator(chunk_size=500):
        if access.may_see(viewer, chat_message_audience(message)):
            out.append(message)
            if len(out) > window.limit:
                break
    return out


def activities_list(
    *,
    viewer: access.Viewer,
    window: Window,
    organization: int | None = None,
    status: str | None = None,
    visibility: str | None = None,
) -> list[Activity]:
    """Activities `viewer` may see, newest announced first, up to limit + 1.

    `since` keeps those whose last occurrence ends after it, `until` those whose first starts before it.
    """
    query = Activity.objects.select_related("organization", "place").filter(access.activity_filter(viewer))
    if window.since is not None:
        query = query.not_over(window.since)
    if window.until is not None:
        query = query.filter(starts_at__lt=window.until)
    if window.area is not None:
        polygon = window.area.polygon
        query = query.filter(Q(point__intersects=polygon) | Q(point__isnull=True, place__point__intersects=polygon))
    if organization is not None:
        query = query.filter(organization_id=organization)
    if status:
        query = query.filter(status=status)
    if visibility:
        query = query.filter(visibility=visibility)
    if window.before is not None:
        query = query.filter(pk__lt=window.before)
    return list(query.order_by("-pk")[: window.limit + 1])
