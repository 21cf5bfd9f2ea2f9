"""The fault runs' own deployment on loopback: PostgreSQL, Redis, two Daphnes and the worker.

Nothing here touches the shared development instances (54329, 63799): the PostgreSQL cluster and
the Redis server are private to one `make faults` run, on ports the system hands out, under a
temporary folder, so a scenario may stop, kill and restart them. Everything is torn down at the end.
PostgreSQL refuses to run as root, so as root its programs run as the `postgres` user (as
scripts/services does).
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin" / "python").exists() else Path(sys.executable).parent
PY = str(BIN / "python")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROLE, DATABASE = "narvaro", "narvaro"


def free_port() -> int:
    """A loopback port nobody listens on now (the system picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    """A private PostgreSQL 15 cluster with PostGIS; `stop` and `start` keep its data."""

    def __init__(self, base: Path) -> None:
        self.data = base / "pg"
        self.port = free_port()

    def url(self, database: str = DATABASE) -> str:
        return f"postgis://{ROLE}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        if not (PG_BIN / "postgres").exists():
            raise RuntimeError("PostgreSQL 15 is not installed: run scripts/services start once (it installs it)")
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self.data.chmod(0o700)
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", ROLE, "-E", "UTF8"]
        subprocess.run(as_postgres([*initdb, "--locale=C.UTF-8"]), check=True, capture_output=True, timeout=120)
        self.start()
        self.psql(f"create database {DATABASE}", database="postgres")
        self.psql("create extension postgis", database=DATABASE)

    def start(self) -> None:
        # synchronous_commit stays on, as in production: with it off (scripts/services turns it off
        # for speed) a crash loses the last ~0.6 s of commits that were already acked, and the
        # PostgreSQL scenario sees exactly that. fsync=off only matters for a crash of the machine,
        # which no scenario here simulates.
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.data / "log")]
        subprocess.run(as_postgres([*command, "-o", options, "start"]), check=True, capture_output=True, timeout=90)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `immediate` is a crash: no checkpoint, every connection cut mid-statement."""
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]
        subprocess.run(as_postgres(command), check=False, capture_output=True, timeout=90)

    def psql(self, sql: str, *, database: str = DATABASE) -> str:
        command = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, "-d", database]
        env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
        result = subprocess.run([*command, "-qtAc", sql], check=True, capture_output=True, text=True, env=env)
        return result.stdout.strip()


class Redis:
    """A private Redis without persistence; `stop` loses everything in it, as a crash would."""

    def __init__(self, base: Path) -> None:
        self.dir = base / "redis"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "yes"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        command += ["--pidfile", str(self.dir / "redis.pid"), "--logfile", str(self.dir / "redis.log")]
        subprocess.run(command, check=True, timeout=30)
        wait_until(self.alive, timeout=10, what="redis")

    def alive(self) -> bool:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return result.stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True, timeout=10)
        wait_until(lambda: not port_open(self.port), timeout=10, what="redis to stop")


class App:
    """Two Daphne processes and `manage.py worker`, as docker-compose.yml runs them behind the proxy."""

    def __init__(self, env: dict[str, str], logs: Path, *, servers: int = 2) -> None:
        self.env, self.logs = env, logs
        self.ports = [free_port() for _ in range(servers)]
        self.daphnes: list[subprocess.Popen | None] = [None] * servers
        self.worker: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.worker = self._spawn([PY, "manage.py", "worker"], "worker")
        for i in range(len(self.ports)):
            self.start_server(i, wait=False)
        self.wait_serving()

    def _spawn(self, command: list[str], name: str) -> subprocess.Popen:
        self.starts += 1
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_server(self, i: int, *, wait: bool = True) -> None:
        port = self.ports[i]
        command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
        self.daphnes[i] = self._spawn(command, f"daphne-{port}")
        if wait:
            self.wait_serving([i])

    def wait_serving(self, which: list[int] | None = None) -> None:
        which = list(range(len(self.ports))) if which is None else which

        def up() -> bool:
            for i in which:
                if self.daphnes[i].poll() is not None:
                    raise RuntimeError(f"daphne on {self.ports[i]} exited; see {self.logs}")
            return all(port_open(self.ports[i]) for i in which)

        wait_until(up, timeout=60, what="daphne to listen")

    def kill(self, i: int, sig: int = signal.SIGKILL) -> None:
        proc = self.daphnes[i]
        if proc and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)

    def stop(self) -> None:
        procs = [p for p in [*self.daphnes, self.worker] if p and p.poll() is None]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=12)  # Daphne waits up to 10 s for its app instances
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def rss_mb(self, i: int) -> float:
        with open(f"/proc/{self.daphnes[i].pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0


class Stack:
    """The private PostgreSQL and Redis of one fault run, and the environment every process gets."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="narvaro-faults-"))
        self.base.chmod(0o755)  # the postgres user must reach its data folder inside
        self.pg = Postgres(self.base)
        self.redis = Redis(self.base)
        self.env: dict[str, str] = {}

    def start(self) -> None:
        self.pg.init()
        self.redis.start()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.pg.url(),
            "REDIS_URL": self.redis.url,
            "CHANNEL_PREFIX": "faults",
            "DEBUG": "0",
            # Not a secret: these processes listen on loopback only and live for one run.
            "SECRET_KEY": "faults-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        subprocess.run(
            [PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True, timeout=600
        )

    def app(self, name: str) -> App:
        """The app processes of one scenario; their logs stay in test-artifacts/faults/ (git-ignored)."""
        logs = ROOT / "test-artifacts" / "faults" / name
        shutil.rmtree(logs, ignore_errors=True)
        return App(self.env, logs)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.redis.stop()
        self.pg.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)
