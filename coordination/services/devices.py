"""Device tokens: how a phone tracker or script signs in without a browser."""

import secrets

from django.utils import timezone

from coordination.models import DeviceToken

__all__ = ["device_token_issue", "device_token_revoke", "device_token_touch"]


def device_token_issue(*, user, name: str = "") -> tuple[DeviceToken, str]:
    """Create a device token for `user`; return it and the clear key, shown only this once."""
    key = secrets.token_urlsafe(32)
    token = DeviceToken.objects.create(user=user, name=name[:80], key_hash=DeviceToken.hash(key), prefix=key[:8])
    return token, key


def device_token_touch(*, token: DeviceToken) -> None:
    """Note when a token was last used, at most once a minute (every position would be a write)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def device_token_revoke(*, token: DeviceToken) -> None:
    """Revoke a token: the device is refused from its next request or connection on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
