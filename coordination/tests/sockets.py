"""Helpers for socket tests: connect a named person through the real ASGI app (auth included)."""

import asyncio
import contextlib
import uuid
from contextlib import asynccontextmanager

import orjson
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from coordination import jobs
from coordination.services import device_token_issue


def new_id() -> str:
    return str(uuid.uuid4())


@database_sync_to_async
def token_for(user) -> str:
    return device_token_issue(user=user, name="test")[1]


@asynccontextmanager
async def socket(path: str, user=None, *, hello: int | None = None, headers=None):
    """A connected WebsocketCommunicator for `user` (by device token), always disconnected after."""
    headers = list(headers if headers is not None else [(b"origin", b"http://127.0.0.1")])
    if user is not None:
        headers.append((b"authorization", f"Bearer {await token_for(user)}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    assert connected, f"{path} refused {user} with {code}"
    try:
        if hello is not None:
            await send(communicator, {"type": "hello", "last_seq": hello})
        yield communicator
    finally:
        await communicator.disconnect()


@asynccontextmanager
async def process_jobs():
    """This test's event loop runs the per-process jobs (the delivery sweep) as a server process's does.

    config/asgi.py starts them on a server's loop; a test has no server, so it starts them itself.
    """
    task = jobs.process_jobs_run()
    # A server's first sweep (it starts from the newest event) runs long before its first socket.
    await asyncio.sleep(0.3)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def refused(path: str, user=None, *, headers=None) -> int | None:
    """Try to connect; return the close code the socket was closed with, fail when it stays open.

    A refused socket is accepted and closed at once with 4401 or 4403 (docs/protocol.md), and
    nothing else is sent. Without a user it comes like a browser without a session: with an
    allowed Origin.
    """
    headers = list(headers if headers is not None else [(b"origin", b"http://127.0.0.1")])
    if user is not None:
        headers.append((b"authorization", f"Bearer {await token_for(user)}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    try:
        connected, _code = await communicator.connect(timeout=5)
        assert connected, f"{path}: the handshake itself was refused"
        return await closed_with(communicator)
    finally:
        await communicator.disconnect()


async def handshake_refused(path: str, *, headers) -> bool:
    """Whether the handshake itself is refused (another site's Origin), before any consumer runs."""
    communicator = WebsocketCommunicator(application, path, headers=headers)
    try:
        connected, _code = await communicator.connect(timeout=5)
        return not connected
    finally:
        await communicator.disconnect()


async def closed_with(communicator, timeout: float = 3, *, skip_events: bool = False) -> int:
    """The close code of the next output, which must be a close: no frame before it (events aside if told)."""
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if skip_events and output["type"] == "websocket.send" and orjson.loads(output["text"])["type"] == "event":
            continue
        assert output["type"] == "websocket.close", output
        return output.get("code")


async def send(communicator, frame: dict) -> None:
    await communicator.send_to(text_data=orjson.dumps(frame).decode())


async def receive(communicator, timeout: float = 3, *, skip=()) -> dict:
    """The next frame, passing over events of the kinds in `skip`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = orjson.loads(await communicator.receive_from(timeout=max(0.05, deadline - loop.time())))
        if frame.get("kind") not in skip:
            return frame


async def receive_until(communicator, predicate, timeout: float = 5) -> dict:
    """Skip frames until one matches `predicate` (e.g. an ack among events)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await receive(communicator, timeout=max(0.05, deadline - loop.time()), skip=())
        if predicate(frame):
            return frame


async def nothing_more(communicator, *, ignore=(), timeout: float = 0.5) -> list[dict]:
    """Frames that arrive within `timeout`, except events of the kinds in `ignore`; tests assert this is empty.

    No periodic job runs in a test unless it starts one, so nothing arrives that the test did not cause.

    Uses receive_nothing: a timed-out receive_from would cancel the application under test.
    """
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frame = orjson.loads(await communicator.receive_from())
        if frame.get("kind") not in ignore:
            frames.append(frame)
    return frames
