"""The staff screens: role landing, the field page and its PWA shell, the duty map, login and logout.

Every view starts with an access helper from this module; the rules themselves live in
coordination.access, the writes in the services (the pages write over their WebSocket).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coordination import access, kinds, selectors
from coordination.models import Event, NoteCategory, Role, Shift, SituationNote, Team
from coordination.selectors.est import areas_focus_first
from coordination.shell import field_shell
from maps.models import Activity, Area, Place

# How far back the chat panels start when a page loads (one evening).
CHAT_HISTORY = timedelta(hours=12)
CHAT_HISTORY_MAX = 200


@dataclass(frozen=True)
class Screen:
    """One screen a person may use; the header lists them so people with several roles can switch."""

    key: str
    label: str
    url: str


def screens_for(viewer: access.Viewer, *, is_staff: bool = False) -> list[Screen]:
    """The screens `viewer` may open, in the order a role lands on them."""
    screens = []
    if access.may_connect_field(viewer):
        screens.append(Screen("field", _("Fält"), reverse("field")))
    if access.may_connect_ops(viewer):
        screens.append(Screen("ops", _("Jourkarta"), reverse("ops")))
    if access.may_use_association_page(viewer):
        screens.append(Screen("association", _("Förening"), reverse("association")))
    if access.may_moderate_reports(viewer) and not access.may_connect_ops(viewer):
        # Duty reach the queue from the duty map; a dialogue officer lands on it.
        screens.append(Screen("tips_queue", _("Medborgarrapporter"), reverse("tips_queue")))
    if is_staff or Role.ADMIN in viewer.roles:
        screens.append(Screen("admin", _("Administration"), reverse("admin:index")))
    return screens


def page_context(request: HttpRequest, viewer: access.Viewer, *, current: str) -> dict:
    """What base.html needs: the screens for the role switcher and which one is shown."""
    return {
        "screens": screens_for(viewer, is_staff=request.user.is_staff),
        "current_screen": current,
        "lagesbild_url": reverse("lagesbild") if access.may_read_lagesbild(viewer) else None,
    }


def _viewer_allowed(request: HttpRequest, allowed: Callable[[access.Viewer], bool]) -> access.Viewer:
    """The signed-in person's Viewer, or 403 when `allowed` refuses them."""
    viewer = access.viewer_for(request.user)
    if not allowed(viewer):
        raise PermissionDenied
    return viewer


def _recent_chat(viewer: access.Viewer) -> list[dict]:
    """This evening's chat events the viewer may read, oldest first, as event frames."""
    since = timezone.now() - CHAT_HISTORY
    events = Event.objects.filter(kind=kinds.CHAT.name, created_at__gte=since).order_by("-seq")[:CHAT_HISTORY_MAX]
    return [
        {"seq": e.seq, "kind": e.kind, "data": e.data} for e in reversed(events) if access.may_see(viewer, e.audience)
    ]


def _choices(choices) -> list[list[str]]:
    return [[str(value), str(label)] for value, label in choices]


def _areas() -> list[dict]:
    # Coverage ranks the areas in focus now (EST decisions) first, then by priority.
    areas = areas_focus_first(list(Area.objects.exclude(kind=Area.Kind.MUNICIPALITY)), now=timezone.now())
    return [{"id": a.pk, "name": a.name, "kind": a.kind} for a in areas]


def _staff_config(viewer: access.Viewer) -> dict:
    """Server data shared by the field page and the duty map: snapshot, lists and labels.

    The pages' own text comes from the JavaScript catalog (/jsi18n/), not from here.
    """
    return {
        "snapshot": selectors.live_snapshot(viewer=viewer),
        "chat": _recent_chat(viewer),
        "user": viewer.user_id,
        "teams": [{"id": t.pk, "name": t.name, "short": t.short} for t in Team.objects.all()],
        "areas": _areas(),
        "categories": _choices(NoteCategory.choices),
        "severities": _choices(SituationNote.Severity.choices),
        "statuses": _choices(Shift.Status.choices),
        "activity_statuses": _choices(Activity.Status.choices),
    }


# --- landing ------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a person with one screen straight there; let a person with several choose."""
    viewer = access.viewer_for(request.user)
    screens = screens_for(viewer, is_staff=request.user.is_staff)
    if len(screens) == 1:
        return redirect(screens[0].url)
    return render(request, "coordination/home.html", {**page_context(request, viewer, current="home")})


# --- field page -------------------------------------------------------------------------------------


@never_cache
@login_required
def field(request: HttpRequest) -> HttpResponse:
    """The field page: shift, position, status, notes, alert and chat over /ws/field/."""
    viewer = _viewer_allowed(request, access.may_connect_field)
    config = {
        **_staff_config(viewer),
        "my_teams": sorted(viewer.team_ids),
        "ws_path": "/ws/field/",
        "snapshot_url": reverse("api-snapshot"),
        "sw_url": reverse("field_sw"),
        # When this picture was read: an offline reload shows the age of what it shows (issue 15).
        "rendered_at": timezone.now().isoformat(),
    }
    context = {**page_context(request, viewer, current="field"), "config": config}
    context["my_teams"] = Team.objects.filter(pk__in=viewer.team_ids)
    context["places"] = Place.objects.order_by("name")  # where a team checks in
    # The shift card the page will show once its picture arrives, drawn at once: swapping "Starta pass"
    # for the running shift after the first paint moved the whole tab (a layout shift on every visit).
    context["shift_on"] = Shift.objects.filter(team_id__in=viewer.team_ids, ended_at__isnull=True).exists()
    return render(request, "coordination/field.html", context)


@require_GET
def field_service_worker(request: HttpRequest) -> HttpResponse:
    """The field page's service worker, served from /falt/ so that its scope covers the page."""
    context = {"shell": field_shell()}
    response = render(request, "coordination/sw.js", context, content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker on every visit; never let a proxy pin an old one.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def field_manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest that makes the field page installable."""
    return render(request, "coordination/manifest.webmanifest", content_type="application/manifest+json")


# --- duty map ---------------------------------------------------------------------------------------


@never_cache
@login_required
def ops(request: HttpRequest) -> HttpResponse:
    """The duty map: every team, note, alert and activity live; partners read without acting."""
    viewer = _viewer_allowed(request, access.may_connect_ops)
    can_act = access.may_acknowledge(viewer)
    config = {
        **_staff_config(viewer),
        "can_act": can_act,
        "ws_path": "/ws/ops/",
        "snapshot_url": reverse("api-snapshot"),
    }
    context = {**page_context(request, viewer, current="ops"), "config": config, "can_act": can_act}
    return render(request, "coordination/ops.html", context)
