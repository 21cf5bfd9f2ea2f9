"""The position stream of one server process: group commit, no timer.

Positions arrive every few seconds from every device. Writing and broadcasting each on its own
costs a transaction and a group send per report. Here a position is written at once when no batch
is in flight; while one is, the positions that arrive gather and go together in the next statement
(at most POSITION_FLUSH_ROWS each). At low load a position therefore waits for nothing but its own
write; at high load the batches grow with the write time and keep the batch throughput. Each batch
is one transaction with one coalesced `positions` frame for the duty viewers (each moved team's
latest position), so that frame follows the same rule. Field devices get positions on the field
tick (a job of `manage.py worker`, coordination/jobs.py). Each device gets its ack only once its
batch has committed; batches run one after another, in the order their positions arrived.
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings

from coordination import services
from coordination.errors import NotSaved
from coordination.logsafe import log_failure
from coordination.services import PositionIn, PositionOut

log = logging.getLogger(__name__)

# A thread (and database connection) of its own for the batches, apart from the one the sockets
# share: in the bench, sockets saying hello queued in front of the batches, and a coverage recount
# run in line (before the jobs moved to the worker) held back every batch behind it.
FLUSH_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narvaro-flush")


class PositionStream:
    """Per-process buffer; `submit` returns a future that resolves once the position is stored."""

    def __init__(self) -> None:
        self._pending: list[tuple[PositionIn, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, report: PositionIn) -> asyncio.Future:
        """Queue `report`; the future gives its PositionOut (seq or error) after the batch commits."""
        self._ensure_running()
        future = asyncio.get_running_loop().create_future()
        self._pending.append((report, future))
        self._wake.set()  # written at once, or with the next batch if one is in flight
        return future

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            # A new event loop (tests start one per test) needs its own task and wake-up event.
            self._loop = loop
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name="narvaro-position-stream")

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Whatever arrived while the previous batch was in flight is written now, together.
            while self._pending:
                await self.flush()

    async def flush(self) -> None:
        """Write what is waiting (at most POSITION_FLUSH_ROWS, oldest first) in one batch; resolve each future."""
        rows = settings.POSITION_FLUSH_ROWS
        batch, self._pending = self._pending[:rows], self._pending[rows:]
        if not batch:
            return
        try:
            record = database_sync_to_async(services.positions_record, thread_sensitive=False, executor=FLUSH_THREAD)
            results = await record(reports=[r for r, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every device gets its answer; the log carries no position
            log_failure(log, f"position batch of {len(batch)} failed", exc)
            results = [
                PositionOut(client_id=r.client_id, error=NotSaved("Positionen kunde inte sparas; skicka igen."))
                for r, _ in batch
            ]
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


stream = PositionStream()
