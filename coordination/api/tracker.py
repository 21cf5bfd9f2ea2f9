"""Phone-tracker endpoints: Traccar Client (OsmAnd protocol) and OwnTracks (HTTP mode).

Both authenticate with a device token, store through services.positions_record (so a position
exists only during an active shift, as from the field socket) and are idempotent on (device,
timestamp): the client id is derived from the token and the device's own timestamp, so a tracker
that resends its offline buffer stores each position once.
"""

from datetime import UTC, datetime

from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination import access, selectors, services
from coordination.api.parsers import MAX_BODY_BYTES, LimitedJSONParser, ScopedRateThrottle
from coordination.auth import user_for_token
from coordination.errors import Invalid, TooLarge
from coordination.models import DeviceToken
from coordination.validation import number_from_text

# A Unix time above this is in milliseconds (Traccar accepts both); seconds reach it in year 5138.
MILLISECONDS_FROM = 100_000_000_000


def device_client_id(key: str, recorded_at: datetime) -> str:
    """The client id of a tracker position: the same device and timestamp give the same id."""
    device = DeviceToken.hash(key)[:16]
    return f"trk:{device}:{round(recorded_at.timestamp() * 1000)}"


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
        # Traccar Client 9 posts JSON: {"device_id", "location": {"timestamp", "coords": {...}}}.
        location = data["location"]
        coords = location.get("coords") if isinstance(location.get("coords"), dict) else {}
        return {
            "id": data.get("device_id"),
            "lat": coords.get("latitude"),
            "lon": coords.get("longitude"),
            "accuracy": coords.get("accuracy"),
            "timestamp": location.get("timestamp"),
        }
    fields = {}
    for name in ("id", "lat", "lon", "accuracy", "timestamp", "location"):
        value = request.query_params.get(name)
        if value is None and hasattr(data, "get"):
            value = data.get(name)
        fields[name] = value
    location = fields.pop("location")
    if fields["lat"] is None and fields["lon"] is None and location:
        # Traccar also accepts location=<lat>,<lon>.
        fields["lat"], _sep, fields["lon"] = str(location).partition(",")
    return fields


class OsmAndAuthentication(authentication.BaseAuthentication):
    """The OsmAnd `id` parameter is the device token (Traccar Client's "Device identifier")."""

    def authenticate(self, request: Request):
        key = _osmand_fields(request).get("id")
        if not key:
            return None
        user = user_for_token(str(key))
        if user is None:
            raise exceptions.AuthenticationFailed(_("Enhetsnyckeln är ogiltig eller återkallad."))
        return user, str(key)

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="osmand"'


OSMAND_PARAMETERS = [
    OpenApiParameter("id", OpenApiTypes.STR, required=True, description="The device token."),
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


class OwnTracksScheme(OpenApiAuthenticationExtension):
    target_class = "coordination.api.tracker.OwnTracksAuthentication"
    name = "ownTracksBasic"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "Username and the device token as password."}


class OsmAndView(APIView):
    """/track/osmand/: one position per request, as Traccar Client sends it."""

    authentication_classes = [OsmAndAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [LimitedFormParser, LimitedJSONParser]
    throttle_classes = [TrackThrottle]

    def _store(self, request: Request) -> HttpResponse:
        fields = _osmand_fields(request)
        if fields.get("lat") in (None, "") or fields.get("lon") in (None, ""):
            raise Invalid(_("lat och lon krävs."), field="lat" if fields.get("lat") in (None, "") else "lon")
        recorded_at = parse_timestamp(fields["timestamp"]) if fields.get("timestamp") else timezone.now()
        accuracy = fields.get("accuracy")
        # OsmAnd sends text (a query string or form); the service takes numbers.
        services.position_record(
            user=request.user,
            client_id=device_client_id(request.auth, recorded_at),
            lat=number_from_text(fields["lat"], "lat"),
            lon=number_from_text(fields["lon"], "lon"),
            accuracy=None if accuracy in (None, "") else number_from_text(accuracy, "accuracy"),
            recorded_at=recorded_at,
        )
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


# --- OwnTracks ----------------------------------------------------------------------------------------


class OwnTracksAuthentication(authentication.BasicAuthentication):
    """HTTP Basic: the OwnTracks username and the device token as its password."""

    www_authenticate_realm = "owntracks"

    def authenticate_credentials(self, userid: str, password: str, request=None):
        user = user_for_token(password)
        if user is None or user.get_username().lower() != userid.strip().lower():
            raise exceptions.AuthenticationFailed(_("Fel användarnamn eller enhetsnyckel."))
        return user, password


def owntracks_friends(user) -> list[dict]:
    """The teams on shift that `user` may see, as OwnTracks location objects (one per team, `tid` its short)."""
    if not access.may_read_live(access.viewer_for(user)):
        return []
    friends = []
    for props in selectors.team_latest_positions().values():
        recorded_at = datetime.fromisoformat(props["recorded_at"])
        friends.append(
            {
                "_type": "location",
                "lat": props["lat"],
                "lon": props["lon"],
                "tst": int(recorded_at.timestamp()),
                **({"acc": round(props["accuracy"])} if props.get("accuracy") is not None else {}),
                "tid": props["short"] or props["team_name"][:2].upper(),
                # OwnTracks tells friends apart by topic; a team is one friend on the phone's map.
                "topic": f"owntracks/narvaro/team{props['team']}",
            }
        )
    return friends


OwnTracksLocations = inline_serializer(
    "OwnTracksLocation",
    many=True,
    fields={
        "_type": serializers.CharField(),
        "lat": serializers.FloatField(),
        "lon": serializers.FloatField(),
        "tst": serializers.IntegerField(),
        "acc": serializers.IntegerField(required=False),
        "tid": serializers.CharField(),
        "topic": serializers.CharField(),
    },
)


class OwnTracksView(APIView):
    """/track/owntracks/: OwnTracks HTTP mode; answers with the teams on shift as friends."""

    authentication_classes = [OwnTracksAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [LimitedJSONParser]
    throttle_classes = [TrackThrottle]

    @extend_schema(
        summary="OwnTracks message",
        description="`_type` location is stored (needs an active shift); every other `_type` is "
        "accepted and ignored with `[]`.",
        request=inline_serializer(
            "OwnTracksMessage",
            {
                "_type": serializers.CharField(),
                "lat": serializers.FloatField(required=False),
                "lon": serializers.FloatField(required=False),
                "tst": serializers.IntegerField(required=False),
                "acc": serializers.FloatField(required=False),
                "tid": serializers.CharField(required=False),
            },
        ),
        responses={200: OwnTracksLocations},
    )
    def post(self, request: Request) -> Response:
        message = request.data
        if not isinstance(message, dict):
            raise Invalid(_("Meddelandet måste vara ett JSON-objekt."))
        if message.get("_type") != "location":
            # transition, waypoint, lwt, card, ...: nothing Närvaro keeps, and OwnTracks must not retry.
            return Response([])
        for name in ("lat", "lon"):
            if message.get(name) is None:
                raise Invalid(_("%(field)s krävs.") % {"field": name}, field=name)
        recorded_at = parse_timestamp(message["tst"], field="tst") if message.get("tst") is not None else timezone.now()
        services.position_record(
            user=request.user,
            client_id=device_client_id(request.auth, recorded_at),
            lat=message["lat"],
            lon=message["lon"],
            accuracy=message.get("acc"),
            recorded_at=recorded_at,
        )
        return Response(owntracks_friends(request.user))
