"""The REST API: snapshot, events since a seq, and notes, alerts, chat and activities.

Views parse the request, ask coordination.access who may read, and call the same service
functions as the sockets for every write; a write answers 201 with the stored event.
"""

from datetime import timedelta

import orjson
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from coordination import access, selectors, services
from coordination.api import history
from coordination.api import serializers as s
from coordination.api.errors import Gone
from coordination.errors import Forbidden, NotFound
from coordination.events import event_frame
from coordination.models import Event
from coordination.payloads import activity_payload, alert_payload, chat_payload, note_payload

# The sockets' error codes: 400 invalid, 401 unauthenticated, 403 forbidden, 404 not_found,
# 409 conflict, 410 resync, 413 too_large, 429 rate_limited (see the schema's 4XX response).
WRITE_RESPONSES = {201: s.EventOut}


def _viewer(request: Request) -> access.Viewer:
    return access.viewer_for(request.user)


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _body(serializer_class: type[serializers.Serializer], request: Request, *, partial: bool = False) -> dict:
    if not isinstance(request.data, dict):
        raise serializers.ValidationError(_("Innehållet måste vara ett JSON-objekt."))
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    data["client_id"] = data.pop("id", None)
    return data


def event_json(event: Event) -> dict:
    """The stored event in the wire envelope every client already parses (coordination.events)."""
    return orjson.loads(event_frame(event))


def _created(event: Event) -> Response:
    return Response(event_json(event), status=201)


def _window(query: dict) -> history.Window:
    return history.Window(
        since=query.get("since"),
        until=query.get("until"),
        area=query.get("area"),
        before=query.get("before"),
        limit=query["limit"],
    )


def _page(request: Request, items: list, *, limit: int, payload) -> Response:
    """Newest first; `next` asks for the items below the last id shown."""
    more = len(items) > limit
    items = items[:limit]
    next_url = replace_query_param(request.build_absolute_uri(), "before", items[-1].pk) if more else None
    return Response({"results": [payload(item) for item in items], "next": next_url})


def _audit(request: Request, action: str, query: dict) -> None:
    # What was asked for, not what came back: enough to answer "who looked at what, when".
    detail = {k: (v.pk if hasattr(v, "pk") else str(v)) for k, v in query.items() if v is not None}
    services.audit_record(user=request.user, action=action, detail=detail)


# --- the live picture ------------------------------------------------------------------------------


class SnapshotView(APIView):
    """The live state this user may see, with the seq it is valid at."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Live snapshot",
        description="GeoJSON FeatureCollection of what this user may see now (areas with coverage, "
        "activities; for staff also teams, notes and alerts), plus `seq`: apply the events after it.",
        responses={200: s.SnapshotOut},
    )
    def get(self, request: Request) -> Response:
        response = Response(selectors.live_snapshot(viewer=_viewer(request)))
        response["Cache-Control"] = "private, no-store"
        return response


class EventsView(APIView):
    """The events after a seq that this user may see, oldest first, a page at a time."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Events after a seq",
        description="410 with code `resync` when `after` is older than the replay window (or ahead of "
        "the log): reload the snapshot.",
        parameters=[s.EventsQuery],
        responses={200: s.EventsPageOut},
    )
    def get(self, request: Request) -> Response:
        query = _query(s.EventsQuery, request)
        limit = query["limit"]
        replay = selectors.events_after(viewer=_viewer(request), after=query["after"], limit=limit + 1)
        if replay.resync:
            raise Gone(_("För gammalt seq: läs in ögonblicksbilden igen (GET /api/snapshot/)."), head=replay.head)
        more = len(replay.events) > limit
        events = replay.events[:limit]
        # All events up to head are accounted for: when the page is whole, the next ask starts there.
        after = events[-1].seq if more else replay.head
        next_url = replace_query_param(request.build_absolute_uri(), "after", after) if more else None
        response = Response(
            {
                "events": [event_json(e) for e in events],
                "after": after,
                "head": replay.head,
                "more": more,
                "next": next_url,
            }
        )
        response["Cache-Control"] = "private, no-store"
        return response


