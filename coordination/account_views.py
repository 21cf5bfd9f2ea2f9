"""The account pages: pair a tracker app by QR code, list and revoke one's devices (an admin: anyone's).

Views hold no rules: access and writes are in coordination.services.devices (device_pair,
device_token_revoke) and coordination.access.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from coordination import access, pairing, services
from coordination.account_signals import address
from coordination.errors import ServiceError
from coordination.models import DeviceToken, Team
from coordination.views import page_context

User = get_user_model()


class SignInView(auth_views.LoginView):
    """The sign-in form (django-axes counts its failures); a successful sign-in is audited."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        services.audit_record(user=form.get_user(), action="login.success", detail={"ip": address(self.request)})
        return response


def _devices(owner) -> list[DeviceToken]:
    """The owner's tokens, active first, newest first (revoked ones stay listed, greyed)."""
    return sorted(owner.device_tokens.all(), key=lambda t: (t.revoked_at is not None, -t.created_at.timestamp()))


def _pairing_payload(request: HttpRequest, *, token: DeviceToken, key: str) -> dict:
    """The link, its QR code and the settings by hand, for the app `token` was paired with."""
    owner = token.user
    if token.app == DeviceToken.App.TRACCAR:
        server = request.build_absolute_uri(reverse("track-osmand"))
        link = pairing.traccar_config_url(server_url=server, key=key)
        manual = [(_("Serveradress"), server), (_("Enhetsidentifierare"), key)]
    else:
        server = request.build_absolute_uri(reverse("track-owntracks"))
        team = Team.objects.filter(members=owner).order_by("name").first()
        tid = pairing.tracker_id(short=team.short if team else None, username=owner.get_username())
        configuration = pairing.owntracks_configuration(
            server_url=server, username=owner.get_username(), key=key, tid=tid
        )
        link = pairing.owntracks_config_url(configuration)
        manual = [
            (_("Läge"), "HTTP"),
            (_("Adress"), server),
            (_("Användarnamn"), owner.get_username()),
            (_("Lösenord"), key),
            (_("Tracker-ID"), tid),
        ]
    return {"token": token, "link": link, "qr": pairing.qr_svg(link), "manual": manual}


@never_cache
@login_required
def devices(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    """Pair a tracker app (POST) and list the person's devices; /konto/personer/<id>/enheter/ for an admin."""
    viewer = access.viewer_for(request.user)
    owner = request.user if user_id is None else get_object_or_404(User, pk=user_id)
    if not access.may_manage_devices(viewer, owner_id=owner.pk):
        raise PermissionDenied
    context = {
        **page_context(request, viewer, current="devices"),
        "owner": owner,
        "for_someone_else": owner.pk != request.user.pk,
        "may_pair": access.may_own_tracker(access.viewer_for(owner)),
        "apps": [(DeviceToken.App.TRACCAR, "Traccar Client"), (DeviceToken.App.OWNTRACKS, "OwnTracks")],
    }
    status = 200
    if request.method == "POST":
        try:
            token, key = services.device_pair(
                actor=request.user,
                owner=owner,
                app=request.POST.get("app", ""),
                name=request.POST.get("name", ""),
            )
        except ServiceError as error:
            context["error"] = error.message
            status = 403 if error.status == 403 else 400
        else:
            context["paired"] = _pairing_payload(request, token=token, key=key)
    context["devices"] = _devices(owner)
    # never_cache makes it no-store: the answer to a pairing carries the key.
    return render(request, "coordination/devices.html", context, status=status)


@require_POST
@login_required
def device_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one device (the owner or an admin) and go back to the list it was revoked from."""
    token = get_object_or_404(DeviceToken, pk=pk)
    try:
        services.device_token_revoke(token=token, actor=request.user)
    except ServiceError as error:
        raise PermissionDenied(error.message) from None
    messages.success(request, _("%(name)s är återkallad och kan inte längre skicka positioner.") % {"name": token.name})
    if token.user_id == request.user.pk:
        return redirect("devices")
    return redirect("person_devices", user_id=token.user_id)
