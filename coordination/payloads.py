"""The `data` of each event kind and the properties of the matching snapshot feature.

One function per thing, so an event applied to a snapshot gives exactly what a fresh snapshot shows.
"""

from datetime import datetime

from django.utils import timezone

from coordination.audience import Audience
from coordination.models import Alert, ChatMessage, Shift, SituationNote
from maps import occasions
from maps.models import Activity


def iso(value) -> str | None:
    """ISO 8601 in Europe/Stockholm (the deployment's zone), or None."""
    return timezone.localtime(value).isoformat() if value else None


def _coords(point) -> dict:
    if point is None:
        return {"lat": None, "lon": None}
    return _rounded(point.y, point.x)


def _rounded(lat: float, lon: float) -> dict:
    # Rounded to ~1 m: more digits are noise from the device and cost bytes on every frame.
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def shift_payload(shift: Shift) -> dict:
    """A team's shift: who is out, since when, where they planned to be, their status."""
    return {
        "shift": shift.pk,
        "team": shift.team_id,
        "team_name": shift.team.name,
        "short": shift.team.short,
        "active": shift.ended_at is None,
        "status": shift.status,
        "started_at": iso(shift.started_at),
        "ended_at": iso(shift.ended_at),
        "areas": sorted(a.pk for a in shift.planned_areas.all()),
    }


def note_payload(note: SituationNote) -> dict:
    return {
        "id": note.pk,
        "category": note.category,
        "severity": note.severity,
        "youth_count": note.youth_count,
        "text": note.text,
        **_coords(note.point),
        "area": note.area_id,
        "team": note.shift.team_id if note.shift_id else None,
        "status": note.status,
        "created_at": iso(note.created_at),
        "acknowledged_at": iso(note.acknowledged_at),
    }


def person_name(user) -> str | None:
    """How a person is named on the screens: full name, else username; None for nobody."""
    return (user.get_full_name() or user.get_username()) if user else None


def alert_payload(alert: Alert) -> dict:
    """An alarm as staff and its raiser see it: who raised it, who acknowledged it, how far it escalated."""
    return {
        "id": alert.pk,
        "team": alert.team_id,
        "team_name": alert.team.name if alert.team_id else "",
        "text": alert.text,
        **_coords(alert.point),
        "status": alert.status,
        "raised_at": iso(alert.raised_at),
        "acknowledged_at": iso(alert.acknowledged_at),
        "resolved_at": iso(alert.resolved_at),
        "author": alert.author_id,
        "raised_by": person_name(alert.author),
        "acknowledged_by": person_name(alert.acknowledged_by),
        "source": alert.source,
        "level": alert.level,
        "escalated_at": iso(alert.escalated_at),
    }


def chat_payload(message: ChatMessage) -> dict:
    author = message.author
    return {
        "id": message.pk,
        "channel": chat_message_audience(message).channel,
        "author": author.get_full_name() or author.get_username(),
        "text": message.text,
        "created_at": iso(message.created_at),
    }


def chat_message_audience(message: ChatMessage) -> Audience:
    """The audience a stored chat message was sent to."""
    return Audience.of_chat(channel=message.channel, team_id=message.team_id, area_id=message.area_id)


def team_position_payload(
    *,
    team_id: int,
    team_name: str,
    short: str,
    shift_id: int,
    lat: float,
    lon: float,
    accuracy: float | None,
    recorded_at: datetime,
) -> dict:
    """The latest position of one team on shift, as duty's map draws it."""
    return {
        "team": team_id,
        "team_name": team_name,
        "short": short,
        "shift": shift_id,
        # No status: it has its own events, and a batch read before a status change would undo it.
        **_rounded(lat, lon),
        "accuracy": accuracy,
        "recorded_at": iso(recorded_at),
    }


def activity_payload(activity: Activity) -> dict:
    """The event data and feature properties of an activity (public fields only)."""
    location = activity.location
    now = timezone.now()
    return {
        "id": activity.pk,
        "title": activity.title,
        "description": activity.description,
        "organization": activity.organization_id,
        "organization_name": activity.organization.name,
        "place": activity.place_id,
        "place_name": activity.place.name if activity.place_id else "",
        "lat": round(location.y, 6) if location else None,
        "lon": round(location.x, 6) if location else None,
        "starts_at": iso(activity.starts_at),
        "ends_at": iso(activity.ends_at),
        "weekly": activity.weekly,
        "repeat_until": activity.repeat_until.isoformat() if activity.repeat_until else None,
        "visibility": activity.visibility,
        # Tonight's (or the next) evening's status; evenings set apart from today on in `occasions`.
        "status": occasions.status_now(activity, now),
        "occasions": occasions.upcoming_overrides(activity, now),
        "age_group": activity.age_group,
        "contact": activity.contact,
    }
