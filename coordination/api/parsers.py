"""Request parsing and rate limits shared by the API and tracker views."""

import orjson
from django.utils.translation import gettext as _
from rest_framework import parsers, throttling
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.settings import api_settings

from coordination.errors import TooLarge

# A note, a chat message or an activity is a few kilobytes at most; more is a mistake or an attack.
MAX_BODY_BYTES = 64 * 1024


class LimitedJSONParser(parsers.JSONParser):
    """JSON bodies up to MAX_BODY_BYTES (413 beyond), parsed with orjson."""

    def parse(self, stream, media_type=None, parser_context=None):
        # DRF reads JSON from the raw stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_BODY_BYTES:
            raise TooLarge(_("Begäran är för stor (högst %(max)d byte).") % {"max": MAX_BODY_BYTES})
        if not raw:
            return {}
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ParseError(_("Innehållet är inte giltig JSON.")) from None


class ScopedRateThrottle(throttling.SimpleRateThrottle):
    """A rate per person (or device) and scope, read from REST_FRAMEWORK at request time (tests change it)."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class WriteThrottle(ScopedRateThrottle):
    """Writes per person: reads are cheap and uncounted; a runaway script writing is not."""

    scope = "write"

    def get_cache_key(self, request: Request, view) -> str | None:
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
