"""Work on a clock: what runs where, the worker, and that no socket starts any of it."""

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from coordination import delivery, jobs, revocation, services, worker
from coordination.models import Event, PositionReport, PresenceDay
from coordination.tests.sockets import new_id, send, socket

pytestmark = pytest.mark.django_db


def old_position(user, *, days: int) -> PositionReport:
    """A raw position of `user` received and recorded `days` ago (the services take only fresh ones)."""
    services.position_record(user=user, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now())
    report = PositionReport.objects.order_by("-seq").first()
    then = timezone.now() - timedelta(days=days)
    PositionReport.objects.filter(pk=report.pk).update(received_at=then, recorded_at=then)
    return report


class Calls:
    """Stands in for the job functions and notes which ran, from whichever thread."""

    def __init__(self, monkeypatch) -> None:
        self.names: list[str] = []
        self.lock = threading.Lock()
        for name, target, attr in [
            ("coverage", services, "coverage_refresh"),
            ("field_tick", services, "field_positions_refresh"),
            ("presence", services, "presence_finished_days"),
            ("purge", services, "positions_purge"),
            ("sweep", delivery, "sweep"),
            ("access_check", revocation, "check"),
        ]:
            monkeypatch.setattr(target, attr, self.recorder(name))

    def recorder(self, name: str):
        def record(*args, **kwargs):
            with self.lock:
                self.names.append(name)

        return record

    def ran(self) -> set[str]:
        with self.lock:
            return set(self.names)


async def eventually(predicate, timeout: float = 5) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# --- what runs where ----------------------------------------------------------------------------


def test_the_job_table_says_what_runs_where():
    assert {job.name: job.scope for job in jobs.JOBS} == {
        "coverage": jobs.Scope.DEPLOYMENT,
        "field_tick": jobs.Scope.DEPLOYMENT,
        "presence": jobs.Scope.DEPLOYMENT,
        "purge": jobs.Scope.DEPLOYMENT,
        "escalate": jobs.Scope.DEPLOYMENT,
        "sweep": jobs.Scope.PROCESS,
        "access_check": jobs.Scope.PROCESS,
    }
    assert len({job.name for job in jobs.JOBS}) == len(jobs.JOBS)


def test_the_readme_lists_every_job_where_it_runs_and_its_setting():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    where = {jobs.Scope.DEPLOYMENT: "once per deployment", jobs.Scope.PROCESS: "every server process"}
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("  | `")}
    assert set(rows) == {job.name for job in jobs.JOBS}
    for job in jobs.JOBS:
        assert where[job.scope] in rows[job.name] and f"`{job.every}`" in rows[job.name], job.name


def test_every_period_is_a_setting(settings):
    settings.PURGE_EVERY_S = 600
    assert {job.name: job.every for job in jobs.JOBS} == {
        "coverage": "COVERAGE_EVERY_S",
        "field_tick": "FIELD_POSITION_TICK_S",
        "presence": "PRESENCE_EVERY_S",
        "purge": "PURGE_EVERY_S",
        "escalate": "ALERT_ESCALATE_EVERY_S",
        "sweep": "SWEEP_EVERY_S",
        "access_check": "ACCESS_CHECK_EVERY_S",
    }
    assert {job.name: job.period() for job in jobs.JOBS}["purge"] == 600


# --- the worker ---------------------------------------------------------------------------------


def test_worker_once_recounts_coverage_and_purges_in_a_deployment_with_only_tracker_http(world, settings):
    """No socket, no server process: the phone tracker's position still counts, and old tracks go."""
    settings.POSITION_RETENTION_DAYS = 14
    services.shift_start(user=world.alice, client_id=new_id(), area_ids=[world.hotspot.pk])
    expired = old_position(world.alice, days=15)
    key = services.device_token_issue(user=world.alice, name="telefon")[1]
    stamp = int(timezone.now().timestamp())
    tracked = APIClient().post(f"/track/osmand/?id={key}&lat=58.2755&lon=11.445&timestamp={stamp}")
    assert tracked.status_code == 200

    out = StringIO()
    call_command("worker", "--once", stdout=out)

    assert out.getvalue().strip() == "Ran coverage, field_tick, presence, purge, escalate."
    coverage = Event.objects.filter(kind="coverage").latest("seq")
    assert {"area": world.hotspot.pk, "adults": 1} in coverage.data["areas"]
    assert not PositionReport.objects.filter(pk=expired.pk).exists()
    assert PositionReport.objects.count() == 1  # the tracker's fresh position stays
    # The expired day was summed before its track went (Hamnen lies inside Centrum).
    day = timezone.localdate(timezone.now() - timedelta(days=15))
    assert set(PresenceDay.objects.filter(day=day).values_list("area", flat=True)) == {
        world.district.pk,
        world.hotspot.pk,
    }


def test_worker_once_sums_the_presence_of_finished_days_before_any_purge(world, settings):
    settings.POSITION_RETENTION_DAYS = 14
    services.shift_start(user=world.alice, client_id=new_id())
    old_position(world.alice, days=2)
    assert services.presence_finished_days() == 2  # Hamnen, and Centrum around it
    day = timezone.localdate(timezone.now() - timedelta(days=2))
    assert set(PresenceDay.objects.filter(day=day).values_list("area", flat=True)) == {
        world.district.pk,
        world.hotspot.pk,
    }
    assert PositionReport.objects.count() == 1  # kept: two days are inside retention
    assert services.presence_finished_days() == 0  # once


