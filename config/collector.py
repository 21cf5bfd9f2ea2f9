"""The cyclic garbage collector of a server process, tuned so that it does not stop the server.

Almost everything a socket server allocates dies by reference counting within milliseconds (a
frame, a message, an ack). CPython's collector does not know that: with its default thresholds
(700, 10, 10) a young collection runs every 700 net new container objects, so a burst (a position
batch's results, a fan-out to thousands of sockets) gets examined while still alive, survives, and
is promoted to the old generation. Once those promotions reach a quarter of the old generation the
collector walks the whole heap: at 5,000 open sockets that was a stop of 420-530 ms every 5-6 s,
collecting nothing, and the p99 of every position went with it (issue 16, bench/README.md).

Here:
- `gc.freeze()` once the application is built moves what importing Django and the app made
  (modules, models, URL patterns: it lives as long as the process) out of every later walk.
- A young collection waits for YOUNG net new objects, so a burst is normally gone by then (freed
  by its reference count, which is not the collector's job); the older generations scale with it.
Cyclic garbage still gets collected, only later; it is bounded by the same thresholds.
"""

import gc

# Net new container objects before a young collection (CPython's default: 700), then how many
# young collections per middle one and middle per old one (defaults: 10 and 10).
YOUNG = 50_000
MIDDLE = 20
OLD = 10


def install() -> None:
    """Freeze what exists now and raise the thresholds; call once the ASGI application is built."""
    gc.collect()  # what import-time work left as garbage is freed, not frozen for good
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
