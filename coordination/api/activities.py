"""The REST API for activities: list, read, announce, change, open, close, cancel."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination import services
from coordination.api import history
from coordination.api import outputs as out
from coordination.api import serializers as s
from coordination.api.requests import WRITE_RESPONSES, body_of, created, page, query_of, viewer_of, window_of
from coordination.errors import NotFound
from coordination.payloads import activity_payload


def _visible_activity(request: Request, pk: int):
    """The activity if this user may see it; 404 otherwise (an internal one is not admitted to exist)."""
    # The newest visible activity at or below pk: the list's visibility rule, applied to one row.
    found = history.activities_list(viewer=viewer_of(request), window=history.Window(before=pk + 1, limit=1))
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
        responses={200: out.page_of(out.ActivityOut, "ActivityPage")},
    )
    def get(self, request: Request) -> Response:
        query = query_of(s.ActivityQuery, request)
        activities = history.activities_list(
            viewer=viewer_of(request),
            window=window_of(query),
            organization=query.get("organization"),
            status=query.get("status"),
            visibility=query.get("visibility"),
        )
        return page(request, activities, limit=query["limit"], payload=activity_payload)

    @extend_schema(summary="Announce an activity (association)", request=s.ActivityIn, responses=WRITE_RESPONSES)
    def post(self, request: Request) -> Response:
        body = body_of(s.ActivityIn, request)
        return created(services.activity_create(user=request.user, organization_id=body.pop("organization"), **body))


class ActivityView(APIView):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(summary="One activity", responses={200: out.ActivityOut})
    def get(self, request: Request, pk: int) -> Response:
        return Response(activity_payload(_visible_activity(request, pk)))

    @extend_schema(
        summary="Change an activity (its organisation)", request=s.ActivityUpdateIn, responses=WRITE_RESPONSES
    )
    def patch(self, request: Request, pk: int) -> Response:
        body = body_of(s.ActivityUpdateIn, request, partial=True)
        return created(services.activity_update(user=request.user, activity_id=pk, **body))


def _activity_action(service, name: str, summary: str) -> type[APIView]:
    class ActivityActionView(APIView):
        @extend_schema(summary=summary, request=s.ClientIdIn, responses=WRITE_RESPONSES)
        def post(self, request: Request, pk: int) -> Response:
            body = body_of(s.ClientIdIn, request)
            return created(service(user=request.user, activity_id=pk, **body))

    ActivityActionView.__name__ = ActivityActionView.__qualname__ = name
    return ActivityActionView


ActivityOpenView = _activity_action(services.activity_open, "ActivityOpenView", "Mark an activity open tonight")
ActivityCloseView = _activity_action(services.activity_close, "ActivityCloseView", "Mark it closed tonight")
ActivityCancelView = _activity_action(services.activity_cancel, "ActivityCancelView", "Cancel an activity")
