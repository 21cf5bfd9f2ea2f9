"""config.collector: a server process holding thousands of sockets is not stopped by full collections.

Each check runs in a fresh interpreter that imports the ASGI application, as Daphne does, then
holds many long-lived objects (the open sockets) while short-lived bursts come and go (batches,
fan-outs), and counts the collector's walks of the whole heap.
"""

import subprocess
import sys
import textwrap

from django.conf import settings

EVENING = """
import gc, sys, time
from collections import deque

import config.asgi  # noqa: F401 - builds the application and tunes the collector, as in a server

if sys.argv[1] == "default":
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
print("frozen:", gc.get_freeze_count())

full, longest, started = [0], [0.0], [0.0]

def watch(phase, info):
    if phase == "start":
        started[0] = time.perf_counter()
    elif info["generation"] == 2:
        full[0] += 1
        longest[0] = max(longest[0], time.perf_counter() - started[0])

gc.callbacks.append(watch)
# 5,000 open sockets of about forty objects each, for the whole evening.
sockets = [{"scope": {"headers": [(b"k", b"v")] * 8}, "known": {}, "queue": deque(), "parts": [[i] for i in range(30)]}
           for _ in range(5_000)]
# Bursts of messages that live a little while (in queues, in a batch waiting for its commit).
recent = deque(maxlen=3)
for round_ in range(400):
    recent.append([{"type": "narvaro.event", "seq": round_, "data": {"n": n}} for n in range(2_500)])
print("full collections:", full[0])
print("longest full collection ms:", round(longest[0] * 1000))
"""


def run(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EVENING), mode],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.BASE_DIR,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_short_lived_bursts_beside_thousands_of_sockets_cause_no_full_collection():
    out = run("tuned")
    assert "full collections: 0" in out, out
    frozen = int(out.split("frozen:")[1].split()[0])
    assert frozen > 50_000, out  # what importing Django and the app built is out of every walk


def test_with_the_default_thresholds_the_same_evening_walks_the_whole_heap():
    """The reference: CPython's defaults promote the bursts and then walk everything, again and again."""
    out = run("default")
    assert int(out.split("full collections:")[1].split()[0]) >= 2, out
