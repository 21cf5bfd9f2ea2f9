"""One evening of an activity (issue 15, item 6): open only on its day and until its end, cancel one
evening of a weekly series, never a past day; the calendar keeps a cancelled evening, marked cancelled."""

from datetime import datetime, timedelta

import icalendar
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coordination import selectors, services
from coordination.access import ANONYMOUS
from coordination.errors import Invalid
from coordination.models import Event
from maps import occasions
from maps.models import Activity, ActivityOccasion


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def weekly(world, *, first: datetime, title="Fredagsfotboll", **fields) -> Activity:
    """A weekly activity of IFK Lysekil from `first`, two hours each evening, for ten weeks."""
    event = services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title=title,
        place=world.place.pk,
        starts_at=first,
        ends_at=first + timedelta(hours=2),
        weekly=True,
        repeat_until=timezone.localtime(first).date() + timedelta(weeks=10),
        **fields,
    )
    return Activity.objects.get(pk=event.data["id"])


def started_an_hour_ago() -> datetime:
    now = timezone.localtime().replace(second=0, microsecond=0)
    return max(now - timedelta(hours=1), now.replace(hour=0, minute=0))


def in_days(days: int, hour: int = 18) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=hour)))


def public_activity(activity: Activity) -> dict:
    features = selectors.live_snapshot(viewer=ANONYMOUS)["features"]
    return next(f["properties"] for f in features if f["id"] == f"activity.{activity.pk}")


# --- open only on the day, and only until the end ---------------------------------------------------------


def test_open_now_is_refused_on_a_day_the_activity_does_not_take_place(world):
    friday = weekly(world, first=in_days(3))
    with pytest.raises(Invalid) as refused:
        services.activity_open(user=world.erik, activity_id=friday.pk)
    assert refused.value.field == "date"
    assert not ActivityOccasion.objects.exists()
    assert public_activity(friday)["status"] == "planned"


def test_open_now_on_the_day_opens_that_evening_and_it_ends_at_the_end_time(world):
    tonight = weekly(world, first=started_an_hour_ago())
    event = services.activity_open(user=world.erik, activity_id=tonight.pk)
    assert event.data["status"] == "open"
    assert event.data["occasions"] == [{"date": timezone.localdate().isoformat(), "status": "open"}]
    assert public_activity(tonight)["status"] == "open"

    tonight.refresh_from_db()
    after_the_end = occasions.window(tonight, timezone.localdate())[1] + timedelta(minutes=1)
    assert occasions.status_now(tonight, after_the_end) == "planned"  # next week's evening is not open
    assert occasions.current_or_next(tonight, after_the_end) == timezone.localdate() + timedelta(weeks=1)


# --- one evening of a series ------------------------------------------------------------------------------


def test_cancelling_one_evening_keeps_the_series_and_lists_the_evening(world):
    series = weekly(world, first=in_days(2))
    next_week = timezone.localdate() + timedelta(days=9)
    event = services.activity_occasion_set(user=world.erik, activity_id=series.pk, date=next_week, status="cancelled")
    assert event.kind == "activity" and event.audience == "public"
    assert event.data["status"] == "planned"  # the series goes on
    assert event.data["occasions"] == [{"date": next_week.isoformat(), "status": "cancelled"}]
    assert public_activity(series)["occasions"] == event.data["occasions"]

    services.activity_occasion_set(user=world.erik, activity_id=series.pk, date=next_week, status="planned")
    assert not ActivityOccasion.objects.exists()  # back as planned


def test_a_past_day_or_a_day_without_the_activity_is_refused_and_nothing_is_written(world):
    series = weekly(world, first=started_an_hour_ago())
    events = Event.objects.count()
    for day, field in (
        (timezone.localdate() - timedelta(days=7), "date"),  # last week's evening has been
        (timezone.localdate() + timedelta(days=1), "date"),  # no evening tomorrow
    ):
        with pytest.raises(Invalid) as refused:
            services.activity_occasion_set(user=world.erik, activity_id=series.pk, date=day, status="cancelled")
        assert refused.value.field == field
    with pytest.raises(Invalid):
        services.activity_occasion_set(
            user=world.erik, activity_id=series.pk, date=timezone.localdate() + timedelta(weeks=1), status="open"
        )  # open is for tonight only
    assert Event.objects.count() == events and not ActivityOccasion.objects.exists()


def test_a_new_activity_on_a_past_day_is_refused(world):
    with pytest.raises(Invalid) as refused:
        weekly(world, first=in_days(-1))
    assert refused.value.field == "starts_at"
    assert not Activity.objects.exists()


