"""WebSocket clients that behave like static/js/live.js, for the fault runs.

- Every frame goes through an outbox and stays there until the server acks it; after a reconnect
  (and after RESEND_AFTER_S unanswered on an open socket) it is sent again with the same id.
  `not_saved` and `rate_limited` keep it queued for a later try; any other error drops it.
- Every connect says `hello` with the newest seq the client applied; a viewer starts from the
  snapshot over HTTP, applies events by the kinds' rules (the same `apply_event` the snapshot
  tests use), skips seqs it has applied and reloads the snapshot on `resync`.
- Reconnects back off as live.js does (full jitter, 0.25 s to 30 s), and go to the next server each
  time: a proxy without sticky sessions, as docker-compose.yml runs.

Every timing is bounded; nothing here talks to anything but 127.0.0.1.
"""

import asyncio
import contextlib
import json
import random
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

RETRY_CODES = {"not_saved", "rate_limited"}
RESEND_AFTER_S = 8.0  # live.js: 30 s; a run lasts seconds
SEND_EVERY_S = 1 / 15  # below the server's 20 frames a second per socket
# live.js's reconnect backoff: full jitter under an exponential ceiling, at least 250 ms. A faster
# client melts a 500-socket storm down (docs/reliability.md).
BACKOFF_BASE_S, BACKOFF_MAX_S, BACKOFF_MIN_S = 0.5, 30.0, 0.25


def backoff(attempt: int) -> float:
    return max(BACKOFF_MIN_S, random.random() * min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt))


