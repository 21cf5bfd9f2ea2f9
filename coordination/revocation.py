"""Sockets whose access was taken away: a revoked device token, a deactivated person, an ended session.

A socket is authenticated once, at the handshake. Each signed-in socket registers here what it
was signed in with; every frame that writes checks it again (in the database thread that writes,
so a revoked token stores nothing more), and a per-process job (`access_check` in
coordination/jobs.py) checks every open socket of this process in one query and closes those
whose access is gone with 4401 within ACCESS_CHECK_EVERY_S, also when they send nothing.
"""

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import Protocol

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
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
    """Those of `all_credentials` whose token was revoked, person deactivated or session ended (one query).

    The credentials go in as three arrays and only the ones whose access is gone come back: the
    per-process check reads every open socket's credentials every few seconds, and `id IN (...)`
    with thousands of values cost a quarter of a busy server's interpreter in the ORM's and
    psycopg's per-value work (issue 16, bench/README.md).
    """
    if not all_credentials:
        return set()
    ordered = list(all_credentials)
    with connection.cursor() as cursor:
        cursor.execute(
            _revoked_sql(),
            [
                [c.user_id for c in ordered],
                [c.token_id for c in ordered],
                [c.session_key for c in ordered],
                timezone.now(),
            ],
        )
        return {ordered[row - 1] for (row,) in cursor.fetchall()}


@functools.cache
def _revoked_sql() -> str:
    """The statement behind `revoked`: the 1-based positions of the credentials whose access is gone."""
    users = get_user_model()._meta.db_table
    tokens = DeviceToken._meta.db_table
    sessions = Session._meta.db_table
    return f"""
        SELECT c.row
        FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) WITH ORDINALITY
             AS c(user_id, token_id, session_key, row)
        LEFT JOIN {users} u ON u.id = c.user_id AND u.is_active
        LEFT JOIN {tokens} t ON t.id = c.token_id AND t.revoked_at IS NULL
        LEFT JOIN {sessions} s ON s.session_key = c.session_key AND s.expire_date > %s
        WHERE u.id IS NULL
           OR (c.token_id IS NOT NULL AND t.id IS NULL)
           OR (c.token_id IS NULL AND s.session_key IS NULL)
    """


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
