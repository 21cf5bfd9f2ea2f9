"""What every socket does: connect or refuse, hello and replay, in-order forwarding with gap
repair, limits, and answering each frame with `ack` or `error` (it never raises on bad input).
"""

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext as _

from coordination import access, delivery, fieldscope, revocation, selectors
from coordination.errors import Invalid, NotSaved, RateLimited, ServiceError, TooLarge
from coordination.events import event_frame
from coordination.inbound import FRAMES, Frame, Socket
from coordination.kinds import KINDS, Own
from coordination.layer import Inbox
from coordination.logsafe import log_failure
from coordination.validation import clean_id

log = logging.getLogger(__name__)

# Close codes: 4401 not signed in, 4403 signed in without the role for this socket.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# Live events waiting for the client's hello; past this the client must reload the snapshot.
MAX_PENDING_BEFORE_HELLO = 1000
# While the channel layer (Redis) is down a socket cannot join its groups: it works from the event
# log (hello, replay, writes) and tries again this often, then catches up from the log.
LAYER_RETRY_S = 1.0
# The writes sockets send (notes, alarms, chat, acknowledgements, shifts) go through a thread and
# database connection of their own, in arrival order: on the thread every socket shares they
# queued behind connects, hellos and their replays (a reconnecting crowd would hold back an alarm).
# Positions have theirs too (coordination.stream). Writes still take the event order lock.
WRITE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narvaro-write")


class SignedOut(Exception):
    """The socket's token was revoked, its person deactivated or its session ended."""


def _frame(**fields) -> str:
    return orjson.dumps(fields).decode()


