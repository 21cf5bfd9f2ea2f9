"""One load-generator process: real WebSocket clients over loopback (asyncio + websockets).

Started by bench/run.py with a JSON plan file. It connects its field devices and duty viewers
(each sends `hello` first), prints READY, waits for `GO <epoch>` on stdin, then for `duration`
seconds sends a position from every device every `period` seconds and now and then a note, alert
or team chat; it then waits (at most `drain` seconds) for the last acks and for a field tick
after them, closes every socket and writes its measurements as JSON to the plan's `out`. The
viewers' generator (no devices) instead waits for `DONE` on stdin, which the coordinator sends
once every device generator has finished, and closes 3 s later.

The devices of one team walk together (docs/protocol.md has no notion of it; this is the field
as it is): the team's centre walks at ~1.2 m/s inside Lysekil's centre (everyone in one town),
or inside one of ten districts ~2.8 km apart (plan `districts`: a big city), each member a few
metres from it with GPS noise. Duty and partner viewers (/ws/ops/) get a `positions` frame
(audience ops) with every batch: those are the latency samples. Field devices get positions only
on the field tick (audience field, every FIELD_POSITION_TICK_S), their own team's and the near
teams' as deltas; a few "watcher" devices per generator parse those frames (loss and order, how
old the positions in a tick are, how many teams a frame holds; never latency samples); the rest
only count them.

Nothing here talks to anything but 127.0.0.1, and every loop ends by the plan's deadlines.

    python bench/load.py PLAN.json
"""

import asyncio
import contextlib
import json
import math
import random
import resource
import sys
import time
from datetime import UTC, datetime

import orjson
from websockets.asyncio.client import connect

# How much longer than a device generator's drain the viewers wait for DONE at most.
VIEWERS_EXTRA_S = 60
HIST_MS = 60_000  # latency histogram: 1 ms buckets up to 60 s, then one overflow bucket
LYSEKIL = (58.274, 11.435)
BOX = (58.262, 58.286, 11.415, 11.455)  # lat min/max, lon min/max: the town centre and harbour


def district_box(district: int) -> tuple[float, float, float, float]:
    """ "A big city" (plan `districts`): ten districts of ~1.3 × 1.4 km on a 5 × 2 grid ~2.8 km apart."""
    row, col = divmod(district % 10, 5)
    lat = LYSEKIL[0] + (row - 0.5) * 0.025
    lon = LYSEKIL[1] + (col - 2) * 0.05
    return (lat - 0.006, lat + 0.006, lon - 0.012, lon + 0.012)


def histogram() -> list[int]:
    return [0] * (HIST_MS + 1)


def hist_add(hist: list[int], seconds: float) -> None:
    ms = int(seconds * 1000)
    hist[min(max(ms, 0), HIST_MS)] += 1


_epoch_cache: dict[str, float] = {}


def epoch(iso: str) -> float:
    """Seconds since the epoch of an ISO 8601 time; cached, since every viewer sees the same strings."""
    value = _epoch_cache.get(iso)
    if value is None:
        if len(_epoch_cache) > 500_000:
            _epoch_cache.clear()
        value = _epoch_cache[iso] = datetime.fromisoformat(iso).timestamp()
    return value


def audience_of(event: dict, positions: str) -> str:
    """The audience of an event frame as the server filed it (frames do not carry it).

    `positions` is the audience positions frames have on this socket: "ops" on /ws/ops/, "field"
    on /ws/field/ (each socket gets one of them only).
    """
    kind = event.get("kind")
    if kind == "chat":
        return "chat." + str(event["data"].get("channel"))
    if kind in ("coverage", "activity"):
        return "public"
    if kind == "positions":
        return positions
    return "staff"


M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = 111_320.0 * 0.5255  # cos(58.27°)


async def open_socket(url: str, token: str, head: int):
    """A WebSocket signed in with a device token that has said hello; raises when refused."""
    ws = await connect(
        url,
        additional_headers={"Authorization": f"Bearer {token}"},
        max_size=None,
        compression=None,
        ping_interval=None,
        open_timeout=30,
    )
    await ws.send(orjson.dumps({"type": "hello", "last_seq": head}).decode())
    return ws


