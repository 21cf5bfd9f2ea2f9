"""Request and response shapes of the REST API.

Input serializers convert types (JSON numbers, ISO 8601 times) and refuse unknown fields; the
service functions own every rule beyond that. Output serializers describe, for the schema, the
dicts that coordination.payloads builds: responses are those dicts, so events and REST agree.
"""

from django.utils.translation import gettext as _
from rest_framework import serializers

from coordination.models import Alert, NoteCategory, SituationNote
from maps.models import Activity, Area

# --- input ------------------------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a misspelt field must not be dropped while the write succeeds."""

    def validate(self, attrs: dict) -> dict:
        if hasattr(self.initial_data, "keys"):
            unknown = sorted(set(self.initial_data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({unknown[0]: _("Okänt fält.")})
        return attrs


class ClientIdIn(StrictSerializer):
    id = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Client-generated id (a UUID); a repeat answers with the original event and stores nothing.",
    )


class NoteIn(ClientIdIn):
    category = serializers.ChoiceField(choices=NoteCategory.choices)
    severity = serializers.IntegerField(required=False, help_text="1 low, 2 medium, 3 high.")
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    lat = serializers.FloatField(required=False, allow_null=True)
    lon = serializers.FloatField(required=False, allow_null=True)
    youth_count = serializers.IntegerField(required=False, allow_null=True)


class AlertIn(ClientIdIn):
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    lat = serializers.FloatField(required=False, allow_null=True)
    lon = serializers.FloatField(required=False, allow_null=True)


class ChatIn(ClientIdIn):
    channel = serializers.CharField(help_text="everyone, team.<id> or area.<id>.")
    text = serializers.CharField(trim_whitespace=False)


class ActivityUpdateIn(ClientIdIn):
    title = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    place = serializers.IntegerField(required=False, allow_null=True, help_text="A place id, or a point in lat/lon.")
    lat = serializers.FloatField(required=False, allow_null=True)
    lon = serializers.FloatField(required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    weekly = serializers.BooleanField(required=False)
    repeat_until = serializers.DateField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=Activity.Visibility.choices, required=False)
    age_group = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    contact = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class ActivityIn(ActivityUpdateIn):
    organization = serializers.IntegerField()


# --- query parameters -------------------------------------------------------------------------------


class WindowQuery(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="From this time (inclusive), ISO 8601.")
    until = serializers.DateTimeField(required=False, help_text="Before this time, ISO 8601.")
    area = serializers.IntegerField(required=False, min_value=1, help_text="Only within this area (id).")
    before = serializers.IntegerField(required=False, min_value=1, help_text="Page: items with a lower id.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)

    def validate_area(self, value: int) -> Area:
        area = Area.objects.filter(pk=value).first()
        if area is None:
            raise serializers.ValidationError(_("Området finns inte."))
        return area


class NoteQuery(WindowQuery):
    category = serializers.ChoiceField(choices=NoteCategory.choices, required=False)
    status = serializers.ChoiceField(choices=SituationNote.Status.choices, required=False)
    team = serializers.IntegerField(required=False, min_value=1)


class AlertQuery(WindowQuery):
    status = serializers.ChoiceField(choices=Alert.Status.choices, required=False)
    team = serializers.IntegerField(required=False, min_value=1)


class ChatQuery(WindowQuery):
    channel = serializers.CharField(required=False, help_text="everyone, team.<id> or area.<id>.")


class ActivityQuery(WindowQuery):
    organization = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=Activity.Status.choices, required=False)
    visibility = serializers.ChoiceField(choices=Activity.Visibility.choices, required=False)


class EventsQuery(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, help_text="The last seq the client applied (the snapshot's seq).")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=500)


class FeedQuery(serializers.Serializer):
    organization = serializers.IntegerField(required=False, min_value=1, help_text="Only this organisation's.")


# --- output (for the schema) ------------------------------------------------------------------------


class ErrorOut(serializers.Serializer):
    code = serializers.CharField(help_text="invalid, unauthenticated, forbidden, not_found, conflict, resync, ...")
    message = serializers.CharField(help_text="For a person to read (Swedish).")
    field = serializers.CharField(required=False, help_text="The field at fault, when known.")


class EventOut(serializers.Serializer):
    type = serializers.CharField(help_text="Always `event`.")
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    data = serializers.DictField()


class EventsPageOut(serializers.Serializer):
    events = EventOut(many=True)
    after = serializers.IntegerField(help_text="Ask again with this as `after` for what follows.")
    head = serializers.IntegerField(help_text="The newest seq in the log when this page was read.")
    more = serializers.BooleanField(help_text="True when the page was cut at `limit`.")
    next = serializers.URLField(allow_null=True)


class FeatureOut(serializers.Serializer):
    type = serializers.CharField(help_text="Always `Feature`.")
    id = serializers.CharField()
    geometry = serializers.DictField(allow_null=True)
    properties = serializers.DictField()


class FeatureCollectionOut(serializers.Serializer):
    type = serializers.CharField(help_text="Always `FeatureCollection`.")
    features = FeatureOut(many=True)


class SnapshotOut(FeatureCollectionOut):
    seq = serializers.IntegerField(help_text="Apply the events after this seq (GET /api/events/?after=seq).")


class NoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=NoteCategory.choices)
    severity = serializers.IntegerField()
    youth_count = serializers.IntegerField(allow_null=True)
    text = serializers.CharField(allow_blank=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    area = serializers.IntegerField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=SituationNote.Status.choices)
    created_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class AlertOut(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField()
    team_name = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=Alert.Status.choices)
    raised_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


class ChatOut(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    author = serializers.CharField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class ActivityOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    organization = serializers.IntegerField()
    organization_name = serializers.CharField()
    place = serializers.IntegerField(allow_null=True)
    place_name = serializers.CharField(allow_blank=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    weekly = serializers.BooleanField()
    repeat_until = serializers.DateField(allow_null=True)
    visibility = serializers.ChoiceField(choices=Activity.Visibility.choices)
    status = serializers.ChoiceField(choices=Activity.Status.choices)
    age_group = serializers.CharField(allow_blank=True)
    contact = serializers.CharField(allow_blank=True)


def page_of(item: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """A page of `item`s: {"results": [...], "next": url or null} (newest first)."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "results": item(many=True),
            "next": serializers.URLField(allow_null=True, help_text="The next (older) page, if any."),
        },
    )
