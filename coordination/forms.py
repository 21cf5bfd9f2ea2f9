"""The association page's activity form: collects fields for coordination.services, shows its errors."""

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from coordination.errors import ServiceError
from coordination.models import Organization
from maps.models import Activity, Place


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ActivityForm(forms.Form):
    """Create or edit an activity. Rules (time window, location, screening) are the service's."""

    organization = forms.ModelChoiceField(label=_("Organisation"), queryset=Organization.objects.none())
    title = forms.CharField(label=_("Rubrik"), max_length=120)
    description = forms.CharField(
        label=_("Beskrivning"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    place = forms.ModelChoiceField(
        label=_("Plats"), required=False, queryset=Place.objects.all(), empty_label=_("– punkt på kartan –")
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(label=_("Börjar"), widget=DateTimeLocalInput())
    ends_at = forms.DateTimeField(label=_("Slutar"), widget=DateTimeLocalInput())
    weekly = forms.BooleanField(label=_("Varje vecka"), required=False)
    repeat_until = forms.DateField(label=_("Upprepas till och med"), required=False, widget=DateInput())
    visibility = forms.ChoiceField(
        label=_("Synlighet"), choices=Activity.Visibility.choices, initial=Activity.Visibility.PUBLIC
    )
    age_group = forms.CharField(label=_("Åldersgrupp"), required=False, max_length=40)
    contact = forms.CharField(label=_("Kontakt"), required=False, max_length=120)

    def __init__(self, *args, organizations: QuerySet[Organization], activity: Activity | None = None, **kwargs):
        if activity is not None:
            kwargs.setdefault("initial", initial_for(activity))
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        field.queryset = organizations
        if activity is not None:
            # An activity stays with its organisation; the service does not move it either.
            del self.fields["organization"]
        elif organizations.count() == 1:
            field.initial = organizations.first()
            field.widget = forms.HiddenInput()

    def service_fields(self) -> dict:
        """The cleaned values as coordination.services.activity_create/activity_update take them."""
        data = self.cleaned_data
        place = data.get("place")
        return {
            "title": data["title"],
            "description": data["description"],
            "place": place.pk if place else None,
            "lat": data.get("lat"),
            "lon": data.get("lon"),
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "weekly": data["weekly"],
            "repeat_until": data.get("repeat_until"),
            "visibility": data["visibility"],
            "age_group": data["age_group"],
            "contact": data["contact"],
        }

    def add_service_error(self, error: ServiceError) -> None:
        """Show a refusal from the service on the field it names, or above the form."""
        field = "place" if error.field in ("lat", "lon") else error.field
        self.add_error(field if field in self.fields else None, error.message)


def initial_for(activity: Activity) -> dict:
    """The form's starting values for an existing activity."""
    return {
        "title": activity.title,
        "description": activity.description,
        "place": activity.place_id,
        "lat": activity.point.y if activity.point else None,
        "lon": activity.point.x if activity.point else None,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "weekly": activity.weekly,
        "repeat_until": activity.repeat_until,
        "visibility": activity.visibility,
        "age_group": activity.age_group,
        "contact": activity.contact,
    }


class OccasionForm(forms.Form):
    """One evening of a weekly activity: cancelled, or back as planned. Rules are the service's."""

    date = forms.DateField(label=_("Datum"), widget=DateInput())
    status = forms.ChoiceField(
        label=_("Det här tillfället"),
        choices=[("cancelled", _("Inställt")), ("planned", _("Som vanligt"))],
        initial="cancelled",
    )

    def add_service_error(self, error: ServiceError) -> None:
        """Show a refusal from the service on the field it names, or above the form."""
        self.add_error(error.field if error.field in self.fields else None, error.message)
