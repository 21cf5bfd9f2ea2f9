"""`manage.py worker`'s side of coordination.jobs: the deployment jobs, run by one worker at a time.

A second worker started by accident stands by behind a PostgreSQL advisory lock and takes over
when the first one goes.
"""

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from django.db import DatabaseError, connections

from coordination.events import EVENT_ORDER_LOCK
from coordination.jobs import Scope, describe, jobs_for, run_job, run_jobs

log = logging.getLogger("coordination.jobs")

# Held by the worker that runs the deployment jobs, for as long as it runs them. Advisory locks
# belong to one database, so a test database never competes with a demo on the same server.
WORKER_LOCK = EVENT_ORDER_LOCK + 1


class WorkerBusy(Exception):
    """Another worker runs the deployment jobs."""


class DeploymentLock:
    """The advisory lock of the worker running the deployment jobs, on a database connection of its own.

    A session lock lives as long as its connection; Django's own connections are closed and
    reopened between requests and jobs, so this one stays apart. Use it from one thread.
    """

    def __init__(self) -> None:
        self._db = None
        self.held = False
        self._said: str | None = None

    def hold(self) -> bool:
        """Whether this process holds the lock now, taking it when it is free; a lost connection lost it."""
        try:
            if self._db is None:
                self._db = connections.create_connection("default")
            with self._db.cursor() as cursor:
                if self.held:
                    cursor.execute("SELECT 1")  # the session, and with it the lock, is still there
                else:
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [WORKER_LOCK])
                    self.held = cursor.fetchone()[0]
            self._say("running the deployment jobs" if self.held else "another worker runs them; standing by")
        except DatabaseError as exc:
            self.release()
            self._say(f"no database for the lock ({type(exc).__qualname__}); standing by", level=logging.WARNING)
        return self.held

    def _say(self, what: str, *, level: int = logging.INFO) -> None:
        """Log what the worker does when that changes, not on every check."""
        if what != self._said:
            log.log(level, "worker: %s", what)
            self._said = what

    def release(self) -> None:
        """Let go of the lock (closing its connection ends the session that holds it)."""
        if self._db is not None:
            with contextlib.suppress(DatabaseError):
                self._db.close()
        self._db, self.held = None, False


def deployment_jobs_once() -> list[str]:
    """Run every deployment job once, in this thread; return the names of those that failed.

    Raises WorkerBusy when a running worker holds them: two runners never run them at once.
    """
    lock = DeploymentLock()
    try:
        if not lock.hold():
            raise WorkerBusy("Another worker runs the deployment jobs.")
        return [job.name for job in jobs_for(Scope.DEPLOYMENT) if not run_job(job)]
    finally:
        lock.release()


async def worker_run() -> None:
    """Run the deployment jobs while this process holds the lock, standing by while another does; until cancelled."""
    lock = DeploymentLock()
    lock_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narvaro-worker-lock")
    loop = asyncio.get_running_loop()

    async def may_run() -> bool:
        return await loop.run_in_executor(lock_thread, lock.hold)

    jobs = jobs_for(Scope.DEPLOYMENT)
    log.info("worker: deployment jobs %s", describe(jobs))
    try:
        await run_jobs(jobs, may_run=may_run)
    finally:
        lock_thread.submit(lock.release)
        lock_thread.shutdown(wait=False)
