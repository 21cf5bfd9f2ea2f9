"""What every REST view does with a request: who asks, its query and body, and the answer's shape."""

import orjson
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from coordination import access, services
from coordination.api import history
from coordination.api import outputs as out
from coordination.events import event_frame
from coordination.models import Event

# The sockets' error codes: 400 invalid, 401 unauthenticated, 403 forbidden, 404 not_found,
# 409 conflict, 410 resync, 413 too_large, 429 rate_limited (see the schema's 4XX response).
WRITE_RESPONSES = {201: out.EventOut}


def viewer_of(request: Request) -> access.Viewer:
    return access.viewer_for(request.user)


def query_of(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def body_of(serializer_class: type[serializers.Serializer], request: Request, *, partial: bool = False) -> dict:
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


def created(event: Event) -> Response:
    return Response(event_json(event), status=201)


def window_of(query: dict) -> history.Window:
    return history.Window(
        since=query.get("since"),
        until=query.get("until"),
        area=query.get("area"),
        before=query.get("before"),
        limit=query["limit"],
    )


def page(request: Request, items: list, *, limit: int, payload) -> Response:
    """Newest first; `next` asks for the items below the last id shown."""
    more = len(items) > limit
    items = items[:limit]
    next_url = replace_query_param(request.build_absolute_uri(), "before", items[-1].pk) if more else None
    return Response({"results": [payload(item) for item in items], "next": next_url})


def audit(request: Request, action: str, query: dict) -> None:
    # What was asked for, not what came back: enough to answer "who looked at what, when".
    detail = {k: (v.pk if hasattr(v, "pk") else str(v)) for k, v in query.items() if v is not None}
    services.audit_record(user=request.user, action=action, detail=detail)
