"""Logs never carry query strings: on /track/ and /api/ they hold device tokens (`?id=`, `?token=`)
and positions. Daphne's access log and every record through our logging handlers drop them.

Daphne writes its access log straight to a stream, not through `logging`; `install()` (called
from config/asgi.py, which Daphne imports before it builds its server) swaps in a generator that
drops the query, whatever command line started Daphne (`make run`, docker-compose, the tests).
`RedactQueries` is a logging filter (settings.LOGGING) for Django's and `runserver`'s request logs.
"""

import logging
import re
import sys

from daphne.access import AccessLogGenerator

# A path's query: from "?" up to the next blank or quote. What remains is the path alone.
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


# A citizen report's private status link holds its token in the path (/tips/status/<token>/).
_STATUS_TOKEN = re.compile(r"(/tips/status/)[^/\s?\"']+")


def redact(text: str) -> str:
    """`text` with the query string of every path in it replaced by `?…`, and status-link tokens by `…`."""
    return _STATUS_TOKEN.sub(r"\1…", _QUERY.sub(r"\1?…", text))


class RedactedAccessLog(AccessLogGenerator):
    """Daphne's NCSA-style access log with `?…` for every query string."""

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None) -> None:
        super().write_entry(host, date, redact(request), status, length, ident, user)


class RedactQueries(logging.Filter):
    """A logging filter that removes query strings from a record's message (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message or "/tips/status/" in message:
            record.msg, record.args = redact(message), None
        return True


def install() -> None:
    """Make the Daphne that is importing this application write its access log without queries."""
    cli = sys.modules.get("daphne.cli")
    if cli is not None:
        cli.AccessLogGenerator = RedactedAccessLog
