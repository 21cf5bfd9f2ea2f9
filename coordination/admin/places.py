"""Admin for areas, places and activities, with Leaflet map widgets.

Areas and places are configuration and are saved directly. Activities are announcements that
sockets and public feeds show live, so every add, change and status change goes through
coordination.services like any other writer; a refusal is shown on the form, never as a traceback.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from leaflet.admin import LeafletGeoAdmin

from coordination import services
from coordination.errors import ServiceError
from maps.models import Activity, Area, Place

# Form fields the admin passes to activity_create/activity_update, besides place and point.
ACTIVITY_PLAIN_FIELDS = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "weekly",
    "repeat_until",
    "visibility",
    "age_group",
    "contact",
)

# A service names the field it refused by its wire name; the form calls some of them differently.
SERVICE_FIELD_TO_FORM = {"lat": "point", "lon": "point"}

# Set on the request by ActivityAdmin.changeform_view when the service refused the save.
_SERVICE_ERROR_ATTR = "_narvaro_service_error"


@admin.register(Area)
class AreaAdmin(LeafletGeoAdmin):
    list_display = ("name", "kind", "priority")
    list_filter = ("kind",)
    search_fields = ("name",)
    ordering = ("kind", "-priority", "name")


@admin.register(Place)
class PlaceAdmin(LeafletGeoAdmin):
    list_display = ("name", "kind", "owner", "address")
    list_filter = ("kind", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "address")
    list_select_related = ("owner",)


class ActivityAdminForm(forms.ModelForm):
    """The activity form; carries the refusal of the service from a previous save attempt, if any."""

    service_error: ServiceError | None = None

    class Meta:
        model = Activity
        fields = ("organization", "place", "point", *ACTIVITY_PLAIN_FIELDS)

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.service_error is not None:
            error = self.service_error
            field = SERVICE_FIELD_TO_FORM.get(error.field or "", error.field)
            self.add_error(field if field in self.fields else None, error.message)
        return cleaned


def _service_fields(form: forms.ModelForm, names) -> dict:
    """The keyword arguments a coordination.services activity function takes, for the form fields `names`."""
    fields: dict = {}
    data = form.cleaned_data
    for name in names:
        if name == "point":
            point = data.get("point")
            fields["lat"], fields["lon"] = (point.y, point.x) if point else (None, None)
        elif name == "place":
            place = data.get("place")
            fields["place"] = place.pk if place else None
        elif name in ACTIVITY_PLAIN_FIELDS:
            fields[name] = data.get(name)
    return fields


@admin.register(Activity)
class ActivityAdmin(LeafletGeoAdmin):
    form = ActivityAdminForm
    list_display = ("title", "organization", "place", "starts_at", "ends_at", "weekly", "visibility", "status")
    list_filter = ("status", "visibility", "weekly", "organization")
    search_fields = ("title", "description", "organization__name", "place__name")
    list_select_related = ("organization", "place")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("organization", "place")
    actions = ("open_activities", "close_activities", "cancel_activities")
    fieldsets = (
        (None, {"fields": ("title", "organization", "description")}),
        (_("Var"), {"fields": ("place", "point")}),
        (_("När"), {"fields": ("starts_at", "ends_at", "weekly", "repeat_until")}),
        (_("För vem"), {"fields": ("visibility", "status", "age_group", "contact")}),
        (_("Historik"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Activity | None = None) -> tuple[str, ...]:
        # Status changes go through the open/close/cancel actions (each its own service and event);
        # activity_update cannot move an activity to another organisation.
        readonly = ("status", "created_at", "updated_at")
        return (*readonly, "organization") if obj is not None else readonly

    def has_delete_permission(self, request: HttpRequest, obj: Activity | None = None) -> bool:
        # A deletion would vanish from the live maps without an event; cancelling is the way out.
        return False

    def get_form(self, request: HttpRequest, obj: Activity | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, _SERVICE_ERROR_ATTR, None)
        if error is None:
            return form
        return type(form.__name__, (form,), {"service_error": error})

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as error:
            # The admin's transaction rolled back. Render the same POST again, with the service's
            # refusal as a form error, so the person keeps what they typed.
            setattr(request, _SERVICE_ERROR_ATTR, error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Activity, form: forms.ModelForm, change: bool) -> None:
        """Write through activity_create/activity_update so the Event is stored and published."""
        if change:
            changed = set(form.changed_data)
            fields = _service_fields(form, [n for n in (*ACTIVITY_PLAIN_FIELDS, "place", "point") if n in changed])
            if not fields:
                return
            event = services.activity_update(user=request.user, activity_id=obj.pk, **fields)
        else:
            fields = _service_fields(form, (*ACTIVITY_PLAIN_FIELDS, "place", "point"))
            event = services.activity_create(user=request.user, organization_id=obj.organization_id, **fields)
            obj.pk = event.data["id"]
            obj._state.adding = False
        # The admin's log entry and redirect read the row as the service stored it.
        obj.refresh_from_db()

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Activity], action, done) -> None:
        """Run a status service on each selected activity; report refusals one by one."""
        count = 0
        for activity in queryset:
            try:
                action(user=request.user, activity_id=activity.pk)
            except ServiceError as error:
                self.message_user(request, f"{activity}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Markera som öppen i kväll"))
    def open_activities(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        done = ngettext_lazy("%(count)d aktivitet öppnades.", "%(count)d aktiviteter öppnades.", "count")
        self._set_status(request, queryset, services.activity_open, done)

    @admin.action(description=_("Markera som stängd i kväll"))
    def close_activities(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        done = ngettext_lazy("%(count)d aktivitet stängdes.", "%(count)d aktiviteter stängdes.", "count")
        self._set_status(request, queryset, services.activity_close, done)

    @admin.action(description=_("Ställ in"))
    def cancel_activities(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        done = ngettext_lazy("%(count)d aktivitet ställdes in.", "%(count)d aktiviteter ställdes in.", "count")
        self._set_status(request, queryset, services.activity_cancel, done)