class TeamWalk:
    """Where a team is: a centre that walks at ~1.2 m/s with a slowly turning heading, inside its box."""

    def __init__(self, box: tuple[float, float, float, float] = BOX) -> None:
        self.box = box
        self.lat = random.uniform(box[0] + 0.002, box[1] - 0.002)
        self.lon = random.uniform(box[2] + 0.004, box[3] - 0.004)
        self.heading = random.uniform(0, 6.283)
        self.speed = random.uniform(0.6, 1.4)  # m/s, with stops for conversations below
        self.at = time.time()

    def now(self) -> tuple[float, float]:
        now = time.time()
        dt, self.at = min(now - self.at, 30.0), now
        if dt > 0:
            self.heading += random.gauss(0, 0.3)
            step = self.speed * dt if random.random() > 0.2 else 0.0  # one report in five: standing
            self.lat += step * math.cos(self.heading) / M_PER_DEG_LAT
            self.lon += step * math.sin(self.heading) / M_PER_DEG_LON
            box = self.box
            if not box[0] <= self.lat <= box[1] or not box[2] <= self.lon <= box[3]:
                self.heading += 3.1416  # turn back at the edge of the centre
                self.lat = min(max(self.lat, box[0]), box[1])
                self.lon = min(max(self.lon, box[2]), box[3])
        return self.lat, self.lon


class Stats:
    def __init__(self, start_at: float, seconds: int) -> None:
        self.start_at = start_at
        self.sent = {"position": 0, "note": 0, "alert": 0, "chat": 0}
        self.acked = {"position": 0, "note": 0, "alert": 0, "chat": 0}
        self.errors: dict[str, int] = {}
        self.ack_hist = histogram()
        self.pos_hist = histogram()
        self.rare_hist = histogram()  # ack latency of notes/alerts/chat (viewer latency is joined later)
        self.ack_timeline = [0] * (seconds + 1)
        self.pos_seqs: list[int] = []
        self.rare_acked: list[tuple[str, int, float]] = []
        self.team_last_acked: dict[int, float] = {}
        self.connect_failures = 0
        self.connect_errors: dict[str, int] = {}
        self.device_disconnects = 0
        self.device_event_frames = 0
        self.device_event_bytes = 0
        self.field_ticks = 0  # positions frames (audience field) received by all devices
        self.field_tick_bytes = 0
        self.field_age_hist = histogram()  # watchers: age of each team's position in a tick


