"""The public activity feeds: GeoJSON and iCalendar, parsed back, with ETag and Last-Modified."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coordination import services as map_services
from maps.models import Activity

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def announce(world, *, title, organization=None, days=1, **fields) -> int:
    starts_at = (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)
    fields.setdefault("place", world.place.pk)
    return map_services.activity_create(
        user=world.erik if organization is None else fields.pop("user"),
        organization_id=(organization or world.club).pk,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        **fields,
    ).data["id"]


def calendar_events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def an_evening(world):
    """Public and internal, once and weekly, at a place and at a point, cancelled and over."""
    # Tonight's: an evening can be opened only on its day.
    gym = announce(world, title="Öppen hall", days=0, weekly=True, repeat_until=date.today() + timedelta(days=60))
    map_services.activity_open(user=world.erik, activity_id=gym)
    announce(world, title="Kvällsfotboll", weekly=True, place=None, lat=58.2701, lon=11.4402)
    announce(world, title="Ledarmöte", visibility="internal")
    cancelled = announce(world, title="Inställd cup")
    map_services.activity_cancel(user=world.erik, activity_id=cancelled)
    over = announce(world, title="Förra veckan")
    Activity.objects.filter(pk=over).update(
        starts_at=timezone.now() - timedelta(days=7), ends_at=timezone.now() - timedelta(days=7, hours=-2)
    )
    return gym


# --- iCalendar ------------------------------------------------------------------------------------


def test_the_calendar_holds_open_and_upcoming_public_activities_with_uid_zone_summary_location_and_geo(world):
    gym = an_evening(world)
    response = APIClient().get("/api/activities.ics")
    events = calendar_events(response)
    assert set(events) == {"Öppen hall", "Kvällsfotboll"}
    for activity in Activity.objects.filter(title__in=events):
        event = events[activity.title]
        assert str(event["UID"]) == f"activity-{activity.pk}@testserver"
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and str(start.tzinfo) == "Europe/Stockholm"
        assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
        assert start == activity.starts_at and event.decoded("DTEND") == activity.ends_at
        assert str(event["LOCATION"])
        geo = event["GEO"]
        location = activity.location
        assert (round(geo.latitude, 4), round(geo.longitude, 4)) == (round(location.y, 4), round(location.x, 4))
        assert "IFK Lysekil" in str(event["DESCRIPTION"])
    assert str(events["Öppen hall"]["LOCATION"]) == "Fritidsgården"
    assert str(events["Kvällsfotboll"]["LOCATION"]) == "58.27010, 11.44020"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert events["Öppen hall"]["STATUS"] == "CONFIRMED" and gym


def test_a_weekly_activity_is_one_event_with_a_weekly_rrule_until_its_last_day(world):
    last_day = date.today() + timedelta(days=60)
    announce(world, title="Öppen hall", weekly=True, repeat_until=last_day)
    announce(world, title="Kvällsfotboll", weekly=True)
    events = calendar_events(APIClient().get("/api/activities.ics"))
    rule = events["Öppen hall"]["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    until = rule["UNTIL"][0]
    assert until.tzinfo is not None and until.utcoffset() == timedelta(0)  # RFC 5545: UTC with a zoned start
    assert until.astimezone(STOCKHOLM).date() == last_day
    assert until.astimezone(STOCKHOLM).hour == 23
    assert events["Kvällsfotboll"]["RRULE"] == {"FREQ": ["WEEKLY"]}


def test_the_uid_of_an_activity_stays_the_same_when_it_changes(world):
    activity = announce(world, title="Öppen hall")
    before = calendar_events(APIClient().get("/api/activities.ics"))["Öppen hall"]["UID"]
    map_services.activity_update(user=world.erik, activity_id=activity, title="Öppen hall och pingis")
    after = calendar_events(APIClient().get("/api/activities.ics"))["Öppen hall och pingis"]["UID"]
    assert before == after


def test_a_calendar_per_organisation(world):
    announce(world, title="Öppen hall")
    other_leader = world.person("olle", "association", world.other_club)
    announce(world, title="Segling", organization=world.other_club, user=other_leader)
    response = APIClient().get(f"/api/activities.ics?organization={world.other_club.pk}")
    assert set(calendar_events(response)) == {"Segling"}
    calendar = icalendar.Calendar.from_ical(response.content)
    assert "Lysekils Segelsällskap" in str(calendar["X-WR-CALNAME"])


def test_an_empty_calendar_is_still_a_calendar(world):
    calendar = icalendar.Calendar.from_ical(APIClient().get("/api/activities.ics").content)
    assert calendar["VERSION"] == "2.0" and calendar.walk("VEVENT") == []


# --- GeoJSON ----------------------------------------------------------------------------------------


def test_the_geojson_feed_holds_the_same_public_activities_as_features(world):
    an_evening(world)
    response = APIClient().get("/api/activities.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    by_title = {f["properties"]["title"]: f for f in body["features"]}
    assert set(by_title) == {"Öppen hall", "Kvällsfotboll"}
    assert by_title["Kvällsfotboll"]["geometry"] == {"type": "Point", "coordinates": [11.4402, 58.2701]}
    assert by_title["Öppen hall"]["properties"]["status"] == "open"


@pytest.mark.parametrize("feed", ["activities.geojson", "activities.ics"])
@pytest.mark.parametrize(("query", "status"), [("organization=abc", 400), ("organization=999999", 404)])
def test_a_bad_or_unknown_organisation_is_a_json_error(world, feed, query, status):
    response = APIClient().get(f"/api/{feed}?{query}")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["field"] == "organization"


# --- conditional requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("feed", ["activities.geojson", "activities.ics"])
def test_an_unchanged_feed_answers_304_to_its_etag_and_date(world, feed):
    announce(world, title="Öppen hall")
    client = APIClient()
    first = client.get(f"/api/{feed}")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert first["Cache-Control"] == "public, max-age=0, must-revalidate"
    again = client.get(f"/api/{feed}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert client.get(f"/api/{feed}", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(f"/api/{feed}").content == first.content  # no clock in the body


@pytest.mark.parametrize("feed", ["activities.geojson", "activities.ics"])
def test_a_change_gives_a_new_etag_and_a_200(world, feed):
    activity = announce(world, title="Öppen hall")
    client = APIClient()
    first = client.get(f"/api/{feed}")
    map_services.activity_cancel(user=world.erik, activity_id=activity)
    Activity.objects.filter(pk=activity).update(updated_at=timezone.now() + timedelta(seconds=2))
    after = client.get(f"/api/{feed}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200 and after["ETag"] != first["ETag"]
    assert client.get(f"/api/{feed}", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_an_activity_leaving_the_feed_changes_the_etag_even_without_a_newer_date(world):
    activity = announce(world, title="Öppen hall")
    client = APIClient()
    first = client.get("/api/activities.ics")
    Activity.objects.filter(pk=activity).delete()
    assert client.get("/api/activities.ics", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_feeds_need_no_login_and_ignore_a_bad_token(world):
    response = APIClient().get("/api/activities.ics", HTTP_AUTHORIZATION="Bearer wrong")
    # The feed is public: a stale token left in a calendar app must not break the calendar.
    assert response.status_code == 200
