"""The EST loop's screens: the week's decisions (record, list, withdraw) and "where to go next" as JSON.

Rules live in coordination.access, writes in coordination.services.est, reads in coordination.selectors.
Every view is written to the audit log: who, which view, what was asked for, from which address.
"""

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coordination import access, services
from coordination.errors import ServiceError
from coordination.lagesbild import Period
from coordination.models import EstDecision, Organization, Team
from coordination.selectors.est import decision_followups, decisions_of_week, planned_text, week_label, who_text
from coordination.selectors.where_next import where_next
from coordination.views import page_context
from maps.models import Area

WEEKDAYS = [
    (0, gettext_lazy("måndag")),
    (1, gettext_lazy("tisdag")),
    (2, gettext_lazy("onsdag")),
    (3, gettext_lazy("torsdag")),
    (4, gettext_lazy("fredag")),
    (5, gettext_lazy("lördag")),
    (6, gettext_lazy("söndag")),
]


def client_address(request: HttpRequest) -> str:
    """The address the request came from (the TLS proxy sets REMOTE_ADDR through its own header handling)."""
    return request.META.get("REMOTE_ADDR", "")


def _audit(request: HttpRequest, action: str, **detail) -> None:
    services.audit_record(user=request.user, action=action, detail={**detail, "address": client_address(request)})


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class EstDecisionForm(forms.Form):
    """One decision of the meeting. Rules (the week exists, end after start, screening) are the service's."""

    year = forms.IntegerField(label=gettext_lazy("År"), min_value=2000, max_value=2100)
    week = forms.IntegerField(label=gettext_lazy("Vecka"), min_value=1, max_value=53)
    areas = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Fokusområden"),
        queryset=Area.objects.exclude(kind=Area.Kind.MUNICIPALITY).order_by("-priority", "name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": gettext_lazy("Okänt område: välj bland kartans områden."),
            "invalid_pk_value": gettext_lazy("Okänt område: välj bland kartans områden."),
            "required": gettext_lazy("Välj minst ett fokusområde."),
        },
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Kvällar"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Välj minst en kväll.")},
    )
    start = forms.TimeField(label=gettext_lazy("Från"), widget=TimeInput())
    end = forms.TimeField(
        label=gettext_lazy("Till"),
        widget=TimeInput(),
        help_text=gettext_lazy("Före starttiden: morgonen efter (21:00–01:00)."),
    )
    who = forms.ChoiceField(label=gettext_lazy("Vem agerar"), choices=EstDecision.Who.choices)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"), required=False, queryset=Team.objects.order_by("name"), empty_label="–"
    )
    organization = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        required=False,
        queryset=Organization.objects.exclude(kind=Organization.Kind.MUNICIPALITY).order_by("name"),
        empty_label="–",
    )
    note = forms.CharField(
        label=gettext_lazy("Anteckning om platsen"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": gettext_lazy("Platsen och situationen – aldrig namn eller nummer.")}
        ),
    )

    def clean(self):
        data = super().clean()
        # Said here as well as by the service, so both times get their error at once.
        start, end = data.get("start"), data.get("end")
        if start and end and (problem := services.decision_hours_error(start, end)):
            self.add_error("end", problem)
        return data

    def service_fields(self) -> dict:
        """The cleaned values as services.est_decision_record takes them."""
        data = self.cleaned_data
        return {
            "iso_year": data["year"],
            "iso_week": data["week"],
            "area_ids": [a.pk for a in data["areas"]],
            "weekdays": data["weekdays"],
            "start": data["start"],
            "end": data["end"],
            "who": data["who"],
            "team_id": data["team"].pk if data.get("team") else None,
            "organization_id": data["organization"].pk if data.get("organization") else None,
            "note": data["note"],
        }

    def add_service_error(self, error: ServiceError) -> None:
        """Show a refusal from the service on the field it names, or above the form."""
        field = {"iso_year": "year", "iso_week": "week"}.get(error.field, error.field)
        self.add_error(field if field in self.fields else None, error.message)


def _week_or_none(year: int, week: int) -> date | None:
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        return None


