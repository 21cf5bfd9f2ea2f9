"""Hostile input: property-based fuzzing of every client frame type and the tracker endpoints.

Thousands of frames with wrong types, huge strings, NUL and other control characters, NaN and
infinite coordinates, lone surrogates and nested junk. Whatever arrives, a socket answers only
with `ack` or an `error` it documents (never `not_saved`, the answer to a server failure), stays
open, and logs no traceback; a tracker answers 200 or a JSON 4xx, never a 500, and stores nothing
when it refuses. Examples are derandomized (the same frames every run) and counted to keep
`make test` short; HYPOTHESIS_PROFILE=explore draws new ones, more of them.
"""

import json
import logging
import math
import os
import uuid
from datetime import UTC, datetime

import orjson
import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from coordination import access, services
from coordination.inbound import FRAMES, Socket
from coordination.models import Alert, ChatMessage, PositionReport, SituationNote
from coordination.tests.sockets import send, socket

pytestmark = [pytest.mark.django_db(transaction=True)]

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", parent=settings.get_profile("ci"), derandomize=False, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The codes an error may carry for bad input; `not_saved` means the server failed, never the input.
INPUT_ERRORS = {"invalid", "forbidden", "not_found", "conflict", "too_large", "rate_limited"}

# --- junk -----------------------------------------------------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x07\x1b[2J",
    "\x7f",
    "\ud800",
    "\udfff tail",
    "\u202e\u200b",
    "x" * 1001,
    "é" * 600,
    "🙂" * 300,
    "NaN",
    "Infinity",
    "-0",
    "1e999",
    "2026-11-30T20:00:00",
    "2026-11-30T20:00:00Z\x00",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00",
    "team.",
    "team.-1",
    "team.99999999999",
    "area.1.2",
    "chat.everyone",
    "everyone\x00",
    "811218-9876",
    "070-123 45 67",
    "'; DROP TABLE coordination_event; --",
    "{}",
    "[]",
]
NASTY_NUMBERS = [
    0,
    -1,
    1,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    1e308,
    -1e308,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
]

texts = st.one_of(
    st.sampled_from(NASTY_TEXT), st.text(max_size=30), st.text(st.characters(max_codepoint=0x1F), max_size=8)
)
numbers = st.one_of(
    st.sampled_from(NASTY_NUMBERS),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),  # NaN and ±inf come from NASTY_NUMBERS, less often
    st.floats(min_value=-200, max_value=200),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
junk = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=8
)


def plausible(name: str):
    """Values near what a field wants, so frames get past the first check and exercise the deeper ones."""
    near = {
        "lat": st.floats(min_value=58.2, max_value=58.3) | st.sampled_from([90, -90, 90.0001, 58]),
        "lon": st.floats(min_value=11.4, max_value=11.5) | st.sampled_from([180, -180, -180.5, 11]),
        "accuracy": st.sampled_from([0, 5.5, 100000, 100001, -1]),
        "recorded_at": st.sampled_from(["@now", "@now", "2026-11-30T20:00:00+01:00", "2026-11-30T19:59:00", "now"]),
        "category": st.sampled_from(["gathering", "other", "vandalism", "Gathering", "positive\x00"]),
        "severity": st.sampled_from([1, 2, 3, 4, "2", 2.0]),
        "youth_count": st.sampled_from([0, 12, 10_000, 10_001, -3]),
        "status": st.sampled_from(["break", "on_round", "need_backup", "asleep"]),
        "channel": st.sampled_from(["everyone", "team.1", "area.1", "team.0", "team.x"]),
        "text": st.sampled_from(["Samling vid kiosken", "ring 0701234567", "rad\nrad\ttab"]) | texts,
        "areas": st.lists(st.integers(min_value=-1, max_value=5), max_size=3),
        "team": st.integers(min_value=-1, max_value=5),
        "note": st.integers(min_value=-1, max_value=5),
        "alert": st.integers(min_value=-1, max_value=5),
        "place": st.integers(min_value=-1, max_value=5),
        "last_seq": st.integers(min_value=-1, max_value=2**64),
    }
    # Seven in ten near the mark: deep enough to reach the checks after the first.
    return st.sampled_from(["junk", "near", "near"]).flatmap(lambda n: junk if n == "junk" else near.get(name, junk))


