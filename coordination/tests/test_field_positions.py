"""Field devices get every team's position on a slow tick: compact, only on change, once a tick."""

import math
import random

import orjson
import pytest
from django.utils import timezone

from coordination import fieldscope, services
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


# --- issue 16, item 2: each device gets its own team and the teams near it, as deltas -------------------

LYSEKIL = (58.2745, 11.4358)


def team_at(team: int, north_m: float, east_m: float, *, shift: int | None = None, at: str = "t0") -> dict:
    lat = LYSEKIL[0] + north_m / fieldscope.M_PER_DEG_LAT
    lon = LYSEKIL[1] + east_m / (fieldscope.M_PER_DEG_LON * math.cos(math.radians(LYSEKIL[0])))
    return {"team": team, "shift": shift or team * 10, "lat": round(lat, 6), "lon": round(lon, 6), "recorded_at": at}


def tick_frame(seq: int, teams: list[dict]) -> str:
    return orjson.dumps(
        {"type": "event", "seq": seq, "kind": "positions", "at": "x", "data": {"teams": teams}}
    ).decode()


@pytest.fixture
def scope_settings(settings):
    settings.FIELD_POSITIONS_RADIUS_M = 2000
    settings.FIELD_POSITIONS_MAX_TEAMS = 5
    settings.FIELD_POSITIONS_FULL_EVERY = 4
    return settings


@pytest.mark.django_db(False)
def test_a_far_team_is_not_sent_and_the_own_team_always_is(scope_settings):
    own, near, far = team_at(1, 0, 0), team_at(2, 600, -300), team_at(3, 9000, 4000)
    data = fieldscope.scoped_data({"teams": [own, near, far]}, frozenset({1}))
    assert [t["team"] for t in data["teams"]] == [1, 2] and data["full"] is True
    # The far team's own device sees it alone (and not the others, 10 km away).
    assert [t["team"] for t in fieldscope.scoped_data({"teams": [own, near, far]}, frozenset({3}))["teams"]] == [3]
    # A member of no team on the map gets nobody's position.
    assert fieldscope.scoped_data({"teams": [own, near, far]}, frozenset({99}))["teams"] == []


@pytest.mark.django_db(False)
def test_a_frame_stays_bounded_however_many_teams_are_out_in_one_town(scope_settings):
    town = [team_at(t, (t % 30) * 20, (t // 30) * 20) for t in range(1, 1251)]
    data = fieldscope.scoped_data({"teams": town}, frozenset({700}))
    teams = {t["team"] for t in data["teams"]}
    assert 700 in teams and len(teams) <= 1 + scope_settings.FIELD_POSITIONS_MAX_TEAMS


@pytest.mark.django_db(False)
def test_deltas_applied_in_order_give_the_same_state_as_a_full_frame(scope_settings):
    """200 ticks of 40 teams walking (own team across cells too); one device applies what it is sent."""
    rng = random.Random(16)
    where = {t: [rng.uniform(-3000, 3000), rng.uniform(-3000, 3000)] for t in range(1, 41)}
    ticks, own = fieldscope.FieldTicks(), frozenset({1})
    held: dict[int, dict] = {}
    last = None
    fulls = 0
    for seq in range(1, 201):
        for xy in where.values():
            if rng.random() < 0.6:  # some stand still: the delta leaves them out
                xy[0] += rng.uniform(-150, 150)
                xy[1] += rng.uniform(-150, 150)
        teams = [team_at(t, y, x, at=f"t{seq}") for t, (x, y) in where.items() if not (t > 35 and seq % 7 == 0)]
        text, last = ticks.frame(seq=seq, frame=tick_frame(seq, teams), own=own, last=last)
        data = orjson.loads(text)["data"]
        assert orjson.loads(text)["seq"] == seq
        if data["full"]:
            fulls += 1
            held = {}
        for gone in data["gone"]:
            del held[gone]
        held.update({team["team"]: team for team in data["teams"]})
        assert list(dict(sorted(held.items())).values()) == fieldscope.scoped_data({"teams": teams}, own)["teams"]
        assert len(data["teams"]) <= 1 + scope_settings.FIELD_POSITIONS_MAX_TEAMS
    assert 200 / 4 <= fulls < 200  # a full frame every FULL_EVERY ticks (and on a change of cell), deltas between


@pytest.mark.django_db(False)
def test_devices_in_one_cell_share_one_encoded_frame(scope_settings):
    ticks = fieldscope.FieldTicks()
    teams = [team_at(1, 0, 0), team_at(2, 0, 0), team_at(3, 300, 0)]  # teams 1 and 2 walk together
    first, _ = ticks.frame(seq=5, frame=tick_frame(5, teams), own=frozenset({1}), last=None)
    second, _ = ticks.frame(seq=5, frame=tick_frame(5, teams), own=frozenset({2}), last=None)
    assert first is second  # the same str object: encoded once for both devices
    assert [t["team"] for t in orjson.loads(first)["data"]["teams"]] == [1, 2, 3]
