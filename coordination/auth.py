"""Device tokens for phones and scripts: `Authorization: Bearer <token>` on HTTP and WebSocket."""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

from coordination.models import DeviceToken
from coordination.services import device_token_touch


def bearer_key(headers) -> str | None:
    """The token in an `Authorization: Bearer` header (ASGI header pairs or a dict), else None."""
    if isinstance(headers, dict):
        value = headers.get("authorization") or headers.get("Authorization") or ""
    else:
        value = next((v.decode("latin-1") for k, v in headers if k.lower() == b"authorization"), "")
    scheme, _, key = value.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


# Keys are 43 characters (secrets.token_urlsafe(32)); anything far longer or not printable ASCII is
# no key, and must not reach the hash (a lone surrogate cannot even be encoded).
MAX_KEY_LENGTH = 200


def token_for_key(key) -> DeviceToken | None:
    """The valid, unrevoked token of an active user with this key (its use noted), else None."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        return None
    token = (
        DeviceToken.objects.select_related("user")
        .filter(key_hash=DeviceToken.hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    device_token_touch(token=token)
    return token


def user_for_token(key: str):
    """The active user of a valid, unrevoked token (and note its use), else None."""
    token = token_for_key(key)
    return None if token is None else token.user


def handshake_request(scope) -> HttpRequest:
    """A request standing for a WebSocket handshake: its address and forwarding header, for django-axes."""
    request = HttpRequest()
    request.path = request.path_info = scope.get("path", "")
    client = scope.get("client") or (None, None)
    request.META["REMOTE_ADDR"] = client[0]
    forwarded = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"), None)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def socket_token(scope) -> DeviceToken | None:
    """The token of a socket's bearer key, else None; a wrong key counts as a failed device token.

    As on the tracker endpoints and the API (coordination.lockout): an address locked out by failed
    tokens gets no token however right the key, and each wrong key is counted and audited.
    """
    from axes.handlers.proxy import AxesProxyHandler

    from coordination.lockout import device_credentials

    request = handshake_request(scope)
    if settings.AXES_ENABLED and AxesProxyHandler.is_locked(request, device_credentials(request)):
        return None
    token = token_for_key(bearer_key(scope["headers"]))
    if token is None:
        user_login_failed.send(sender=__name__, credentials=device_credentials(request), request=request)
    return token


class TokenAuthMiddleware:
    """Sets scope["user"] from a bearer token; a wrong token is an anonymous user (refused later)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        token = await database_sync_to_async(socket_token)(scope)
        # token_id: coordination.revocation closes the socket when this token is revoked.
        user, token_id = (token.user, token.pk) if token else (AnonymousUser(), None)
        # This frame lives as long as the socket: it keeps no token row (~1 KB an idle socket, issue 16).
        del token
        return await self.inner(dict(scope, user=user, auth="token", token_id=token_id), receive, send)


def websocket_auth(inner):
    """Token sockets may come without Origin (apps send none); cookie sockets need an allowed Origin.

    The Origin check stops another site from opening a socket with the visitor's session cookie.
    """
    with_cookie = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))
    with_token = TokenAuthMiddleware(inner)

    async def app(scope, receive, send):
        if bearer_key(scope["headers"]):
            return await with_token(scope, receive, send)
        return await with_cookie(scope, receive, send)

    return app
