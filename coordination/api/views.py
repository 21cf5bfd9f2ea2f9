"""The REST API: snapshot, events since a seq, and notes, alerts, chat and activities.

Views parse the request, ask coordination.access who may read, and call the same service
functions as the sockets for every write; a write answers 201 with the stored event.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from coordination import access, selectors, services
from coordination.api import history
from coordination.api import outputs as out
from coordination.api import serializers as s
from coordination.api.errors import Gone
from coordination.api.requests import (
    WRITE_RESPONSES,
    audit,
    body_of,
    created,
    event_json,
    page,
    query_of,
    viewer_of,
    window_of,
)
from coordination.errors import Forbidden
from coordination.models import Alert
from coordination.payloads import alert_payload, chat_payload, note_payload

# --- the live picture ------------------------------------------------------------------------------


class SnapshotView(APIView):
    """The live state this user may see, with the seq it is valid at."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Live snapshot",
        description="GeoJSON FeatureCollection of what this user may see now (areas with coverage, "
        "activities; for staff also teams, notes and alerts), plus `seq`: apply the events after it.",
        responses={200: out.SnapshotOut},
    )
    def get(self, request: Request) -> Response:
        response = Response(selectors.live_snapshot(viewer=viewer_of(request)))
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
        responses={200: out.EventsPageOut},
    )
    def get(self, request: Request) -> Response:
        query = query_of(s.EventsQuery, request)
        limit = query["limit"]
        replay = selectors.events_after(viewer=viewer_of(request), after=query["after"], limit=limit + 1)
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


def _history_page(request: Request, query_class, action: str, fetch, *, payload) -> Response:
    """A page of history for duty, partner and admin; the query is written to the audit log first."""
    if not access.may_read_reports(viewer_of(request)):
        raise Forbidden(_("Historiken är till för jour och partner."))
    query = query_of(query_class, request)
    audit(request, action, query)
    return page(request, fetch(query), limit=query["limit"], payload=payload)


class NotesView(APIView):
    """Situation notes: history for duty and partners; new notes from field on shift and duty."""

    @extend_schema(
        summary="Notes history",
        operation_id="api_notes_list",
        description="Duty, partner and admin. Every read is written to the audit log.",
        parameters=[s.NoteQuery],
        responses={200: out.page_of(out.NoteOut, "NotePage")},
    )
    def get(self, request: Request) -> Response:
        def notes(query: dict) -> list:
            return history.notes_history(
                window=window_of(query),
                category=query.get("category"),
                status=query.get("status"),
                team=query.get("team"),
            )

        return _history_page(request, s.NoteQuery, "api.notes", notes, payload=note_payload)

    @extend_schema(summary="Write a note", request=s.NoteIn, responses=WRITE_RESPONSES)
    def post(self, request: Request) -> Response:
        return created(services.note_create(user=request.user, **body_of(s.NoteIn, request)))


class NoteAcknowledgeView(APIView):
    @extend_schema(summary="Acknowledge a note (duty)", request=s.ClientIdIn, responses=WRITE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        body = body_of(s.ClientIdIn, request)
        return created(services.note_acknowledge(user=request.user, note_id=pk, **body))


class AlertsView(APIView):
    """Alarms (calls for help): history for duty and partners; raised by any field member, on shift or not."""

    @extend_schema(
        summary="Alerts history",
        operation_id="api_alerts_list",
        description="Duty, partner and admin. Every read is written to the audit log.",
        parameters=[s.AlertQuery],
        responses={200: out.page_of(out.AlertOut, "AlertPage")},
    )
    def get(self, request: Request) -> Response:
        def alerts(query: dict) -> list:
            return history.alerts_history(window=window_of(query), status=query.get("status"), team=query.get("team"))

        return _history_page(request, s.AlertQuery, "api.alerts", alerts, payload=alert_payload)

    @extend_schema(
        summary="Raise an alert (any field member, on shift or not)", request=s.AlertIn, responses=WRITE_RESPONSES
    )
    def post(self, request: Request) -> Response:
        body = body_of(s.AlertIn, request)
        return created(services.alert_raise(user=request.user, source=Alert.Source.API, **body))


class AlertAcknowledgeView(APIView):
    @extend_schema(summary="Acknowledge an alert (duty)", request=s.ClientIdIn, responses=WRITE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        body = body_of(s.ClientIdIn, request)
        return created(services.alert_acknowledge(user=request.user, alert_id=pk, **body))


class AlertResolveView(APIView):
    @extend_schema(summary="Resolve an alert (duty)", request=s.ClientIdIn, responses=WRITE_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        body = body_of(s.ClientIdIn, request)
        return created(services.alert_resolve(user=request.user, alert_id=pk, **body))


# --- chat ---------------------------------------------------------------------------------------------


class ChatView(APIView):
    """Chat history of the channels this user may read now, and sending to one."""

    @extend_schema(
        summary="Chat history",
        operation_id="api_chat_list",
        description="Duty reads every channel; field members their team's, and everyone's and their "
        "areas' while on shift. Every read is written to the audit log.",
        parameters=[s.ChatQuery],
        responses={200: out.page_of(out.ChatOut, "ChatPage")},
    )
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        if not access.may_read_chat(viewer):
            raise Forbidden(_("Chatten är till för jour och fältpersonal."))
        query = query_of(s.ChatQuery, request)
        channel = services.chat_audience(query["channel"]) if query.get("channel") else None
        audit(request, "api.chat", query)
        messages = history.chat_history(viewer=viewer, window=window_of(query), channel=channel)
        return page(request, messages, limit=query["limit"], payload=chat_payload)

    @extend_schema(summary="Send a chat message", request=s.ChatIn, responses=WRITE_RESPONSES)
    def post(self, request: Request) -> Response:
        return created(services.chat_send(user=request.user, **body_of(s.ChatIn, request)))


# --- the weekly EST picture ------------------------------------------------------------------------


class WeeklyReportView(APIView):
    """The EST week for duty, partners and admins: presence, notes and alerts per area, counts only."""

    @extend_schema(
        summary="Weekly EST report",
        description="Person-hours of presence, notes by category and alerts per area for one ISO week "
        "(Monday–Sunday, Europe/Stockholm). Counts only; every read is audit-logged.",
        parameters=[s.WeeklyReportQuery],
        responses={200: out.WeeklyReportOut},
    )
    def get(self, request: Request) -> Response:
        if not access.may_read_reports(viewer_of(request)):
            raise Forbidden(_("Veckorapporten är för jour, partner och administratörer."))
        query = query_of(s.WeeklyReportQuery, request)
        today = timezone.localdate()
        week_start = query.get("week") or today - timedelta(days=today.weekday())
        audit(request, "report.weekly", {"week": week_start.isoformat()})
        return Response(selectors.weekly_report(week_start=week_start))