class TokenBucket:
    """Allows `rate` frames a second with bursts of twice that (a reconnecting queue resends)."""

    __slots__ = ("at", "capacity", "rate", "tokens")  # one per socket: no instance dict

    def __init__(self, rate: float) -> None:
        self.rate, self.capacity = rate, rate * 2
        self.tokens, self.at = self.capacity, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class BaseConsumer(AsyncWebsocketConsumer):
    """Connect/refuse, hello and replay, in-order forwarding with gap repair, limits and errors."""

    # The frames this socket stores through a service (coordination.inbound); hello is the base's.
    socket: Socket | None = None
    # Closed when the access it was opened with is taken away (coordination.revocation).
    revocable = True
    # The last field tick this socket got (coordination.fieldscope): the base of the next delta.
    field_last: fieldscope.Sent | None = None
    # The viewer was read by connect and no hello has come yet (on_hello then need not read it again).
    viewer_fresh = False

    def may_connect(self, viewer: access.Viewer) -> bool:
        raise NotImplementedError

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        raise NotImplementedError

    async def __call__(self, scope, receive, send) -> None:
        """Serve one socket: channels' `AsyncConsumer.__call__` with one loop over both sources.

        Channels waits on a task per source (the WebSocket, the channel layer) and makes a new task
        for every message; every event to every socket paid for that (a tenth of the event loop's
        time at 1,000 devices, issue 16). Here both sources arrive in the channel's own Inbox and
        this loop reads it: the same order of arrival, one wake-up a message.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        # Under Daphne the socket's queue is already an Inbox (config.daphne_speed): it becomes the
        # channel's queue too, and nothing needs moving. Elsewhere (uvicorn, the tests) a task moves it.
        daphnes = getattr(receive, "__self__", None)
        own = daphnes if isinstance(daphnes, Inbox) else None
        self.channel_name = await self.channel_layer.new_channel(inbox=own)
        self.inbox = inbox = self.channel_layer.inbox(self.channel_name)
        pump = None if own is not None else asyncio.get_running_loop().create_task(self._pump(receive, inbox))
        try:
            while True:
                message = await inbox.get()
                # Layer messages arrive as raw bytes (decoded once per process), the socket's as dicts.
                if type(message) is not dict:
                    if isinstance(message, BaseException):
                        raise message  # the socket's receive failed: the consumer fails, as in channels
                    message = self.channel_layer.deserialize(message)
                await self.dispatch(message)
        except StopConsumer:
            pass
        finally:
            if pump is not None:
                pump.cancel()
            await self.channel_layer.release(self.channel_name)

    @staticmethod
    async def _pump(receive, inbox) -> None:
        """Move every ASGI message of the socket into `inbox`, in order, until cancelled (or its failure)."""
        try:
            while True:
                inbox.put_nowait(await receive())
        except Exception as exc:  # noqa: BLE001 - handed to the consumer's loop, which raises it
            inbox.put_nowait(exc)

    async def dispatch(self, message: dict) -> None:
        """Run the handler of a socket or channel-layer message (channels' dispatch, minus one hop).

        Channels closes stale database connections in a thread before every message; that is one
        thread round trip per event per socket (a quarter of the server's time under load in the
        bench). Every query here goes through database_sync_to_async, which closes them itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- connection -----------------------------------------------------------------------------

    async def load_viewer(self, user) -> access.Viewer:
        """Who this socket serves, as the access rules see them."""
        return await database_sync_to_async(access.viewer_for)(user)

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.viewer = await self.load_viewer(user)
        # Read for this connect: the first hello uses it instead of reading it again (on_hello).
        self.viewer_fresh = True
        self.signed_out = False
        if not self.may_connect(self.viewer):
            # Accepted, then closed with the reason: a refused handshake reaches a browser as a bare
            # network failure (no code), which it would retry forever. Nothing else is sent.
            self.signed_out = True
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED if self.viewer.user_id is None else CLOSE_FORBIDDEN)
            return
        self.user = user
        self.credentials = revocation.Credentials.of(self.scope) if self.revocable else None
        self.bucket = TokenBucket(settings.WS_MAX_FRAMES_PER_SECOND)
        self.joined: set[str] = set()
        self.head: int | None = None  # None until hello: live events wait in `pending`
        self.pending: list[dict] = []
        self.overflow = False
        self.known: dict[str, int] = {}  # per audience: the newest seq accounted for
        self.lock = asyncio.Lock()  # forwarding and replay never interleave
        self.tasks: set[asyncio.Task] = set()
        self.rejoining: asyncio.Task | None = None
        await self._join_or_retry(self.groups_for(self.viewer))
        await self.accept()
        if self.credentials is not None:
            revocation.opened(self)

    async def disconnect(self, code) -> None:
        if getattr(self, "credentials", None) is not None:
            revocation.closed(self)
        for task in getattr(self, "tasks", ()):
            task.cancel()
        for group in getattr(self, "joined", ()):
            delivery.left(group)
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:  # noqa: BLE001 - the layer is down: nothing to leave there
                log.warning("leaving %s failed: %s", group, type(exc).__qualname__)
        self.joined = set()

    async def close_signed_out(self) -> None:
        """Close with 4401 because the access this socket was opened with is gone (coordination.revocation)."""
        if not self.signed_out:
            self.signed_out = True
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _join(self, wanted: list[str]) -> None:
        """Join and leave groups until this socket is in exactly `wanted`; raises when the layer fails."""
        wanted = set(wanted)
        for group in sorted(wanted - self.joined):
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)
            delivery.joined(group)
        for group in sorted(self.joined - wanted):
            self.joined.discard(group)
            delivery.left(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join_or_retry(self, wanted: list[str]) -> None:
        """_join; when the channel layer is down, go on from the event log and retry in the background."""
        try:
            await self._join(wanted)
        except Exception as exc:  # noqa: BLE001 - any layer failure; the event log still holds everything
            log.warning("channel layer unavailable (%s); retrying every %g s", type(exc).__qualname__, LAYER_RETRY_S)
            if self.rejoining is None or self.rejoining.done():
                self.rejoining = asyncio.create_task(self._rejoin())
                self.tasks.add(self.rejoining)
                self.rejoining.add_done_callback(self.tasks.discard)

    async def _rejoin(self) -> None:
        """Retry joining this socket's groups; once in, send from the log what the layer could not deliver."""
        while True:
            await asyncio.sleep(LAYER_RETRY_S)
            async with self.lock:
                try:
                    await self._join(self.groups_for(self.viewer))
                except Exception:  # noqa: BLE001 - still down; try again
                    continue
                if self.head is not None:
                    await self._catch_up()
                return

    async def _catch_up(self) -> None:
        """Send every event after `head` this socket may see and has not sent (held: self.lock)."""
        replay = await database_sync_to_async(selectors.events_after)(viewer=self.viewer, after=self.head)
        if replay.resync:
            self.head, self.known = replay.head, {}
            await self.send(text_data=_frame(type="resync", seq=replay.head))
            return
        self.field_last = None  # replayed field ticks are full frames (selectors.events_after)
        for event in replay.events:
            if event.seq > self.known.get(event.audience, self.head):
                frame = event_frame(event)
                await self._deliver(audience=event.audience, seq=event.seq, kind=event.kind, frame=frame, scoped=True)

    # --- inbound frames ---------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.signed_out:
            return  # closing: nothing more is read, answered or stored
        raw = text_data if text_data is not None else bytes_data
        frame_id = None
        try:
            size = len(raw.encode() if isinstance(raw, str) else raw or b"")
            if size > settings.WS_MAX_FRAME_BYTES:
                raise TooLarge(
                    _("Meddelandet är för stort (högst %(max)d byte).") % {"max": settings.WS_MAX_FRAME_BYTES}
                )
            if not self.bucket.take():
                raise RateLimited(_("För många meddelanden; vänta en stund."))
            try:
                frame = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise Invalid(_("Meddelandet är inte JSON.")) from None
            if not isinstance(frame, dict):
                raise Invalid(_("Meddelandet måste vara ett JSON-objekt."))
            frame_id = frame.get("id") if isinstance(frame.get("id"), str) else None
            kind = frame.get("type")
            if not isinstance(kind, str):
                raise Invalid(_("Fältet type saknas."), field="type")
            handler = self.handler_for(kind)
            if handler is None:
                raise Invalid(_("Okänd typ %(type)s för den här anslutningen.") % {"type": kind[:40]}, field="type")
            if kind != "hello" and frame_id is None:
                raise Invalid(_("Fältet id saknas (ett UUID som klienten skapar)."), field="id")
            await handler(frame)
        except ServiceError as error:
            await self.send_error(frame_id, error)
        except SignedOut:
            await self.close_signed_out()
        except Exception as exc:  # noqa: BLE001 - answered; the log names the failure, never the frame
            log_failure(log, "frame failed", exc)
            await self.send_error(frame_id, NotSaved(_("Kunde inte sparas; försök igen.")))

    async def send_error(self, frame_id, error: ServiceError) -> None:
        fields = {"type": "error", "id": frame_id, "code": error.code, "message": error.message}
        if error.field:
            fields["field"] = error.field
        await self.send(text_data=_frame(**fields))

    async def send_ack(self, frame_id: str, seq: int) -> None:
        await self.send(text_data=_frame(type="ack", id=frame_id, seq=seq))

    def handler_for(self, kind: str):
        """The coroutine that answers a frame of `kind` on this socket, or None."""
        if kind == "hello":
            return self.on_hello
        inbound = FRAMES.get(kind)
        if inbound is None or self.socket not in inbound.sockets:
            return None
        return lambda frame: self.write(frame, inbound)

    async def write(self, frame: dict, inbound: Frame) -> None:
        """Store the frame through its service in the writes' thread; ack once it has committed, with its seq."""
        service = functools.partial(inbound.service, user=self.user, client_id=frame["id"], **inbound.kwargs(frame))

        def call():
            # Checked in the writer's thread, right before the write: a revoked token stores nothing more.
            if not revocation.still_valid(self.credentials):
                raise SignedOut
            return service()

        event = await database_sync_to_async(call, thread_sensitive=False, executor=WRITE_THREAD)()
        await self.send_ack(frame["id"], event.seq)
        if inbound.rejoin:
            await self.refresh_viewer()

    # --- hello and replay -------------------------------------------------------------------------

    async def on_hello(self, frame: dict) -> None:
        last_seq = clean_id(frame.get("last_seq"), field="last_seq", message=_("last_seq måste vara ett heltal."))
        async with self.lock:
            # A hello is a fresh start: shifts may have started or ended while this socket was away.
            # The first hello after connect reads the viewer only when it may have changed since
            # connect read it: a shift of one of its teams in what it replays, or a resync.
            fresh, self.viewer_fresh = self.viewer_fresh, False
            if not fresh:
                await self.refresh_viewer()
            replay = await database_sync_to_async(selectors.events_after)(viewer=self.viewer, after=last_seq)
            if fresh and (replay.resync or any(self._own_team_event(event) for event in replay.events)):
                await self.refresh_viewer()
                replay = await database_sync_to_async(selectors.events_after)(viewer=self.viewer, after=last_seq)
            if replay.resync or self.overflow:
                self.head, self.known, self.overflow = replay.head, {}, False
                self.pending = []
                await self.send(text_data=_frame(type="resync", seq=replay.head))
                return
            for event in replay.events:
                await self.send(text_data=event_frame(event))
            self.head, self.known = replay.head, {}
            pending, self.pending = self.pending, []
            for message in pending:
                await self._forward(message)

    def _own_team_event(self, event) -> bool:
        """Is `event` a shift of one of this viewer's teams (what it may see changes with it)?"""
        spec = KINDS.get(event.kind)
        return (
            spec is not None
            and spec.hears_own == Own.TEAM
            and access.hears_own(self.viewer, kind=event.kind, data=event.data)
        )

    # --- outbound events ------------------------------------------------------------------------

    async def narvaro_event(self, message: dict) -> None:
        """A published event from the channel layer (type narvaro.event)."""
        delivery.received(message["seq"], message.get("group"))
        async with self.lock:
            if self.head is None:
                if len(self.pending) >= MAX_PENDING_BEFORE_HELLO:
                    self.overflow = True
                    self.pending = []
                elif not self.overflow:
                    self.pending.append(message)
                return
            await self._forward(message)

    async def _forward(self, message: dict) -> None:
        """Send one event in order for its audience, first fetching any it skipped (a lost message)."""
        audience, seq, prev = message["audience"], message["seq"], message.get("prev", 0)
        known = self.known.get(audience, self.head)
        if seq <= known:
            return  # already sent (replay or gap repair)
        if prev > known:
            missed = await database_sync_to_async(selectors.events_between)(audience=audience, after=known, before=seq)
            for event in missed:
                await self._deliver(audience=audience, seq=event.seq, kind=event.kind, frame=event_frame(event))
        await self._deliver(audience=audience, seq=seq, kind=message.get("kind", ""), frame=message["frame"])

    async def _deliver(self, *, audience: str, seq: int, kind: str, frame: str, scoped: bool = False) -> None:
        """Send one event frame if this socket may see it; a field tick as this socket's scope of it.

        `scoped`: the frame is already this viewer's (a replay from selectors.events_after).
        """
        self.known[audience] = seq
        spec = KINDS.get(kind)
        # Only kinds someone hears as their own need their data read here (most frames go out as they came).
        data = orjson.loads(frame)["data"] if spec and spec.hears_own else {}
        if access.hears_own(self.viewer, kind=kind, data=data):
            if spec.hears_own == Own.TEAM:
                # A shift of one of my teams started or ended: what I may see and which groups I need changed.
                await self.refresh_viewer()
            await self.send(text_data=frame)
        elif access.may_see(self.viewer, audience):
            if kind == "positions" and audience == "field" and not scoped:
                # The stored tick holds every team; this socket gets its own and the near ones, as a delta.
                frame, self.field_last = fieldscope.ticks.frame(
                    seq=seq, frame=frame, own=self.viewer.team_ids, last=self.field_last
                )
            await self.send(text_data=frame)

    async def refresh_viewer(self) -> None:
        """Re-read roles and shifts (a team's shift started or ended) and rejoin the right groups."""
        self.viewer = await self.load_viewer(self.user)
        self.field_last = None  # the next field tick goes out in full (hello, or other teams now)
        await self._join_or_retry(self.groups_for(self.viewer))
