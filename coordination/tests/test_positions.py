"""positions_record, position_record, positions_purge: positions exist only during a shift."""

import math
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from coordination import selectors, services
from coordination.errors import Forbidden, Invalid
from coordination.models import Event, LatestPosition, PositionReport, Role, Shift, Team
from coordination.services import PositionIn, PositionOut


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def out_on_shift(team, user, *, hours: float = 1) -> Shift:
    # Set up directly, without the shift's own event: every Event in these tests is a positions event.
    return Shift.objects.create(team=team, started_by=user, started_at=timezone.now() - timedelta(hours=hours))


def iso(value: datetime) -> str:
    return timezone.localtime(value).isoformat()


def team_data(shift: Shift, *, lat: float, lon: float, accuracy, recorded_at: datetime) -> dict:
    return {
        "team": shift.team_id,
        "team_name": shift.team.name,
        "short": shift.team.short,
        "shift": shift.pk,
        "lat": lat,
        "lon": lon,
        "accuracy": accuracy,
        "recorded_at": iso(recorded_at),
    }


def stored() -> tuple[int, int, int]:
    return PositionReport.objects.count(), LatestPosition.objects.count(), Event.objects.count()


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


# --- one position -----------------------------------------------------------------------------------


def test_it_stores_a_position_during_a_shift_with_one_positions_event(world, now):
    shift = out_on_shift(world.harbour_team, world.alice)

    result = services.position_record(
        user=world.alice, client_id="p1", lat=58.2755, lon=11.4412, accuracy=8.5, recorded_at=now
    )

    report = PositionReport.objects.get()
    assert result == PositionOut(client_id="p1", seq=report.seq)
    assert (report.shift, report.user, report.client_id, report.accuracy, report.recorded_at) == (
        shift,
        world.alice,
        "p1",
        8.5,
        now,
    )
    assert (report.point.y, report.point.x, report.point.srid) == (58.2755, 11.4412, 4326)
    event = Event.objects.get()
    assert (event.kind, event.audience, event.author, event.client_id) == ("positions", "ops", None, None)
    assert event.data == {"teams": [team_data(shift, lat=58.2755, lon=11.4412, accuracy=8.5, recorded_at=now)]}
    assert event.seq > report.seq


