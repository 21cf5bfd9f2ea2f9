"""The occasions of an activity: when each evening is, which one is tonight or next, and its status.

An activity is one occasion (starts_at..ends_at) or weekly ones until repeat_until; an
ActivityOccasion row sets one evening apart (open, closed, cancelled). Times are local
(Europe/Stockholm): a weekly 18:00 stays 18:00 across a daylight-saving change.
"""

from datetime import date, datetime, timedelta

from django.utils import timezone

from maps.models import Activity, ActivityOccasion

# Overrides older than this are history: payloads carry the evenings from today on.
WEEK = timedelta(days=7)


def first_date(activity: Activity) -> date:
    return timezone.localtime(activity.starts_at).date()


def occurs_on(activity: Activity, day: date) -> bool:
    """Whether one of the activity's occasions starts on local date `day`."""
    first = first_date(activity)
    if not activity.weekly:
        return day == first
    if day < first or (day - first).days % 7:
        return False
    return activity.repeat_until is None or day <= activity.repeat_until


def window(activity: Activity, day: date) -> tuple[datetime, datetime]:
    """The start and end of the occasion on `day` (which must be one), as aware datetimes."""
    start = timezone.localtime(activity.starts_at)
    begins = timezone.make_aware(datetime.combine(day, start.time().replace(tzinfo=None)))
    return begins, begins + (activity.ends_at - activity.starts_at)


def current_or_next(activity: Activity, now: datetime) -> date | None:
    """The date of the occasion under way at `now`, else the next one; None when all are over."""
    first = first_date(activity)
    if not activity.weekly:
        return first if window(activity, first)[1] > now else None
    today = timezone.localtime(now).date()
    day = first
    if (today - first).days > 7:
        # The last occasion starting before today: it may still be under way (an occasion is at most a day).
        day = first + WEEK * (((today - first).days - 1) // 7)
    while activity.repeat_until is None or day <= activity.repeat_until:
        if window(activity, day)[1] > now:
            return day
        day += WEEK
    return None


def overrides(activity: Activity) -> dict[date, str]:
    """The activity's occasion rows by date (prefetched `occasions` when the caller did)."""
    return {o.date: o.status for o in activity.occasions.all()}


def status_now(activity: Activity, now: datetime) -> str:
    """The status the maps show: the series' cancellation, else tonight's (or the next) evening's.

    An evening opened or closed counts only until it ends: "Öppet nu" never outlives its end time.
    A single cancelled evening does not cancel the series; it is listed in `occasions` instead.
    """
    if activity.status == Activity.Status.CANCELLED:
        return Activity.Status.CANCELLED
    day = current_or_next(activity, now)
    status = overrides(activity).get(day) if day else None
    if status in (ActivityOccasion.Status.OPEN, ActivityOccasion.Status.CLOSED):
        return status
    return Activity.Status.PLANNED


def upcoming_overrides(activity: Activity, now: datetime) -> list[dict]:
    """The evenings set apart from today on: [{date, status}] in date order (the event's `occasions`)."""
    today = timezone.localtime(now).date()
    rows = sorted(overrides(activity).items())
    return [{"date": day.isoformat(), "status": status} for day, status in rows if day >= today]
