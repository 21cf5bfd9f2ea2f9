"""Activities: what an organisation announces, opens, closes and cancels."""

from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access, kinds
from coordination.audience import PUBLIC, STAFF, Audience
from coordination.errors import Forbidden, Invalid, NotFound
from coordination.events import event_append, written_once
from coordination.models import Event, Organization
from coordination.payloads import activity_payload
from coordination.validation import clean_client_id, clean_id, clean_text, point_from
from maps import occasions
from maps.models import Activity, ActivityOccasion, Place

__all__ = [
    "activity_audience",
    "activity_cancel",
    "activity_close",
    "activity_create",
    "activity_occasion_set",
    "activity_open",
    "activity_update",
]

# What an evening of a series can be set to; "planned" removes the evening's own status.
OCCASION_STATUSES = frozenset({"planned", *ActivityOccasion.Status.values})

MAX_ACTIVITY_LENGTH = timedelta(hours=24)
# What activity_create and activity_update accept besides the ids.
EDITABLE_FIELDS = frozenset(
    {"title", "description", "age_group", "contact", "place", "lat", "lon"}
    | {"starts_at", "ends_at", "weekly", "repeat_until", "visibility"}
)


def activity_audience(activity: Activity) -> Audience:
    """Public activities reach everyone; internal ones only staff."""
    return PUBLIC if activity.visibility == Activity.Visibility.PUBLIC else STAFF


def _publish_activity(activity: Activity, *, user, client_id: str | None) -> Event:
    return event_append(
        kind=kinds.ACTIVITY,
        audience=activity_audience(activity),
        data=activity_payload(activity),
        author=user,
        client_id=client_id,
    )


def _clean_place(value) -> Place | None:
    if value in (None, ""):
        return None
    place = Place.objects.filter(pk=value).first() if isinstance(value, int) and not isinstance(value, bool) else None
    if place is None:
        raise Invalid(_("Okänd plats."), field="place")
    return place


