"""The periodic jobs in real processes: Daphne's own sweep, and the worker `make run` starts beside it.

No browser here: a plain WebSocket client talks to the same Daphne and worker the browser tests use.
"""

import json
import time

import pytest
from django.utils import timezone
from websockets.sync.client import connect

from coordination import events, services
from coordination.tests.sockets import new_id


def listen(base: str, path: str, user=None):
    """A WebSocket to the test server, signed in with a device token when `user` is given."""
    headers = {}
    if user is not None:
        headers["Authorization"] = f"Bearer {services.device_token_issue(user=user, name='test')[1]}"
    return connect(base.replace("http://", "ws://") + path, origin=base, additional_headers=headers)


def wait_for(sock, predicate, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(sock.recv(timeout=max(0.05, deadline - time.monotonic())))
        if predicate(frame):
            return frame


@pytest.fixture
def alice_on_shift(world) -> None:
    """Before the server starts: a process's first sweep starts from the newest event in the log."""
    services.shift_start(user=world.alice, client_id=new_id())


def test_daphnes_own_sweep_delivers_a_message_the_layer_lost(world, alice_on_shift, server, monkeypatch):
    """config/asgi.py started the sweep in the Daphne process: nothing in the test runs one."""
    with listen(server, "/ws/field/", world.alice) as alice:
        greeting = services.chat_send(user=world.dana, channel="everyone", text="Hej")
        alice.send(json.dumps({"type": "hello", "last_seq": greeting.seq - 1}))
        wait_for(alice, lambda f: f.get("seq") == greeting.seq, timeout=5)  # replayed: the socket is live
        monkeypatch.setattr(events, "publish", lambda event: None)  # the layer drops the only team message
        lost = services.chat_send(user=world.dana, channel=f"team.{world.harbour_team.pk}", text="Ring jouren")
        frame = wait_for(alice, lambda f: f.get("kind") == "chat" and f["seq"] == lost.seq)
    assert frame["data"]["text"] == "Ring jouren"


def test_the_worker_beside_daphne_recounts_coverage_for_the_public(world, server):
    with listen(server, "/ws/public/") as public:
        public.send(json.dumps({"type": "hello", "last_seq": 0}))
        services.shift_start(user=world.alice, client_id=new_id())
        services.position_record(
            user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now()
        )
        frame = wait_for(
            public,
            lambda f: f.get("kind") == "coverage" and {"area": world.hotspot.pk, "adults": 1} in f["data"]["areas"],
        )
    assert frame["type"] == "event"
