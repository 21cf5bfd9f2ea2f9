"""Where to go next: one ranking, tried on constructed evenings, and the endpoint the pages poll."""

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone

from conftest import square
from coordination import services
from coordination.models import AuditLog, LatestPosition, Shift, SituationNote
from coordination.selectors.where_next import where_next
from coordination.tests.sockets import new_id
from maps.models import Area

pytestmark = pytest.mark.django_db

ZONE = timezone.get_current_timezone()
FRIDAY = date.fromisocalendar(2026, 49, 5)
EVENING = datetime.combine(FRIDAY, time(21, 0), tzinfo=ZONE)
# Three places of their own along one latitude west of the conftest areas, ~1.2 km apart.
LAT = 58.30


def area(name: str, lon: float, *, kind: str = "hotspot", priority: int = 0) -> Area:
    return Area.objects.create(name=name, kind=kind, priority=priority, polygon=square(lon, LAT, 0.004))


def inside(a: Area) -> Point:
    return a.polygon.point_on_surface


def names(suggestions) -> list[str]:
    return [s.name for s in suggestions]


def focus_on(world, a: Area) -> None:
    services.est_decision_record(
        actor=world.dana,
        iso_year=2026,
        iso_week=49,
        area_ids=[a.pk],
        weekdays=[4],
        start="19:00",
        end="23:00",
        who="team",
        team_id=world.harbour_team.pk,
    )


def adult_in(world, user, a: Area, *, at: datetime = EVENING) -> None:
    services.shift_start(user=user, client_id=new_id())
    shift = Shift.objects.get(team__members=user, ended_at__isnull=True)
    LatestPosition.objects.update_or_create(
        user=user, defaults={"shift": shift, "point": inside(a), "recorded_at": at - timedelta(minutes=2)}
    )


def note_in(world, a: Area, *, severity: int, at: datetime) -> None:
    SituationNote.objects.create(
        author=world.dana, area=a, point=inside(a), category="conflict", severity=severity, created_at=at
    )


@pytest.fixture
def evening(world):
    """Torget (west), Parken (district, middle), Kajen (east): empty streets at 21:00 on a Friday."""
    Area.objects.filter(pk__in=[world.hotspot.pk, world.district.pk]).delete()  # only this test's places
    return {
        "torget": area("Torget", 11.300),
        "parken": area("Parken", 11.320, kind="district"),
        "kajen": area("Kajen", 11.340),
    }


def test_a_focus_area_without_adults_outranks_a_quiet_hotspot(world, evening):
    focus_on(world, evening["parken"])
    ranking = where_next(point=None, now=EVENING, limit=10)
    assert names(ranking) == ["Parken", "Kajen", "Torget"]  # hotspots tie: by name
    assert ranking[0].reasons == ["focus", "no_adults"]
    assert ranking[0].reason_texts[0] == "Veckans fokus (EST-beslut)"
    # Outside the decided hours the district is no candidate at all: nothing happened there.
    assert names(where_next(point=None, now=EVENING + timedelta(hours=3), limit=10)) == ["Kajen", "Torget"]


def test_an_area_with_adults_drops(world, evening):
    adult_in(world, world.alice, evening["kajen"])
    assert names(where_next(point=None, now=EVENING, limit=10)) == ["Torget"]
    # A focus area stays a candidate with adults there, below the same focus area without them.
    focus_on(world, evening["kajen"])
    focus_on(world, evening["torget"])
    ranking = where_next(point=None, now=EVENING, limit=10)
    assert names(ranking) == ["Torget", "Kajen"]
    assert "adults" in ranking[1].reasons and ranking[1].adults == 1
    assert ranking[1].need == ranking[0].need / 2


def test_a_position_older_than_15_minutes_is_not_an_adult_there(world, evening):
    adult_in(world, world.alice, evening["kajen"], at=EVENING - timedelta(minutes=30))
    assert "Kajen" in names(where_next(point=None, now=EVENING, limit=10))


def test_nearer_wins_at_equal_need(world, evening):
    near_kajen = Point(11.341, LAT + 0.002, srid=4326)
    ranking = where_next(point=near_kajen, now=EVENING, limit=10)
    assert names(ranking) == ["Kajen", "Torget"]
    assert ranking[0].need == ranking[1].need
    assert ranking[0].distance_m == 0 and 2000 < ranking[1].distance_m < 3000
    near_torget = Point(11.301, LAT + 0.002, srid=4326)
    assert names(where_next(point=near_torget, now=EVENING, limit=10)) == ["Torget", "Kajen"]