class Device:
    def __init__(self, spec: dict, plan: dict, stats: Stats, walk: TeamWalk, watcher: bool = False) -> None:
        self.user, self.team, self.token = spec["user"], spec["team"], spec["token"]
        self.url = f"ws://127.0.0.1:{spec['port']}/ws/field/"
        self.plan, self.stats = plan, stats
        self.ws = None
        self.pending: dict[str, tuple[str, float, float]] = {}  # id -> (kind, sent at, recorded_at)
        self.walk = walk
        self.offset = (random.gauss(0, 3.0), random.gauss(0, 3.0))  # metres from the team's centre
        self.lat, self.lon = walk.lat, walk.lon
        self.n = 0
        # A watcher parses the field ticks: newest recorded_at per team, order, ticks seen.
        self.watcher = watcher
        self.seen: dict[int, float] = {}  # what it holds: team -> recorded_at (its scope only)
        self.known: dict[str, int] = {}
        self.order_violations = 0
        self.ticks = 0
        self.teams_per_tick: list[int] = []
        self.stayed = True

    async def open(self) -> bool:
        try:
            self.ws = await open_socket(self.url, self.token, self.plan["head"])
        except Exception as error:  # noqa: BLE001 - a refused or timed-out handshake is counted, not fatal
            self.stats.connect_failures += 1
            reason = type(error).__name__ + ": " + str(error)[:80]
            self.stats.connect_errors[reason] = self.stats.connect_errors.get(reason, 0) + 1
            self.ws = None
            return False
        return True

    async def read(self) -> None:
        stats = self.stats
        try:
            async for message in self.ws:
                if message.startswith('{"type":"ack"'):
                    now = time.time()
                    frame = orjson.loads(message)
                    kind, sent, recorded = self.pending.pop(frame["id"], ("?", now, 0.0))
                    if kind == "?":
                        continue
                    stats.acked[kind] += 1
                    if kind == "position":
                        hist_add(stats.ack_hist, now - sent)
                        stats.pos_seqs.append(frame["seq"])
                        if recorded > stats.team_last_acked.get(self.team, 0.0):
                            stats.team_last_acked[self.team] = recorded
                        second = int(now - stats.start_at)
                        if 0 <= second < len(stats.ack_timeline):
                            stats.ack_timeline[second] += 1
                    else:
                        hist_add(stats.rare_hist, now - sent)
                        stats.rare_acked.append((kind, frame["seq"], sent))
                elif message.startswith('{"type":"error"'):
                    frame = orjson.loads(message)
                    self.pending.pop(frame.get("id"), None)
                    stats.errors[frame["code"]] = stats.errors.get(frame["code"], 0) + 1
                else:
                    stats.device_event_frames += 1
                    stats.device_event_bytes += len(message)
                    if '"kind":"positions"' in message[:80]:
                        stats.field_ticks += 1
                        stats.field_tick_bytes += len(message)
                        if self.watcher:
                            self.watch(message)
                    elif self.watcher and message.startswith('{"type":"event"'):
                        self.watch(message)
        except Exception:  # noqa: BLE001 - a socket the server closed ends its reader; counted below
            pass
        if not self.plan.get("closing"):
            stats.device_disconnects += 1
            self.stayed = False

    def watch(self, message: str) -> None:
        """A watcher's view of an event: per-audience order; for a field tick, each team's position."""
        now = time.time()
        frame = orjson.loads(message)
        audience, seq = audience_of(frame, "field"), frame["seq"]
        if seq <= self.known.get(audience, 0):
            self.order_violations += 1
        self.known[audience] = seq
        if frame["kind"] != "positions":
            return
        self.ticks += 1
        measuring = self.stats.start_at and now >= self.stats.start_at + self.plan.get("warmup", 0)
        data = frame["data"]
        # The device's scope (docs/protocol.md): a full frame replaces what it holds, gone leaves it.
        if data.get("full"):
            self.seen = {}
        for team in data.get("gone", ()):
            self.seen.pop(team, None)
        self.teams_per_tick.append(len(data["teams"]))
        for team in data["teams"]:
            recorded = epoch(team["recorded_at"])
            if measuring:
                hist_add(self.stats.field_age_hist, now - recorded)
            if recorded > self.seen.get(team["team"], 0.0) or data.get("full"):
                self.seen[team["team"]] = recorded

    async def send(self, frame: dict, kind: str, recorded: float = 0.0) -> None:
        if self.ws is None:
            return
        frame["id"] = f"{self.plan['run']}-{self.user}-{self.n}"
        self.n += 1
        now = time.time()
        self.pending[frame["id"]] = (kind, now, recorded)
        self.stats.sent[kind] += 1
        try:
            await self.ws.send(orjson.dumps(frame).decode())
        except Exception:  # noqa: BLE001 - a send on a closed socket is not an ack; nothing to count
            self.pending.pop(frame["id"], None)

    async def position(self) -> None:
        lat, lon = self.walk.now()
        north = self.offset[0] + random.gauss(0, 4.0)  # the team's spread plus GPS noise, metres
        east = self.offset[1] + random.gauss(0, 4.0)
        box = self.walk.box
        self.lat = min(max(lat + north / M_PER_DEG_LAT, box[0]), box[1])
        self.lon = min(max(lon + east / M_PER_DEG_LON, box[2]), box[3])
        now = datetime.now(UTC)
        await self.send(
            {
                "type": "position",
                "lat": round(self.lat, 6),
                "lon": round(self.lon, 6),
                "accuracy": round(random.uniform(4, 25), 1),
                "recorded_at": now.isoformat(),
            },
            "position",
            now.timestamp(),
        )

    async def rare(self) -> None:
        pick = random.random()
        if pick < 0.5:
            frame = {
                "type": "note",
                "category": random.choice(["gathering", "positive", "unsafe_place"]),
                "severity": random.choice([1, 2]),
                "text": "Samling vid bänkarna, lugnt läge.",
                "lat": round(self.lat, 6),
                "lon": round(self.lon, 6),
                "youth_count": random.randint(2, 15),
            }
            await self.send(frame, "note")
        elif pick < 0.75:
            await self.send({"type": "alert", "text": "Behöver stöd vid busstationen."}, "alert")
        else:
            await self.send({"type": "chat", "channel": f"team.{self.team}", "text": "Vi går mot hamnen."}, "chat")

    async def run(self, start_at: float, end_at: float) -> None:
        period = self.plan["period"]
        at = start_at + random.uniform(0, period)
        while at < end_at and self.ws is not None:
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.position()
            at += period
            # Behind schedule (the generator itself is overloaded): skip, never burst to catch up.
            while at < time.time() - period:
                at += period


