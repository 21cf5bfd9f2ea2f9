"""The public map and the association page (activities of one's own organisation)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coordination import access, selectors, services
from coordination.errors import ServiceError
from coordination.forms import ActivityForm, OccasionForm
from coordination.models import Organization
from coordination.views import page_context
from maps import occasions
from maps.models import Activity, Place

# Status actions on the association page: URL word -> service function.
STATUS_ACTIONS = {
    "oppna": services.activity_open,
    "stang": services.activity_close,
    "stall-in": services.activity_cancel,
}


def _association_viewer(request: HttpRequest) -> access.Viewer:
    """The signed-in person, if they manage some organisation's activities; else 403."""
    viewer = access.viewer_for(request.user)
    if not access.may_use_association_page(viewer):
        raise PermissionDenied
    return viewer


def _own_activity(viewer: access.Viewer, pk: int) -> Activity:
    """An activity of one of the viewer's organisations; 404 when absent, 403 when someone else's."""
    activity = get_object_or_404(Activity.objects.select_related("organization", "place"), pk=pk)
    if not access.may_manage_activity(viewer, activity.organization_id):
        raise PermissionDenied
    return activity


def _organizations(viewer: access.Viewer) -> QuerySet[Organization]:
    """The organisations whose activities `viewer` may manage (access.may_manage_activity)."""
    return Organization.objects.filter(access.manageable_organizations(viewer))


def _places() -> list[dict]:
    return [{"id": p.pk, "name": p.name, "lat": p.point.y, "lon": p.point.x} for p in Place.objects.all()]


# --- public map -------------------------------------------------------------------------------------


@never_cache
def public_map(request: HttpRequest) -> HttpResponse:
    """Open and upcoming public activities and adults per area; no login, never a staff position."""
    # Whoever is signed in, this page shows what the public sees (and so does its socket).
    viewer = access.ANONYMOUS
    config = {
        "snapshot": selectors.live_snapshot(viewer=viewer),
        "ws_path": "/ws/public/",
        "snapshot_url": reverse("public_snapshot"),
    }
    context = {**page_context(request, access.viewer_for(request.user), current="public"), "config": config}
    return render(request, "maps/public.html", context)


@never_cache
@require_GET
def public_snapshot(request: HttpRequest) -> JsonResponse:
    """The public snapshot the public map reloads on resync.

    Not /api/snapshot/: that answers a signed-in staff member with the staff picture, and this
    page shows the public layer whoever looks at it.
    """
    return JsonResponse(selectors.live_snapshot(viewer=access.ANONYMOUS))


# --- association page --------------------------------------------------------------------------------


@dataclass
class ActivityRow:
    """One activity as the association page lists it: tonight's status and what may be done now."""

    activity: Activity
    status: str  # maps.occasions.status_now: what the public map shows
    next_date: date | None  # the evening under way or next
    next_start: datetime | None
    next_end: datetime | None
    tonight: bool  # it has an evening today that has not ended: "Öppna nu" may be offered
    overrides: list[dict]  # evenings set apart from today on: [{date, status}]
    occasion_form: OccasionForm


def _rows(activities, *, now: datetime, bound: tuple[int, OccasionForm] | None) -> list[ActivityRow]:
    today = timezone.localdate(now)
    rows = []
    for activity in activities:
        day = occasions.current_or_next(activity, now)
        start, end = occasions.window(activity, day) if day else (None, None)
        form = bound[1] if bound and bound[0] == activity.pk else OccasionForm(initial={"date": day})
        rows.append(
            ActivityRow(
                activity=activity,
                status=occasions.status_now(activity, now),
                next_date=day,
                next_start=start,
                next_end=end,
                tonight=day == today and start is not None,
                # Tonight's open/closed is the row's own tag; the list holds the other evenings set apart.
                overrides=[
                    {"date": date.fromisoformat(o["date"]), "status": o["status"]}
                    for o in occasions.upcoming_overrides(activity, now)
                    if not (o["date"] == (day and day.isoformat()) and o["status"] != "cancelled")
                ],
                occasion_form=form,
            )
        )
    return rows


def _association_page(
    request: HttpRequest,
    viewer: access.Viewer,
    *,
    form: ActivityForm,
    bound: tuple[int, OccasionForm] | None = None,
) -> HttpResponse:
    organizations = _organizations(viewer)
    now = timezone.now()
    # Tonight's finished activities stay listed until morning, so they can be reopened.
    activities = (
        Activity.objects.filter(organization__in=organizations)
        .not_over(now - timedelta(hours=12))
        .select_related("organization", "place")
        .prefetch_related("occasions")
        .order_by("status", "starts_at")
    )
    context = {
        **page_context(request, viewer, current="association"),
        "form": form,
        "rows": _rows(activities, now=now, bound=bound),
        "activities_orgs_many": organizations.count() > 1,
        "places": _places(),
    }
    return render(request, "maps/association.html", context)


@login_required
def association(request: HttpRequest) -> HttpResponse:
    """List the organisation's activities and announce a new one."""
    viewer = _association_viewer(request)
    form = ActivityForm(request.POST or None, organizations=_organizations(viewer))
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_create(
                user=request.user, organization_id=form.cleaned_data["organization"].pk, **form.service_fields()
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Aktiviteten är upplagd."))
            return redirect("association")
    return _association_page(request, viewer, form=form)


@login_required
@require_POST
def activity_occasion(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel one evening of a weekly activity, or put it back as planned."""
    viewer = _association_viewer(request)
    activity = _own_activity(viewer, pk)
    form = OccasionForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["date"]
        try:
            services.activity_occasion_set(
                user=request.user, activity_id=activity.pk, date=day, status=form.cleaned_data["status"]
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            done = (
                _("%(title)s är inställd %(date)s.")
                if form.cleaned_data["status"] == "cancelled"
                else _("%(title)s blir av som vanligt %(date)s.")
            )
            messages.success(request, done % {"title": activity.title, "date": formats.date_format(day, "j F")})
            return redirect("association")
    page_form = ActivityForm(organizations=_organizations(viewer))
    return _association_page(request, viewer, form=page_form, bound=(activity.pk, form))


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one of the organisation's activities."""
    viewer = _association_viewer(request)
    activity = _own_activity(viewer, pk)
    form = ActivityForm(request.POST or None, organizations=_organizations(viewer), activity=activity)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(user=request.user, activity_id=activity.pk, **form.service_fields())
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Ändringen är sparad."))
            return redirect("association")
    context = {
        **page_context(request, viewer, current="association"),
        "form": form,
        "activity": activity,
        "places": _places(),
    }
    return render(request, "maps/activity_edit.html", context)


@login_required
@require_POST
def activity_status(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Open, close for tonight or cancel one of the organisation's activities."""
    viewer = _association_viewer(request)
    activity = _own_activity(viewer, pk)
    service = STATUS_ACTIONS.get(action)
    if service is None:
        raise Http404
    try:
        service(user=request.user, activity_id=activity.pk)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        done = {
            "oppna": _("%(title)s är öppen."),
            "stang": _("%(title)s är stängd i kväll."),
            "stall-in": _("%(title)s är inställd."),
        }[action]
        messages.success(request, done % {"title": activity.title})
    return redirect("association")