def test_it_keeps_the_latest_position_of_each_person(world, now):
    shift = out_on_shift(world.harbour_team, world.alice)
    services.position_record(user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    latest = LatestPosition.objects.get()
    assert (latest.user, latest.shift, latest.point.y, latest.point.x, latest.recorded_at) == (
        world.alice,
        shift,
        58.1,
        11.1,
        now,
    )


def test_it_refuses_a_position_outside_a_shift_and_stores_it_nowhere(world, now):
    with pytest.raises(Forbidden) as refused:
        services.position_record(user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    assert refused.value.code == "forbidden"
    assert stored() == (0, 0, 0)


def test_it_refuses_a_position_after_the_shift_ended(world, now):
    shift = out_on_shift(world.harbour_team, world.alice)
    Shift.objects.filter(pk=shift.pk).update(ended_at=now - timedelta(minutes=5))
    with pytest.raises(Forbidden):
        services.position_record(user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    assert stored() == (0, 0, 0)


def test_it_refuses_a_position_taken_before_the_shift_started(world, now):
    shift = out_on_shift(world.harbour_team, world.alice)
    with pytest.raises(Forbidden):
        services.position_record(
            user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=shift.started_at - timedelta(minutes=3)
        )
    assert stored() == (0, 0, 0)


def test_it_accepts_a_device_clock_slightly_before_the_shift_start(world):
    shift = out_on_shift(world.harbour_team, world.alice)
    recorded_at = shift.started_at - timedelta(minutes=1)
    services.position_record(user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=recorded_at)
    assert PositionReport.objects.get().recorded_at == recorded_at


@pytest.mark.parametrize("who", ["dana", "frida", "erik"])
def test_it_refuses_positions_from_people_outside_the_team(world, now, who):
    out_on_shift(world.harbour_team, world.alice)
    with pytest.raises(Forbidden):
        services.position_record(user=getattr(world, who), client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    assert stored() == (0, 0, 0)


def test_it_refuses_positions_from_a_team_member_without_the_field_role(world, now):
    """may_report is for field members: a person added to a team without the role is not tracked."""
    world.harbour_team.members.add(world.gustav)
    out_on_shift(world.harbour_team, world.alice)
    with pytest.raises(Forbidden):
        services.position_record(user=world.gustav, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    assert stored() == (0, 0, 0)


# --- batches ----------------------------------------------------------------------------------------


def test_a_mixed_batch_stores_the_valid_items_and_explains_each_refusal(world, now):
    hamnen = out_on_shift(world.harbour_team, world.alice)
    reports = [
        PositionIn(user_id=world.alice.pk, client_id="a1", lat=58.1, lon=11.1, accuracy=5, recorded_at=now),
        PositionIn(user_id=world.alice.pk, client_id="a2", lat=91, lon=11.1, recorded_at=now),
        PositionIn(user_id=world.charlie.pk, client_id="c1", lat=58.2, lon=11.2, recorded_at=now),
        PositionIn(user_id=world.bob.pk, client_id="b1", lat=58.3, lon=11.3, recorded_at=now + timedelta(seconds=5)),
        PositionIn(user_id=world.bob.pk, client_id="b2", lat=58.3, lon=math.nan, recorded_at=now),
        PositionIn(user_id=world.bob.pk, client_id="b3", lat=58.3, lon=11.3, recorded_at=now + timedelta(hours=1)),
        PositionIn(user_id=world.bob.pk, client_id="", lat=58.3, lon=11.3, recorded_at=now),
    ]

    results = services.positions_record(reports=reports)

    seqs = dict(PositionReport.objects.values_list("client_id", "seq"))
    assert sorted(seqs) == ["a1", "b1"]
    assert [(r.client_id, r.seq, type(r.error), r.error and r.error.field) for r in results] == [
        ("a1", seqs["a1"], type(None), None),
        ("a2", None, Invalid, "lat"),
        ("c1", None, Forbidden, None),
        ("b1", seqs["b1"], type(None), None),
        ("b2", None, Invalid, "lon"),
        ("b3", None, Invalid, "recorded_at"),
        ("", None, Invalid, "id"),
    ]
    event = Event.objects.get()
    # One frame for the team: bob's position is the newer of the two.
    assert event.data == {
        "teams": [team_data(hamnen, lat=58.3, lon=11.3, accuracy=None, recorded_at=now + timedelta(seconds=5))]
    }


def test_the_positions_event_holds_the_latest_position_of_each_team(world, now):
    hamnen = out_on_shift(world.harbour_team, world.alice)
    centrum = out_on_shift(world.centre_team, world.charlie)
    services.positions_record(
        reports=[
            PositionIn(user_id=world.charlie.pk, client_id="c1", lat=58.27, lon=11.43, recorded_at=now),
            PositionIn(user_id=world.alice.pk, client_id="a2", lat=58.2, lon=11.2, recorded_at=now),
            PositionIn(user_id=world.alice.pk, client_id="a1", lat=58.1, lon=11.1, recorded_at=now - timedelta(9)),
        ]
    )
    teams = Event.objects.get().data["teams"]
    assert teams == sorted(
        [
            team_data(hamnen, lat=58.2, lon=11.2, accuracy=None, recorded_at=now),
            team_data(centrum, lat=58.27, lon=11.43, accuracy=None, recorded_at=now),
        ],
        key=lambda t: t["team"],
    )


def test_an_empty_or_wholly_refused_batch_writes_nothing(world, now):
    assert services.positions_record(reports=[]) == []
    results = services.positions_record(
        reports=[PositionIn(user_id=world.alice.pk, client_id="a1", lat=58.1, lon=11.1, recorded_at=now)]
    )
    assert type(results[0].error) is Forbidden
    assert stored() == (0, 0, 0)


def test_a_late_queued_position_does_not_move_the_team_back_on_the_map(world, now):
    """bob's phone delivers an old position after alice's newer one: the team stays where alice is."""
    hamnen = out_on_shift(world.harbour_team, world.alice)
    services.position_record(user=world.alice, client_id="a1", lat=58.2, lon=11.2, recorded_at=now)
    services.position_record(
        user=world.bob, client_id="b1", lat=58.1, lon=11.1, recorded_at=now - timedelta(minutes=10)
    )

    last = Event.objects.order_by("-seq").first()
    assert last.data == {"teams": [team_data(hamnen, lat=58.2, lon=11.2, accuracy=None, recorded_at=now)]}
    assert PositionReport.objects.count() == 2


def test_two_members_at_the_same_instant_the_higher_user_id_places_the_team(world, now):
    """Every reader picks the same member on a tie, so duty's map and the field tick agree."""
    hamnen = out_on_shift(world.harbour_team, world.alice)
    first, second = sorted([world.alice, world.bob], key=lambda user: user.pk)
    services.positions_record(
        reports=[
            PositionIn(user_id=second.pk, client_id="s1", lat=58.2, lon=11.2, recorded_at=now),
            PositionIn(user_id=first.pk, client_id="f1", lat=58.1, lon=11.1, recorded_at=now),
        ]
    )

    assert selectors.team_latest_positions() == {
        hamnen.team_id: team_data(hamnen, lat=58.2, lon=11.2, accuracy=None, recorded_at=now)
    }
    assert Event.objects.get().data == {
        "teams": [team_data(hamnen, lat=58.2, lon=11.2, accuracy=None, recorded_at=now)]
    }


def test_the_latest_positions_can_be_read_for_some_shifts_only(world, now):
    hamnen = out_on_shift(world.harbour_team, world.alice)
    centrum = out_on_shift(world.centre_team, world.charlie)
    services.position_record(user=world.alice, client_id="a1", lat=58.2, lon=11.2, recorded_at=now)
    services.position_record(user=world.charlie, client_id="c1", lat=58.3, lon=11.3, accuracy=4.0, recorded_at=now)

    assert selectors.team_latest_positions(shift_ids={centrum.pk}) == {
        centrum.team_id: team_data(centrum, lat=58.3, lon=11.3, accuracy=4.0, recorded_at=now)
    }
    assert list(selectors.team_latest_positions()) == sorted([hamnen.team_id, centrum.team_id])
    assert selectors.team_latest_positions(shift_ids=set()) == {}


def test_a_team_whose_shift_has_ended_has_no_latest_position(world, now):
    hamnen = out_on_shift(world.harbour_team, world.alice)
    services.position_record(user=world.alice, client_id="a1", lat=58.2, lon=11.2, recorded_at=now)
    # Ended behind the service's back: the stored latest position is still there, and not shown.
    Shift.objects.filter(pk=hamnen.pk).update(ended_at=timezone.now())

    assert LatestPosition.objects.filter(shift=hamnen).exists()
    assert selectors.team_latest_positions() == {}


# --- retries ----------------------------------------------------------------------------------------


def test_a_repeated_position_answers_with_the_original_seq_and_stores_nothing_twice(world, now):
    out_on_shift(world.harbour_team, world.alice)
    first = services.position_record(user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    again = services.position_record(user=world.alice, client_id="p1", lat=58.9, lon=11.9, recorded_at=now)

    assert again == first
    report = PositionReport.objects.get()
    assert (report.point.y, report.point.x) == (58.1, 11.1)
    # The retry moved nobody, so nothing is broadcast again.
    assert stored() == (1, 1, 1)


def test_a_repeat_inside_one_batch_is_stored_once(world, now):
    out_on_shift(world.harbour_team, world.alice)
    same = PositionIn(user_id=world.alice.pk, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    first, second = services.positions_record(reports=[same, same])
    assert first == second == PositionOut(client_id="p1", seq=PositionReport.objects.get().seq)
    assert stored() == (1, 1, 1)


def test_the_same_client_id_from_another_person_is_another_position(world, now):
    out_on_shift(world.harbour_team, world.alice)
    a = services.position_record(user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    b = services.position_record(user=world.bob, client_id="p1", lat=58.2, lon=11.2, recorded_at=now)
    assert b.seq > a.seq
    assert sorted(PositionReport.objects.values_list("user__username", flat=True)) == ["alice", "bob"]


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lat": "north"}, "lat"),
        ({"lat": None}, "lat"),
        ({"lon": None}, "lon"),
        ({"lat": None, "lon": None}, "lat"),
        ({"lat": True}, "lat"),
        ({"lat": [58.1]}, "lat"),
        ({"lat": 90.0001}, "lat"),
        ({"lat": -91}, "lat"),
        ({"lon": 180.5}, "lon"),
        ({"lon": -181}, "lon"),
        ({"lat": math.nan}, "lat"),
        ({"lon": math.inf}, "lon"),
        ({"lat": "nan"}, "lat"),
        ({"accuracy": -1}, "accuracy"),
        ({"accuracy": 100_001}, "accuracy"),
        ({"accuracy": "good"}, "accuracy"),
        ({"accuracy": math.nan}, "accuracy"),
        ({"recorded_at": None}, "recorded_at"),
        ({"recorded_at": "2026-11-25T20:00:00+01:00"}, "recorded_at"),
        ({"recorded_at": datetime(2026, 11, 25, 20, 0)}, "recorded_at"),
        ({"recorded_at": "future"}, "recorded_at"),
        ({"recorded_at": "old"}, "recorded_at"),
        ({"client_id": ""}, "id"),
        ({"client_id": "x" * 65}, "id"),
        ({"client_id": 12}, "id"),
    ],
)
def test_it_refuses_bad_position_input_naming_the_field(world, now, fields, field):
    out_on_shift(world.harbour_team, world.alice)
    times = {"future": now + timedelta(minutes=3), "old": now - timedelta(hours=13)}
    values = {"client_id": "p1", "lat": 58.1, "lon": 11.1, "accuracy": 10, "recorded_at": now, **fields}
    values["recorded_at"] = times.get(values["recorded_at"], values["recorded_at"])

    with pytest.raises(Invalid) as refused:
        services.position_record(user=world.alice, **values)

    assert (refused.value.code, refused.value.field) == ("invalid", field)
    assert refused.value.message
    assert stored() == (0, 0, 0)


def test_it_accepts_the_edges_of_the_valid_ranges(world, now):
    out_on_shift(world.harbour_team, world.alice, hours=12)
    edges = [
        {"lat": 90, "lon": 180, "accuracy": 0, "recorded_at": now + timedelta(minutes=1)},
        {"lat": -90, "lon": -180, "accuracy": 100_000, "recorded_at": now - timedelta(hours=11)},
    ]
    results = services.positions_record(
        reports=[PositionIn(user_id=world.alice.pk, client_id=f"e{i}", **edge) for i, edge in enumerate(edges)]
    )
    assert [r.error for r in results] == [None, None]
    assert PositionReport.objects.count() == 2


# --- retention --------------------------------------------------------------------------------------


def test_purge_deletes_raw_positions_older_than_the_retention(world, now, settings):
    settings.POSITION_RETENTION_DAYS = 14
    out_on_shift(world.harbour_team, world.alice)
    for client_id in ("old", "edge", "new"):
        services.position_record(user=world.alice, client_id=client_id, lat=58.1, lon=11.1, recorded_at=now)
    PositionReport.objects.filter(client_id="old").update(received_at=now - timedelta(days=14, seconds=1))
    PositionReport.objects.filter(client_id="edge").update(received_at=now - timedelta(days=13, hours=23))

    assert services.positions_purge(now=now) == 1
    assert sorted(PositionReport.objects.values_list("client_id", flat=True)) == ["edge", "new"]


def test_purge_also_deletes_the_position_events_older_than_the_retention(world, now, settings):
    """The broadcast log of team positions is a track too; it may not outlive the raw positions."""
    settings.POSITION_RETENTION_DAYS = 14
    out_on_shift(world.harbour_team, world.alice)
    services.position_record(user=world.alice, client_id="old", lat=58.1, lon=11.1, recorded_at=now)
    services.position_record(user=world.alice, client_id="new", lat=58.1, lon=11.1, recorded_at=now)
    services.note_create(user=world.alice, category="other")
    old_event, new_event = Event.objects.filter(kind="positions").order_by("seq")
    Event.objects.filter(seq__in=[old_event.seq, Event.objects.get(kind="note").seq]).update(
        created_at=now - timedelta(days=15)
    )
    PositionReport.objects.filter(client_id="old").update(received_at=now - timedelta(days=15))

    services.positions_purge(now=now)

    assert list(Event.objects.order_by("seq").values_list("kind", "seq")) == [
        ("positions", new_event.seq),
        ("note", Event.objects.get(kind="note").seq),
    ]


# --- one device's bad reports never cost the others (issue 12, item 5) ------------------------------


def test_nul_bytes_in_some_ids_refuse_only_those_reports(world, now):
    """20 positions with a NUL byte in the id among 112 from 8 devices: only those 20 are refused."""
    devices = [world.alice, world.bob, world.charlie]
    out_on_shift(world.harbour_team, world.alice)
    out_on_shift(world.centre_team, world.charlie)
    reports = [
        PositionIn(devices[i % 3].pk, f"ok-{i}", 58.27 + i / 10_000, 11.44, 5, iso(now - timedelta(seconds=i)))
        for i in range(92)
    ]
    reports += [PositionIn(world.bob.pk, f"bad\x00{i}", 58.27, 11.44, 5, iso(now)) for i in range(20)]

    results = services.positions_record(reports=reports)

    assert [r.seq is not None for r in results[:92]] == [True] * 92
    assert {(r.error.code, r.error.field) for r in results[92:]} == {("invalid", "id")}
    assert PositionReport.objects.count() == 92


def test_a_batch_the_database_refuses_is_stored_one_by_one(world, now, monkeypatch):
    """Whatever makes a statement fail, only the report that causes it is not saved."""
    from django.db import DataError

    from coordination.services import positions

    insert = positions._insert_positions

    def fails_on_poison(rows, **kwargs):
        if any(row.client_id == "poison" for row in rows):
            raise DataError("refused")
        return insert(rows, **kwargs)

    monkeypatch.setattr(positions, "_insert_positions", fails_on_poison)
    out_on_shift(world.harbour_team, world.alice)
    reports = [PositionIn(world.alice.pk, cid, 58.27, 11.44, 5, iso(now)) for cid in ("a", "poison", "b")]

    results = services.positions_record(reports=reports)

    assert [r.error.code if r.error else "ok" for r in results] == ["ok", "not_saved", "ok"]
    assert sorted(PositionReport.objects.values_list("client_id", flat=True)) == ["a", "b"]


# --- late positions of an ended shift (issue 12, item 10) -------------------------------------------


def test_a_position_recorded_during_a_shift_that_has_ended_is_kept_on_that_shift(world, now):
    """Traccar's offline buffer: recorded during the shift, uploaded after it ended."""
    shift = out_on_shift(world.harbour_team, world.alice, hours=2)
    Shift.objects.filter(pk=shift.pk).update(ended_at=now - timedelta(minutes=30))
    events = Event.objects.count()

    result = services.position_record(
        user=world.alice, client_id="late", lat=58.2755, lon=11.4412, recorded_at=now - timedelta(hours=1)
    )

    assert PositionReport.objects.get(seq=result.seq).shift == shift
    # The team is gone from the map: no live position, no positions event.
    assert (LatestPosition.objects.count(), Event.objects.count()) == (0, events)


def test_a_late_position_does_not_resurrect_an_earlier_shift_on_the_map(world, now):
    ended = out_on_shift(world.harbour_team, world.alice, hours=3)
    Shift.objects.filter(pk=ended.pk).update(ended_at=now - timedelta(hours=2))
    current = Shift.objects.create(team=world.harbour_team, started_by=world.bob, started_at=now - timedelta(hours=1))
    services.position_record(user=world.alice, client_id="now", lat=58.1, lon=11.1, recorded_at=now)

    services.position_record(
        user=world.alice, client_id="late", lat=58.2, lon=11.2, recorded_at=now - timedelta(hours=2.5)
    )

    assert PositionReport.objects.get(client_id="late").shift == ended
    latest = LatestPosition.objects.get()
    assert (latest.shift, latest.point.y) == (current, 58.1)


@pytest.mark.parametrize("minutes_after_the_end", [1, 60])
def test_a_position_recorded_after_the_shift_ended_is_still_refused(world, now, minutes_after_the_end):
    shift = out_on_shift(world.harbour_team, world.alice, hours=3)
    ended_at = now - timedelta(hours=1)
    Shift.objects.filter(pk=shift.pk).update(ended_at=ended_at)
    with pytest.raises(Forbidden):
        services.position_record(
            user=world.alice,
            client_id="after",
            lat=58.1,
            lon=11.1,
            recorded_at=ended_at + timedelta(minutes=minutes_after_the_end),
        )
    assert stored() == (0, 0, 0)


def test_a_late_position_of_another_teams_ended_shift_is_refused(world, now):
    shift = out_on_shift(world.centre_team, world.charlie, hours=2)
    Shift.objects.filter(pk=shift.pk).update(ended_at=now - timedelta(minutes=30))
    with pytest.raises(Forbidden):
        services.position_record(
            user=world.alice, client_id="x", lat=58.1, lon=11.1, recorded_at=now - timedelta(hours=1)
        )
    assert stored() == (0, 0, 0)


def test_a_deactivated_person_reports_no_positions(world, now):
    out_on_shift(world.harbour_team, world.alice)
    type(world.alice).objects.filter(pk=world.alice.pk).update(is_active=False)
    with pytest.raises(Forbidden):
        services.position_record(user=world.alice, client_id="p1", lat=58.1, lon=11.1, recorded_at=now)
    assert stored() == (0, 0, 0)


def test_a_batch_costs_the_same_statements_for_one_team_or_twenty(world, now, django_assert_num_queries):
    """Senders, their teams and shifts are read in one statement, whatever the batch holds (issue 16).

    The statements: senders and shifts, then in the transaction (a savepoint here, inside the
    test's) the shift lock, the insert, the latest positions, the seqs, the event-order lock, the
    teams' positions, the event lock, the previous seq of the audience and the event.
    """
    municipality = world.municipality
    teams = [world.harbour_team] + [
        Team.objects.create(name=f"Lag {n}", organization=municipality, short=f"{n:02}") for n in range(19)
    ]
    senders = [world.alice]
    for n, team in enumerate(teams[1:]):
        senders.append(world.person(f"walker{n}", Role.FIELD, municipality, team=team))
    for team, sender in zip(teams, senders, strict=True):
        out_on_shift(team, sender)

    def batch(people, tag):
        return [
            PositionIn(user_id=p.pk, client_id=f"{tag}{p.pk}", lat=58.27, lon=11.43, recorded_at=now) for p in people
        ]

    with django_assert_num_queries(12):
        one = services.positions_record(reports=batch(senders[:1], "a"))
    with django_assert_num_queries(12):
        twenty = services.positions_record(reports=batch(senders, "b"))
    assert all(r.seq for r in one + twenty)
    assert len(Event.objects.latest("seq").data["teams"]) == 20
