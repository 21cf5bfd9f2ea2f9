"""What one Daphne process spends per socket and per frame, cut where Daphne's libraries waste it.

Measured in issue 16 (py-spy at 1,000–1,500 devices on one Daphne; bench/README.md):

- **Writes.** A third of the event loop's time went to *writing* frames, most of it not the send.
  Twisted's `FileDescriptor.write` only buffers and registers the socket for writability
  (`startWriting` → the asyncio reactor's `addWriter` → `loop.add_writer` → `epoll_ctl`); the next
  loop pass sends it and unregisters it (`stopWriting` → `epoll_ctl` again). Every ack, duty frame
  and field tick paid for both. asyncio's own transports send at once when nothing is waiting;
  Twisted's TCP connections now do the same: with nothing buffered and no registration pending the
  bytes go to `socket.send` now, and only what the kernel does not take is buffered the usual way.
  The order of bytes is unchanged, and every error still reaches the protocol from the reactor,
  never from inside the caller's `write`.
- **Log text nobody reads.** Autobahn formats its debug lines before the logger drops them: on every
  send (`hltype`/`hlval`, through click's styling) and on every connect (`pformat` of ~40 options).
  In autobahn's WebSocket protocol module those helpers only make log text; they now pass their
  argument through.
- **Options per connection.** Autobahn copies each of the factory's ~40 protocol options onto every
  new connection unless the protocol class has it (`_connectionMade`; 4 KB of instance dict a
  socket). The options Daphne sets are put on its protocol class once, as autobahn allows (all
  but the one that is a function).

- **A queue per socket.** Daphne gives every connection an `asyncio.Queue` (four deques, ~3 KB)
  that one reader empties at once. A WebSocket's queue is a `coordination.layer.Inbox` instead,
  which the socket's consumer also makes its channel-layer queue (coordination.consumers.base), so
  one queue and one loop serve both.

`install()` is called from config/asgi.py, which Daphne imports before it builds its server.
"""

import asyncio
import errno
import functools
import sys
from collections.abc import Callable

_WOULD_BLOCK = (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR)


def _write_now(self, data: bytes) -> None:
    """`Connection.write`: send at once when the socket is idle, else buffer as Twisted does."""
    if (
        self.TLS
        or not self.connected
        or self.disconnecting
        or self._writeDisconnected
        or self._writeDisconnecting
        or self._tempDataBuffer
        or self.offset < len(self.dataBuffer)
        or not data
        or type(data) is not bytes
        or _registered_for_writing(self)
    ):
        _buffered_write(self, data)
        return
    try:
        sent = self.socket.send(data)
    except OSError as error:
        if error.errno not in _WOULD_BLOCK:
            # Buffer it: the reactor's doWrite meets the same error and closes the connection in
            # its own turn, as it would have without this path.
            _buffered_write(self, data)
            return
        sent = 0
    if sent < len(data):
        _buffered_write(self, data[sent:])


# Twisted's own `Connection.write`, kept by `install()`: everything the socket cannot take now goes there.
_buffered_write: Callable[[object, bytes], None]


def _registered_for_writing(connection) -> bool:
    """Whether `connection` waits for writability (True, to be safe, under a reactor not known here)."""
    reactor = connection.reactor
    writers = getattr(reactor, "_writers", None)
    polling = getattr(reactor, "_continuousPolling", None)
    if writers is None or polling is None:
        return True
    return connection in writers or polling.isWriting(connection)


def _passthrough(value, *args, **kwargs):
    return value


def _options_on_the_class(set_protocol_options):
    """Daphne's factory `setProtocolOptions`, which also puts the options on the protocol class."""

    def wrapper(factory, *args, **kwargs):
        set_protocol_options(factory, *args, **kwargs)
        for name in factory.protocol.CONFIG_ATTRS:
            value = getattr(factory, name)
            # A function on the class would become a method (`perMessageCompressionAccept` would get
            # the protocol as its offers): those few stay per connection, as autobahn copies them.
            if not callable(value):
                setattr(factory.protocol, name, value)

    wrapper.narvaro = True
    return wrapper


def _create_application(self, protocol, scope):
    """Daphne's `Server.create_application`, with an Inbox as a WebSocket's input queue.

    As Daphne 4.2's: one application instance a protocol, run as a future, its input queue returned.
    """
    from coordination.layer import Inbox

    assert "application_instance" not in self.connections[protocol]
    input_queue = Inbox() if scope.get("type") == "websocket" else asyncio.Queue()
    scope.setdefault("asgi", {"version": "3.0"})
    application_instance = self.application(
        scope=scope, receive=input_queue.get, send=functools.partial(self.handle_reply, protocol)
    )
    if protocol not in self.connections:
        return None
    self.connections[protocol]["application_instance"] = asyncio.ensure_future(
        application_instance, loop=asyncio.get_event_loop()
    )
    return input_queue


def install() -> bool:
    """Patch the Daphne that imports this application; False (and nothing changed) outside Daphne.

    The write path applies under Twisted's asyncio reactor (the one Daphne runs); under any other
    reactor every write is buffered as before.
    """
    global _buffered_write
    if "daphne.server" not in sys.modules:
        return False
    from twisted.internet import tcp

    if tcp.Connection.write is _write_now:
        return True
    _buffered_write = tcp.Connection.write
    tcp.Connection.write = _write_now

    from autobahn.websocket import protocol

    protocol.hltype = _passthrough
    protocol.hlval = _passthrough
    protocol.pformat = _passthrough

    import daphne
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketFactory

    # A copy of Daphne 4.2's method: another version keeps its own (the consumers work either way).
    if daphne.__version__.startswith("4.2."):
        Server.create_application = _create_application
    if not getattr(WebSocketFactory.setProtocolOptions, "narvaro", False):
        WebSocketFactory.setProtocolOptions = _options_on_the_class(WebSocketFactory.setProtocolOptions)
    return True
