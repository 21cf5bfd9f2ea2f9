"""Throttling guesses: django-axes counts failed sign-ins per account and per address, and failed
device tokens (tracker endpoints, API) per address, in its AccessAttempt table; an admin unlocks
by deleting the attempts (Django admin, Axes → Access attempts) or `manage.py axes_reset`.
"""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import exceptions

# A failed device token is recorded under a username no account can have (Django usernames have
# no brackets or spaces) that names the address, and with no address of its own: device failures
# from an address lock trackers and scripts there and never a person's sign-in, and failed sign-ins
# never lock trackers. Phones share carrier addresses (CGNAT), hence a higher DEVICE_FAILURE_LIMIT.
DEVICE_USERNAME = "(device-token)"


def device_credentials(request) -> dict:
    """The credentials a device-token check is counted under (and marks the request as one)."""
    request.narvaro_device = True
    return {"device_token": True, "username": f"{DEVICE_USERNAME} {client_address(request)}"}


def client_ip(request: HttpRequest) -> str | None:
    """Axes' address of a request: none for a device-token check (counted by its username instead)."""
    if getattr(request, "narvaro_device", False):
        return None
    return client_address(request)


def client_address(request: HttpRequest) -> str | None:
    """The client's address: behind the TLS proxy (BEHIND_TLS_PROXY) the one it put last in X-Forwarded-For.

    Caddy overwrites X-Forwarded-For with the address it saw (it trusts no proxies before it), so
    the last entry is the client's; without the proxy the header is the client's to forge.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")


def is_device(credentials: dict | None) -> bool:
    return bool(credentials) and (
        bool(credentials.get("device_token")) or str(credentials.get("username") or "").startswith(DEVICE_USERNAME)
    )


def lockout_parameters(request, credentials: dict | None = None) -> list:
    """Sign-ins lock per account and per address; device tokens per address (by their username)."""
    if is_device(credentials):
        return ["username"]
    return ["username", "ip_address"]


def failure_limit(request, credentials: dict | None = None) -> int:
    """LOGIN_FAILURE_LIMIT for sign-ins, DEVICE_FAILURE_LIMIT for device tokens."""
    return settings.DEVICE_FAILURE_LIMIT if is_device(credentials) else settings.LOGIN_FAILURE_LIMIT


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/track/"))


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """Axes' answer once locked: JSON 429 on the API and tracker endpoints, a page everywhere else."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if is_api(request) or is_device(credentials):
        response = JsonResponse(
            {
                "code": "locked_out",
                "message": _("För många misslyckade försök från den här adressen. Försök igen om %(minutes)d minuter.")
                % {"minutes": minutes},
            },
            status=429,
        )
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
        return response
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


class LockedOut(exceptions.Throttled):
    """A device or script whose address is locked out: 429 with Retry-After (the API's JSON error)."""

    def __init__(self):
        super().__init__(
            wait=settings.AXES_COOLOFF_TIME.total_seconds(),
            detail=_("För många misslyckade försök från den här adressen. Försök igen senare."),
        )


def check_device_address(request) -> None:
    """Refuse (429) a token request from an address locked out by failed tokens or sign-ins."""
    from axes.handlers.proxy import AxesProxyHandler

    django_request = getattr(request, "_request", request)
    if settings.AXES_ENABLED and AxesProxyHandler.is_locked(django_request, device_credentials(django_request)):
        raise LockedOut()


def device_token_failed(request) -> None:
    """Count a wrong or revoked device token against the request's address (axes and the audit log)."""
    django_request = getattr(request, "_request", request)
    user_login_failed.send(sender=__name__, credentials=device_credentials(django_request), request=django_request)
