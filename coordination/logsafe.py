"""Logging a failure without its message: messages of database errors can quote the row they failed
on, and rows here hold positions, note texts and tokens. The type and where it was raised suffice.
"""

import logging
import traceback


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log `what` failed with `exc`'s type and traceback, never its message (nor its cause's)."""
    where = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s\n%s", what, type(exc).__qualname__, where)
