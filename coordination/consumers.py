"""WebSocket consumers, one per audience: field devices, the duty map, the public map.

A consumer parses a frame, calls the service function, and answers `ack` or `error`; it forwards
events built by coordination.events after checking that its user may see them. It refuses before
accept() when the user may not connect, and it never raises on bad input.
"""

import asyncio
import logging
import time
from datetime import datetime

import orjson
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _

from coordination import access, delivery, groups, selectors, services
from coordination.errors import Invalid, NotSaved, RateLimited, ServiceError, TooLarge
from coordination.events import event_frame
from coordination.stream import stream

log = logging.getLogger(__name__)

# Close codes: 4401 not signed in, 4403 signed in without the role for this socket.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# Live events waiting for the client's hello; past this the client must reload the snapshot.
MAX_PENDING_BEFORE_HELLO = 1000


def _frame(**fields) -> str:
    return orjson.dumps(fields).decode()


class TokenBucket:
    """Allows `rate` frames a second with bursts of twice that (a reconnecting queue resends)."""

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


def _require(frame: dict, name: str, kinds: type | tuple[type, ...], *, optional: bool = False):
    """frame[name] checked against `kinds`; raise Invalid naming the field."""
    if name not in frame or frame[name] is None:
        if optional:
            return None
        raise Invalid(_("Fältet %(field)s saknas.") % {"field": name}, field=name)
    value = frame[name]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise Invalid(_("Fältet %(field)s har fel typ.") % {"field": name}, field=name)
    if not isinstance(value, kinds):
        raise Invalid(_("Fältet %(field)s har fel typ.") % {"field": name}, field=name)
    return value


def _timestamp(frame: dict, name: str) -> datetime:
    value = _require(frame, name, str)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(_("%(field)s måste vara en ISO 8601-tidpunkt.") % {"field": name}, field=name) from None


class BaseConsumer(AsyncWebsocketConsumer):
    """Connect/refuse, hello and replay, in-order forwarding with gap repair, limits and errors."""

    # Frame type -> handler method name; each subclass lists what its audience may send.
    handlers: dict[str, str] = {}

    def may_connect(self, viewer: access.Viewer) -> bool:
        raise NotImplementedError

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        raise NotImplementedError

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
        if not self.may_connect(self.viewer):
            # Refused before accept(): the handshake fails and nothing is sent to this socket.
            await self.close(code=CLOSE_UNAUTHENTICATED if self.viewer.user_id is None else CLOSE_FORBIDDEN)
            return
        self.user = user
        self.bucket = TokenBucket(settings.WS_MAX_FRAMES_PER_SECOND)
        self.joined: set[str] = set()
        self.head: int | None = None  # None until hello: live events wait in `pending`
        self.pending: list[dict] = []
        self.overflow = False
        self.known: dict[str, int] = {}  # per audience: the newest seq accounted for
        self.lock = asyncio.Lock()  # forwarding and replay never interleave
        self.tasks: set[asyncio.Task] = set()
        await self._join(self.groups_for(self.viewer))
        await self.accept()

    async def disconnect(self, code) -> None:
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)
            delivery.left(group)
        for task in getattr(self, "tasks", ()):
            task.cancel()

    async def _join(self, wanted: list[str]) -> None:
        for group in set(wanted) - self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            delivery.joined(group)
        for group in self.joined - set(wanted):
            await self.channel_layer.group_discard(group, self.channel_name)
            delivery.left(group)
        self.joined = set(wanted)

    # --- inbound frames ---------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None) -> None:
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
            handler = self.handlers.get(kind)
            if handler is None:
                raise Invalid(_("Okänd typ %(type)s för den här anslutningen.") % {"type": kind[:40]}, field="type")
            if kind != "hello" and frame_id is None:
                raise Invalid(_("Fältet id saknas (ett UUID som klienten skapar)."), field="id")
            await getattr(self, handler)(frame)
        except ServiceError as error:
            await self.send_error(frame_id, error)
        except Exception:
            log.exception("frame failed")
            await self.send_error(frame_id, NotSaved(_("Kunde inte sparas; försök igen.")))

    async def send_error(self, frame_id, error: ServiceError) -> None:
        fields = {"type": "error", "id": frame_id, "code": error.code, "message": error.message}
        if error.field:
            fields["field"] = error.field
        await self.send(text_data=_frame(**fields))

    async def send_ack(self, frame_id: str, seq: int) -> None:
        await self.send(text_data=_frame(type="ack", id=frame_id, seq=seq))

    async def write(self, frame: dict, service, **kwargs) -> None:
        """Call a service function in the database thread and ack with the stored event's seq."""
        event = await database_sync_to_async(service)(user=self.user, client_id=frame["id"], **kwargs)
        await self.send_ack(frame["id"], event.seq)

    async def on_chat(self, frame: dict) -> None:
        """Field and duty sockets list it in their handlers; chat_send decides who may write where."""
        await self.write(
            frame, services.chat_send, channel=_require(frame, "channel", str), text=_require(frame, "text", str)
        )

    # --- hello and replay -------------------------------------------------------------------------

    async def on_hello(self, frame: dict) -> None:
        last_seq = _require(frame, "last_seq", int)
        async with self.lock:
            # A hello is a fresh start: shifts may have started or ended while this socket was away.
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

    # --- outbound events ------------------------------------------------------------------------

    async def narvaro_event(self, message: dict) -> None:
        """A published event from the channel layer (type narvaro.event)."""
        delivery.received(message["seq"])
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

    async def _deliver(self, *, audience: str, seq: int, kind: str, frame: str) -> None:
        self.known[audience] = seq
        data = orjson.loads(frame)["data"] if kind == "shift" else {}
        if kind == "shift" and data["team"] in self.viewer.team_ids:
            # A shift of one of my teams started or ended: what I may see and which groups I need changed.
            await self.refresh_viewer()
        if access.may_see_event(self.viewer, audience=audience, kind=kind, data=data):
            await self.send(text_data=frame)

    async def refresh_viewer(self) -> None:
        """Re-read roles and shifts (a team's shift started or ended) and rejoin the right groups."""
        self.viewer = await self.load_viewer(self.user)
        await self._join(self.groups_for(self.viewer))


