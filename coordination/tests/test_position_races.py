"""A position racing the end of its shift is refused, never stored after the shift ended."""

import threading
import time

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
