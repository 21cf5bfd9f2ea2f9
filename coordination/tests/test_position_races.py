"""A position racing the end of its shift is refused, never stored after the shift ended."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from coordination import services
from coordination.models import LatestPosition, PositionReport
from coordination.services import PositionIn


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_read_the_shift_as_active_is_refused_once_the_shift_end_commits(world):
    services.shift_start(user=world.alice, client_id="s")
    ending = threading.Event()
    results = []

    def end_shift_slowly():
        try:
            with transaction.atomic():
                services.shift_end(user=world.alice, client_id="e")
                ending.set()
                time.sleep(0.5)  # the batch below reads the shift as active and must wait here
        finally:
            connection.close()

    def record():
        try:
            ending.wait(5)
            report = PositionIn(user_id=world.bob.pk, client_id="p", lat=58.27, lon=11.44, recorded_at=timezone.now())
            results.extend(services.positions_record(reports=[report]))
        finally:
            connection.close()

    threads = [threading.Thread(target=end_shift_slowly), threading.Thread(target=record)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    (result,) = results
    assert result.seq is None and result.error.code == "forbidden"
    assert PositionReport.objects.count() == 0 and LatestPosition.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_processes_batching_one_team_leave_its_newest_position_last(world, monkeypatch):
    """Batch A reads the team's newest position, then B stores a newer one and commits its event first.

    A's event comes later in seq order; had A read before taking the event lock it would say the older
    position, and every duty map would keep the team there while a fresh snapshot says otherwise.
    """
    from coordination.models import Event
    from coordination.services import positions

    services.shift_start(user=world.alice, client_id="s")
    now = timezone.now()
    read, go_on = threading.Event(), threading.Event()
    real_read = positions.team_latest_positions

    def read_then_wait(**kwargs):
        teams = real_read(**kwargs)
        if threading.current_thread().name == "batch-a":
            read.set()
            go_on.wait(5)
        return teams

    monkeypatch.setattr(positions, "team_latest_positions", read_then_wait)

    def batch(who, client_id, lat, at):
        try:
            services.positions_record(
                reports=[PositionIn(user_id=who.pk, client_id=client_id, lat=lat, lon=11.44, recorded_at=at)]
            )
        finally:
            connection.close()

    a = threading.Thread(target=batch, args=(world.alice, "a", 58.27, now), name="batch-a")
    b = threading.Thread(target=batch, args=(world.bob, "b", 58.28, now + timedelta(seconds=5)), name="batch-b")
    a.start()
    assert read.wait(5)
    b.start()
    b.join(1.5)  # done by now unless it waits for A (which holds the event lock)
    go_on.set()
    a.join(5)
    b.join(5)
    last = Event.objects.filter(kind="positions", audience="ops").order_by("-seq").first()
    (team,) = last.data["teams"]
    assert team["lat"] == 58.28  # bob's, the newer
    assert LatestPosition.objects.get(user=world.bob).point.y == 58.28