@never_cache
@login_required
def est_decisions(request: HttpRequest, year: int, week: int) -> HttpResponse:
    """The decisions for one ISO week: listed for duty, partner and admin; recorded by duty and admin."""
    viewer = access.viewer_for(request.user)
    if not access.may_read_decisions(viewer):
        raise PermissionDenied
    can_record = access.may_record_decision(viewer)
    _audit(request, "est_decisions.view" if request.method == "GET" else "est_decisions.record", year=year, week=week)
    monday = _week_or_none(year, week)
    context = {**page_context(request, viewer, current="est"), "year": year, "week": week, "can_record": can_record}
    if monday is None:
        context["error"] = _("Vecka %(week)s finns inte år %(year)s.") % {"week": week, "year": year}
        return render(request, "coordination/est_decisions.html", context, status=404)
    if request.method == "POST" and not can_record:
        raise PermissionDenied
    form = EstDecisionForm(request.POST or None, initial={"year": year, "week": week, "start": "19:00", "end": "23:00"})
    if request.method == "POST" and form.is_valid():
        try:
            services.est_decision_record(actor=request.user, **form.service_fields())
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Beslutet är registrerat."))
            return redirect("est_decisions", year=form.cleaned_data["year"], week=form.cleaned_data["week"])
    previous, following = monday - timedelta(days=7), monday + timedelta(days=7)
    period = Period(start=monday, end=monday + timedelta(days=6), label=week_label(year, week), iso_week=(year, week))
    decisions = decisions_of_week(year, week, include_withdrawn=True)
    context |= {
        "form": form,
        "label": week_label(year, week),
        "decisions": [
            {"decision": d, "planned": planned_text(d), "who": who_text(d), "areas": list(d.areas.all())}
            for d in decisions
        ],
        "followups": decision_followups(period=period),
        "previous": previous.isocalendar()[:2],
        "following": following.isocalendar()[:2],
        "this_week": timezone.localdate().isocalendar()[:2],
    }
    return render(request, "coordination/est_decisions.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def est_decision_withdraw(request: HttpRequest, year: int, week: int, pk: int) -> HttpResponse:
    """Withdraw one decision (duty and admin); it stays listed as withdrawn."""
    viewer = access.viewer_for(request.user)
    if not access.may_record_decision(viewer):
        raise PermissionDenied
    _audit(request, "est_decisions.withdraw", year=year, week=week, decision=pk)
    try:
        services.est_decision_withdraw(actor=request.user, decision_id=pk)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Beslutet är återkallat."))
    return redirect("est_decisions", year=year, week=week)


@login_required
def est_decisions_now(request: HttpRequest) -> HttpResponse:
    """This week's decisions."""
    year, week, _day = timezone.localdate().isocalendar()
    return redirect("est_decisions", year=year, week=week)


# --- where to go next ------------------------------------------------------------------------------

WHERE_NEXT_MAX = 50
FIELD_MAX = 3


def _json_error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    body = {"type": "error", "code": code, "message": message}
    if field:
        body["field"] = field
    return JsonResponse(body, status=status)


def _coordinate(raw: str | None, *, low: float, high: float) -> float | None:
    if raw in (None, ""):
        return None
    value = float(raw)  # ValueError for anything else, turned into a 400 by the caller
    if not low <= value <= high:  # NaN and infinity fail this too
        raise ValueError(raw)
    return value


@never_cache
@require_GET
def where_next_json(request: HttpRequest) -> JsonResponse:
    """GET /api/where-next/?lat=&lon=&limit=: the places that need adults now, nearest good ones first.

    Field members on shift get at most 3 around their position; duty and the partner the whole ranking.
    """
    if not request.user.is_authenticated:
        return _json_error(401, "unauthenticated", _("Logga in först."))
    viewer = access.viewer_for(request.user)
    if not (viewer.on_duty or viewer.is_duty or viewer.is_partner):
        return _json_error(403, "forbidden", _("Förslagen är för fältpersonal i tjänst och jouren."))
    try:
        lat = _coordinate(request.GET.get("lat"), low=-90, high=90)
        lon = _coordinate(request.GET.get("lon"), low=-180, high=180)
    except ValueError:
        return _json_error(400, "invalid", _("lat och lon måste vara koordinater i grader (WGS 84)."), "lat")
    if (lat is None) != (lon is None):
        return _json_error(400, "invalid", _("Ange både lat och lon, eller ingen av dem."), "lat")
    # The field page shows the nearest three; the duty map (and the partner) the whole ranking.
    maximum = WHERE_NEXT_MAX if viewer.is_duty or viewer.is_partner else FIELD_MAX
    try:
        limit = int(request.GET.get("limit", maximum))
    except ValueError:
        return _json_error(400, "invalid", _("limit måste vara ett heltal."), "limit")
    if not 1 <= limit <= maximum:
        return _json_error(400, "invalid", _("limit måste vara mellan 1 och %(max)s.") % {"max": maximum}, "limit")
    # The audit log records that the ranking was read, never the position it was asked from.
    _audit(request, "where_next.view", limit=limit, located=lat is not None)
    point = Point(lon, lat, srid=4326) if lat is not None else None
    suggestions = where_next(point=point, now=timezone.now(), limit=limit)
    return JsonResponse({"results": [s.as_json() for s in suggestions]})
