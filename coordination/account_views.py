"""The account pages: pair a tracker app by QR code, list and revoke one's devices (an admin: anyone's).

Views hold no rules: access and writes are in coordination.services.devices (device_pair,
device_token_revoke) and coordination.access.
"""

import base64
import time

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from coordination import access, pairing, services
from coordination.account_signals import address
from coordination.errors import ServiceError
from coordination.lockout import lockout_response
from coordination.models import DeviceToken, Team
from coordination.views import page_context

User = get_user_model()


# A password accepted but no second factor yet: this long to give the code, then sign in again.
PENDING_SECONDS = 300
PENDING = "narvaro_pending_sign_in"
RECOVERY_SHOWN = "narvaro_recovery_codes"


def needs_second_factor(user) -> bool:
    """The role must use a second factor, or the person opted in (has a confirmed device)."""
    required = access.must_use_second_factor(access.viewer_for(user), is_staff=user.is_staff)
    return required or django_otp.user_has_device(user)


def _pending_user(request: HttpRequest):
    """The person whose password was accepted in this session, not yet signed in; None when expired."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


def _finish_sign_in(request: HttpRequest, user, device, *, factor: str, next_url: str = "") -> str:
    """Sign `user` in, verified by `device`; audit it; return where to go next."""
    pending = request.session.pop(PENDING, None) or {}
    backend = pending.get("backend") or getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[-1]
    auth.login(request, user, backend=backend)
    if device is not None:
        django_otp.login(request, device)
    services.audit_record(user=user, action="login.success", detail={"ip": address(request), "factor": factor})
    next_url = pending.get("next") or next_url
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by e-mail, audited: a request (never the address typed: it may be nobody's)."""

    def form_valid(self, form):
        services.audit_record(user=None, action="password.reset_requested", detail={"ip": address(self.request)})
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's new-password step, audited: whose password a reset link changed, and from where."""

    def form_valid(self, form):
        services.audit_record(user=form.user, action="password.reset", detail={"ip": address(self.request)})
        return super().form_valid(form)


class SignInView(auth_views.LoginView):
    """The sign-in form (django-axes counts its failures). Duty, partner and admin accounts (and those
    who opted in) continue to the second factor; no session is signed in before it is given."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not needs_second_factor(user):
            next_url = self.get_redirect_url()
            return redirect(_finish_sign_in(self.request, user, None, factor="password", next_url=next_url))
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_redirect_url(),
            "at": time.time(),
        }
        return redirect("otp_verify" if django_otp.user_has_device(user) else "otp_enrol")


@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Step two of signing in: a code from the authenticator, or one recovery code."""
    user = _pending_user(request)
    if user is None:
        messages.info(request, _("Logga in igen: det tog för lång tid."))
        return redirect("login")
    error = None
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials=credentials):
            return lockout_response(request)
        code = "".join(request.POST.get("otp_token", "").split()).lower()
        device = django_otp.match_token(user, code) if code else None
        if device is not None:
            factor = "recovery" if isinstance(device, StaticDevice) else "totp"
            return redirect(_finish_sign_in(request, user, device, factor=factor))
        # A wrong code counts like a wrong password (per account and address).
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        error = _("Koden stämmer inte. Försök igen, eller använd en reservkod.")
    return render(request, "registration/otp_verify.html", {"error": error}, status=400 if error else 200)


@never_cache
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: while signing in (required roles) or signed in (anyone opting in)."""
    user = request.user if request.user.is_authenticated else _pending_user(request)
    if user is None:
        return redirect("login")
    device = services.second_factor_start(user=user)
    error = None
    if request.method == "POST":
        code = "".join(request.POST.get("otp_token", "").split())
        if code and device.verify_token(code):
            codes = services.second_factor_enrol(user=user, device=device)
            if request.user.is_authenticated:
                django_otp.login(request, device)
                next_url = reverse("devices")
            else:
                next_url = _finish_sign_in(request, user, device, factor="totp")
            request.session[RECOVERY_SHOWN] = {"codes": codes, "next": next_url}
            return redirect("otp_recovery")
        error = _("Koden stämmer inte. Kontrollera att telefonens klocka går rätt och försök igen.")
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "qr": pairing.qr_svg(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "error": error,
        "required": access.must_use_second_factor(access.viewer_for(user), is_staff=user.is_staff),
    }
    return render(request, "registration/otp_enrol.html", context, status=400 if error else 200)


@never_cache
@login_required
def otp_recovery(request: HttpRequest) -> HttpResponse:
    """The recovery codes, shown once right after enrolment."""
    shown = request.session.pop(RECOVERY_SHOWN, None)
    if not shown:
        return redirect("home")
    return render(request, "registration/otp_recovery.html", shown)


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


@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invited person chooses a username and password; a role that needs it enrols the second factor."""
    try:
        invited = services.invitation_for_token(token)
    except ServiceError as error:
        return render(request, "registration/invitation.html", {"invalid": error.message}, status=410)
    context = {"invitation": invited, "username": invited.email.split("@")[0], "first_name": ""}
    if request.method == "POST":
        context.update(username=request.POST.get("username", ""), first_name=request.POST.get("first_name", ""))
        password = request.POST.get("password1", "")
        if password != request.POST.get("password2", ""):
            context["error"] = _("Lösenorden är inte lika.")
        else:
            try:
                user = services.invitation_accept(
                    token=token, username=context["username"], first_name=context["first_name"], password=password
                )
            except ServiceError as error:
                context["error"] = error.message
            else:
                if needs_second_factor(user):
                    # Not signed in yet: the authenticator first, as at every sign-in of this role.
                    request.session[PENDING] = {
                        "user": user.pk,
                        "backend": settings.AUTHENTICATION_BACKENDS[-1],
                        "next": "",
                        "at": time.time(),
                    }
                    return redirect("otp_enrol")
                return redirect(_finish_sign_in(request, user, None, factor="invitation"))
    return render(request, "registration/invitation.html", context, status=400 if context.get("error") else 200)
