"""The retention command deletes old raw positions and keeps recent ones."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from coordination import services
from coordination.models import PositionReport
from coordination.tests.sockets import new_id

pytestmark = pytest.mark.django_db


def test_it_deletes_positions_past_retention_and_says_how_many(world, settings):
    settings.POSITION_RETENTION_DAYS = 7
    services.shift_start(user=world.alice, client_id=new_id())
    for _ in range(3):
        services.position_record(user=world.alice, client_id=new_id(), lat=58.27, lon=11.44, recorded_at=timezone.now())
    PositionReport.objects.filter(pk__in=PositionReport.objects.values("pk")[:2]).update(
        received_at=timezone.now() - timedelta(days=8)
    )
    out = StringIO()
    call_command("purge_positions", stdout=out)
    assert PositionReport.objects.count() == 1
    assert out.getvalue().strip() == "Deleted 2 positions older than 7 days."
