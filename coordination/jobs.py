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
import enum
import logging
import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections

from coordination import delivery, revocation, services
from coordination.logsafe import log_failure

log = logging.getLogger(__name__)

# A job runs at most this often, whatever its setting says: a period of 0 must not spin.
MIN_PERIOD_S = 0.1
# How often a worker standing by asks whether the deployment jobs are free to take.
STANDBY_RETRY_S = 5.0


class Scope(enum.StrEnum):
    DEPLOYMENT = "deployment"  # once per deployment: `manage.py worker`
    PROCESS = "process"  # in every ASGI server process: config/asgi.py


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
        lambda: services.presence_finished_days(),
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
        "escalate",
        Scope.DEPLOYMENT,
        "ALERT_ESCALATE_EVERY_S",
        lambda: services.alerts_escalate(),
        "escalate alarms unacknowledged past ALERT_ESCALATE_AFTER_S (level 1, then 2: the second contact)",
    ),
    Job(
        "sweep",
        Scope.PROCESS,
        "SWEEP_EVERY_S",
        lambda: delivery.sweep(),
        "republish events this process's sockets should have had and the layer lost",
    ),
    Job(
        "access_check",
        Scope.PROCESS,
        "ACCESS_CHECK_EVERY_S",
        lambda: revocation.check(),
        "close this process's sockets whose token was revoked, person deactivated or session ended",
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
        log_failure(log, f"job {job.name} failed", exc)
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
