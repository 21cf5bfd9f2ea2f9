"""Work on a clock, started on purpose: which jobs run once per deployment and which in every server process.

DEPLOYMENT jobs change or publish shared state, so one runner for the whole deployment is enough:
`manage.py worker` runs them (`make run` and docker-compose.yml start it beside the server). A
second worker started by accident stands by behind a PostgreSQL advisory lock and takes over when
the first one goes.

PROCESS jobs serve one server process's own sockets, so every ASGI server process runs them:
config/asgi.py starts them on the server's event loop when the application is built.

Nothing here starts because a socket connected. Every job runs once when its runner starts, then
every `period` seconds (a setting, see `.env.example`), on a thread and database connection of its
own, so a slow purge never holds back the coverage recount; one failing job is logged and the
others go on.
"""

import asyncio
import contextlib
import enum
import logging
import math
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models.functions import TruncDate

from coordination import delivery, services
from coordination.models import PositionReport, PresenceDay

log = logging.getLogger(__name__)

# A job runs at most this often, whatever its setting says: a period of 0 must not spin.
MIN_PERIOD_S = 0.1
# How often a worker standing by asks whether the deployment jobs are free to take.
STANDBY_RETRY_S = 5.0
# Held by the worker that runs the deployment jobs, for as long as it runs them. Advisory locks
# belong to one database, so a test database never competes with a demo on the same server.
WORKER_LOCK = 0x6E61727661726F + 1  # the event lock ("narvaro") + 1


class Scope(enum.StrEnum):
    DEPLOYMENT = "deployment"  # once per deployment: `manage.py worker`
    PROCESS = "process"  # in every ASGI server process: config/asgi.py


def presence_finished_days() -> int:
    """Sum into PresenceDay each finished day that has raw positions and no totals yet; return the rows stored.

    services.presence_aggregate decides when a day is settled and writes it once; the purge does
    the same before it deletes, this job only makes the totals ready without waiting for it.
    """
    summed = PresenceDay.objects.values("day")
    days = (
        PositionReport.objects.annotate(day=TruncDate("recorded_at"))
        .exclude(day__in=summed)
        .values_list("day", flat=True)
        .distinct()
    )
    return sum(services.presence_aggregate(day=day) for day in days)


@dataclass(frozen=True)
class Job:
    """One piece of work on a clock: where it runs, how often, and what it calls."""

    name: str
    scope: Scope
    every: str  # the setting that holds its period in seconds
    run: Callable[[], object]  # looked up when called, so the services package can move its functions
    does: str

    def period(self) -> float:
        return float(getattr(settings, self.every))


# What runs where. Nothing else in the code base starts work on a clock.
JOBS: tuple[Job, ...] = (
    Job(
        "coverage",
        Scope.DEPLOYMENT,
        "COVERAGE_EVERY_S",
        lambda: services.coverage_refresh(),
        "recount adults per area; publish `coverage` when a count changed",
    ),
    Job(
        "field_tick",
        Scope.DEPLOYMENT,
        "FIELD_POSITION_TICK_S",
        lambda: services.field_positions_refresh(),
        "publish every team's latest position to field devices when one moved",
    ),
    Job(
        "presence",
        Scope.DEPLOYMENT,
        "PRESENCE_EVERY_S",
        lambda: presence_finished_days(),
        "sum person-minutes per area of finished days for the EST reports",
    ),
    Job(
        "purge",
        Scope.DEPLOYMENT,
        "PURGE_EVERY_S",
        lambda: services.positions_purge(),
        "delete raw positions and their events past POSITION_RETENTION_DAYS",
    ),
    Job(
        "sweep",
        Scope.PROCESS,
        "SWEEP_EVERY_S",
        lambda: delivery.sweep(),
        "republish events this process's sockets should have had and the layer lost",
    ),
)


def jobs_for(scope: Scope) -> tuple[Job, ...]:
    return tuple(job for job in JOBS if job.scope == scope)


def describe(jobs: Sequence[Job]) -> str:
    """The jobs and their periods for the log: `coverage every 2 s, field_tick every 10 s`."""
    return ", ".join(f"{job.name} every {job.period():g} s" for job in jobs)


def run_job(job: Job) -> bool:
    """Run `job` once; on failure log it and return False.

    The log names the job, the exception's type and where it was raised, never its message: a
    database error can quote the row it failed on, and rows here hold positions and texts.
    """
    try:
        job.run()
    except Exception as exc:  # noqa: BLE001 - logged; one failing job must not stop the others
        where = "".join(traceback.format_tb(exc.__traceback__))
        log.error("job %s failed: %s\n%s", job.name, type(exc).__qualname__, where)
        return False
    return True


async def run_jobs(jobs: Sequence[Job], *, may_run: Callable[[], Awaitable[bool]] | None = None) -> None:
    """Run each job on its own period and thread until cancelled; never two runs of one job at once.

    `may_run` is asked before every round; while it says no, nothing new starts (a worker standing by).
    """
    loop = asyncio.get_running_loop()
    threads = {job.name: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"narvaro-{job.name}") for job in jobs}
    due = {job.name: loop.time() for job in jobs}
    running: dict[str, asyncio.Task] = {}
    try:
        while True:
            if may_run is None or await may_run():
                for job in jobs:
                    if job.name not in running and loop.time() >= due[job.name]:
                        due[job.name] = loop.time() + max(MIN_PERIOD_S, job.period())
                        run = database_sync_to_async(run_job, thread_sensitive=False, executor=threads[job.name])
                        running[job.name] = loop.create_task(run(job), name=f"narvaro-job-{job.name}")
                idle = [at for name, at in due.items() if name not in running]
                # At least 10 ms: a timer may fire a hair before the due time it was set for.
                wait = max(0.01, min(idle) - loop.time()) if idle else None
            else:
                wait = STANDBY_RETRY_S
            if running:
                # Wake when a job is due or one finishes (a job still running when due waits for itself).
                await asyncio.wait(running.values(), timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(wait if wait is not None else math.inf)
            for name in [name for name, task in running.items() if task.done()]:
                del running[name]
    finally:
        for task in running.values():
            task.cancel()  # the thread finishes the job it is in; nothing waits for its result
        for executor in threads.values():
            executor.submit(connections.close_all)
            executor.shutdown(wait=False)


# --- once per deployment: the worker ------------------------------------------------------------


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


# --- per server process: started from config/asgi.py -------------------------------------------

_process_run: asyncio.Task | None = None


def process_jobs_run() -> asyncio.Task:
    """Run the PROCESS jobs in the running event loop unless they run there already; return their task."""
    global _process_run
    loop = asyncio.get_running_loop()
    if _process_run is None or _process_run.done() or _process_run.get_loop() is not loop:
        jobs = jobs_for(Scope.PROCESS)
        log.info("server process: jobs %s", describe(jobs))
        _process_run = loop.create_task(run_jobs(jobs), name="narvaro-process-jobs")
    return _process_run


def process_jobs_start() -> None:
    """Start this server process's PROCESS jobs on its event loop, as soon as that loop runs (idempotent).

    Called from config/asgi.py. uvicorn imports the application inside its running loop. Daphne
    imports it before its Twisted reactor runs the loop (and implements no ASGI lifespan), so the
    start is handed to the reactor, which calls it once the loop runs.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        reactor = sys.modules.get("twisted.internet.reactor")
        if reactor is None:
            # Imported outside a known server (a test, a shell): no loop of a server's to run on.
            here = describe(jobs_for(Scope.PROCESS))
            log.warning("no server event loop: the process jobs do not run here (%s)", here)
            return
        reactor.callLater(0, process_jobs_run)
        return
    process_jobs_run()