class Viewer:
    def __init__(self, spec: dict, plan: dict, start_at_box: list) -> None:
        self.user, self.token = spec["user"], spec["token"]
        self.role = spec.get("role", "duty")  # duty or partner: what it may see (run.py RARE_SEEN_BY)
        self.url = f"ws://127.0.0.1:{spec['port']}/ws/ops/"
        self.plan = plan
        self.start_at_box = start_at_box
        self.ws = None
        self.pos_hist = histogram()
        self.seen: dict[int, float] = {}  # team -> newest recorded_at seen
        self.rare_seen: list[tuple[int, float]] = []
        self.known: dict[str, int] = {}
        self.last_seq = 0
        self.order_violations = 0
        self.global_out_of_order = 0
        self.resyncs = 0
        self.frames = 0
        self.bytes = 0
        self.stayed = True
        self.failed = False

    async def open(self) -> bool:
        try:
            self.ws = await open_socket(self.url, self.token, self.plan["head"])
        except Exception:  # noqa: BLE001 - a refused or timed-out handshake is counted, not fatal
            self.failed = True
            self.stayed = False
            return False
        return True

    async def read(self) -> None:
        try:
            async for message in self.ws:
                now = time.time()
                self.frames += 1
                self.bytes += len(message)
                frame = orjson.loads(message)
                kind = frame.get("type")
                if kind == "resync":
                    self.resyncs += 1
                    continue
                if kind != "event":
                    continue
                seq = frame["seq"]
                audience = audience_of(frame, "ops")
                if seq <= self.known.get(audience, 0):
                    self.order_violations += 1
                self.known[audience] = seq
                if seq <= self.last_seq:
                    self.global_out_of_order += 1
                self.last_seq = max(self.last_seq, seq)
                event_kind = frame["kind"]
                measuring = self.start_at_box[0] is not None and now >= self.start_at_box[0]
                if event_kind == "positions":
                    seen = self.seen
                    for team in frame["data"]["teams"]:
                        recorded = epoch(team["recorded_at"])
                        if measuring:
                            hist_add(self.pos_hist, now - recorded)
                        if recorded > seen.get(team["team"], 0.0):
                            seen[team["team"]] = recorded
                elif event_kind in ("note", "alert", "chat"):
                    self.rare_seen.append((seq, now))
        except Exception:  # noqa: BLE001 - a socket the server closed ends its reader; counted below
            pass
        if not self.plan.get("closing"):
            self.stayed = False


async def gather_bounded(coros, rate: float) -> None:
    """Start `coros` at most `rate` per second (a connection storm would measure the storm)."""
    tasks = []
    for i, coro in enumerate(coros):
        tasks.append(asyncio.create_task(coro))
        if rate and (i + 1) % max(1, int(rate / 20)) == 0:
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)


