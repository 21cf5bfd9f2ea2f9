"""Response shapes of the REST API, for the schema: the dicts coordination.payloads builds.

Responses are those dicts themselves, so events and REST agree.
"""

from rest_framework import serializers

from coordination.models import Alert, NoteCategory, SituationNote
from maps.models import Activity

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


class AreaWeekOut(serializers.Serializer):
    area = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    priority = serializers.IntegerField()
    presence_hours = serializers.FloatField(help_text="Person-hours of field presence, in 5-minute slots.")
    notes = serializers.IntegerField()
    notes_by_category = serializers.DictField(child=serializers.IntegerField())
    youth_counted = serializers.IntegerField(help_text="Sum of the approximate youth counts in notes.")


class WeeklyReportOut(serializers.Serializer):
    week = serializers.CharField()
    from_ = serializers.DateField()
    to = serializers.DateField()
    shifts = serializers.IntegerField()
    notes = serializers.IntegerField()
    notes_by_category = serializers.DictField(child=serializers.IntegerField())
    alerts = serializers.IntegerField()
    areas = AreaWeekOut(many=True)
    uncovered_hotspots = serializers.ListField(child=serializers.CharField())

    def get_fields(self):
        # "from" is a Python keyword: declared as from_, named "from" on the wire.
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


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
    team = serializers.IntegerField(allow_null=True, help_text="The raiser's team; null for someone in no team.")
    team_name = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=Alert.Status.choices)
    raised_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    author = serializers.IntegerField(help_text="The raiser's user id.")
    raised_by = serializers.CharField(help_text="The raiser's name.")
    acknowledged_by = serializers.CharField(allow_null=True, help_text="Who acknowledged it (name).")
    source = serializers.ChoiceField(choices=Alert.Source.choices, help_text="page, tracker (SOS) or api.")
    level = serializers.IntegerField(help_text="Escalation: 0 none, 1 every duty screen, 2 second contact.")
    escalated_at = serializers.DateTimeField(allow_null=True)


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
