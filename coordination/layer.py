"""The channel layer: channels_redis's pub/sub layer, which a Redis outage does not turn into HTTP 500s.

Every consumer gets a channel of its own when it starts, before `connect()`; the pub/sub layer
subscribes to it in Redis, and when Redis is down that raises and the handshake fails with a 500.
Nothing here ever sends to a consumer's own channel (events reach sockets through groups), so a
channel that could not be subscribed is still a working channel in this process: group messages
reach its queue once the consumer has joined its groups, which it retries (coordination.consumers.base).

A group message reaches a process once from Redis, and the layer puts the same raw bytes in the
queue of every local socket in the group; each socket's `receive` then decoded its own copy
(msgpack, the whole pre-encoded frame: a field tick of every team went through it once per device,
issue 16 item 3). PubSubLayer decodes each raw message once and hands every socket the same dict;
consumers only read it (coordination.consumers.base).

Each channel's queue is an `Inbox`, not an asyncio.Queue: a Queue holds four deques (its items,
getters, putters, and its `join()` event's waiters) of 624 bytes each from the start, ~3 KB per idle
socket for a queue that one reader empties at once (issue 16 item 6, bench/README.md).

A socket reads its channel's Inbox itself (`inbox`, `release`) and runs one loop over what the
WebSocket sends and what the layer brings (coordination.consumers.base), where channels ran a task
per source and a new one per message. Under Daphne both arrive in one Inbox: Daphne's queue for the
socket is an Inbox (config.daphne_speed), given to `new_channel` as the channel's queue.

A message for a big group (a field tick or a note to every device: thousands of sockets in one
process) is handed to its sockets FANOUT_CHUNK at a time, each chunk on a later pass of the event
loop, so that what arrives meanwhile (a device's next position, the duty map's frame) does not wait
behind the whole crowd. The duty and partner sockets' groups (PRIORITY_GROUPS) are handed at once:
their sockets are in no other group, so nothing of theirs can be overtaken. Every other message
waits behind the fan-outs in progress, so each socket still gets its messages in arrival order.
"""

import asyncio
import logging
import uuid
from collections import OrderedDict, deque

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)
from redis.exceptions import RedisError

from coordination import groups

log = logging.getLogger(__name__)


class Inbox:
    """A channel's queue for one reader: asyncio.Queue's `put_nowait` and `get`, unbounded, no deque while empty."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque | None = None  # made for a message, dropped once read
        self._waiter: asyncio.Future | None = None

    def put_nowait(self, item) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self):
        """The oldest message, waiting for one if there is none (one reader at a time)."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    def qsize(self) -> int:
        return len(self._items or ())

    def empty(self) -> bool:
        return not self._items


# Sockets handed a message per pass of the event loop (at ~50 µs a socket, ~10 ms a chunk).
FANOUT_CHUNK = 200
# Groups whose sockets are in no other group: handed at once, past any fan-out in progress.
PRIORITY_GROUPS = (groups.OPS, groups.DUTY)


class _Shard(RedisSingleShardConnection):
    def _receive_message(self, message) -> None:
        if message is not None:
            name = message["channel"]
            self.channel_layer.hand_out(name.decode() if isinstance(name, bytes) else name, message["data"])


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        self._priority = {self._get_group_channel_name(group) for group in PRIORITY_GROUPS}
        # Fan-outs in progress, oldest first: [the queues still to be handed the message, the message].
        self._backlog: deque[list] = deque()

    def hand_out(self, name: str, data: bytes) -> None:
        """Put a message from Redis into the queue of channel `name`, or of every channel of group `name`."""
        inbox = self.channels.get(name)
        if inbox is not None:
            targets = [inbox]
        else:
            targets = [self.channels[c] for c in self.groups.get(name, ()) if c in self.channels]
        if name in self._priority or (not self._backlog and len(targets) <= FANOUT_CHUNK):
            for target in targets:
                target.put_nowait(data)
            return
        self._backlog.append([deque(targets), data])
        if len(self._backlog) == 1:
            self._hand_out_chunk()

    def _hand_out_chunk(self) -> None:
        """Hand the oldest fan-out's next chunk, and come back on the next pass while any is left."""
        budget = FANOUT_CHUNK
        while self._backlog and budget:
            targets, data = self._backlog[0]
            while targets and budget:
                targets.popleft().put_nowait(data)
                budget -= 1
            if not targets:
                self._backlog.popleft()
        if self._backlog:
            asyncio.get_running_loop().call_soon(self._hand_out_chunk)

    async def _subscribe_to_channel(self, channel: str, inbox: Inbox | None = None) -> None:
        self.channels[channel] = inbox if inbox is not None else Inbox()
        await self._get_shard(channel).subscribe(channel)

    async def new_channel(self, prefix: str = "specific.", inbox: Inbox | None = None) -> str:
        """A new channel of this process; its queue is `inbox` when given (a socket's own, from Daphne)."""
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        try:
            await self._subscribe_to_channel(channel, inbox)  # registers the channel's queue, then subscribes
        except (RedisError, OSError) as exc:
            log.warning("channel layer unavailable for a new socket: %s", type(exc).__qualname__)
            self.channels.setdefault(channel, inbox if inbox is not None else Inbox())
        return channel


class PubSubLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose new channels survive Redis being down, decoding each message once."""

    # Raw messages remembered with what they decoded to; a group's copies all arrive back to back.
    DECODED = 64

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._decoded: OrderedDict[int, tuple[bytes, dict]] = OrderedDict()

    def inbox(self, channel: str) -> Inbox:
        """The queue of `channel` (from `new_channel`): raw layer messages, and whatever its reader adds."""
        return self._get_layer().channels[channel]

    async def release(self, channel: str) -> None:
        """Forget `channel` and unsubscribe it: what channels_redis does when a channel's `receive` is cancelled."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is None:
            return
        try:
            await layer._get_shard(channel).unsubscribe(channel)
        except (RedisError, OSError) as exc:
            log.warning("channel layer: could not unsubscribe a closed socket's channel: %s", type(exc).__qualname__)

    def deserialize(self, message: bytes) -> dict:
        """The message `message` encodes; the same dict for every socket that receives this raw message."""
        found = self._decoded.get(id(message))
        if found is not None and found[0] is message:  # the same object, not an id reused
            return found[1]
        value = super().deserialize(message)
        self._decoded[id(message)] = (message, value)
        if len(self._decoded) > self.DECODED:
            self._decoded.popitem(last=False)
        return value

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