async def main(plan: dict) -> None:
    duration, drain = plan["duration"], plan["drain"]
    start_box: list = [None]
    stats = Stats(0.0, int(duration) + 1)
    walks: dict[int, TeamWalk] = {}
    for spec in plan["devices"]:
        walks.setdefault(spec["team"], None)
    teams = list(walks)
    # Watchers: the first device of a few teams spread over this generator's teams.
    wanted = min(plan.get("watchers", 4), len(teams))
    watched = {teams[i * len(teams) // wanted] for i in range(wanted)} if wanted else set()
    devices = []
    for spec in plan["devices"]:
        team = spec["team"]
        first = walks[team] is None
        if first:
            # Everyone in one town (BOX), or a big city's districts by team (plan `districts`).
            districts = plan.get("districts") or 0
            walks[team] = TeamWalk(district_box(team % districts) if districts else BOX)
        devices.append(Device(spec, plan, stats, walks[team], watcher=first and team in watched))
    viewers = [Viewer(spec, plan, start_box) for spec in plan["viewers"]]
    readers = []

    async def open_device(device: Device) -> None:
        if await device.open():
            readers.append(asyncio.create_task(device.read()))

    async def open_viewer(viewer: Viewer) -> None:
        if await viewer.open():
            readers.append(asyncio.create_task(viewer.read()))

    opened_at = time.time()
    await gather_bounded([open_viewer(v) for v in viewers], plan["connect_rate"])
    await gather_bounded([open_device(d) for d in devices], plan["connect_rate"])
    connected = sum(d.ws is not None for d in devices) + sum(v.ws is not None for v in viewers)
    print(f"READY {connected} {time.time() - opened_at:.1f}", flush=True)

    # Wait (bounded) for the coordinator's GO with the common start time.
    line = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline), 600)
    start_at = float(line.split()[1])
    stats.start_at = start_at
    start_box[0] = start_at + plan.get("warmup", 0)
    end_at = start_at + duration

    senders = [asyncio.create_task(d.run(start_at, end_at)) for d in devices]

    async def rare_loop() -> None:
        rate = plan["rare_per_s"]
        live = [d for d in devices if d.ws is not None]
        if not rate or not live:
            return
        await asyncio.sleep(max(0.0, start_at - time.time()))
        while True:
            await asyncio.sleep(random.expovariate(rate))
            if time.time() >= end_at:
                return
            await random.choice(live).rare()

    senders.append(asyncio.create_task(rare_loop()))
    await asyncio.wait_for(asyncio.gather(*senders, return_exceptions=True), duration + 60)
    await asyncio.sleep(max(0.0, end_at - time.time()))  # a viewers-only generator has no senders
    # Drain: acks and events of the last positions (bounded).
    drain_until = time.time() + drain
    while time.time() < drain_until and any(d.pending for d in devices):
        await asyncio.sleep(0.2)
    if devices:
        await asyncio.sleep(max(0.0, min(3.0, drain_until - time.time())))
    else:
        # The viewers stay until the coordinator says every device generator has its last acks
        # (DONE on stdin), then 3 s more: an event acked late under overload is one they must see.
        reader = asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, drain + VIEWERS_EXTRA_S)
        await asyncio.sleep(3.0)
    # Then a field tick after the last acks: every watcher holds this generator's teams' latest
    # acked positions (bounded by the drain; the tick is FIELD_POSITION_TICK_S, 10 s by default).
    watchers = [d for d in devices if d.watcher and d.ws is not None and d.stayed]
    own = stats.team_last_acked
    # Each watcher gets only its own team and the teams near it: those it holds must be current.
    while time.time() < drain_until and any(
        w.seen.get(team, 0.0) < at - 1e-6
        for w in watchers
        for team, at in own.items()
        if team in w.seen or team == w.team
    ):
        await asyncio.sleep(0.2)
    plan["closing"] = True
    unanswered = sum(len(d.pending) for d in devices)
    await asyncio.gather(*[c.ws.close() for c in [*devices, *viewers] if c.ws is not None], return_exceptions=True)
    for task in readers:
        task.cancel()

    result = {
        "sent": stats.sent,
        "acked": stats.acked,
        "errors": stats.errors,
        "unanswered": unanswered,
        "connect_failures": stats.connect_failures + sum(v.failed for v in viewers),
        "connect_errors": stats.connect_errors,
        "device_disconnects": stats.device_disconnects,
        "device_event_frames": stats.device_event_frames,
        "device_event_bytes": stats.device_event_bytes,
        "field_ticks": stats.field_ticks,
        "field_tick_bytes": stats.field_tick_bytes,
        "field_age_hist": stats.field_age_hist,
        "watchers": [
            {
                "user": d.user,
                "stayed": d.stayed,
                "team": d.team,
                "seen": d.seen,
                "ticks": d.ticks,
                "teams_per_tick": d.teams_per_tick,
                "order_violations": d.order_violations,
            }
            for d in devices
            if d.watcher and d.ws is not None
        ],
        "ack_hist": stats.ack_hist,
        "rare_ack_hist": stats.rare_hist,
        "ack_timeline": stats.ack_timeline,
        "pos_seqs": stats.pos_seqs,
        "rare_acked": stats.rare_acked,
        "team_last_acked": stats.team_last_acked,
        "viewers": [
            {
                "user": v.user,
                "role": v.role,
                "stayed": v.stayed,
                "pos_hist": v.pos_hist,
                "seen": v.seen,
                "rare_seen": v.rare_seen,
                "order_violations": v.order_violations,
                "global_out_of_order": v.global_out_of_order,
                "resyncs": v.resyncs,
                "frames": v.frames,
                "bytes": v.bytes,
            }
            for v in viewers
        ],
    }
    with open(plan["out"], "wb") as f:
        f.write(orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS))
    print("DONE", flush=True)


if __name__ == "__main__":
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    random.seed(plan.get("seed"))
    asyncio.run(main(plan))
