"""config.daphne_speed: Daphne's writes go out at once and in order, and options are not copied per socket.

Each check runs in a fresh interpreter (the patches are process-wide, as in a Daphne process) with a
real socket pair and Twisted's asyncio reactor, the one Daphne runs.
"""

import subprocess
import sys
import textwrap

from django.conf import settings

WRITES = """
import asyncio, socket, sys
import daphne.server  # noqa: F401 - install() patches only inside Daphne
from twisted.internet import asyncioreactor, tcp
from twisted.internet.protocol import Protocol
from config import daphne_speed

patched = daphne_speed.install() if sys.argv[1] == "patched" else False
loop = asyncio.new_event_loop()
reactor = asyncioreactor.AsyncioSelectorReactor(loop)
ours, theirs = socket.socketpair()
ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
connection = tcp.Connection(ours, Protocol(), reactor)
connection.connected = 1
theirs.setblocking(False)

def read_all(size: int) -> bytes:
    got = b""
    for _ in range(20000):
        try:
            got += theirs.recv(1 << 20)
        except BlockingIOError:
            loop.run_until_complete(asyncio.sleep(0.001))  # the reactor's turn to flush its buffer
        if len(got) >= size:
            break
    return got

connection.write(b"ack-1")
try:
    sent_at_once = theirs.recv(100)
except BlockingIOError:
    sent_at_once = b""
print("at once:", sent_at_once == b"ack-1")
print("registered after a small write:", connection in reactor._writers)
big = bytes(range(256)) * 8192  # 2 MB: more than the socket takes now
connection.write(big)
connection.write(b"tail")  # must queue behind what the kernel did not take
print("registered after a big write:", connection in reactor._writers)
stream = sent_at_once + read_all(5 + len(big) + 4 - len(sent_at_once))
print("in order:", stream == b"ack-1" + big + b"tail")
print("unregistered when drained:", connection not in reactor._writers)
"""

OPTIONS = """
import daphne.server  # noqa: F401
from config import daphne_speed
daphne_speed.install()
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet.testing import StringTransport

class Server:
    server_class = None

factory = WebSocketFactory(Server(), server="daphne")
factory.setProtocolOptions(openHandshakeTimeout=7, maxMessagePayloadSize=1234, allowNullOrigin=True)
protocol = factory.buildProtocol(None)
protocol.makeConnection(StringTransport())
copied = [name for name in protocol.CONFIG_ATTRS if name in vars(protocol)]
print("copied per connection:", copied)
# A browser offers permessage-deflate: the accept function is called with the offers alone.
print("compression accept:", protocol.perMessageCompressionAccept([]))
print("options:", protocol.openHandshakeTimeout, protocol.maxMessagePayloadSize, protocol.allowNullOrigin)
"""


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_write_to_an_idle_socket_goes_out_at_once_and_a_big_one_keeps_the_order():
    out = run(WRITES, "patched")
    assert "at once: True" in out
    assert "registered after a small write: False" in out  # no epoll registration for an ack
    assert "registered after a big write: True" in out  # the rest waits for the reactor, as before
    assert "in order: True" in out
    assert "unregistered when drained: True" in out


def test_without_the_patch_twisted_buffers_every_write_until_the_loop_turns():
    """The reference: what the patch changes (if Twisted ever sends at once itself, the patch can go)."""
    out = run(WRITES, "plain")
    assert "at once: False" in out
    assert "registered after a small write: True" in out
    assert "in order: True" in out


def test_daphne_protocol_options_are_set_once_on_the_class_not_copied_to_every_socket():
    out = run(OPTIONS)
    assert "copied per connection: ['perMessageCompressionAccept']" in out  # a function: per connection
    assert "options: 7 1234 True" in out
    assert "compression accept: None" in out


QUEUES = """
import asyncio
import daphne.server  # noqa: F401
from config import daphne_speed
daphne_speed.install()
from daphne.server import Server

async def main():
    got = {}

    async def app(scope, receive, send):
        got[scope["type"]] = receive.__self__

    class Fake:
        connections = {}
        application = staticmethod(app)

        async def handle_reply(self, protocol, message):
            pass

    server = Fake()
    for kind in ("websocket", "http"):
        protocol = object()
        server.connections[protocol] = {}
        queue = Server.create_application(server, protocol, {"type": kind})
        queue.put_nowait({"type": kind + ".connect"})
        await server.connections[protocol]["application_instance"]
        print(kind, type(queue).__name__, got[kind] is queue)

asyncio.run(main())
"""


def test_a_websocket_gets_an_inbox_as_its_queue_and_http_keeps_asyncios():
    """The socket's consumer makes Daphne's queue its channel's queue (coordination.consumers.base)."""
    out = run(QUEUES)
    assert "websocket Inbox True" in out
    assert "http Queue True" in out
