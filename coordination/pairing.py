"""What a phone tracker app reads from a link or QR code: Traccar Client and OwnTracks.

Traccar Client (the Flutter app, lib/configuration_service.dart and lib/main.dart) opens
`org.traccar.client://config?<query>` and stores the query parameters it knows (`url`, `id`,
`accuracy`, `interval`, `distance`, `buffer`, ...); `org.traccar.client://action/start` and
`.../action/stop` switch tracking on and off. OwnTracks (Android and iOS) opens
`owntracks:///config?inline=<base64 of a configuration message>` (the same JSON as an `.otrc`
file; keys in the OwnTracks booklet, tech/json.md `_type=configuration`).

The settings suit a person on foot: a fix every 30 s or 25 m, GPS accuracy, an offline buffer.
"""

import base64
import json
from urllib.parse import quote, urlencode

import segno

TRACCAR_SCHEME = "org.traccar.client"
# Traccar Client's own names for its settings (Preferences in lib/preferences.dart) and the
# schedule and service keys ConfigurationService.applyUri reads besides them.
TRACCAR_KEYS = frozenset(
    {
        "url",
        "id",
        "accuracy",
        "distance",
        "interval",
        "angle",
        "heartbeat",
        "fastest_interval",
        "buffer",
        "wakelock",
        "stop_detection",
        "service",
        "startTime",
        "stopTime",
    }
)
# Walking: every 30 seconds or 25 metres, whichever comes first, with GPS ("high") accuracy.
WALK_INTERVAL_S = 30
WALK_DISTANCE_M = 25

# OwnTracks: mode 3 is HTTP; monitoring -1 Quiet, 0 Manual, 1 Significant, 2 Move.
OWNTRACKS_HTTP_MODE = 3
OWNTRACKS_QUIET = -1
OWNTRACKS_MOVE = 2
# locatorPriority 3 is HIGH_POWER (GPS) on Android.
OWNTRACKS_GPS = 3


def traccar_config_url(*, server_url: str, key: str) -> str:
    """The link that sets Traccar Client's server, device identifier (the token) and walking settings.

    It does not start tracking (no `service`): the start link does that once the shift runs, since
    the server refuses positions outside a shift and the app would keep resending them.
    """
    query = {
        "url": server_url,
        "id": key,
        "accuracy": "high",
        "interval": WALK_INTERVAL_S,
        "distance": WALK_DISTANCE_M,
        "buffer": "true",
    }
    return f"{TRACCAR_SCHEME}://config?{urlencode(query, quote_via=quote)}"


def traccar_action_url(action: str) -> str:
    """Traccar Client's start or stop link."""
    if action not in ("start", "stop"):
        raise ValueError(action)
    return f"{TRACCAR_SCHEME}://action/{action}"


def owntracks_configuration(*, server_url: str, username: str, key: str, tid: str) -> dict:
    """The OwnTracks configuration message (an `.otrc` file's content) for HTTP mode and walking."""
    return {
        "_type": "configuration",
        "mode": OWNTRACKS_HTTP_MODE,
        "url": server_url,
        "auth": True,
        "username": username,
        "password": key,
        "deviceId": "narvaro",
        "tid": tid,
        # Quiet until the shift starts: the start link switches to Move.
        "monitoring": OWNTRACKS_QUIET,
        "locatorInterval": WALK_INTERVAL_S,
        "locatorDisplacement": WALK_DISTANCE_M,
        "locatorPriority": OWNTRACKS_GPS,
        # Närvaro keeps none of the extended data, and the server never commands the phone.
        "extendedData": False,
        "cmd": False,
        "allowRemoteLocation": False,
        "remoteConfiguration": False,
    }


def owntracks_config_url(configuration: dict) -> str:
    """The `owntracks:///config?inline=` link carrying `configuration` (standard base64, URL-quoted)."""
    encoded = base64.b64encode(json.dumps(configuration, separators=(",", ":")).encode()).decode()
    return f"owntracks:///config?inline={quote(encoded, safe='')}"


def owntracks_monitoring_url(monitoring: int) -> str:
    """A link that only switches OwnTracks' monitoring mode (Move to start, Quiet to stop)."""
    return owntracks_config_url({"_type": "configuration", "monitoring": monitoring})


def tracker_id(*, short: str | None, username: str) -> str:
    """OwnTracks' two-character `tid`: the team's short name, else the username's first two letters."""
    return (short or username[:2] or "NA").upper()[:2]


def qr_svg(data: str) -> str:
    """An inline <svg> QR code of `data` (no script, no external reference: fine under the CSP)."""
    # Error correction M survives a scratched screen; scale 4 gives ~250 px for a 50-module code.
    return segno.make(data, error="m", micro=False).svg_inline(scale=4, border=2, dark="#17324d", light="#ffffff")
