"""Logs never carry device tokens, note text or positions (issue 12, item 13): a real Daphne, real requests."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings

from config.accesslog import RedactedAccessLog, RedactQueries, redact

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "Zx9SECRETtokenNOTinLOGS"


def fetch(url: str, data: bytes | None = None, headers=None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def started(url: str) -> bool:
    """Whether the server answers 200 yet: the socket listens before Daphne accepts, so a busy
    machine's first request may time out while it is still importing."""
    try:
        return fetch(url) == 200
    except (TimeoutError, urllib.error.URLError):
        return False


@pytest.fixture
def daphne(db, tmp_path):
    """Daphne as `make run` starts it (default verbosity: the access log on stdout); yields (url, log file)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.set_inheritable(True)
    parsed = urlparse(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "DATABASE_URL": urlunparse(parsed._replace(path="/" + settings.DATABASES["default"]["NAME"])),
        "CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "daphne.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=[sock.fileno()],
        )
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    try:
        deadline = time.monotonic() + 60
        while not started(base + "/konto/logga-in/"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_access_log_of_a_real_daphne_carries_no_token_and_no_position(daphne):
    base, log = daphne
    query = f"id={TOKEN}&lat=58.2755&lon=11.4451&timestamp=1796072331&accuracy=5.0"
    assert fetch(f"{base}/track/osmand/?{query}", data=b"") == 401
    assert fetch(f"{base}/api/snapshot/?token={TOKEN}&deviceid={TOKEN}") in (200, 401)
    assert fetch(f"{base}/api/events/?after=0", headers={"Authorization": f"Bearer {TOKEN}"}) == 401
    time.sleep(0.3)
    text = log.read_text()
    assert "/track/osmand/?…" in text and "/api/snapshot/?…" in text  # the requests are logged, their queries not
    assert TOKEN not in text
    assert "58.2755" not in text and "11.4451" not in text


def test_the_access_log_generator_drops_queries():
    lines = []

    class Stream:
        def write(self, line):
            lines.append(line)

    RedactedAccessLog(Stream())(
        "http",
        "complete",
        {"client": "1.2.3.4:5", "method": "GET", "path": "/track/osmand/?id=s3cret", "status": 200, "size": 0},
    )
    assert "s3cret" not in lines[0] and '"GET /track/osmand/?…"' in lines[0]


def test_our_log_handlers_drop_query_strings():
    record = logging.LogRecord(
        "django.channels.server", logging.WARNING, __file__, 1, "HTTP %s", (f"/api/?token={TOKEN}",), None
    )
    console = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactQueries) for f in h.filters)]
    assert console, "settings.LOGGING's console handler has no RedactQueries filter"
    assert console[0].filter(record) and TOKEN not in record.getMessage()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"GET /track/osmand/?id=abc&lat=1 HTTP/1.1"', '"GET /track/osmand/?… HTTP/1.1"'),
        ("WSCONNECT /ws/field/?token=abc", "WSCONNECT /ws/field/?…"),
        ("GET /api/snapshot/", "GET /api/snapshot/"),
    ],
)
def test_redact_keeps_paths_and_drops_queries(text, expected):
    assert redact(text) == expected