# --- notes and alerts ----------------------------------------------------------------------------


class NotesView(APIView):
    """Situation notes: history for duty and partners; new notes from field on shift and duty."""

    @extend_schema(
        summary="Notes history",
        operation_id="api_notes_list",
        description="Duty, partner and admin. Every read is written to the audit log.",
        parameters=[s.NoteQuery],
        responses={200: s.page_of(s.NoteOut, "NotePage")},
    )
    def get(self, request: Request) -> Response:
        if not access.may_read_reports(_viewer(request)):
            raise Forbidden(_("Historiken är till för jour och partner."))
        query = _query(s.NoteQuery, request)
        _audit(request, "api.notes", query)
        notes = history.notes_history(
            window=_window(query), category=query.get("category"), status=query.get("status"), team=query.get("team")
        )
        return _page(request, notes, limit=query["limit"], payload=note_payload)

    @extend_schema(summary="Write a note", request=s.NoteIn, responses=WRITE_RESPONSES)
    def post(self, request: Request) -> Response:
        return _created(services.note_create(user=request.user, **_body(s.NoteIn, request)))


class NoteAcknowledgeView(APIView):
    @extend_schema(summary="Acknowledge a note (duty)", request=s.ClientIdIn, responses=WRITE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        body = _body(s.ClientIdIn, request)
        return _created(services.note_acknowledge(user=request.user, note_id=pk, **body))


class AlertsView(APIView):
    """Need-support alerts: history for duty and partners; raised by field on shift."""

    @extend_schema(
        summary="Alerts history",
        operation_id="api_alerts_list",
        description="Duty, partner and admin. Every read is written to the audit log.",
        parameters=[s.AlertQuery],
        responses={200: s.page_of(s.AlertOut, "AlertPage")},
    )
    def get(self, request: Request) -> Response:
        if not access.may_read_reports(_viewer(request)):
            raise Forbidden(_("Historiken är till för jour och partner."))
        query = _query(s.AlertQuery, request)
        _audit(request, "api.alerts", query)
        alerts = history.alerts_history(window=_window(query), status=query.get("status"), team=query.get("team"))
        return _page(request, alerts, limit=query["limit"], payload=alert_payload)

    @extend_schema(summary="Raise an alert (field on shift)", request=s.AlertIn, responses=WRITE_RESPONSES)
    def post(self, request: Request) -> Response:
        return _created(services.alert_raise(user=request.user, **_body(s.AlertIn, request)))


class AlertAcknowledgeView(APIView):
    @extend_schema(summary="Acknowledge an alert (duty)", request=s.ClientIdIn, responses=WRITE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        body = _body(s.ClientIdIn, request)
        return _created(services.alert_acknowledge(user=request.user, alert_id=pk, **body))


class AlertResolveView(APIView):
    @extend_schema(summary="Resolve an alert (duty)", request=s.ClientIdIn, responses=WRITE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        body = _body(s.ClientIdIn, request)
        return _created(services.alert_resolve(user=request.user, alert_id=pk, **body))


# --- chat ---------------------------------------------------------------------------------------------


class ChatView(APIView):
    """Chat history of the channels this user may read now, and sending to one."""

    @extend_schema(
        summary="Chat history",
        operation_id="api_chat_list",
        description="Duty reads every channel; field members their team's, and everyone's and their "
        "areas' while on shift. Every read is written to the audit log.",
        parameters=[s.ChatQuery],
        responses={200: s.page_of(s.ChatOut, "ChatPage")},
    )
    def get(self, request: Request) -> Response:
        viewer = _viewer(request)
        if not access.may_read_chat(viewer):
            raise Forbidden(_("Chatten är till för jour och fältpersonal."))
        query = _query(s.ChatQuery, request)
        channel = services.chat_audience(query["channel"]) if query.get("channel") else None
        _audit(request, "api.chat", query)
        messages = history.chat_history(viewer=viewer, window=_window(query), channel=channel)
        return _page(request, messages, limit=query["limit"], payload=chat_payload)

    @extend_schema(summary="Send a chat message", request=s.ChatIn, responses=WRITE_RESPONSES)
    def post(self, request: Request) -> Response:
        return _created(services.chat_send(user=request.user, **_body(s.ChatIn, request)))


# --- activities ---------------------------------------------------------------------------------------


def _visible_activity(request: Request, pk: int):
    """The activity if this user may see it; 404 otherwise (an internal one is not admitted to exist)."""
    # The newest visible activity at or below pk: the list's visibility rule, applied to one row.
    found = history.activities_list(viewer=_viewer(request), window=history.Window(before=pk + 1, limit=1))
    if not found or found[0].pk != pk:
        raise NotFound(_("Aktiviteten finns inte."), field="activity")
    return found[0]


class ActivitiesView(APIView):
    """Announced activities: public ones for anyone, internal ones for staff and their organisation."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(
        summary="Activities",
        operation_id="api_activities_list",
        parameters=[s.ActivityQuery],
        responses={200: s.page_of(s.ActivityOut, "ActivityPage")},
    )
    def get(self, request: Request) -> Response:
        query = _query(s.ActivityQuery, request)
        activities = history.activities_list(
            viewer=_viewer(request),
            window=_window(query),
            organization=query.get("organization"),
            status=query.get("status"),
            visibility=query.get("visibility"),
        )
        return _page(request, activities, limit=query["limit"], payload=activity_payload)

    @extend_schema(summary="Announce an activity (association)", request=s.ActivityIn, responses=WRITE_RESPONSES)
    def post(self, request: Request) -> Response:
        body = _body(s.ActivityIn, request)
        return _created(services.activity_create(user=request.user, organization_id=body.pop("organization"), **body))


class ActivityView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(summary="One activity", responses={200: s.ActivityOut})
    def get(self, request: Request, pk: int) -> Response:
        return Response(activity_payload(_visible_activity(request, pk)))

    @extend_schema(
        summary="Change an activity (its organisation)", request=s.ActivityUpdateIn, responses=WRITE_RESPONSES
    )
    def patch(self, request: Request, pk: int) -> Response:
        body = _body(s.ActivityUpdateIn, request, partial=True)
        return _created(services.activity_update(user=request.user, activity_id=pk, **body))


def _activity_action(service, name: str, summary: str) -> type[APIView]:
    class ActivityActionView(APIView):
        @extend_schema(summary=summary, request=s.ClientIdIn, responses=WRITE_RESPONSES)
        def post(self, request: Request, pk: int) -> Response:
            body = _body(s.ClientIdIn, request)
            return _created(service(user=request.user, activity_id=pk, **body))

    ActivityActionView.__name__ = ActivityActionView.__qualname__ = name
    return ActivityActionView


ActivityOpenView = _activity_action(services.activity_open, "ActivityOpenView", "Mark an activity open tonight")
ActivityCloseView = _activity_action(services.activity_close, "ActivityCloseView", "Mark it closed tonight")
ActivityCancelView = _activity_action(services.activity_cancel, "ActivityCancelView", "Cancel an activity")


# --- the weekly EST picture ------------------------------------------------------------------------


class WeeklyReportView(APIView):
    """The EST week for duty, partners and admins: presence, notes and alerts per area, counts only."""

    @extend_schema(
        summary="Weekly EST report",
        description="Person-hours of presence, notes by category and alerts per area for one ISO week "
        "(Monday–Sunday, Europe/Stockholm). Counts only; every read is audit-logged.",
        parameters=[s.WeeklyReportQuery],
        responses={200: s.WeeklyReportOut},
    )
    def get(self, request: Request) -> Response:
        if not access.may_read_reports(_viewer(request)):
            raise Forbidden(_("Veckorapporten är för jour, partner och administratörer."))
        query = _query(s.WeeklyReportQuery, request)
        today = timezone.localdate()
        week_start = query.get("week") or today - timedelta(days=today.weekday())
        _audit(request, "report.weekly", {"week": week_start.isoformat()})
        return Response(selectors.weekly_report(week_start=week_start))
