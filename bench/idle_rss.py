"""Idle RSS per socket: one Daphne, N device sockets opened a few at a time (never a handshake
timeout, however loaded the machine), each says hello; then (RSS idle - RSS before) / N.

    BENCH_CONNECT_TIMEOUT=30 .venv/bin/python bench/idle_rss.py 1000 5000

Uses the population of bench/results/population.json (bench/setup.py N first) and the bench
database; only 127.0.0.1.
"""

import asyncio
import json
import sys
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import BENCH_DB, ROOT, Servers, psql

RESULTS = ROOT / "bench" / "results"
PORT = 8797
AT_ONCE = 8  # handshakes in flight at a time


async def open_all(devices: list[dict], head: int, *, port: int = PORT, timeout: float = 60) -> list:
    """Open a field socket per device, AT_ONCE handshakes at a time, each saying hello at `head`."""
    sockets, gate = [], asyncio.Semaphore(AT_ONCE)

    async def one(device: dict) -> None:
        async with gate:
            ws = await connect(
                f"ws://127.0.0.1:{port}/ws/field/",
                additional_headers={"Authorization": f"Bearer {device['token']}"},
                open_timeout=timeout,
                ping_interval=None,
                compression=None,
            )
            # From the present, as a device that loaded its snapshot just now (no replay).
            await ws.send(orjson.dumps({"type": "hello", "last_seq": head}).decode())
            sockets.append(ws)

    results = await asyncio.gather(*(one(d) for d in devices), return_exceptions=True)
    failed = sum(isinstance(r, BaseException) for r in results)
    if failed:
        print(f"   {failed} handshakes failed", flush=True)
    return sockets


async def measure(n: int, devices: list[dict]) -> dict:
    srv = Servers([PORT], variant="batched", prefix=f"bench_idle{n}", log_dir=RESULTS)
    try:
        time.sleep(2)
        base = srv.rss()
        started = time.time()
        head = int(psql("select coalesce(max(seq), 0) from coordination_event", BENCH_DB) or 0)
        sockets = await open_all(devices[:n], head)
        opened = time.time() - started
        await asyncio.sleep(5)  # idle: hellos answered, nothing sent
        idle = srv.rss()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    finally:
        srv.stop()
    result = {
        "sockets": len(sockets),
        "rss_base_mb": round(base / 2**20, 1),
        "rss_idle_mb": round(idle / 2**20, 1),
        "kb_per_idle_socket": round((idle - base) / max(1, len(sockets)) / 1024, 1),
        "connect_s": round(opened, 1),
    }
    print(n, result, flush=True)
    return result


def main() -> None:
    devices = json.loads((RESULTS / "population.json").read_text())["devices"]
    out = {str(n): asyncio.run(measure(n, devices)) for n in map(int, sys.argv[1:])}
    (RESULTS / "idle-rss-latest.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