def _clean_when(value, name: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise Invalid(_("%(field)s måste vara en tidpunkt med tidszon.") % {"field": name}, field=name)
    return value


def _clean_weekly(value) -> bool:
    if not isinstance(value, bool):
        raise Invalid(_("weekly måste vara sant eller falskt."), field="weekly")
    return value


def _clean_repeat_until(value) -> date | None:
    if value is not None and not isinstance(value, date):
        raise Invalid(_("repeat_until måste vara ett datum."), field="repeat_until")
    return value


def _clean_visibility(value) -> str:
    if value not in Activity.Visibility.values:
        raise Invalid(_("visibility måste vara public eller internal."), field="visibility")
    return value


# Contact is the organisation's own published contact: a phone number is wanted there.
CLEANERS = {
    "title": lambda v: clean_text(v, field="title", max_length=120, required=True),
    "description": lambda v: clean_text(v, field="description", max_length=2000),
    "age_group": lambda v: clean_text(v, field="age_group", max_length=40),
    "contact": lambda v: clean_text(v, field="contact", max_length=120, phones_allowed=True),
    "place": _clean_place,
    "starts_at": lambda v: _clean_when(v, "starts_at"),
    "ends_at": lambda v: _clean_when(v, "ends_at"),
    "weekly": _clean_weekly,
    "repeat_until": _clean_repeat_until,
    "visibility": _clean_visibility,
}


def _clean_fields(fields: dict, *, current: Activity | None) -> dict:
    """Validate the editable fields of an activity; return model values. Raise Invalid on the first bad one."""
    unknown = sorted(set(fields) - EDITABLE_FIELDS)
    if unknown:
        # A misspelt field would otherwise be dropped silently while the save looks successful.
        raise Invalid(_("Okänt fält: %(field)s.") % {"field": unknown[0]}, field=unknown[0])
    if current is None:
        fields = {"title": None, **fields}  # a new activity needs its title
    out = {name: clean(fields[name]) for name, clean in CLEANERS.items() if name in fields}
    if "lat" in fields or "lon" in fields:
        out["point"] = point_from(fields.get("lat"), fields.get("lon"))
    _check_whole(lambda name: out[name] if name in out else getattr(current, name, None))
    return out


def _check_whole(merged) -> None:
    """The rules across fields, on the activity as it will be after the change."""
    starts_at, ends_at = merged("starts_at"), merged("ends_at")
    if starts_at is None or ends_at is None:
        missing = "starts_at" if starts_at is None else "ends_at"
        raise Invalid(_("Ange när aktiviteten börjar och slutar."), field=missing)
    if ends_at <= starts_at:
        raise Invalid(_("Aktiviteten måste sluta efter att den börjar."), field="ends_at")
    if ends_at - starts_at > MAX_ACTIVITY_LENGTH:
        raise Invalid(_("Ett tillfälle får vara högst ett dygn; använd veckoupprepning."), field="ends_at")
    if merged("place") is None and merged("point") is None:
        raise Invalid(_("Välj en plats eller en punkt på kartan."), field="place")
    repeat_until = merged("repeat_until")
    if repeat_until is not None and repeat_until < timezone.localtime(starts_at).date():
        raise Invalid(_("Upprepningen måste sluta efter första tillfället."), field="repeat_until")


def _check_not_past(starts_at: datetime) -> None:
    """A new first evening may be today or later, never a day that has been."""
    if timezone.localtime(starts_at).date() < timezone.localdate():
        raise Invalid(_("Datumet har redan varit. Välj i dag eller ett senare datum."), field="starts_at")


def activity_create(*, user, organization_id: int, client_id: str | None = None, **fields) -> Event:
    """Announce a new activity for `organization_id`, which the user must belong to as association."""
    client_id = clean_client_id(client_id)
    organization_id = clean_id(
        organization_id, field="organization", message=_("organization måste vara ett organisations-id.")
    )
    if not access.may_manage_activity(access.viewer_for(user), organization_id):
        raise Forbidden(_("Du kan bara lägga upp aktiviteter för din egen organisation."))
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise NotFound(_("Organisationen finns inte."), field="organization")
    values = _clean_fields(fields, current=None)
    _check_not_past(values["starts_at"])

    def write() -> Event:
        activity = Activity.objects.create(organization=organization, **values)
        return _publish_activity(activity, user=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)


def _locked_own_activity(*, user, activity_id) -> Activity:
    activity_id = clean_id(activity_id, field="activity", message=_("activity måste vara ett aktivitets-id."))
    activity = (
        Activity.objects.select_for_update(of=("self",))
        .select_related("organization", "place")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise NotFound(_("Aktiviteten finns inte."), field="activity")
    if not access.may_manage_activity(access.viewer_for(user), activity.organization_id):
        raise Forbidden(_("Du kan bara ändra din egen organisations aktiviteter."))
    return activity


def activity_update(*, user, activity_id: int, client_id: str | None = None, **fields) -> Event:
    """Change an activity's fields; only its own organisation may."""
    client_id = clean_client_id(client_id)

    def write() -> Event:
        activity = _locked_own_activity(user=user, activity_id=activity_id)
        was_public = activity.visibility == Activity.Visibility.PUBLIC
        values = _clean_fields(fields, current=activity)
        if "starts_at" in values and values["starts_at"] != activity.starts_at:
            _check_not_past(values["starts_at"])
        for name, value in values.items():
            setattr(activity, name, value)
        activity.save()
        if was_public and activity.visibility != Activity.Visibility.PUBLIC:
            # The public map must drop what it showed: tell it the activity is gone from its layer.
            event_append(kind=kinds.ACTIVITY_REMOVED, audience=PUBLIC, data={"id": activity.pk})
        return _publish_activity(activity, user=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)


def _tonight(activity: Activity) -> date:
    """Today's evening of the activity, if it has one that has not ended; else Invalid."""
    today = timezone.localdate()
    if not occasions.occurs_on(activity, today):
        raise Invalid(_("Aktiviteten äger inte rum i dag; öppna eller stäng den den dag den äger rum."), field="date")
    if occasions.window(activity, today)[1] <= timezone.now():
        raise Invalid(_("Kvällens tillfälle är redan slut."), field="date")
    return today


def _set_occasion(activity: Activity, day: date, status: str) -> None:
    if status == "planned":
        ActivityOccasion.objects.filter(activity=activity, date=day).delete()
    else:
        ActivityOccasion.objects.update_or_create(activity=activity, date=day, defaults={"status": status})


def _activity_set_status(*, user, activity_id, client_id, status: str) -> Event:
    client_id = clean_client_id(client_id)

    def write() -> Event:
        activity = _locked_own_activity(user=user, activity_id=activity_id)
        if activity.status == Activity.Status.CANCELLED and status != Activity.Status.CANCELLED:
            raise Invalid(_("En inställd aktivitet kan inte öppnas igen; lägg upp en ny."), field="status")
        if status in (Activity.Status.OPEN, Activity.Status.CLOSED):
            # "Open now" and "closed tonight" are tonight's evening's, and end with it.
            _set_occasion(activity, _tonight(activity), status)
        # The series' column keeps the last action too (the admin filters on it); maps read the evenings.
        activity.status = status
        activity.save(update_fields=["status", "updated_at"])
        return _publish_activity(activity, user=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)


def activity_open(*, user, activity_id: int, client_id: str | None = None) -> Event:
    """Mark tonight's evening of the activity open until its end; only on a day it takes place."""
    return _activity_set_status(user=user, activity_id=activity_id, client_id=client_id, status=Activity.Status.OPEN)


def activity_close(*, user, activity_id: int, client_id: str | None = None) -> Event:
    """Mark tonight's evening closed (the series stays announced); only on a day it takes place."""
    return _activity_set_status(user=user, activity_id=activity_id, client_id=client_id, status=Activity.Status.CLOSED)


def activity_occasion_set(*, user, activity_id: int, date: date, status: str, client_id: str | None = None) -> Event:
    """Set one evening of an activity open, closed, cancelled or back to planned; never a past day.

    Open and closed are for tonight only (activity_open/activity_close); cancelled or planned may be
    set for any coming evening of the series. Cancelling the whole series is activity_cancel.
    """
    client_id = clean_client_id(client_id)
    if status not in OCCASION_STATUSES:
        raise Invalid(_("Okänd status för ett tillfälle."), field="status")
    if not isinstance(date, type(timezone.localdate())) or isinstance(date, datetime):
        raise Invalid(_("Ange ett datum."), field="date")
    day = date
    if day < timezone.localdate():
        raise Invalid(_("Datumet har redan varit. Välj i dag eller ett senare datum."), field="date")

    def write() -> Event:
        activity = _locked_own_activity(user=user, activity_id=activity_id)
        if activity.status == Activity.Status.CANCELLED:
            raise Invalid(_("Hela aktiviteten är inställd."), field="status")
        if not occasions.occurs_on(activity, day):
            raise Invalid(_("Aktiviteten äger inte rum den dagen."), field="date")
        if status in (ActivityOccasion.Status.OPEN, ActivityOccasion.Status.CLOSED) and day != _tonight(activity):
            raise Invalid(_("Öppna eller stäng går bara för kvällens tillfälle."), field="date")
        _set_occasion(activity, day, status)
        activity.save(update_fields=["updated_at"])  # the feeds' Last-Modified and ETag follow it
        return _publish_activity(activity, user=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)


def activity_cancel(*, user, activity_id: int, client_id: str | None = None) -> Event:
    """Cancel the activity: it leaves the public feeds."""
    return _activity_set_status(
        user=user, activity_id=activity_id, client_id=client_id, status=Activity.Status.CANCELLED
    )
