"""Field devices get every team's position on a slow tick: compact, only on change, once a tick."""

import pytest
from django.utils import timezone

from coordination import services
from coordination.models import Event
from coordination.tests.sockets import new_id

pytestmark = pytest.mark.django_db


def test_the_field_tick_sends_where_each_team_is_and_nothing_else(world):
    services.shift_start(user=world.alice, client_id=new_id())
    services.shift_start(user=world.charlie, client_id=new_id())
    now = timezone.now()
    services.position_record(user=world.alice, client_id=new_id(), lat=58.2755, lon=11.445, recorded_at=now)
    event = services.field_positions_refresh()
    alice_shift = world.harbour_team.shifts.get()
    assert (event.kind, event.audience) == ("positions", "field")
    assert event.data == {
        "teams": [
            {
                "team": world.harbour_team.pk,
                "shift": alice_shift.pk,
                "lat": 58.2755,
                "lon": 11.445,
                "recorded_at": timezone.localtime(now).isoformat(),
            }
        ]
    }


def test_nothing_is_sent_when_no_team_moved(world):
    services.shift_start(user=world.alice, client_id=new_id())
    services.position_record(user=world.alice, client_id=new_id(), lat=58.27, lon=11.44, recorded_at=timezone.now())
    assert services.field_positions_refresh() is not None
    assert services.field_positions_refresh() is None
    assert Event.objects.filter(audience="field").count() == 1


def test_a_second_server_process_ticking_right_after_sends_nothing(world, settings):
    settings.FIELD_POSITION_TICK_S = 10
    services.shift_start(user=world.alice, client_id=new_id())
    services.position_record(user=world.alice, client_id=new_id(), lat=58.27, lon=11.44, recorded_at=timezone.now())
    services.field_positions_refresh()
    services.position_record(user=world.bob, client_id=new_id(), lat=58.28, lon=11.45, recorded_at=timezone.now())
    assert services.field_positions_refresh() is None  # moved, but the last tick is not 10 s old yet
    settings.FIELD_POSITION_TICK_S = 0
    assert services.field_positions_refresh() is not None
