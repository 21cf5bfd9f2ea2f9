"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2/): the citizen-report categories as
services, POST a request, GET the published ones. JSON and XML, the spec's error format.

A request is a citizen report: POST goes through services.report_submit (the same screening,
rate limit and moderation as the form); GET shows only published reports, and of them only what
the public map shows (never the reporter's text, e-mail or the point given). Fields the spec
has and Närvaro never keeps (names, phone, device and account ids, media_url) are accepted and
dropped.
"""

from datetime import timedelta
from xml.etree import ElementTree

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from coordination import services
from coordination.dialogue_views import _client_address
from coordination.errors import ServiceError
from coordination.models import CitizenReport, ReportCategory
from coordination.validation import number_from_text

# Service codes as numbers, as the spec's examples write them ("001").
SERVICE_CODES = {f"{i:03d}": category for i, category in enumerate(ReportCategory.values, start=1)}
CODE_OF = {category: code for code, category in SERVICE_CODES.items()}
GROUPS = {"lighting": "unsafe_place", "vegetation": "unsafe_place", "litter": "unsafe_place"}
KEYWORDS = {"lighting": "belysning, lampa, mörkt", "vegetation": "buskar, sly", "litter": "skräp, klotter"}
LIST_MAX = 1000
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default when no dates are given


def _xml(root: str, item: str, rows: list[dict]) -> bytes:
    top = ElementTree.Element(root)
    for row in rows:
        element = ElementTree.SubElement(top, item)
        for key, value in row.items():
            child = ElementTree.SubElement(element, key)
            if value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(top, encoding="utf-8")


def _answer(fmt: str, root: str, item: str, rows: list[dict], status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, rows), content_type="text/xml; charset=utf-8", status=status)
    return JsonResponse(rows, safe=False, status=status, json_dumps_params={"ensure_ascii": False})


def _error(fmt: str, code: int, description: str) -> HttpResponse:
    """The spec's error: [{"code", "description"}] or <errors><error>…</error></errors>, with that HTTP status."""
    return _answer(fmt, "errors", "error", [{"code": code, "description": description}], status=code)


def _format(fmt: str) -> str | None:
    return fmt if fmt in ("json", "xml") else None


def _when(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _request_row(report: CitizenReport) -> dict:
    """A published report as a GeoReport service request: what the public map shows, nothing more."""
    return {
        "service_request_id": report.pk,
        "status": "closed" if report.status == CitizenReport.Status.CLOSED else "open",
        "status_notes": report.answer or None,
        "service_name": str(report.get_category_display()),
        "service_code": CODE_OF[report.category],
        "description": None,  # the reporter's words are for the moderators only
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": _when(report.created_at),
        "updated_datetime": _when(report.updated_at),
        "expected_datetime": None,
        "address": report.area.name if report.area_id else None,
        "address_id": None,
        "zipcode": None,
        "lat": report.public_lat,
        "long": report.public_lon,
        "media_url": None,
    }


@never_cache
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET services: one service per report category."""
    if not _format(fmt):
        return _error("json", 404, "format must be json or xml")
    rows = [
        {
            "service_code": code,
            "service_name": str(ReportCategory(category).label),
            "description": str(ReportCategory(category).label),
            "metadata": False,
            "type": "batch",  # answered by people, not at once
            "keywords": KEYWORDS.get(category, ""),
            "group": GROUPS.get(category, category),
        }
        for code, category in SERVICE_CODES.items()
    ]
    return _answer(fmt, "services", "service", rows)


def _first(request: HttpRequest, name: str) -> str:
    return (request.POST.get(name) or "").strip()


@csrf_exempt
@never_cache
def requests_endpoint(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST a service request (a citizen report); GET the published ones."""
    if not _format(fmt):
        return _error("json", 404, "format must be json or xml")
    if request.method == "POST":
        return _create(request, fmt)
    if request.method != "GET":
        return _error(fmt, 405, "GET or POST")
    return _list(request, fmt)


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    code = _first(request, "service_code")
    if not code:
        return _error(fmt, 400, "service_code is required")
    if code not in SERVICE_CODES:
        return _error(fmt, 404, f"service_code {code} not found")
    if not _first(request, "lat") or not _first(request, "long"):
        # The spec also allows address_string or address_id; Närvaro needs a point.
        return _error(fmt, 400, "lat and long are required")
    try:
        report, _token = services.report_submit(
            category=SERVICE_CODES[code],
            text=_first(request, "description"),
            lat=_number(_first(request, "lat"), "lat"),
            lon=_number(_first(request, "long"), "long"),
            email=_first(request, "email"),
            source=_client_address(request),
            language="en" if request.LANGUAGE_CODE == "en" else "sv",
        )
    except ServiceError as error:
        field = {"lat": "lat", "lon": "long", "text": "description"}.get(error.field or "", error.field or "")
        return _error(fmt, error.status, f"{field}: {error.message}" if field else error.message)
    notice = _("Kommunen läser rapporten och svarar. Den bevakas inte dygnet runt: vid nödläge, ring 112.")
    rows = [{"service_request_id": report.pk if report else 0, "service_notice": notice, "account_id": None}]
    return _answer(fmt, "service_requests", "request", rows, status=201 if report else 200)


def _number(text: str, field: str) -> float:
    return number_from_text(text, field)


def _published():
    return CitizenReport.objects.select_related("area").filter(published=True)


def _list(request: HttpRequest, fmt: str) -> HttpResponse:
    reports = _published()
    ids = request.GET.get("service_request_id", "")
    if ids:
        wanted = [int(i) for i in ids.split(",") if i.strip().isascii() and i.strip().isdigit() and len(i) < 12]
        reports = reports.filter(pk__in=wanted)
    else:
        codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
        if codes:
            reports = reports.filter(category__in=[SERVICE_CODES[c] for c in codes if c in SERVICE_CODES])
        start, end = request.GET.get("start_date"), request.GET.get("end_date")
        start_at, end_at = (parse_datetime(start) if start else None), (parse_datetime(end) if end else None)
        if (start and start_at is None) or (end and end_at is None):
            return _error(fmt, 400, "start_date and end_date must be w3 date-times, e.g. 2010-05-24T00:00:00Z")
        if start_at is None and end_at is None:
            start_at = timezone.now() - DEFAULT_WINDOW
        if start_at:
            reports = reports.filter(created_at__gte=start_at)
        if end_at:
            reports = reports.filter(created_at__lte=end_at)
        statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            return _error(fmt, 400, "status must be open or closed")
        if statuses == {"open"}:
            reports = reports.exclude(status=CitizenReport.Status.CLOSED)
        elif statuses == {"closed"}:
            reports = reports.filter(status=CitizenReport.Status.CLOSED)
    rows = [_request_row(r) for r in reports.order_by("-created_at")[:LIST_MAX]]
    return _answer(fmt, "service_requests", "request", rows)


@never_cache
def request_one(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """GET one published request by id; an unpublished one is not found, like one that never was."""
    if not _format(fmt):
        return _error("json", 404, "format must be json or xml")
    report = _published().filter(pk=pk).first()
    if report is None:
        return _error(fmt, 404, f"service_request_id {pk} not found")
    return _answer(fmt, "service_requests", "request", [_request_row(report)])


urlpatterns = [
    path("services.<str:fmt>", services_list, name="open311_services"),
    path("requests.<str:fmt>", requests_endpoint, name="open311_requests"),
    path("requests/<int:pk>.<str:fmt>", request_one, name="open311_request"),
]
