"""`manage.py worker`: the once-per-deployment jobs on their clocks (coordination/jobs.py).

Run one beside the server processes (`make run` and docker-compose.yml do). A second one stands
by and takes over when the first goes. `--once` runs every deployment job once and exits (tests,
cron); it refuses while a worker is running them.
"""

import asyncio
import contextlib
import signal

from django.core.management.base import BaseCommand, CommandError

from coordination import jobs, worker


class Command(BaseCommand):
    help = "Run the once-per-deployment jobs: coverage recount, field tick, presence totals, retention purge."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="run every deployment job once, then exit")

    def handle(self, *args, once: bool = False, **options) -> None:
        if once:
            try:
                failed = worker.deployment_jobs_once()
            except worker.WorkerBusy as exc:
                raise CommandError(str(exc)) from None
            if failed:
                raise CommandError(f"Failed: {', '.join(failed)} (see the log); the other jobs ran.")
            self.stdout.write(f"Ran {', '.join(job.name for job in jobs.jobs_for(jobs.Scope.DEPLOYMENT))}.")
            return
        asyncio.run(self.serve())

    async def serve(self) -> None:
        """Run the worker until SIGINT or SIGTERM; a job in progress finishes on its thread."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        run = loop.create_task(worker.worker_run())
        await asyncio.wait([run, loop.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
