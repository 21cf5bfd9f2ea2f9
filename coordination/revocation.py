"""Sockets whose access was taken away: a revoked device token, a deactivated person, an ended session.

A socket is authenticated once, at the handshake. Each signed-in socket registers here what it
was signed in with; every frame that writes checks it again (in the database thread that writes,
so a revoked token stores nothing more), and a per-process job (`access_check` in
coordination/jobs.py) checks every open socket of this process in three queries and closes those
whose access is gone with 4401 within ACCESS_CHECK_EVERY_S, also when they send nothing.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from coordination.models import DeviceToken

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    """What a socket was signed in with: always a person, and a device token or a session."""

    user_id: int
    token_id: int | None = None
    session_key: str | None = None

    @classmethod
    def of(cls, scope: dict) -> "Credentials | None":
        """The credentials of a socket's scope, or None when nobody signed in."""
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        if scope.get("token_id") is not None:
            return cls(user.pk, token_id=scope["token_id"])
        session = scope.get("session")
        return cls(user.pk, session_key=getattr(session, "session_key", None))


class Revocable(Protocol):
    credentials: Credentials

    async def close_signed_out(self) -> None: ...


# The open signed-in sockets of this process and the event loop each runs on.
_open: dict[Revocable, asyncio.AbstractEventLoop] = {}


def opened(socket: Revocable) -> None:
    _open[socket] = asyncio.get_running_loop()


def closed(socket: Revocable) -> None:
    _open.pop(socket, None)


def revoked(all_credentials: set[Credentials]) -> set[Credentials]:
    """Those of `all_credentials` whose token was revoked, person deactivated or session ended (3 queries)."""
    if not all_credentials:
        return set()
    user_ids = {c.user_id for c in all_credentials}
    active_users = set(get_user_model().objects.filter(pk__in=user_ids, is_active=True).values_list("pk", flat=True))
    token_ids = {c.token_id for c in all_credentials if c.token_id is not None}
    live_tokens = (
        set(DeviceToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).values_list("pk", flat=True))
        if token_ids
        else set()
    )
    keys = {c.session_key for c in all_credentials if c.session_key is not None}
    live_sessions = (
        set(
            Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
                "session_key", flat=True
            )
        )
        if keys
        else set()
    )
    return {
        c
        for c in all_credentials
        if c.user_id not in active_users
        or (c.token_id is not None and c.token_id not in live_tokens)
        or (c.token_id is None and c.session_key not in live_sessions)
    }


def still_valid(credentials: Credentials | None) -> bool:
    """Whether a socket's credentials still hold (a database query; called before every write)."""
    return credentials is None or not revoked({credentials})


def check() -> int:
    """Close this process's sockets whose access is gone; return how many. Runs in a job's thread."""
    sockets = list(_open.items())  # a copy: the event loop adds and removes while this runs
    gone = revoked({socket.credentials for socket, _loop in sockets})
    closing = 0
    for socket, loop in sockets:
        if socket.credentials in gone:
            closing += 1
            closed(socket)
            if not loop.is_closed():  # an ended loop (a test's) has nothing left to close
                asyncio.run_coroutine_threadsafe(socket.close_signed_out(), loop)
    if closing:
        log.info("closed %d socket(s) whose access was taken away", closing)
    return closing
