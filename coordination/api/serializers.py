"""Request shapes of the REST API (responses are in coordination.api.outputs).

Input serializers convert types (JSON numbers, ISO 8601 times) and refuse unknown fields; the
service functions own every rule beyond that.
"""

from datetime import date

from django.utils.translation import gettext as _
from rest_framework import serializers

from coordination.errors import NotFound
from coordination.models import Alert, NoteCategory, SituationNote
from maps.models import Activity, Area

# --- input ------------------------------------------------------------------------------------------


class JSONString(serializers.CharField):
    """A JSON string: 0 or true is not text that happens to convert."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONRegex(serializers.RegexField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONNumber(serializers.FloatField):
    """A JSON number: neither true nor "58.3"."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONInteger(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONBoolean(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a misspelt field must not be dropped while the write succeeds."""

    def validate(self, attrs: dict) -> dict:
        if hasattr(self.initial_data, "keys"):
            unknown = sorted(set(self.initial_data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({unknown[0]: _("Okänt fält.")})
        return attrs


class ClientIdIn(StrictSerializer):
    id = JSONString(
        required=False,
        max_length=64,
        help_text="Client-generated id (a UUID); a repeat answers with the original event and stores nothing.",
    )


# The ranges the services enforce, stated here too so that the schema documents them.
def lat_field() -> serializers.FloatField:
    return JSONNumber(required=False, allow_null=True, min_value=-90, max_value=90)


def lon_field() -> serializers.FloatField:
    return JSONNumber(
        required=False, allow_null=True, min_value=-180, max_value=180, help_text="Give both lat and lon, or neither."
    )


def text_field(max_length: int, **kwargs) -> serializers.CharField:
    return JSONString(
        allow_blank=True,
        trim_whitespace=False,
        max_length=max_length,
        help_text="Refused when it holds a personal identity number or a phone number.",
        **kwargs,
    )


CHANNEL_PATTERN = r"^(everyone|team\.[0-9]{1,11}|area\.[0-9]{1,11})$"
CHANNEL_HELP = "everyone, team.<id> or area.<id>."


class NoteIn(ClientIdIn):
    category = serializers.ChoiceField(choices=NoteCategory.choices)
    severity = JSONInteger(required=False, min_value=1, max_value=3, help_text="1 low, 2 medium, 3 high.")
    text = text_field(1000, required=False)
    lat = lat_field()
    lon = lon_field()
    youth_count = JSONInteger(required=False, allow_null=True, min_value=0, max_value=10_000)


class AlertIn(ClientIdIn):
    text = text_field(500, required=False)
    lat = lat_field()
    lon = lon_field()


class ChatIn(ClientIdIn):
    channel = JSONRegex(CHANNEL_PATTERN, help_text=CHANNEL_HELP)
    text = JSONString(trim_whitespace=False, max_length=1000, help_text="Not empty; screened like notes.")


class ActivityUpdateIn(ClientIdIn):
    title = JSONString(required=False, allow_blank=True, trim_whitespace=False, max_length=120)
    description = text_field(2000, required=False)
    place = JSONInteger(required=False, allow_null=True, help_text="A place id, or a point in lat/lon.")
    lat = lat_field()
    lon = lon_field()
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    weekly = JSONBoolean(required=False)
    repeat_until = serializers.DateField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Activity.Visibility.choices, required=False)
    age_group = text_field(40, required=False)
    contact = JSONString(required=False, allow_blank=True, trim_whitespace=False, max_length=120)


class ActivityIn(ActivityUpdateIn):
    organization = JSONInteger()


# --- query parameters -------------------------------------------------------------------------------


class QuerySerializer(serializers.Serializer):
    """Query parameters: each known one at most once (`?area=1&area=2` is a mistake, not the last wins)."""

    def validate(self, attrs: dict) -> dict:
        getlist = getattr(self.initial_data, "getlist", None)
        for name in self.fields:
            values = getlist(name) if getlist is not None else []
            if len(values) > 1:
                raise serializers.ValidationError({name: _("Ange parametern en gång.")})
            if values == [""]:
                # `?until=` is a mistake in the caller's code, not "no limit".
                raise serializers.ValidationError({name: _("Parametern saknar värde.")})
        return attrs


class WindowQuery(QuerySerializer):
    since = serializers.DateTimeField(required=False, help_text="From this time (inclusive), ISO 8601.")
    until = serializers.DateTimeField(required=False, help_text="Before this time, ISO 8601.")
    area = serializers.IntegerField(required=False, min_value=1, help_text="Only within this area (id).")
    before = serializers.IntegerField(required=False, min_value=1, help_text="Page: items with a lower id.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)

    def validate_area(self, value: int) -> Area:
        area = Area.objects.filter(pk=value).first()
        if area is None:
            raise NotFound(_("Området finns inte."), field="area")
        return area


class NoteQuery(WindowQuery):
    category = serializers.ChoiceField(choices=NoteCategory.choices, required=False)
    status = serializers.ChoiceField(choices=SituationNote.Status.choices, required=False)
    team = serializers.IntegerField(required=False, min_value=1)


class AlertQuery(WindowQuery):
    status = serializers.ChoiceField(choices=Alert.Status.choices, required=False)
    team = serializers.IntegerField(required=False, min_value=1)


class ChatQuery(WindowQuery):
    channel = serializers.RegexField(CHANNEL_PATTERN, required=False, help_text=CHANNEL_HELP)


class ActivityQuery(WindowQuery):
    organization = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=Activity.Status.choices, required=False)
    visibility = serializers.ChoiceField(choices=Activity.Visibility.choices, required=False)


class EventsQuery(QuerySerializer):
    after = serializers.IntegerField(min_value=0, help_text="The last seq the client applied (the snapshot's seq).")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=500)


class WeeklyReportQuery(QuerySerializer):
    week = serializers.RegexField(
        r"^\d{4}-W\d{2}$", required=False, help_text="ISO week, e.g. 2026-W48; the current week when left out."
    )

    def validate_week(self, value: str) -> date:
        """The Monday of the ISO week, or a clear error for a week that does not exist."""
        year, week = value.split("-W")
        try:
            monday = date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            raise serializers.ValidationError(_("Veckan finns inte.")) from None
        if not 2000 <= monday.year <= 2100:  # and the week's Sunday must exist too (year 9999)
            raise serializers.ValidationError(_("Veckan ligger utanför åren 2000–2100."))
        return monday


class FeedQuery(QuerySerializer):
    organization = serializers.IntegerField(required=False, min_value=1, help_text="Only this organisation's.")
