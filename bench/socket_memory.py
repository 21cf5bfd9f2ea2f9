"""What one idle socket holds: Daphne run in this process under tracemalloc, snapshots diffed
between N and 2N idle sockets, grouped by where the memory was allocated.

    .venv/bin/python bench/socket_memory.py 500            # N = 500: snapshots at 500 and 1,000
    .venv/bin/python bench/socket_memory.py 500 --no-trace # the same counts without tracemalloc (RSS, malloc)

Prints per socket: Python memory by allocation site (tracemalloc, the frames in our code, channels,
channels_redis, Daphne, Twisted, autobahn, asyncio), objects by type (gc), asyncio tasks, and the
process's RSS beside glibc's in-use heap (mallinfo2), so that what RSS holds beyond live objects
(fragmentation, freed-but-kept arenas) shows. The server is `config.asgi:application` under Daphne
with the bench's environment (bench/server.py), without the worker (no field ticks while idle).
Uses bench/results/population.json (bench/setup.py DEVICES 0 first).
"""

import asyncio
import ctypes
import gc
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import PY, ROOT, bench_env, port_open, raise_fd_limit

RESULTS = ROOT / "bench" / "results"
PORT = 8798
AT_ONCE = 8
DEPTH = 30


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def mallinfo() -> dict:
    """glibc's heap: bytes in use by malloc'd blocks, and free bytes it keeps (main arena + mmapped)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {"arena": info.arena, "mmapped": info.hblkhd, "in_use": info.uordblks, "free_kept": info.fordblks}


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --- the server side (this file run with --serve) ---------------------------------------------------


def _dump(_signum, _frame) -> None:
    """SIGUSR1: write counts (and a tracemalloc snapshot when tracing) to the file named in SOCKMEM_OUT."""
    gc.collect()
    out = os.environ["SOCKMEM_OUT"] + f".{int(time.time() * 1000)}"
    types = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    try:
        tasks = asyncio.all_tasks(asyncio.get_event_loop())
        coros = Counter(getattr(t.get_coro(), "__qualname__", "?") for t in tasks)
    except RuntimeError:
        coros = Counter()
    state = {"rss": rss(), "malloc": mallinfo(), "types": dict(types), "tasks": dict(coros)}
    if tracemalloc.is_tracing():
        state["traced"] = tracemalloc.get_traced_memory()[0]
        state["snapshot"] = tracemalloc.take_snapshot()
    Path(out + ".tmp").write_bytes(pickle.dumps(state))
    Path(out + ".tmp").rename(out + ".pickle")


def serve(port: int, trace: bool) -> None:
    if trace:
        tracemalloc.start(DEPTH)
    signal.signal(signal.SIGUSR1, _dump)
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(
        ["-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "120", "config.asgi:application"]
    )


# --- the client side -----------------------------------------------------------------------------


async def open_sockets(devices: list[dict], head: int, into: list) -> None:
    from idle_rss import open_all  # bench/ is on sys.path: the same opener as the idle RSS figures

    into.extend(await open_all(devices, head, port=PORT, timeout=120))


def snapshot(proc: subprocess.Popen, out: str) -> dict:
    before = set(Path(out).parent.glob(Path(out).name + ".*.pickle"))
    proc.send_signal(signal.SIGUSR1)
    deadline = time.time() + 600
    while time.time() < deadline:
        now = set(Path(out).parent.glob(Path(out).name + ".*.pickle")) - before
        if now:
            path = now.pop()
            state = pickle.loads(path.read_bytes())
            path.unlink()
            return state
        time.sleep(0.5)
    raise RuntimeError("no snapshot")


def report(a: dict, b: dict, n: int, top: int) -> dict:
    per = lambda x: round(x / n / 1024, 2)  # noqa: E731 - KB per socket
    result = {
        "rss_kb": per(b["rss"] - a["rss"]),
        "malloc_in_use_kb": per(b["malloc"].get("in_use", 0) - a["malloc"].get("in_use", 0)),
        "malloc_free_kept_kb": per(b["malloc"].get("free_kept", 0) - a["malloc"].get("free_kept", 0)),
        "malloc_mmapped_kb": per(b["malloc"].get("mmapped", 0) - a["malloc"].get("mmapped", 0)),
    }
    print(f"per socket (between {n} and {2 * n} idle sockets):")
    for key, value in result.items():
        print(f"  {key:22} {value:8.2f} KB")
    types = Counter(b["types"])
    types.subtract(a["types"])
    print("objects per socket (gc-tracked, by type):")
    for name, count in types.most_common(40):
        if count / n >= 0.5:
            print(f"  {count / n:6.2f}  {name}")
    tasks = Counter(b["tasks"])
    tasks.subtract(a["tasks"])
    print("asyncio tasks per socket:", {k: round(v / n, 2) for k, v in tasks.items() if v})
    result["tasks"] = {k: round(v / n, 2) for k, v in tasks.items() if v}
    result["types"] = {k: round(v / n, 2) for k, v in types.most_common(40) if v / n >= 0.5}
    if "snapshot" in b:
        result["traced_kb"] = per(b["traced"] - a["traced"])
        print(f"  traced (tracemalloc)   {result['traced_kb']:8.2f} KB")
        stats = b["snapshot"].compare_to(a["snapshot"], "traceback")
        by_site: Counter[str] = Counter()
        by_lib: Counter[str] = Counter()
        for stat in stats:
            frames = list(stat.traceback)[::-1]  # most recent call first (tracemalloc lists oldest first)
            inner = frames[0].filename
            label = next(
                (
                    lib
                    for lib in ("autobahn", "twisted", "daphne", "channels_redis", "channels", "asgiref", "websockets")
                    if f"site-packages/{lib}/" in inner
                ),
                None,
            )
            if label is None:
                label = "asyncio" if "/asyncio/" in inner else "our code" if str(ROOT) in inner else "other"
                if "/lib/python3" in inner and label == "other":
                    label = "stdlib:" + inner.split("/lib/python3")[-1].split("/", 2)[-1]
            by_lib[label] += stat.size_diff
            ours = next((f for f in frames if str(ROOT) in f.filename and "site-packages" not in f.filename), None)
            site = f"{inner.split('site-packages/')[-1].split('/lib/python3.')[-1]}:{frames[0].lineno}"
            if ours is not None and ours is not frames[0]:
                site += f" <- {ours.filename.removeprefix(str(ROOT) + '/')}:{ours.lineno}"
            by_site[site] += stat.size_diff
        print("traced per socket by the innermost frame's package:")
        for label, size in by_lib.most_common():
            if abs(size) / n >= 20:
                print(f"  {per(size):7.2f} KB  {label}")
        print(f"traced per socket by allocation site (top {top}):")
        for site, size in by_site.most_common(top):
            print(f"  {per(size):7.2f} KB  {site}")
        result["by_package_kb"] = {k: per(v) for k, v in by_lib.most_common() if abs(v) / n >= 20}
        result["by_site_kb"] = {k: per(v) for k, v in by_site.most_common(top)}
    return result


async def drive(proc: subprocess.Popen, n: int, out: str, top: int) -> dict:
    from server import BENCH_DB, psql

    devices = json.loads((RESULTS / "population.json").read_text())["devices"]
    head = int(psql("select coalesce(max(seq), 0) from coordination_event", BENCH_DB) or 0)
    sockets: list = []
    # A few sockets first, so that what the first socket of a kind builds once (caches, imports,
    # the layer's reader task) is in the baseline.
    await open_sockets(devices[:16], head, sockets)
    await asyncio.sleep(3)
    await open_sockets(devices[16 : 16 + n], head, sockets)
    await asyncio.sleep(5)
    a = snapshot(proc, out)
    await open_sockets(devices[16 + n : 16 + 2 * n], head, sockets)
    await asyncio.sleep(5)
    b = snapshot(proc, out)
    opened = len(sockets) - 16
    print(f"sockets open: {opened} (+16 warm-up)")
    result = report(a, b, n, top)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return result


def main() -> None:
    if sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), trace=sys.argv[3] == "trace")
        return
    n = int(sys.argv[1])
    trace = "--no-trace" not in sys.argv
    RESULTS.mkdir(exist_ok=True)
    out = str(RESULTS / f"sockmem-{os.getpid()}")
    if port_open(PORT):
        sys.exit(f"port {PORT} is in use")
    env = bench_env(CHANNEL_PREFIX="bench_sockmem", SOCKMEM_OUT=out)
    log = open(RESULTS / "sockmem-server.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [PY, __file__, "--serve", str(PORT), "trace" if trace else "plain"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=raise_fd_limit,
    )
    try:
        deadline = time.time() + 600  # tracemalloc slows the start several times
        while not port_open(PORT):
            if time.time() > deadline or proc.poll() is not None:
                sys.exit("server did not start; see bench/results/sockmem-server.log")
            time.sleep(0.3)
        result = asyncio.run(drive(proc, n, out, top=40))
        result["load_average"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print("load average:", result["load_average"])
        name = f"sockmem-{n}-{'trace' if trace else 'plain'}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=1))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