def fetch_snapshot(port: int, token: str) -> dict:
    """GET /api/snapshot/ as the token's user (blocking; run it in a thread)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/snapshot/", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@dataclass
class Ledger:
    """What one client sent and what the server answered, by client id."""

    frames: dict[str, dict] = field(default_factory=dict)  # every frame queued, by id
    acks: dict[str, set[int]] = field(default_factory=dict)  # id -> every seq acked for it
    refused: dict[str, str] = field(default_factory=dict)  # id -> error code (dropped from the outbox)
    sends: int = 0
    resends: int = 0
    retry_errors: int = 0


class Peer:
    """One socket's connection loop: connect, hello, pump the outbox, read; reconnect on loss."""

    path = "/ws/field/"
    watches_events = False

    def __init__(self, name: str, token: str, ports: list[int], *, last_seq: int = 0) -> None:
        self.name, self.token, self.ports = name, token, ports
        self.turn = random.randrange(len(ports))
        self.last_seq = last_seq
        self.outbox: dict[str, dict] = {}
        self.in_flight: dict[str, float] = {}
        self.retry_at: dict[str, float] = {}
        self.sent_once: set[str] = set()
        self.wake = asyncio.Event()  # something new in the outbox
        self.ledger = Ledger()
        self.ws = None
        self.connects = 0
        self.connect_failures = 0
        self.last_error = ""
        self.refusals: list[int] = []  # close codes 4401/4403
        self.deaf = False  # ignore acks (commit-then-drop-before-ack)
        self.paused = asyncio.Event()  # cleared: this client stops reading its socket
        self.paused.set()
        self.online = asyncio.Event()
        self.stopping = False
        self.task: asyncio.Task | None = None

    # --- the outbox ---------------------------------------------------------------------------

    def queue(self, frame: dict) -> str:
        """Put `frame` (with its `id`) in the outbox; it is sent until acked or refused."""
        self.ledger.frames[frame["id"]] = frame
        self.outbox[frame["id"]] = frame
        self.wake.set()
        return frame["id"]

    @property
    def pending(self) -> int:
        return len(self.outbox)

    def _next(self, now: float) -> tuple[dict | None, float]:
        """The frame to send now (interactive before positions), else when the next one is due."""
        due_at, first = now + 1.0, None
        for fid, frame in self.outbox.items():
            due = max(self.in_flight.get(fid, -1e9) + RESEND_AFTER_S, self.retry_at.get(fid, 0))
            if due <= now:
                if frame["type"] != "position":
                    return frame, now
                first = first or frame
            else:
                due_at = min(due_at, due)
        return first, due_at

    async def _pump(self, ws) -> None:
        while True:
            now = time.monotonic()
            frame, due_at = self._next(now)
            if frame is None:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=max(0.01, due_at - now))
                continue
            if frame["id"] in self.sent_once:
                self.ledger.resends += 1
            self.sent_once.add(frame["id"])
            self.in_flight[frame["id"]] = now
            self.ledger.sends += 1
            try:
                await ws.send(json.dumps(frame))
            except ConnectionClosed:
                return  # the reader sees it too and reconnects; the frame goes again then
            await asyncio.sleep(SEND_EVERY_S)

    # --- the connection -----------------------------------------------------------------------

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ports[self.turn % len(self.ports)]}{self.path}"

    async def run(self) -> None:
        attempt = 0
        while not self.stopping:
            try:
                ws = await connect(
                    self.url(),
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    open_timeout=10,
                    ping_interval=None,
                    close_timeout=1,
                    max_size=None,
                    compression=None,
                )
            except Exception as error:  # noqa: BLE001 - refused, reset, timed out: try again later
                self.last_error = f"{type(error).__name__}: {error}"[:200]
                self.connect_failures += 1
                self.turn += 1
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                continue
            attempt = 0
            self.connects += 1
            self.ws, self.deaf = ws, False
            self.in_flight.clear()  # everything unanswered goes again on this socket
            pump = None
            try:
                await ws.send(json.dumps({"type": "hello", "last_seq": self.last_seq}))
                self.online.set()
                pump = asyncio.create_task(self._pump(ws))
                while True:
                    await self.paused.wait()
                    message = await ws.recv()
                    await self.on_message(message)
            except ConnectionClosed as closed:
                if closed.rcvd and closed.rcvd.code in (4401, 4403):
                    self.refusals.append(closed.rcvd.code)
            except Exception:  # noqa: BLE001 - a reset socket ends this connection; the loop reconnects
                pass
            finally:
                self.online.clear()
                self.ws = None
                if pump:
                    pump.cancel()
                with contextlib.suppress(Exception):
                    await ws.close()
            if self.stopping:
                break
            self.turn += 1  # the next connect goes to the next server, as through the proxy
            await asyncio.sleep(backoff(0))

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.task:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task

    def drop(self) -> None:
        """Cut the TCP connection at once, as a lost network does (no close handshake)."""
        if self.ws is not None:
            self.ws.transport.abort()

    # --- frames from the server ---------------------------------------------------------------

    async def on_message(self, message: str) -> None:
        if self.watches_events or not message.startswith('{"type":"event"'):
            await self.on_frame(orjson.loads(message))
        else:
            # A device needs only the seq of an event (for its next hello): no need to parse it all.
            start = message.index('"seq":') + 6
            self.last_seq = max(self.last_seq, int(message[start : message.index(",", start)]))

    async def on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "ack":
            if self.deaf:
                return
            fid = frame["id"]
            self.ledger.acks.setdefault(fid, set()).add(frame["seq"])
            self.outbox.pop(fid, None)
            self.in_flight.pop(fid, None)
            self.retry_at.pop(fid, None)
        elif kind == "error":
            fid = frame.get("id")
            if fid not in self.outbox:
                return
            self.in_flight.pop(fid, None)
            if frame["code"] in RETRY_CODES:
                self.ledger.retry_errors += 1
                self.retry_at[fid] = time.monotonic() + random.uniform(0.5, 1.5)
            else:
                self.ledger.refused[fid] = frame["code"]
                self.outbox.pop(fid, None)
        elif kind == "event":
            self.last_seq = max(self.last_seq, frame["seq"])