def test_a_failing_job_does_not_stop_the_others_and_its_log_carries_no_values(world, settings, monkeypatch, caplog):
    services.shift_start(user=world.alice, client_id=new_id(), area_ids=[world.hotspot.pk])
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=timezone.now())
    expired = old_position(world.alice, days=15)

    said = "58.2755 11.445 Langning vid kiosken"  # what a database error may quote from a row

    def broken():
        raise ValueError(said)

    monkeypatch.setattr(services, "field_positions_refresh", broken)
    with caplog.at_level(logging.ERROR, logger="coordination.jobs"), pytest.raises(CommandError, match="field_tick"):
        call_command("worker", "--once")

    assert Event.objects.filter(kind="coverage").exists()  # ran before the broken one
    assert not PositionReport.objects.filter(pk=expired.pk).exists()  # ran after it
    assert "job field_tick failed: ValueError" in caplog.text
    for value in ("58.2755", "11.445", "Langning", "kiosken"):
        assert value not in caplog.text


async def test_the_runner_goes_on_after_a_failure_and_never_spins(settings):
    runs = {"broken": 0, "fine": 0}

    def broken():
        runs["broken"] += 1
        raise RuntimeError("nope")

    def fine():
        runs["fine"] += 1

    table = [
        jobs.Job("broken", jobs.Scope.PROCESS, "SWEEP_EVERY_S", broken, "fails"),
        jobs.Job("fine", jobs.Scope.PROCESS, "SWEEP_EVERY_S", fine, "counts"),
    ]
    # A period of 0 would spin a loop that slept until the next due time: the runner sleeps at least 0.1 s.
    settings.SWEEP_EVERY_S = 0
    task = asyncio.get_running_loop().create_task(jobs.run_jobs(table))
    await asyncio.sleep(0.55)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert 3 <= runs["fine"] <= 7
    assert 3 <= runs["broken"] <= 7


def test_worker_once_refuses_while_another_worker_runs_the_deployment_jobs(world, monkeypatch):
    calls = Calls(monkeypatch)
    running = worker.DeploymentLock()
    assert running.hold()
    try:
        with pytest.raises(CommandError, match="Another worker"):
            call_command("worker", "--once")
        assert calls.ran() == set()
    finally:
        running.release()
    call_command("worker", "--once", stdout=StringIO())
    assert calls.ran() == {"coverage", "field_tick", "presence", "purge"}  # never the process's sweep


async def test_two_workers_never_run_the_deployment_jobs_at_once(world, monkeypatch):
    calls = Calls(monkeypatch)
    monkeypatch.setattr(jobs, "STANDBY_RETRY_S", 0.1)
    loop = asyncio.get_running_loop()
    other_worker = ThreadPoolExecutor(max_workers=1)  # a lock is used from the thread that took it
    first = worker.DeploymentLock()
    assert await loop.run_in_executor(other_worker, first.hold)
    second = loop.create_task(worker.worker_run())
    try:
        await asyncio.sleep(0.5)
        assert calls.ran() == set()  # standing by while the first holds them
        await loop.run_in_executor(other_worker, first.release)  # the first worker stops
        assert await eventually(lambda: calls.ran() == {"coverage", "field_tick", "presence", "purge"})
        third = worker.DeploymentLock()
        assert not await loop.run_in_executor(other_worker, third.hold)  # the second one keeps them now
        await loop.run_in_executor(other_worker, third.release)
    finally:
        second.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await second
        other_worker.shutdown()


# --- the server process -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_connecting_a_socket_starts_no_periodic_job(world, monkeypatch, settings):
    calls = Calls(monkeypatch)
    await database_sync_to_async(services.shift_start)(user=world.alice, client_id=new_id())
    async with (
        socket("/ws/field/", world.alice) as field,
        socket("/ws/ops/", world.dana),
        socket("/ws/public/"),
    ):
        await send(
            field,
            {"type": "position", "id": "p1", "lat": 58.27, "lon": 11.44, "recorded_at": timezone.now().isoformat()},
        )
        await asyncio.sleep(1)  # every job runs at once when its runner starts
        names = {task.get_name() for task in asyncio.all_tasks()}
    assert calls.ran() == set()
    assert not any(name.startswith(("narvaro-job-", "narvaro-process-jobs")) for name in names)


async def test_the_process_jobs_run_the_sweep_once_per_event_loop(monkeypatch):
    calls = Calls(monkeypatch)
    first = jobs.process_jobs_run()
    try:
        jobs.process_jobs_start()  # config/asgi.py's call, inside a running loop (uvicorn's case)
        assert jobs.process_jobs_run() is first
        assert await eventually(lambda: calls.ran() == {"sweep", "access_check"}, timeout=2)
    finally:
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
    assert calls.names.count("sweep") == 1  # once at start; the next only after SWEEP_EVERY_S
