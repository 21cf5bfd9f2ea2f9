"""Device tokens: how a phone tracker or script signs in without a browser, and pairing an app by QR code."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access
from coordination.errors import Forbidden, Invalid
from coordination.models import DeviceToken
from coordination.services.audit import audit_record

__all__ = [
    "device_pair",
    "device_position_noted",
    "device_token_issue",
    "device_token_revoke",
    "device_token_touch",
]

# A tracker sends a position every 30 s; noting each would be a write per position.
NOTE_EVERY = timedelta(seconds=60)


def device_token_issue(*, user, name: str = "", app: str = DeviceToken.App.OTHER) -> tuple[DeviceToken, str]:
    """Create a device token for `user`; return it and the clear key, shown only this once."""
    key = secrets.token_urlsafe(32)
    token = DeviceToken.objects.create(
        user=user, name=name[:80], app=app, key_hash=DeviceToken.hash(key), prefix=key[:8]
    )
    return token, key


def device_pair(*, actor, owner, app: str, name: str = "") -> tuple[DeviceToken, str]:
    """Pair a tracker app for `owner` (by `actor`: the owner or an admin): a new named token, its key shown once.

    Refused (Forbidden) for someone else's account unless `actor` is an admin, and for a person
    without the field role (the server keeps positions from field members only). Audited without
    the key.
    """
    if not access.may_manage_devices(access.viewer_for(actor), owner_id=owner.pk):
        raise Forbidden(_("Du får bara koppla dina egna enheter."))
    if not access.may_own_tracker(access.viewer_for(owner)):
        raise Forbidden(_("Bara fältpersonal kan koppla en spårningsapp."))
    if app not in (DeviceToken.App.TRACCAR, DeviceToken.App.OWNTRACKS):
        raise Invalid(_("Välj Traccar Client eller OwnTracks."), field="app")
    name = " ".join(name.split())[:80] or DeviceToken.App(app).label
    with transaction.atomic():
        token, key = device_token_issue(user=owner, name=name, app=app)
        audit_record(
            user=actor,
            action="device.pair",
            detail={"token": token.pk, "owner": owner.pk, "app": app, "name": name},
        )
    return token, key


def device_token_touch(*, token: DeviceToken) -> None:
    """Note when a token was last used, at most once a minute (every position would be a write)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at) > NOTE_EVERY:
        DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def device_position_noted(*, key: str) -> None:
    """Note that the device with this key delivered a stored position (the time only), at most once a minute."""
    now = timezone.now()
    DeviceToken.objects.filter(key_hash=DeviceToken.hash(key)).filter(
        Q(last_position_at__isnull=True) | Q(last_position_at__lt=now - NOTE_EVERY)
    ).update(last_position_at=now)


def device_token_revoke(*, token: DeviceToken, actor=None, admin_site: bool = False) -> None:
    """Revoke a token: the device is refused from its next request or connection on.

    With `actor` (a person revoking from a page) access is checked: the owner or an admin;
    `admin_site` says Django's admin already checked the actor's permission on tokens. Audited.
    """
    viewer = access.viewer_for(actor) if actor is not None else None
    if viewer is not None and not admin_site and not access.may_manage_devices(viewer, owner_id=token.user_id):
        raise Forbidden(_("Du får bara återkalla dina egna enheter."))
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            user=actor,
            action="device.revoke",
            detail={"token": token.pk, "owner": token.user_id, "app": token.app, "name": token.name},
        )