def frame_fields(socket_kind: Socket) -> dict[str, tuple[str, ...]]:
    """Each frame type this socket takes, with its fields."""
    fields = {name: tuple(frame.fields) for name, frame in FRAMES.items() if socket_kind in frame.sockets}
    fields["hello"] = ("last_seq",)
    if socket_kind == Socket.FIELD:
        fields["position"] = ("lat", "lon", "accuracy", "recorded_at")
    return fields


# A valid frame of each type: the "one bad field" shape breaks exactly one field of it, so the
# junk reaches the check of that field even when it is the last one a service makes.
VALID = {
    "hello": {"last_seq": 0},
    "shift_start": {},
    "shift_end": {},
    "position": {"lat": 58.2755, "lon": 11.445, "accuracy": 5.0, "recorded_at": "@now"},
    "status": {"status": "on_round"},
    "note": {
        "category": "gathering",
        "severity": 2,
        "text": "Samling",
        "lat": 58.2755,
        "lon": 11.445,
        "youth_count": 5,
    },
    "alert": {"text": "Behöver stöd", "lat": 58.2755, "lon": 11.445},
    "chat": {"channel": "everyone", "text": "Hej"},
    "checkin": {"place": 1},
    "ack_note": {"note": 1},
    "ack_alert": {"alert": 1},
    "resolve_alert": {"alert": 1},
}
nasty = st.sampled_from(NASTY_TEXT + NASTY_NUMBERS) | junk


@st.composite
def raw_frames(draw, socket_kind: Socket) -> str | bytes:
    """One client frame as sent on the wire: mostly a JSON object of a real type with junk in it."""
    kinds = frame_fields(socket_kind)
    # sampled_from, not integers: Hypothesis draws small integers far more often than large ones.
    shape = draw(st.sampled_from(["bytes", "text", "junk", "any type"] + ["frame"] * 6 + ["one bad field"] * 6))
    if shape == "bytes":
        return draw(st.binary(max_size=40))
    if shape == "text":
        return draw(st.sampled_from(["", "null", "[]", "1e999", '"hello"', "{", '{"type": NaN}', "x" * 9000]))
    if shape == "junk":
        return json.dumps(draw(junk), allow_nan=True)
    kind = draw(st.sampled_from(sorted(kinds)) | texts) if shape == "any type" else draw(st.sampled_from(sorted(kinds)))
    if shape == "one bad field":
        frame = {"type": kind, "id": str(uuid.uuid4()), **VALID[kind]}
        frame[draw(st.sampled_from(["id", *kinds[kind]]))] = draw(nasty)
        return _encode(frame)
    frame = {"type": kind}
    if draw(st.sampled_from([True] * 5 + [False])):
        frame["id"] = str(uuid.uuid4())
    else:
        frame["id"] = draw(junk)
    for name in kinds.get(kind, ()):
        if draw(st.sampled_from([True] * 4 + [False])):
            frame[name] = draw(plausible(name))
    if draw(st.sampled_from([True] + [False] * 7)):
        frame[draw(texts)] = draw(junk)
    return _encode(frame)


def _encode(frame: dict) -> str:
    # "@now": a recorded_at the server takes as current (drawn values must not depend on the clock).
    return json.dumps(frame, allow_nan=True).replace('"@now"', json.dumps(datetime.now(UTC).isoformat()))


# --- sockets --------------------------------------------------------------------------------------


@pytest.fixture
def fast(settings) -> None:
    """No rate limit in the way (it is tested elsewhere); positions are written at once (group commit)."""
    settings.WS_MAX_FRAMES_PER_SECOND = 1_000_000


@database_sync_to_async
def rows() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (SituationNote, ChatMessage, Alert, PositionReport))


