"""Accounts: the second factor (TOTP and recovery codes) and invitations. Every step is audited."""

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coordination.services.audit import audit_record

__all__ = ["RECOVERY_CODES", "second_factor_enrol", "second_factor_start"]

# Each code signs in once, for when the phone with the authenticator is lost.
RECOVERY_CODES = 10


def second_factor_start(*, user) -> TOTPDevice:
    """An unconfirmed TOTP device for `user` to scan (reused while enrolment is unfinished)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Närvaro", confirmed=False)


def second_factor_enrol(*, user, device: TOTPDevice) -> list[str]:
    """Confirm `device` (its code was checked by the caller) and issue fresh recovery codes, shown once.

    Other unconfirmed TOTP devices and earlier recovery codes of `user` are removed.
    """
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name="Reservkoder", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
        audit_record(user=user, action="otp.enrol", detail={"device": device.pk})
    return codes