def test_another_club_may_not_cancel_an_evening(world):
    series = weekly(world, first=in_days(2))
    sigrid = world.person("sigrid", "association", world.other_club)
    with pytest.raises(Exception) as refused:
        services.activity_occasion_set(
            user=sigrid, activity_id=series.pk, date=timezone.localdate() + timedelta(days=2), status="cancelled"
        )
    assert refused.value.code == "forbidden"


# --- the calendar ---------------------------------------------------------------------------------------


def test_the_calendar_marks_a_cancelled_evening_cancelled_instead_of_dropping_it(world):
    series = weekly(world, first=in_days(2))
    cancelled_day = timezone.localdate() + timedelta(days=9)
    services.activity_occasion_set(user=world.erik, activity_id=series.pk, date=cancelled_day, status="cancelled")

    calendar = icalendar.Calendar.from_ical(APIClient().get("/api/activities.ics").content)
    events = [c for c in calendar.walk("VEVENT") if str(c["SUMMARY"]) == "Fredagsfotboll"]
    assert len(events) == 2
    master = next(e for e in events if "RECURRENCE-ID" not in e)
    override = next(e for e in events if "RECURRENCE-ID" in e)
    assert "RRULE" in master and str(master["STATUS"]) == "CONFIRMED"
    assert str(override["UID"]) == str(master["UID"])
    assert str(override["STATUS"]) == "CANCELLED"
    evening = timezone.make_aware(datetime.combine(cancelled_day, datetime.min.time().replace(hour=18)))
    assert override.decoded("RECURRENCE-ID") == evening
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Stockholm"
    assert override.decoded("DTEND") - override.decoded("DTSTART") == timedelta(hours=2)


def test_a_one_off_activity_whose_evening_is_cancelled_stays_in_the_calendar_as_cancelled(world):
    start = in_days(2)
    event = services.activity_create(
        user=world.erik,
        organization_id=world.club.pk,
        title="Cupkväll",
        place=world.place.pk,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
    )
    services.activity_occasion_set(
        user=world.erik, activity_id=event.data["id"], date=timezone.localdate(start), status="cancelled"
    )
    calendar = icalendar.Calendar.from_ical(APIClient().get("/api/activities.ics").content)
    (cup,) = [c for c in calendar.walk("VEVENT") if str(c["SUMMARY"]) == "Cupkväll"]
    assert str(cup["STATUS"]) == "CANCELLED"


# --- the association page -------------------------------------------------------------------------------


def test_the_page_offers_open_now_only_on_the_day_and_asks_first(world, client):
    weekly(world, first=started_an_hour_ago(), title="Kvällsgympa")
    weekly(world, first=in_days(3), title="Fredagsfotboll")
    client.force_login(world.erik)
    html = client.get("/forening/").content.decode()
    tonight_row = html.split('data-activity="')[1]
    other_row = html.split('data-activity="')[2]
    assert "Kvällsgympa" in tonight_row and 'data-action="open"' in tonight_row
    assert 'class="confirm-form" data-confirm="Öppna Kvällsgympa nu?' in tonight_row
    assert "Fredagsfotboll" in other_row and 'data-action="open"' not in other_row


def test_the_page_cancels_one_evening_and_refuses_a_past_date_with_a_form_error(world, client):
    series = weekly(world, first=in_days(2))
    client.force_login(world.erik)
    past = (timezone.localdate() - timedelta(days=5)).isoformat()
    response = client.post(f"/forening/{series.pk}/tillfalle/", {"date": past, "status": "cancelled"})
    assert response.status_code == 200
    assert "Datumet har redan varit. Välj i dag eller ett senare datum." in response.content.decode()
    assert not ActivityOccasion.objects.exists()

    day = timezone.localdate() + timedelta(days=9)
    response = client.post(f"/forening/{series.pk}/tillfalle/", {"date": day.isoformat(), "status": "cancelled"})
    assert response.status_code == 302
    assert ActivityOccasion.objects.get().date == day
    page = client.get("/forening/").content.decode()
    assert "Inställt" in page


def test_the_announce_form_refuses_a_past_date_on_its_start_field(world, client):
    client.force_login(world.erik)
    yesterday = timezone.localtime() - timedelta(days=1)
    response = client.post(
        "/forening/",
        {
            "organization": world.club.pk,
            "title": "Gårdagens hall",
            "place": world.place.pk,
            "starts_at": yesterday.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (yesterday + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "visibility": "public",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"] == [
        "Datumet har redan varit. Välj i dag eller ett senare datum."
    ]
    assert not Activity.objects.exists()