async def answers_to(communicator, raw: str | bytes) -> list[dict]:
    """Send `raw`, then a sentinel that is always refused; every non-event frame up to the sentinel's
    answer (and, for a batched position, up to that position's own answer)."""
    # send_input, not send_to: an empty frame is a frame too.
    key = "bytes" if isinstance(raw, bytes) else "text"
    await communicator.send_input({"type": "websocket.receive", key: raw})
    sentinel = f"sentinel-{uuid.uuid4()}"
    await send(communicator, {"type": "no-such-type", "id": sentinel})
    try:
        sent = orjson.loads(raw)
    except orjson.JSONDecodeError:
        sent = None
    batched = (
        isinstance(sent, dict)
        and sent.get("type") == "position"
        and isinstance(sent.get("id"), str)
        and len(raw) <= 8192
    )
    answers, seen_sentinel, waiting = [], False, batched
    while not seen_sentinel or waiting:
        frame = orjson.loads(await communicator.receive_from(timeout=10))
        if frame.get("id") == sentinel:
            assert (frame["type"], frame["code"]) == ("error", "invalid"), frame
            seen_sentinel = True
            continue
        if frame["type"] in ("event", "resync"):
            continue
        answers.append(frame)
        if batched and frame.get("id") == sent["id"]:
            waiting = False
    return answers


def assert_answered_as_input(answers: list[dict], raw) -> None:
    for answer in answers:
        assert answer["type"] in ("ack", "error"), (raw, answer)
        if answer["type"] == "error":
            assert answer["code"] in INPUT_ERRORS, (raw, answer)
            assert isinstance(answer["message"], str) and answer["message"], (raw, answer)


def no_tracebacks(caplog) -> None:
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, [r.getMessage() for r in failures]


@pytest.fixture
async def alice_on_shift(world):
    await database_sync_to_async(services.shift_start)(user=world.alice, client_id="fuzz-shift")
    return world.alice


@pytest.fixture
async def field_socket(alice_on_shift, fast):
    async with socket("/ws/field/", alice_on_shift) as communicator:
        yield communicator


@pytest.fixture
async def ops_socket(world, fast):
    async with socket("/ws/ops/", world.dana) as communicator:
        yield communicator


@database_sync_to_async
def back_on_shift(user) -> None:
    """Each example starts with the team out (an earlier one may have sent a valid shift_end)."""
    if not access.viewer_for(user).on_duty:
        services.shift_start(user=user, client_id=str(uuid.uuid4()))


@settings(max_examples=150)
@given(frames=st.lists(raw_frames(Socket.FIELD), min_size=8, max_size=25))
async def test_field_frames_of_any_shape_get_an_ack_or_an_input_error(field_socket, alice_on_shift, caplog, frames):
    await back_on_shift(alice_on_shift)
    before = await rows()
    acks = 0
    for raw in frames:
        answers = await answers_to(field_socket, raw)
        assert_answered_as_input(answers, raw)
        acks += sum(a["type"] == "ack" for a in answers)
    if not acks:
        assert await rows() == before  # refused: stored nowhere
    no_tracebacks(caplog)


@settings(max_examples=80)
@given(frames=st.lists(raw_frames(Socket.OPS), min_size=8, max_size=25))
async def test_ops_frames_of_any_shape_get_an_ack_or_an_input_error(ops_socket, caplog, frames):
    before = await rows()
    acks = 0
    for raw in frames:
        answers = await answers_to(ops_socket, raw)
        assert_answered_as_input(answers, raw)
        acks += sum(a["type"] == "ack" for a in answers)
    if not acks:
        assert await rows() == before
    no_tracebacks(caplog)


@pytest.fixture
async def public_socket(world, fast):
    async with socket("/ws/public/") as communicator:
        yield communicator


@settings(max_examples=30)
@given(frames=st.lists(raw_frames(Socket.OPS), min_size=1, max_size=10))
async def test_the_public_socket_answers_anything_but_hello_with_an_error(public_socket, caplog, frames):
    for raw in frames:
        answers = await answers_to(public_socket, raw)
        assert all(a["type"] == "error" and a["code"] in INPUT_ERRORS for a in answers), (raw, answers)
    no_tracebacks(caplog)


# --- tracker endpoints ----------------------------------------------------------------------------