class FieldConsumer(BaseConsumer):
    """/ws/field/: field members. Their shift, positions, notes, alerts and chat."""

    handlers = {
        "hello": "on_hello",
        "shift_start": "on_shift_start",
        "shift_end": "on_shift_end",
        "position": "on_position",
        "status": "on_status",
        "note": "on_note",
        "alert": "on_alert",
        "chat": "on_chat",
    }

    def may_connect(self, viewer: access.Viewer) -> bool:
        return access.may_connect_field(viewer)

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        return [
            groups.FIELD,
            *(groups.group_name("team", t) for t in viewer.team_ids),
            *(groups.group_name("area", a) for a in viewer.duty_area_ids),
        ]

    async def on_shift_start(self, frame: dict) -> None:
        areas = _require(frame, "areas", list, optional=True) or []
        team = _require(frame, "team", int, optional=True)
        await self.write(frame, services.shift_start, team_id=team, area_ids=areas)
        await self.refresh_viewer()

    async def on_shift_end(self, frame: dict) -> None:
        await self.write(frame, services.shift_end)
        await self.refresh_viewer()

    async def on_status(self, frame: dict) -> None:
        await self.write(frame, services.shift_status_set, status=_require(frame, "status", str))

    async def on_note(self, frame: dict) -> None:
        await self.write(
            frame,
            services.note_create,
            category=_require(frame, "category", str),
            severity=_require(frame, "severity", int, optional=True),
            text=_require(frame, "text", str, optional=True) or "",
            lat=_require(frame, "lat", (int, float), optional=True),
            lon=_require(frame, "lon", (int, float), optional=True),
            youth_count=_require(frame, "youth_count", int, optional=True),
        )

    async def on_alert(self, frame: dict) -> None:
        await self.write(
            frame,
            services.alert_raise,
            text=_require(frame, "text", str, optional=True) or "",
            lat=_require(frame, "lat", (int, float), optional=True),
            lon=_require(frame, "lon", (int, float), optional=True),
        )

    async def on_position(self, frame: dict) -> None:
        report = services.PositionIn(
            user_id=self.user.pk,
            client_id=frame["id"],
            lat=_require(frame, "lat", (int, float)),
            lon=_require(frame, "lon", (int, float)),
            accuracy=_require(frame, "accuracy", (int, float), optional=True),
            recorded_at=_timestamp(frame, "recorded_at"),
        )
        if settings.POSITION_PIPELINE == "naive":
            # The bench's peer: one transaction and one group send per position.
            result = await database_sync_to_async(services.positions_record)(reports=[report])
            await self._answer_position(frame["id"], result[0])
            return
        # Not awaited here: the socket keeps reading while the batch waits for its flush.
        task = asyncio.create_task(self._ack_position(frame["id"], stream.submit(report)))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _ack_position(self, frame_id: str, future: asyncio.Future) -> None:
        await self._answer_position(frame_id, await future)

    async def _answer_position(self, frame_id: str, result: services.PositionOut) -> None:
        if result.error:
            await self.send_error(frame_id, result.error)
        else:
            await self.send_ack(frame_id, result.seq)


class OpsConsumer(BaseConsumer):
    """/ws/ops/: the duty officer (acknowledges, messages) and the partner (reads only)."""

    handlers = {
        "hello": "on_hello",
        "ack_note": "on_ack_note",
        "ack_alert": "on_ack_alert",
        "chat": "on_chat",
        "resolve_alert": "on_resolve_alert",
    }

    def may_connect(self, viewer: access.Viewer) -> bool:
        return access.may_connect_ops(viewer)

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        return [groups.OPS, groups.DUTY] if viewer.is_duty else [groups.OPS]

    async def on_ack_note(self, frame: dict) -> None:
        await self.write(frame, services.note_acknowledge, note_id=_require(frame, "note", int))

    async def on_ack_alert(self, frame: dict) -> None:
        await self.write(frame, services.alert_acknowledge, alert_id=_require(frame, "alert", int))

    async def on_resolve_alert(self, frame: dict) -> None:
        await self.write(frame, services.alert_resolve, alert_id=_require(frame, "alert", int))


class PublicConsumer(BaseConsumer):
    """/ws/public/: anyone. Public activities and adults per area, nothing else."""

    handlers = {"hello": "on_hello"}

    def may_connect(self, viewer: access.Viewer) -> bool:
        return True

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        return [groups.PUBLIC]

    async def load_viewer(self, user) -> access.Viewer:
        # Whoever is signed in, this socket carries what anyone may see (replay included).
        return access.ANONYMOUS
