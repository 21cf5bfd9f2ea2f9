"""The position stream of one server process: buffer, write in batches, tick coverage.

Positions arrive every few seconds from every device. Writing and broadcasting each on its own
costs a transaction and a group send per report; here they wait at most POSITION_FLUSH_MS (or
until POSITION_FLUSH_ROWS are waiting), go to the database in one statement, and viewers get one
coalesced frame per flush with each moved team's latest position; field devices get every
team's position on a slower tick (FIELD_POSITION_TICK_S). Each device gets its ack only
once its batch has committed.
"""

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings

from coordination import delivery, services
from coordination.errors import NotSaved
from coordination.services import PositionIn, PositionOut

log = logging.getLogger(__name__)

COVERAGE_EVERY_S = 2.0
SWEEP_EVERY_S = 2.0

# One thread (and database connection) each for the batches and for the slower ticks, apart from
# the one the sockets share: in the bench a coverage recount (100-600 ms at 2,500 devices) run in
# line held back every batch behind it, and sockets saying hello queued in front of them.
FLUSH_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narvaro-flush")
TICK_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narvaro-ticks")


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
        if len(self._pending) >= settings.POSITION_FLUSH_ROWS:
            self._wake.set()
        return future

    def start(self) -> None:
        """Run the flush and coverage loop in this event loop (idempotent)."""
        self._ensure_running()

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            # A new event loop (tests start one per test) needs its own task and wake-up event.
            self._loop = loop
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name="narvaro-position-stream")

    async def _run(self) -> None:
        flush_s = settings.POSITION_FLUSH_MS / 1000
        ticks = asyncio.get_running_loop().create_task(self._tick(), name="narvaro-ticks")
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=flush_s)
                self._wake.clear()
                await self.flush()
        finally:
            ticks.cancel()

    async def _tick(self) -> None:
        """Recount coverage, publish the field tick and sweep the log, each on its own period."""
        loop = asyncio.get_running_loop()
        # (seconds between runs, the service, when it last ran); each first runs one period after
        # start, so a restarting server does not burst.
        ticks = [
            [COVERAGE_EVERY_S, services.coverage_refresh, loop.time()],
            [settings.FIELD_POSITION_TICK_S, services.field_positions_refresh, loop.time()],
            [SWEEP_EVERY_S, delivery.sweep, loop.time()],
        ]
        while True:
            # At least 0.1 s: a period of 0 (tests set one) must not spin the loop.
            await asyncio.sleep(max(0.1, min(last + every for every, _, last in ticks) - loop.time()))
            for tick in ticks:
                every, refresh, last = tick
                if loop.time() - last >= every:
                    tick[2] = loop.time()
                    try:
                        await database_sync_to_async(refresh, thread_sensitive=False, executor=TICK_THREAD)()
                    except Exception:
                        log.exception("%s failed", refresh.__name__)

    async def flush(self) -> None:
        """Write everything waiting in one batch and resolve each future."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            record = database_sync_to_async(services.positions_record, thread_sensitive=False, executor=FLUSH_THREAD)
            results = await record(reports=[r for r, _ in batch])
        except Exception:
            log.exception("position batch of %d failed", len(batch))
            results = [
                PositionOut(client_id=r.client_id, error=NotSaved("Positionen kunde inte sparas; skicka igen."))
                for r, _ in batch
            ]
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


stream = PositionStream()