query_values = st.one_of(
    texts,
    st.sampled_from(["58.2755", "11.445", "nan", "inf", "-inf", "1e999", "0x10", "58,2755", "", "1796072331", "-1"]),
    numbers.map(str),
)
OSMAND_NAMES = ["lat", "lon", "timestamp", "accuracy", "location", "speed", "batt", "deviceid", "id"]


def _token_or_junk(key: str, junk_key) -> object:
    return key if junk_key is None else junk_key


def _clean_for_http(value: str) -> str:
    # A query string cannot carry a lone surrogate (it is not UTF-8); percent-encoding carries the rest.
    return value.encode("utf-8", "replace").decode("utf-8")


def assert_tracker_answer(response) -> None:
    assert response.status_code == 200 or 400 <= response.status_code < 500, (response.status_code, response.content)
    if response.status_code != 200:
        body = response.json()
        assert body["code"] and body["message"], body


@pytest.fixture
def tracker_key(world):
    services.shift_start(user=world.alice, client_id="fuzz-shift")
    return services.device_token_issue(user=world.alice, name="fuzz")[1]


@pytest.mark.django_db(transaction=False)
@settings(max_examples=400)
@given(
    params=st.dictionaries(st.sampled_from(OSMAND_NAMES) | texts, query_values, max_size=7),
    junk_key=st.none() | st.sampled_from(NASTY_TEXT) | query_values,
    how=st.sampled_from(["get", "post-query", "post-form", "post-json", "post-traccar-json"]),
    body=junk,
)
def test_osmand_answers_200_or_a_json_4xx_and_stores_only_what_it_accepts(
    tracker_key, caplog, params, junk_key, how, body
):
    params = {_clean_for_http(k): _clean_for_http(v) for k, v in params.items()}
    params["id"] = _clean_for_http(str(_token_or_junk(tracker_key, junk_key)))
    client = APIClient()
    before = PositionReport.objects.count()
    if how == "get":
        response = client.get("/track/osmand/", params)
    elif how == "post-query":
        response = client.generic("POST", "/track/osmand/", "", QUERY_STRING=_query(params))
    elif how == "post-form":
        response = client.post("/track/osmand/", params, format="multipart" if len(params) > 5 else None)
    elif how == "post-json":
        response = client.generic(
            "POST", "/track/osmand/", json.dumps(body, allow_nan=True), content_type="application/json"
        )
    else:
        # JSON may carry what a query cannot: lone surrogates, numbers, nesting; the device id too.
        location = {"timestamp": body, "coords": {"latitude": params.get("lat"), "longitude": body}}
        payload = {"device_id": _token_or_junk(tracker_key, junk_key), "location": location}
        response = client.generic(
            "POST", "/track/osmand/", json.dumps(payload, allow_nan=True), content_type="application/json"
        )
    assert_tracker_answer(response)
    if response.status_code != 200:
        assert PositionReport.objects.count() == before
    no_tracebacks(caplog)


def _query(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


OWNTRACKS_KEYS = ["_type", "lat", "lon", "tst", "acc", "tid", "batt"]


@pytest.mark.django_db(transaction=False)
@settings(max_examples=250)
@given(
    message=st.one_of(
        st.dictionaries(st.sampled_from(OWNTRACKS_KEYS) | texts, junk | query_values, max_size=7).map(
            lambda m: {"_type": "location", **m} if len(m) % 2 else m
        ),
        junk,
    ),
    username=st.sampled_from(["alice", "ALICE", "bob", ""]) | texts,
)
def test_owntracks_answers_200_or_a_json_4xx_and_stores_only_what_it_accepts(tracker_key, caplog, message, username):
    client = APIClient()
    username = _clean_for_http(username).replace(":", "")
    client.credentials(HTTP_AUTHORIZATION=_basic(username, tracker_key))
    before = PositionReport.objects.count()
    response = client.generic(
        "POST", "/track/owntracks/", json.dumps(message, allow_nan=True), content_type="application/json"
    )
    assert_tracker_answer(response)
    if response.status_code != 200:
        assert PositionReport.objects.count() == before
    no_tracebacks(caplog)


def _basic(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
