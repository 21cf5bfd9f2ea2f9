"""The bench's side of the server: its own database and channel prefix, ASGI server processes, psutil.

The bench never touches the dev or test database: it serves from `narvaro_bench` on the same
PostgreSQL (created with PostGIS and migrated here) under its own CHANNEL_PREFIX in Redis.
"""

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psutil

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DAPHNE = str(Path(PY).parent / "daphne")
# The ASGI servers a run can use: Daphne (what `make run` serves) or uvicorn, to see whether the
# server itself is the limit (uvicorn's sans-I/O websockets on uvloop; bench/requirements.txt).
ASGI_COMMANDS = {
    # BENCH_CONNECT_TIMEOUT: Daphne drops a handshake not accepted within this (its default, 5 s);
    # raised only for runs on a machine shared with other work, and then said with the figures.
    "daphne": lambda port: [
        DAPHNE,
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "--websocket_connect_timeout",
        os.environ.get("BENCH_CONNECT_TIMEOUT", "5"),
        "config.asgi:application",
    ],
    "uvicorn": lambda port: [
        str(Path(PY).parent / "uvicorn"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "2",
        "config.asgi:application",
    ],
}
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "narvaro_bench")


def dotenv() -> dict[str, str]:
    values = {}
    path = ROOT / ".env"
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def base_url() -> str:
    url = os.environ.get("DATABASE_URL") or dotenv().get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set: run `make services` first (it writes .env)")
    return url


def bench_database_url() -> str:
    parsed = urlparse(base_url())
    return urlunparse(parsed._replace(path="/" + BENCH_DB))


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every bench server and setup step: the bench database, quiet, DEBUG off."""
    env = dict(os.environ)
    for key, value in dotenv().items():
        env.setdefault(key, value)
    env.update(
        DATABASE_URL=bench_database_url(),
        DEBUG="0",
        # Not a secret: the bench server only listens on loopback and lives for one run.
        SECRET_KEY="bench-only-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        CHANNEL_PREFIX=extra.pop("CHANNEL_PREFIX", "bench"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def psql(sql: str, database: str) -> str:
    parsed = urlparse(base_url())
    command = ["psql", "-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432), "-qtA"]
    command += ["-U", parsed.username or "postgres", "-d", database, "-c", sql]
    env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return subprocess.run(command, check=True, capture_output=True, text=True, env=env, timeout=120).stdout.strip()


def database_prepare() -> None:
    """Create narvaro_bench with PostGIS if missing, migrate it, seed Lysekil's areas, run the deployment jobs once."""
    if psql(f"select 1 from pg_database where datname = '{BENCH_DB}'", "postgres") != "1":
        psql(f"create database {BENCH_DB}", "postgres")
    psql("create extension if not exists postgis", BENCH_DB)
    env = bench_env()
    manage = [PY, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, env=env, cwd=ROOT, timeout=600)
    subprocess.run([*manage, "seed_demo"], check=True, env=env, cwd=ROOT, timeout=600, capture_output=True)
    # The retention purge and presence totals over what earlier runs left, before anything is
    # measured: each run's worker then starts with nothing to catch up.
    subprocess.run([*manage, "worker", "--once"], check=True, env=env, cwd=ROOT, timeout=900, capture_output=True)


# What a run writes. Emptied before every run (database_reset), so each run of either variant starts
# from the same database state: on a bench database grown over a day's runs (1.6 million positions,
# 141,000 events) naive at 250 devices gave p50 2.9 s where a fresh one gave 10 ms. The population
# (people, teams, device tokens), the areas and the audit log stay; shifts are started again per run.
RUN_TABLES = [
    "coordination_positionreport",
    "coordination_latestposition",
    "coordination_event",
    "coordination_situationnote",
    "coordination_alert",
    "coordination_chatmessage",
    "coordination_checkin",
    "coordination_citizenreport",  # refers to situation notes
    "coordination_presencehour",  # the stored totals (coordination_presenceday is a view of them)
    "coordination_notehour",
    "coordination_aggregatedday",
    "coordination_shift_planned_areas",
    "coordination_shift",
]


def database_reset() -> None:
    """Empty what runs write (RUN_TABLES) and refresh the planner's statistics of the emptied tables."""
    psql("TRUNCATE " + ", ".join(RUN_TABLES), BENCH_DB)
    psql("ANALYZE " + ", ".join(RUN_TABLES), BENCH_DB)


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Servers:
    """ASGI server processes on 127.0.0.1, one per port, with the pipeline variant in their environment,
    and the deployment's worker beside them (coverage recount, field tick: coordination/jobs.py), as
    `make run` serves. Their CPU and RSS are the server processes'; the worker's CPU is read apart.
    """

    def __init__(
        self,
        ports: list[int],
        *,
        variant: str,
        prefix: str,
        log_dir: Path,
        asgi: str = "daphne",
        cpus: str | None = None,
    ) -> None:
        self.ports, self.variant = ports, variant
        env = bench_env(POSITION_PIPELINE=variant, CHANNEL_PREFIX=prefix)
        for port in ports:
            if port_open(port):
                raise RuntimeError(f"port {port} is already in use")
        worker_log = open(log_dir / f"worker-{variant}.log", "wb")  # noqa: SIM115 - lives as long as the worker
        self.worker = subprocess.Popen(
            [PY, str(ROOT / "manage.py"), "worker"], cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT
        )
        self.procs = []
        for port in ports:
            log = open(log_dir / f"{asgi}-{variant}-{port}.log", "wb")  # noqa: SIM115 - lives as long as the server
            self.procs.append(
                subprocess.Popen(
                    # Pinned (taskset) away from the load generators when the machine has a core to spare.
                    (["taskset", "-c", cpus] if cpus else []) + ASGI_COMMANDS[asgi](port),
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=raise_fd_limit,
                )
            )
        deadline = time.time() + 60
        while not all(port_open(p) for p in ports):
            if time.time() > deadline or any(p.poll() is not None for p in [*self.procs, self.worker]):
                self.stop()
                raise RuntimeError(f"{asgi} did not start; see {log_dir}")
            time.sleep(0.2)
        self.ps = [psutil.Process(p.pid) for p in self.procs]
        self.worker_ps = psutil.Process(self.worker.pid)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.ps)

    def cpu_seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.ps)

    def worker_cpu_seconds(self) -> float:
        return sum(self.worker_ps.cpu_times()[:2])

    def alive(self) -> bool:
        return all(p.poll() is None for p in [*self.procs, self.worker])

    def stop(self) -> None:
        for proc in [*self.procs, self.worker]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.procs, self.worker]:
            try:
                proc.wait(timeout=5)  # Daphne waits 10 s for app instances; nothing left to measure
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
