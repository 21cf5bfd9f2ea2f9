"""Phone-tracker endpoints: Traccar Client (OsmAnd protocol) and OwnTracks (HTTP mode).

Both authenticate with a device token, store through services.positions_record (so a position
exists only during an active shift, as from the field socket) and are idempotent on (device,
timestamp): the client id is derived from the token and the device's own timestamp, so a tracker
that resends its offline buffer stores each position once.
"""

import contextlib
from datetime import UTC, datetime

from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, permissions
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.views import APIView

from coordination import services
from coordination.api.parsers import MAX_BODY_BYTES, LimitedJSONParser, ScopedRateThrottle
from coordination.auth import user_for_token
from coordination.errors import Forbidden, Invalid, TooLarge
from coordination.lockout import check_device_address, device_token_failed
from coordination.models import Alert, DeviceToken
from coordination.validation import number_from_text, point_from

# A Unix time above this is in milliseconds (Traccar accepts both); seconds reach it in year 5138.
MILLISECONDS_FROM = 100_000_000_000


def device_client_id(key: str, recorded_at: datetime, *, prefix: str = "trk") -> str:
    """The client id of a tracker position (or, prefix "sos", alarm): same device and timestamp, same id."""
    device = DeviceToken.hash(key)[:16]
    return f"{prefix}:{device}:{round(recorded_at.timestamp() * 1000)}"


