"""Audit every failed sign-in, lockout and failed device token (never a password or token).

Connected in CoordinationConfig.ready(). Django sends user_login_failed (its credentials already
without the password); django-axes sends user_locked_out. A successful sign-in is audited by the
sign-in view itself (coordination.account_views.SignInView), where a person signs in: Django's
user_logged_in also fires for sessions made in code (tests' force_login), which are no sign-ins.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from coordination.lockout import client_address
from coordination.services.audit import audit_record


def address(request) -> str | None:
    return client_address(request) if request is not None else None


@receiver(user_login_failed, dispatch_uid="narvaro-audit-login-failed")
def audit_login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    if credentials.get("device_token"):
        audit_record(user=None, action="device.failed", detail={"ip": address(request)})
        return
    # Only the username typed: Django has already masked the password in `credentials`.
    username = str(credentials.get("username") or "")[:150]
    audit_record(user=None, action="login.failed", detail={"username": username, "ip": address(request)})


@receiver(user_locked_out, dispatch_uid="narvaro-audit-lockout")
def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    audit_record(user=None, action="login.lockout", detail={"username": username or "", "ip": address(request)})