class Device(Peer):
    """A field device on /ws/field/: positions, notes and chat through its outbox."""

    def __init__(self, name: str, token: str, ports: list[int], *, team: int, run: str, last_seq: int = 0) -> None:
        super().__init__(name, token, ports, last_seq=last_seq)
        self.team, self.run_id = team, run
        self.n = 0
        self.lat = random.uniform(58.268, 58.280)
        self.lon = random.uniform(11.425, 11.445)

    def new_id(self) -> str:
        self.n += 1
        return f"{self.run_id}-{self.name}-{self.n}"

    def position(self) -> str:
        self.lat += random.uniform(-1e-4, 1e-4)
        self.lon += random.uniform(-1e-4, 1e-4)
        frame = {"type": "position", "lat": round(self.lat, 6), "lon": round(self.lon, 6), "accuracy": 8}
        frame["recorded_at"] = datetime.now(UTC).isoformat()
        return self.queue({**frame, "id": self.new_id()})

    def note(self) -> str:
        frame = {"type": "note", "category": "gathering", "severity": 1, "text": "Samling vid kiosken, lugnt."}
        return self.queue({**frame, "lat": round(self.lat, 6), "lon": round(self.lon, 6), "id": self.new_id()})

    def chat(self) -> str:
        return self.queue(
            {"type": "chat", "channel": f"team.{self.team}", "text": "Vi går mot hamnen.", "id": self.new_id()}
        )

    async def walk(self, *, period: float, until: float, rare: float = 0.1) -> None:
        """A position every `period` seconds and now and then a note or a chat, until `until`."""
        await asyncio.sleep(random.uniform(0, period))
        while time.monotonic() < until and not self.stopping:
            self.position()
            if random.random() < rare:
                self.note() if random.random() < 0.5 else self.chat()
            await asyncio.sleep(period)


class Viewer(Peer):
    """The duty officer's map on /ws/ops/: the snapshot over HTTP, then events by seq."""

    path = "/ws/ops/"
    watches_events = True

    def __init__(self, name: str, token: str, ports: list[int]) -> None:
        super().__init__(name, token, ports)
        self.features: dict[str, dict] = {}
        self.base = 0
        self.applied: set[int] = set()
        self.loading = False
        self.buffer: list[dict] = []
        self.resyncs = 0
        self.events = 0
        self.repeats = 0  # the same seq received again (skipped, as live.js does)

    async def load(self) -> None:
        from coordination.tests.test_snapshot_events import by_id  # Django is set up by then

        snapshot = await self.snapshot()
        self.features, self.base, self.applied = by_id(snapshot), snapshot["seq"], set()
        self.last_seq = snapshot["seq"]

    async def snapshot(self) -> dict:
        """A fresh snapshot from whichever server answers."""
        for attempt in range(40):
            port = self.ports[(self.turn + attempt) % len(self.ports)]
            try:
                return await asyncio.to_thread(fetch_snapshot, port, self.token)
            except Exception:  # noqa: BLE001 - a server down or the database away: the next one, later
                await asyncio.sleep(0.25)
        raise RuntimeError(f"{self.name}: no snapshot from any server")

    def apply(self, event: dict) -> None:
        seq = event["seq"]
        if seq <= self.base or seq in self.applied:
            self.repeats += 1
            return
        from coordination.tests.test_snapshot_events import apply_event

        apply_event(self.features, event, public_only=False)
        self.applied.add(seq)
        self.last_seq = max(self.last_seq, seq)

    async def on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "event":
            self.events += 1
            if self.loading:
                self.buffer.append(frame)
            else:
                self.apply(frame)
        elif kind == "resync":
            self.resyncs += 1
            self.loading = True
            try:
                await self.load()
                waiting, self.buffer = sorted(self.buffer, key=lambda e: e["seq"]), []
                for event in waiting:
                    self.apply(event)
            finally:
                self.loading = False
        else:
            await super().on_frame(frame)

    def differs_from(self, snapshot: dict) -> list[str]:
        """The feature ids where this viewer's picture and `snapshot` disagree."""
        from coordination.tests.test_snapshot_events import by_id

        fresh = by_id(snapshot)
        return sorted(fid for fid in set(fresh) | set(self.features) if fresh.get(fid) != self.features.get(fid))