def test_recent_severe_notes_raise_an_area_and_old_ones_do_not(world, evening):
    note_in(world, evening["torget"], severity=3, at=EVENING - timedelta(hours=3))  # too old to count
    assert names(where_next(point=None, now=EVENING, limit=10)) == ["Kajen", "Torget"]
    note_in(world, evening["torget"], severity=3, at=EVENING - timedelta(minutes=20))
    ranking = where_next(point=None, now=EVENING, limit=10)
    assert names(ranking) == ["Torget", "Kajen"]
    assert "notes" in ranking[0].reasons
    assert "1 notering senaste 2 h, 1 allvarlig" in ranking[0].reason_texts
    # One severe note counts for more than one mild one.
    note_in(world, evening["kajen"], severity=1, at=EVENING - timedelta(minutes=10))
    assert names(where_next(point=None, now=EVENING, limit=10)) == ["Torget", "Kajen"]


def test_notes_make_a_district_a_candidate_but_two_severe_ones_do_not_outweigh_an_est_focus(world, evening):
    focus_on(world, evening["torget"])
    for minutes in (10, 20):
        note_in(world, evening["parken"], severity=3, at=EVENING - timedelta(minutes=minutes))
    ranking = where_next(point=None, now=EVENING, limit=10)
    assert names(ranking) == ["Torget", "Parken", "Kajen"]
    assert ranking[1].reasons == ["no_adults", "notes"]


def test_citizen_reports_are_a_hook_that_raises_an_area(world, evening):
    ranking = where_next(point=None, now=EVENING, limit=10, recent_reports={evening["torget"].pk: 2})
    assert names(ranking) == ["Torget", "Kajen"]
    assert ranking[0].reasons == ["no_adults", "reports", "hotspot"]
    assert "2 rapporter från allmänheten" in ranking[0].reason_texts
    assert "Parken" in names(where_next(point=None, now=EVENING, limit=10, recent_reports={evening["parken"].pk: 1}))


def test_priority_breaks_a_tie_between_equal_hotspots(world, evening):
    Area.objects.filter(pk=evening["torget"].pk).update(priority=4)
    ranking = where_next(point=None, now=EVENING, limit=1)
    assert names(ranking) == ["Torget"] and "priority" in ranking[0].reasons


# --- the endpoint ---------------------------------------------------------------------------------------


def test_field_on_shift_gets_the_nearest_three_with_reasons_and_the_view_is_audited(client, world, evening):
    area("Bryggan", 11.360)
    area("Stranden", 11.380)
    services.shift_start(user=world.alice, client_id=new_id())
    client.force_login(world.alice)
    response = client.get(reverse("api-where-next"), {"lat": LAT + 0.002, "lon": 11.381})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["name"] for r in results] == ["Stranden", "Bryggan", "Kajen"]
    assert results[0]["distance_m"] == 0 and results[0]["reason_texts"]
    log = AuditLog.objects.get(action="where_next.view")
    assert log.user == world.alice and "lat" not in log.detail and log.detail["located"] is True


def test_duty_gets_the_whole_ranking_without_a_position(client, world, evening):
    client.force_login(world.dana)
    results = client.get(reverse("api-where-next")).json()["results"]
    assert [r["name"] for r in results] == ["Kajen", "Torget"]
    assert all(r["distance_m"] is None for r in results)


@pytest.mark.parametrize(
    "query",
    [
        {"lat": "north", "lon": "11"},
        {"lat": "58.3"},
        {"lat": "91", "lon": "11"},
        {"lat": "nan", "lon": "11"},
        {"limit": "x"},
    ],
)
def test_bad_input_to_the_endpoint_is_a_400_with_a_json_body(client, world, evening, query):
    services.shift_start(user=world.alice, client_id=new_id())
    client.force_login(world.alice)
    response = client.get(reverse("api-where-next"), query)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["code"] == "invalid" and body["message"]


@pytest.mark.parametrize(("person", "status"), [(None, 401), ("charlie", 403), ("erik", 403), ("frida", 200)])
def test_only_field_on_shift_duty_and_partner_get_suggestions(client, world, person, status):
    if person:
        client.force_login(getattr(world, person))
    response = client.get(reverse("api-where-next"))
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