def parse_timestamp(value, *, field: str = "timestamp") -> datetime:
    """Unix seconds (or milliseconds), or ISO 8601 (UTC when it names no zone), as an aware datetime."""
    if isinstance(value, bool):
        raise Invalid(_("%(field)s måste vara Unix-tid eller ISO 8601.") % {"field": field}, field=field)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    try:
        if number is not None:
            seconds = number / 1000 if abs(number) >= MILLISECONDS_FROM else number
            return datetime.fromtimestamp(seconds, tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise Invalid(_("%(field)s måste vara Unix-tid eller ISO 8601.") % {"field": field}, field=field) from None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


class LimitedFormParser(FormParser):
    """Form bodies up to MAX_BODY_BYTES: DRF reads them from the raw stream, past Django's limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise TooLarge(_("Begäran är för stor (högst %(max)d byte).") % {"max": MAX_BODY_BYTES})
        encoding = (parser_context or {}).get("encoding", "utf-8")
        return QueryDict(raw, encoding=encoding)


class TrackThrottle(ScopedRateThrottle):
    """Positions per device: a phone emptying its offline buffer sends many at once, a loop sends more."""

    scope = "track"

    def get_cache_key(self, request: Request, view) -> str | None:
        if not request.auth:
            return None
        return self.cache_format % {"scope": self.scope, "ident": DeviceToken.hash(request.auth)[:16]}


# --- OsmAnd (Traccar Client) ------------------------------------------------------------------------


def _osmand_fields(request: Request) -> dict:
    """The OsmAnd parameters from the query string and a form body, or a Traccar Client JSON body."""
    data = request.data
    if isinstance(data, dict) and isinstance(data.get("location"), dict):
        # Traccar Client 9 posts JSON: {"device_id", "location": {"timestamp", "coords": {...},
        # "extras": {"alarm": "sos"}}}; its SOS button sets extras.alarm.
        location = data["location"]
        coords = location.get("coords") if isinstance(location.get("coords"), dict) else {}
        extras = location.get("extras") if isinstance(location.get("extras"), dict) else {}
        return {
            "id": data.get("device_id") or data.get("deviceid") or data.get("id"),
            "lat": coords.get("latitude"),
            "lon": coords.get("longitude"),
            "accuracy": coords.get("accuracy"),
            "timestamp": location.get("timestamp"),
            "alarm": extras.get("alarm") or location.get("alarm") or data.get("alarm"),
        }
    fields = {}
    for name in ("id", "deviceid", "lat", "lon", "accuracy", "timestamp", "location", "alarm"):
        value = request.query_params.get(name)
        if value is None and hasattr(data, "get"):
            value = data.get(name)
        fields[name] = value
    # Traccar's own server reads the device from `id` or `deviceid`; apps and scripts send either.
    deviceid = fields.pop("deviceid")
    if not fields["id"]:
        fields["id"] = deviceid
    location = fields.pop("location")
    if fields["lat"] is None and fields["lon"] is None and location:
        # Traccar also accepts location=<lat>,<lon>.
        fields["lat"], _sep, fields["lon"] = str(location).partition(",")
    return fields


def is_sos(alarm) -> bool:
    """Traccar Client's SOS button sends alarm=sos; any other alarm type is not a call for help."""
    return isinstance(alarm, str) and alarm.strip().lower() == "sos"


def _position(request: Request, fields: dict) -> dict:
    """The position_record arguments of an OsmAnd request; Invalid when a field is missing or wrong."""
    if fields.get("lat") in (None, "") or fields.get("lon") in (None, ""):
        raise Invalid(_("lat och lon krävs."), field="lat" if fields.get("lat") in (None, "") else "lon")
    recorded_at = parse_timestamp(fields["timestamp"]) if fields.get("timestamp") else timezone.now()
    accuracy = fields.get("accuracy")
    # OsmAnd sends text (a query string or form); the service takes numbers.
    return {
        "user": request.user,
        "client_id": device_client_id(request.auth, recorded_at),
        "lat": number_from_text(fields["lat"], "lat"),
        "lon": number_from_text(fields["lon"], "lon"),
        "accuracy": None if accuracy in (None, "") else number_from_text(accuracy, "accuracy"),
        "recorded_at": recorded_at,
    }


def _raise_sos(request: Request, fields: dict) -> None:
    """An SOS is an alarm first (on shift or not), then, while a shift runs, a position as well.

    It gets through even when its position cannot be read (no fix yet): then without a point. Its
    client id comes from the device and its timestamp, like a position's, so the app resending the
    same SOS from its offline buffer raises one alarm.
    """
    try:
        position = _position(request, fields)
        point_from(position["lat"], position["lon"])  # in range, or the alarm goes without it
    except Invalid:
        position = None
    try:
        at = parse_timestamp(fields["timestamp"]) if fields.get("timestamp") else timezone.now()
    except Invalid:
        at = timezone.now()
    services.alert_raise(
        user=request.user,
        client_id=device_client_id(request.auth, at, prefix="sos"),
        lat=position["lat"] if position else None,
        lon=position["lon"] if position else None,
        source=Alert.Source.TRACKER,
    )
    if position is not None:
        # Off shift, from before it began, or too old to be a position: the alarm is what counts, and it is stored.
        with contextlib.suppress(Forbidden, Invalid):
            services.position_record(**position)
            services.device_position_noted(key=request.auth)


class OsmAndAuthentication(authentication.BaseAuthentication):
    """The OsmAnd `id` parameter is the device token (Traccar Client's "Device identifier")."""

    def authenticate(self, request: Request):
        key = _osmand_fields(request).get("id")
        if not key:
            return None
        check_device_address(request)
        user = user_for_token(str(key))
        if user is None:
            device_token_failed(request)
            raise exceptions.AuthenticationFailed(_("Enhetsnyckeln är ogiltig eller återkallad."))
        return user, str(key)

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="osmand"'


OSMAND_PARAMETERS = [
    OpenApiParameter("id", OpenApiTypes.STR, description="The device token (or send it as `deviceid`)."),
    OpenApiParameter("deviceid", OpenApiTypes.STR, description="The device token, when `id` is not sent."),
    OpenApiParameter(
        "alarm", OpenApiTypes.STR, description="`sos` (Traccar Client's SOS button) raises an alarm, on shift or not."
    ),
    OpenApiParameter("lat", OpenApiTypes.NUMBER, required=True),
    OpenApiParameter("lon", OpenApiTypes.NUMBER, required=True),
    OpenApiParameter("timestamp", OpenApiTypes.STR, description="Unix seconds or ISO 8601; now when left out."),
    OpenApiParameter("accuracy", OpenApiTypes.NUMBER, description="Metres."),
    OpenApiParameter("speed", OpenApiTypes.NUMBER, description="Accepted and not stored."),
    OpenApiParameter("bearing", OpenApiTypes.NUMBER, description="Accepted and not stored."),
    OpenApiParameter("altitude", OpenApiTypes.NUMBER, description="Accepted and not stored."),
    OpenApiParameter("batt", OpenApiTypes.NUMBER, description="Accepted and not stored."),
]
OSMAND_RESPONSES = {200: OpenApiResponse(description="Stored (empty body).")}


class OsmAndScheme(OpenApiAuthenticationExtension):
    target_class = OsmAndAuthentication
    name = "osmandDeviceId"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "query", "name": "id", "description": "The device token."}


class OsmAndView(APIView):
    """/track/osmand/: one position per request, as Traccar Client sends it."""

    authentication_classes = [OsmAndAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [LimitedFormParser, LimitedJSONParser]
    throttle_classes = [TrackThrottle]

    def _store(self, request: Request) -> HttpResponse:
        fields = _osmand_fields(request)
        if is_sos(fields.get("alarm")):
            _raise_sos(request, fields)
        else:
            services.position_record(**_position(request, fields))
            services.device_position_noted(key=request.auth)
        # Traccar Client only looks at the status; an empty 200 is what Traccar's own server sends.
        return HttpResponse(status=200)

    @extend_schema(summary="OsmAnd position (query)", parameters=OSMAND_PARAMETERS, responses=OSMAND_RESPONSES)
    def get(self, request: Request) -> HttpResponse:
        return self._store(request)

    @extend_schema(
        summary="OsmAnd position (query or form)",
        parameters=OSMAND_PARAMETERS,
        request={"application/x-www-form-urlencoded": OpenApiTypes.OBJECT},
        responses=OSMAND_RESPONSES,
    )
    def post(self, request: Request) -> HttpResponse:
        return self._store(request)
