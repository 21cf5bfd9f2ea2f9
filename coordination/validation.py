"""Validation shared by the service functions: each raises Invalid naming the field."""

import math
import re
from datetime import datetime, timedelta

from django.contrib.gis.geos import Point
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination.errors import Invalid
from coordination.screening import screen_text

# A device clock may run a little ahead; more than this is a wrong clock, not a position.
MAX_CLOCK_SKEW = timedelta(minutes=2)
# A queued position may arrive long after it was taken (a phone offline in a cellar), but not days.
MAX_POSITION_AGE = timedelta(hours=12)
# The largest id PostgreSQL's bigint holds: a larger one is no row, and must not reach the database.
MAX_ID = 2**63 - 1
# C0 control characters other than tab, line feed and carriage return, DEL, and lone surrogates:
# PostgreSQL refuses NUL and surrogates in text (a traceback, not an answer), the rest is never
# something a person typed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _has_control(value: str, *, allow_line_breaks: bool) -> bool:
    return bool(_CONTROL.search(value)) or (not allow_line_breaks and ("\n" in value or "\r" in value))


def number(value, field: str) -> float:
    """A finite JSON number (not true, not "58.3": text is the tracker adapters' to convert)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(_("%(field)s måste vara ett tal.") % {"field": field}, field=field)
    return _finite(value, field)


def number_from_text(value, field: str) -> float:
    """A finite number from a JSON number or a numeric text, as query strings and forms carry it."""
    if isinstance(value, str):
        try:
            return _finite(float(value), field)
        except ValueError:
            raise Invalid(_("%(field)s måste vara ett tal.") % {"field": field}, field=field) from None
    return number(value, field)


def _finite(value: int | float, field: str) -> float:
    try:
        result = float(value)
    except OverflowError:  # an int beyond any float, e.g. 10**400 from a JSON body
        result = math.inf
    if not math.isfinite(result):
        raise Invalid(_("%(field)s måste vara ett ändligt tal.") % {"field": field}, field=field)
    return result


def point_from(lat, lon) -> Point | None:
    """A WGS84 point from lat/lon, or None when both are absent; raise Invalid on anything else."""
    if lat is None and lon is None:
        return None
    lat_f, lon_f = lat_lon(lat, lon)
    return Point(lon_f, lat_f, srid=4326)


def lat_lon(lat, lon) -> tuple[float, float]:
    """lat and lon (both required) as floats within WGS84's range; raise Invalid naming the field.

    No geometry object: the position stream checks every report with this and hands the numbers
    straight to the database.
    """
    if lat is None and lon is None:
        raise Invalid(_("lat och lon krävs."), field="lat")
    if lat is None or lon is None:
        raise Invalid(_("Ange både lat och lon."), field="lat" if lat is None else "lon")
    lat_f, lon_f = number(lat, "lat"), number(lon, "lon")
    if not -90 <= lat_f <= 90:
        raise Invalid(_("lat måste ligga mellan -90 och 90."), field="lat")
    if not -180 <= lon_f <= 180:
        raise Invalid(_("lon måste ligga mellan -180 och 180."), field="lon")
    return lat_f, lon_f


def clean_text(
    value: object, *, field: str, max_length: int, required: bool = False, phones_allowed: bool = False
) -> str:
    """Stripped text within `max_length`, screened for personal identity numbers (and phone numbers)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("%(field)s måste vara text.") % {"field": field}, field=field)
    if _has_control(value, allow_line_breaks=True):
        raise Invalid(_("%(field)s innehåller otillåtna kontrolltecken.") % {"field": field}, field=field)
    value = value.strip()
    if required and not value:
        raise Invalid(_("%(field)s får inte vara tom.") % {"field": field}, field=field)
    if len(value) > max_length:
        raise Invalid(_("%(field)s får vara högst %(max)d tecken.") % {"field": field, "max": max_length}, field=field)
    if value:
        screen_text(value, field=field, phones_allowed=phones_allowed)
    return value


def clean_client_id(value) -> str | None:
    """A client-generated id (a UUID), or None when the caller sent none."""
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or _has_control(value, allow_line_breaks=False):
        raise Invalid(_("id måste vara en text på 1–64 tecken (ett UUID)."), field="id")
    return value


def clean_recorded_at(value, *, now: datetime) -> datetime:
    """When a device took a position: with a zone, not in the future, not older than MAX_POSITION_AGE."""
    value = clean_timestamp(value, field="recorded_at")
    if timezone.is_naive(value):
        raise Invalid(_("recorded_at måste ange tidszon."), field="recorded_at")
    if value > now + MAX_CLOCK_SKEW:
        raise Invalid(_("recorded_at ligger i framtiden; kontrollera enhetens klocka."), field="recorded_at")
    if value < now - MAX_POSITION_AGE:
        raise Invalid(_("recorded_at är för gammal."), field="recorded_at")
    return value


def clean_id(value, *, field: str, message: str) -> int:
    """An object id: a JSON integer 0..MAX_ID (not true, not 2.0, not "2"); `message` explains what is wanted."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise Invalid(message, field=field)
    return value


def clean_optional_id(value, *, field: str, message: str) -> int | None:
    return None if value is None else clean_id(value, field=field, message=message)


def clean_ids(value, *, field: str, message: str) -> list[int]:
    """A list of object ids (possibly empty; None counts as empty)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise Invalid(message, field=field)
    return [clean_id(item, field=field, message=message) for item in value]


def clean_choice(value, choices: list, *, field: str) -> object:
    """One of `choices`, as given; the error lists them."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value not in choices:
        raise Invalid(
            _("%(field)s måste vara en av: %(values)s.") % {"field": field, "values": ", ".join(map(str, choices))},
            field=field,
        )
    return value


def clean_timestamp(value, *, field: str) -> datetime:
    """A datetime, or an ISO 8601 text as devices send it ("Z" allowed)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(_("%(field)s måste vara en ISO 8601-tidpunkt.") % {"field": field}, field=field) from None
    if not isinstance(value, datetime):
        raise Invalid(_("%(field)s måste vara en tidpunkt.") % {"field": field}, field=field)
    return value
