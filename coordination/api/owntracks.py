"""OwnTracks (HTTP mode): positions in, the teams on shift out as friends.

Same contract as coordination.api.tracker (device token, services.positions_record, one stored
position per device timestamp).
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coordination import access, selectors, services
from coordination.api.parsers import LimitedJSONParser
from coordination.api.tracker import TrackThrottle, device_client_id, parse_timestamp
from coordination.auth import user_for_token
from coordination.errors import Invalid
from coordination.lockout import check_device_address, device_token_failed
from coordination.validation import number_from_text


class OwnTracksAuthentication(authentication.BasicAuthentication):
    """HTTP Basic: the OwnTracks username and the device token as its password."""

    www_authenticate_realm = "owntracks"

    def authenticate_credentials(self, userid: str, password: str, request=None):
        check_device_address(request)
        user = user_for_token(password)
        if user is None or user.get_username().lower() != userid.strip().lower():
            device_token_failed(request)
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


class OwnTracksScheme(OpenApiAuthenticationExtension):
    target_class = "coordination.api.owntracks.OwnTracksAuthentication"
    name = "ownTracksBasic"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "Username and the device token as password."}


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
            # Numbers as OwnTracks sends them, or numeric text as some forks and scripts do (accepted as before).
            lat=number_from_text(message["lat"], "lat"),
            lon=number_from_text(message["lon"], "lon"),
            accuracy=None if message.get("acc") is None else number_from_text(message["acc"], "accuracy"),
            recorded_at=recorded_at,
        )
        services.device_position_noted(key=request.auth)
        return Response(owntracks_friends(request.user))
