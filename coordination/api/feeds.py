"""Public activity feeds: GeoJSON for maps and iCalendar for calendar apps, with ETag and Last-Modified.

Both are built from selectors.activity_features (public, not cancelled, not over), the same
features the public snapshot shows, so the map, the feed and the calendar never disagree.
"""

import hashlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import orjson
from django.conf import settings
from django.db.models import Max
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, renderers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination.api.outputs import FeatureCollectionOut
from coordination.api.serializers import FeedQuery
from coordination.errors import NotFound
from coordination.models import Organization
from coordination.selectors import activity_features
from maps.models import Activity

PRODID = "-//Närvaro//Aktiviteter//SV"


class ICalendarRenderer(renderers.BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data


class GeoJSONRenderer(renderers.JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class FirstRenderer(BaseContentNegotiation):
    """A feed has one format, whatever Accept says (calendar apps send all sorts)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def feed_activities(*, organization_id: int | None, now: datetime) -> tuple[list[dict], datetime | None]:
    """The public features of the feed and when any activity behind it last changed."""
    if organization_id is not None and not Organization.objects.filter(pk=organization_id).exists():
        raise NotFound(_("Organisationen finns inte."), field="organization")
    features = activity_features(now=now, public_only=True, organization_id=organization_id)
    # Over all activities, cancelled and internal ones too: cancelling or hiding one changes the feed.
    changed = Activity.objects.all()
    if organization_id is not None:
        changed = changed.filter(organization_id=organization_id)
    return features, changed.aggregate(at=Max("updated_at"))["at"]


def _until(repeat_until: date, zone: ZoneInfo) -> datetime:
    # RFC 5545: with a zoned DTSTART, UNTIL is UTC; the whole last day counts.
    return datetime.combine(repeat_until, time(23, 59, 59), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _cancelled_occasion(series: icalendar.Event, day: date, starts_at: datetime, ends_at: datetime):
    """One evening of a weekly VEVENT, cancelled: same UID, RECURRENCE-ID of that evening (RFC 5545 3.8.4.4)."""
    zone = starts_at.tzinfo
    start = datetime.combine(day, starts_at.timetz().replace(tzinfo=None), tzinfo=zone)
    event = icalendar.Event()
    for name in ("uid", "dtstamp", "summary", "location"):
        event.add(name, series.decoded(name) if name == "dtstamp" else str(series[name]))
    event.add("recurrence-id", start)
    event.add("dtstart", start)
    event.add("dtend", start + (ends_at - starts_at))
    event.add("status", "CANCELLED")
    return event


def activities_calendar(features: list[dict], *, host: str, stamp: datetime, name: str) -> bytes:
    """An iCalendar feed of activity features: one VEVENT each, weekly ones as an RRULE, zoned times."""
    zone = ZoneInfo(settings.TIME_ZONE)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    # Calendar apps that honour these poll hourly; the ETag makes an unchanged poll a 304.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    first, last = None, timezone.localdate() + timedelta(days=5 * 365)
    for feature in features:
        props = feature["properties"]
        starts_at = datetime.fromisoformat(props["starts_at"]).astimezone(zone)
        ends_at = datetime.fromisoformat(props["ends_at"]).astimezone(zone)
        event = icalendar.Event()
        # Stable per activity and deployment: a changed activity replaces itself in the calendar.
        event.add("uid", f"activity-{props['id']}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", starts_at)
        event.add("dtend", ends_at)
        event.add("summary", props["title"])
        event.add("location", props["place_name"] or f"{props['lat']:.5f}, {props['lon']:.5f}")
        event.add("geo", (props["lat"], props["lon"]))
        cancelled = {o["date"] for o in props.get("occasions", ()) if o["status"] == "cancelled"}
        # A one-off activity whose one evening is cancelled stays in calendars, marked cancelled.
        one_off_cancelled = not props["weekly"] and starts_at.date().isoformat() in cancelled
        event.add("status", "CANCELLED" if one_off_cancelled else "CONFIRMED")
        lines = [props["description"], _("Arrangör: %(name)s") % {"name": props["organization_name"]}]
        if props["age_group"]:
            lines.append(_("Ålder: %(age)s") % {"age": props["age_group"]})
        if props["contact"]:
            lines.append(_("Kontakt: %(contact)s") % {"contact": props["contact"]})
        event.add("description", "\n".join(line for line in lines if line))
        if props["weekly"]:
            rule = {"FREQ": "WEEKLY"}
            if props["repeat_until"]:
                repeat_until = date.fromisoformat(props["repeat_until"])
                rule["UNTIL"] = _until(repeat_until, zone)
                last = max(last, repeat_until)
            event.add("rrule", rule)
        first = min(first or starts_at.date(), starts_at.date())
        calendar.add_component(event)
        if props["weekly"]:
            for day in sorted(cancelled):
                calendar.add_component(_cancelled_occasion(event, date.fromisoformat(day), starts_at, ends_at))
    if first is not None:
        # The zone's rules for the span the events cover, not 1970–2038: the feed stays small.
        calendar.add_missing_timezones(first_date=first - timedelta(days=366), last_date=last + timedelta(days=1))
    return calendar.to_ical()


def _conditional(request: Request, body: bytes, *, content_type: str, last_modified: datetime | None):
    """A 200 with ETag and Last-Modified, or a 304 when the client already holds this version."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    last = int(last_modified.timestamp()) if last_modified else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last)
    if not_modified is not None:
        return not_modified
    response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    if last is not None:
        response["Last-Modified"] = http_date(last)
    # Public and the same for everyone: shared caches may keep it, but must ask again (ETag) each time.
    response["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response


class FeedView(APIView):
    """A public feed: no login, one format, errors as JSON."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    content_negotiation_class = FirstRenderer

    def organization_id(self, request: Request) -> int | None:
        query = FeedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("organization")

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            # An error is the API's JSON error, not a broken calendar.
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


FEED_RESPONSES = {304: OpenApiResponse(description="Not modified since the ETag or date the client sent.")}


class ActivitiesGeoJSONView(FeedView):
    renderer_classes = [GeoJSONRenderer]

    @extend_schema(
        summary="Public activities (GeoJSON)",
        operation_id="api_activities_geojson",
        description="Open and upcoming public activities; ETag and Last-Modified for cheap polling.",
        parameters=[FeedQuery],
        responses={200: FeatureCollectionOut, **FEED_RESPONSES},
    )
    def get(self, request: Request) -> HttpResponse:
        features, changed = feed_activities(organization_id=self.organization_id(request), now=timezone.now())
        body = orjson.dumps({"type": "FeatureCollection", "features": features})
        return _conditional(request, body, content_type="application/geo+json", last_modified=changed)


class ActivitiesICalendarView(FeedView):
    renderer_classes = [ICalendarRenderer]

    @extend_schema(
        summary="Public activities (iCalendar)",
        operation_id="api_activities_ics",
        description="Subscribe in any calendar app. Weekly activities are one event with an RRULE; "
        "times carry TZID Europe/Stockholm.",
        parameters=[FeedQuery],
        responses={200: OpenApiTypes.STR, **FEED_RESPONSES},
    )
    def get(self, request: Request) -> HttpResponse:
        organization_id = self.organization_id(request)
        features, changed = feed_activities(organization_id=organization_id, now=timezone.now())
        name = _("Aktiviteter i Närvaro")
        if organization_id is not None:
            name = f"{name} – {Organization.objects.get(pk=organization_id).name}"
        body = activities_calendar(
            features,
            host=split_domain_port(request.get_host())[0] or request.get_host(),
            # DTSTAMP from the data, not the clock: an unchanged feed has an unchanged ETag.
            stamp=changed or datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC")),
            name=name,
        )
        return _conditional(request, body, content_type="text/calendar; charset=utf-8", last_modified=changed)
