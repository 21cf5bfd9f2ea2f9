"""API errors: every refusal on /api/ and /track/ is JSON `{"code", "message"}` (plus `field` where known)."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from coordination.errors import ServiceError
from coordination.logsafe import log_failure

log = logging.getLogger(__name__)


class Unauthenticated(ServiceError):
    """No valid credentials (a tracker's wrong or revoked token)."""

    code = "unauthenticated"
    status = 401


class Gone(ServiceError):
    """The events asked for are older than the replay window: reload the snapshot."""

    code = "resync"
    status = 410

    def __init__(self, message: str, *, head: int):
        super().__init__(message)
        self.extra = {"head": head}


# DRF's own exceptions, by status, as the wire codes the sockets use too.
CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "resync",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_body(code: str, message: str, field: str | None = None, **extra) -> dict:
    """The JSON body of every API error."""
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    body.update(extra)
    return body


def _first_error(detail, field: str | None = None) -> tuple[str | None, str]:
    """The first (field, message) of a DRF ValidationError detail, however nested."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            return _first_error(value, field if name is None else (f"{field}.{name}" if field else name))
        return field, _("Ogiltig begäran.")
    if isinstance(detail, list):
        return _first_error(detail[0], field) if detail else (field, _("Ogiltig begäran."))
    return field, str(detail)


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: ServiceError by its status, DRF errors by theirs, anything else a JSON 500."""
    # Imported here: rest_framework.views reads the parser setting, and the parsers import this module.
    from rest_framework.views import set_rollback

    set_rollback()
    if isinstance(exc, ServiceError):
        response = Response(error_body(exc.code, exc.message, exc.field, **getattr(exc, "extra", {})), exc.status)
        if isinstance(exc, Unauthenticated):
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", _("Begäran är för stor.")), 413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        status = exc.status_code
        if isinstance(exc, exceptions.ValidationError):
            field, message = _first_error(exc.detail)
        else:
            field, message = None, str(exc.detail)
        response = Response(error_body(CODES.get(status, "error"), message, field), status)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response["Retry-After"] = str(int(exc.wait) + 1)
        return response
    # A bug: log it with its traceback, but an API client still gets JSON and no traceback.
    log_failure(log, "API request failed", exc)  # the type and where; its message may quote a row
    return Response(error_body("server_error", _("Något gick fel på servern; försök igen.")), 500)


@csrf_exempt  # a POST to a wrong address is a 404, not a CSRF page
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any /api/ or /track/ path that no route matches: a JSON 404, not Django's HTML page."""
    return JsonResponse(error_body("not_found", _("Det finns ingen sådan adress i API:et.")), status=404)
