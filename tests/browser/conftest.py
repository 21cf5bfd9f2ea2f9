"""Browser tests: Debian's Chromium driven by Playwright against the app served by a real Daphne.

The Daphne and worker subprocesses use the pytest test database (its URL rewritten to the test
database's name) and the same Redis and channel prefix, so rows a test commits (transactional_db)
are what the browser sees, and events the test process publishes reach the browser's sockets.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling outside hosts this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
# Inside the test world's hotspot Hamnen.
HARBOUR = {"latitude": 58.2755, "longitude": 11.445}


def listening_socket() -> socket.socket:
    """A socket listening on a port the system picks, for Daphne to adopt.

    Bound here and handed over, not chosen and bound again by Daphne: another checkout's tests may
    take a port between the two, and this test would then talk to their server.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def database_url_for_tests() -> str:
    """DATABASE_URL with the database name replaced by the test database's."""
    parsed = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parsed._replace(path="/" + settings.DATABASES["default"]["NAME"]))


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
def server(request, transactional_db) -> Iterator[str]:
    """Daphne serving config.asgi on a free port, `manage.py worker` beside it as in `make run`; yields the URL.

    One server per test, stopped before pytest-django empties the tables: a server or worker left
    running keeps reading them (the coverage recount, a request still in flight) and can deadlock
    the TRUNCATE. It also means no test inherits another's sockets or caches.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run scripts/browser (make browser)")
    ARTIFACTS.mkdir(exist_ok=True)
    sock = listening_socket()
    port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": settings.REDIS_URL,
        "CHANNEL_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        "DEBUG": "1",
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    log = (ARTIFACTS / "daphne.log").open("a")
    log.write(f"\n=== {request.node.nodeid}\n")
    log.flush()
    # The deployment's jobs (coverage recount, field tick, purge) run in the worker, not in Daphne.
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=[sock.fileno()],
    )
    sock.close()  # Daphne holds its own copy
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/konto/logga-in/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or worker.poll() is not None or time.monotonic() > deadline:
            process.kill()
            worker.kill()
            pytest.fail(f"Daphne or the worker did not start; see {ARTIFACTS / 'daphne.log'}")
        time.sleep(0.2)
    try:
        yield base
    finally:
        stop(process)
        stop(worker)
        log.close()


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch) -> None:
    """Playwright's sync API keeps an event loop in this thread; the ORM calls in a test are still sync."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: the event loop Playwright keeps in this thread ends with the browser tests.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


STATIC_ORIGIN = "http://narvaro.test"


@pytest.fixture
def static_page(browser) -> Iterator[Page]:
    """A blank page on an origin that serves static/ from disk: the front-end modules without a server."""
    context = browser.new_context()

    def serve(route) -> None:
        path = urlparse(route.request.url).path
        if not path.startswith("/static/"):
            route.fulfill(content_type="text/html", body='<!doctype html><html lang="sv"><body></body></html>')
            return
        file = ROOT / "static" / path.removeprefix("/static/")
        if file.is_file() and file.resolve().is_relative_to(ROOT / "static"):
            route.fulfill(path=file, content_type="text/javascript" if file.suffix == ".js" else None)
        else:
            route.fulfill(status=404)

    context.route(f"{STATIC_ORIGIN}/**", serve)
    page = context.new_page()
    page.goto(STATIC_ORIGIN + "/")
    yield page
    context.close()


class Browsers:
    """Opens signed-in browser contexts; tile requests are answered at once (no network here)."""

    def __init__(self, browser: Browser, base: str):
        self.browser, self.base = browser, base
        self.contexts: list[BrowserContext] = []
        self.console: list[str] = []  # what the pages logged, kept for a failure's report

    def context(self, user=None, *, viewport=PHONE, geolocation=None, color_scheme="light") -> BrowserContext:
        options = {"base_url": self.base, "viewport": viewport, "locale": "sv-SE", "timezone_id": "Europe/Stockholm"}
        options["color_scheme"] = color_scheme  # the device's setting night mode follows ("light" or "dark")
        if geolocation:
            options.update(geolocation=geolocation, permissions=["geolocation"])
        context = self.browser.new_context(**options)
        name = getattr(user, "username", "public")
        context.on("console", lambda message: self.console.append(f"{name}: {message.type}: {message.text}"))
        context.on("weberror", lambda error: self.console.append(f"{name}: error: {error.error}"))
        # The map tiles come from OpenStreetMap, which this machine cannot reach: answer empty at once.
        context.route(lambda url: "tile.openstreetmap.org" in url, lambda route: route.fulfill(status=204))
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": self.base}])
        self.contexts.append(context)
        return context

    def page(self, user=None, path: str = "/", **options) -> Page:
        page = self.context(user, **options).new_page()
        page.goto(path)
        return page

    def keep_evidence(self, test: str) -> None:
        """After a failure: a screenshot of every open page and the pages' console, in test-artifacts/."""
        for i, context in enumerate(self.contexts):
            for j, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"failed-{test}-{i}-{j}.png"))
                except Exception:  # noqa: BLE001 - a closed page leaves no picture; the rest still helps
                    continue
        (ARTIFACTS / f"failed-{test}-console.txt").write_text("\n".join(self.console))

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test item, so fixtures can tell a failure at teardown."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def browsers(request, server, browser, transactional_db, settings) -> Iterator[Browsers]:
    # Sessions are made with force_login, so the server never checks a password: hash them cheaply.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    opened = Browsers(browser, server)
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        opened.keep_evidence(request.node.name)
    opened.close()


def off_loop(function: Callable[..., T], /, *args, **kwargs) -> T:
    """Call `function` in another thread: a service publishing after commit needs a thread without
    Playwright's event loop (async_to_sync refuses to run beside one)."""

    def call() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot to test-artifacts/<name>.png (the folder is git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
