"""WebSocket consumers, one per audience: field devices, the duty map, the public map.

A consumer looks a frame up in coordination.inbound, calls its service function, and answers `ack`
or `error`; it forwards events built by coordination.events after checking that its user may see
them. It refuses before accept() when the user may not connect.
"""

import asyncio

from channels.db import database_sync_to_async
from django.conf import settings

from coordination import access, groups, services
from coordination.consumers.base import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, BaseConsumer
from coordination.inbound import Socket
from coordination.stream import stream

__all__ = ["CLOSE_FORBIDDEN", "CLOSE_UNAUTHENTICATED", "FieldConsumer", "OpsConsumer", "PublicConsumer"]


class FieldConsumer(BaseConsumer):
    """/ws/field/: field members. Their shift, positions, notes, alerts and chat."""

    socket = Socket.FIELD

    def may_connect(self, viewer: access.Viewer) -> bool:
        return access.may_connect_field(viewer)

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        return [
            groups.FIELD,
            *(groups.group_name("team", t) for t in viewer.team_ids),
            *(groups.group_name("area", a) for a in viewer.duty_area_ids),
        ]

    def handler_for(self, kind: str):
        # Positions are the high-rate stream: batched by coordination.stream, not one service call each.
        return self.on_position if kind == "position" else super().handler_for(kind)

    async def on_position(self, frame: dict) -> None:
        report = services.PositionIn(
            user_id=self.user.pk,
            client_id=frame["id"],
            lat=frame.get("lat"),
            lon=frame.get("lon"),
            accuracy=frame.get("accuracy"),
            recorded_at=frame.get("recorded_at"),
            credentials=self.credentials,  # checked for the whole batch: a revoked token stores nothing more
        )
        if settings.POSITION_PIPELINE == "naive":
            # The bench's peer: one transaction and one group send per position.
            result = await database_sync_to_async(services.positions_record)(reports=[report])
            await self._answer_position(frame["id"], result[0])
            return
        # Not awaited here: the socket keeps reading while the batch waits for its flush. Its result
        # comes back through the socket's own queue, handled in turn (a task per position cost a
        # twentieth of the event loop at 2,500 devices).
        frame_id, inbox = frame["id"], self.inbox
        stream.submit(report).add_done_callback(
            lambda stored: inbox.put_nowait({"type": "position.stored", "id": frame_id, "stored": stored})
        )

    async def position_stored(self, message: dict) -> None:
        """A position's batch has committed (or failed): answer the device with its ack or error."""
        stored: asyncio.Future = message["stored"]
        if not stored.cancelled():
            await self._answer_position(message["id"], stored.result())

    async def _answer_position(self, frame_id: str, result: services.PositionOut) -> None:
        if result.error:
            await self.send_error(frame_id, result.error)
        else:
            await self.send_ack(frame_id, result.seq)


class OpsConsumer(BaseConsumer):
    """/ws/ops/: the duty officer (acknowledges, messages) and the partner (reads only)."""

    socket = Socket.OPS

    def may_connect(self, viewer: access.Viewer) -> bool:
        return access.may_connect_ops(viewer)

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        return [groups.OPS, groups.DUTY] if viewer.is_duty else [groups.OPS]


class PublicConsumer(BaseConsumer):
    """/ws/public/: anyone. Public activities and adults per area, nothing else."""

    # It carries what anyone may see: signing out elsewhere takes nothing away from it.
    revocable = False

    def may_connect(self, viewer: access.Viewer) -> bool:
        return True

    def groups_for(self, viewer: access.Viewer) -> list[str]:
        return [groups.PUBLIC]

    async def load_viewer(self, user) -> access.Viewer:
        # Whoever is signed in, this socket carries what anyone may see (replay included).
        return access.ANONYMOUS
