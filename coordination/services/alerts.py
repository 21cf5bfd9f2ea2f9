"""Alarms (calls for help): raised by any field member, acknowledged and resolved by duty, escalated
when nobody acknowledges them.

Every step is one Event to staff, which its raiser hears as their own (kinds.Own.AUTHOR), so the
phone that raised an alarm follows it raised → acknowledged (by whom) → resolved even off shift; and
one audit-log row. coordination.jobs runs alerts_escalate once per deployment.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access, kinds, notify, payloads
from coordination.audience import STAFF
from coordination.errors import Conflict, Forbidden, NotFound
from coordination.events import event_append, written_once
from coordination.inbound import Socket, inbound
from coordination.models import Alert, Event, Shift, Team
from coordination.services.audit import audit_record
from coordination.services.common import ALERT_TEXT_MAX
from coordination.validation import clean_client_id, clean_id, clean_text, point_from

__all__ = ["alert_acknowledge", "alert_raise", "alert_resolve", "alerts_escalate"]

log = logging.getLogger(__name__)

# The states each transition may start from.
ALLOWED_FROM = {
    Alert.Status.ACKNOWLEDGED: {Alert.Status.RAISED},
    Alert.Status.RESOLVED: {Alert.Status.RAISED, Alert.Status.ACKNOWLEDGED},
}
# Level 1: louder and repeated on every duty screen. Level 2: also a second contact (coordination.notify).
TOP_LEVEL = 2


def _alert_events(alert: Alert, *, kind: kinds.Kind, author=None, client_id: str | None = None) -> Event:
    """The alarm's event to staff, in the caller's transaction; its raiser hears it too (kinds.Own.AUTHOR)."""
    return event_append(
        kind=kind, audience=STAFF, data=payloads.alert_payload(alert), author=author, client_id=client_id
    )


def _raiser_shift_and_team(viewer: access.Viewer) -> tuple[Shift | None, Team | None]:
    """The raiser's running shift and its team; off shift no shift and their (first) team, if any."""
    shift = (
        Shift.objects.filter(pk__in=viewer.active_shift_ids, ended_at__isnull=True)
        .select_related("team")
        .order_by("-started_at")
        .first()
    )
    if shift is not None:
        return shift, shift.team
    return None, Team.objects.filter(pk__in=viewer.team_ids).order_by("pk").first()


@inbound("alert", sockets={Socket.FIELD}, fields=("text", "lat", "lon"))
def alert_raise(
    *, user, client_id: str | None = None, text="", lat=None, lon=None, source: str = Alert.Source.PAGE
) -> Event:
    """A field member calls for help, on shift or not; duty sees it at once and it stays until resolved."""
    client_id = clean_client_id(client_id)
    text = clean_text(text, field="text", max_length=ALERT_TEXT_MAX)
    point = point_from(lat, lon)
    viewer = access.viewer_for(user)
    if not access.may_raise_alert(viewer):
        raise Forbidden(_("Bara fältpersonal kan skicka larm."))

    def write() -> Event:
        shift, team = _raiser_shift_and_team(viewer)
        alert = Alert.objects.create(author=user, shift=shift, team=team, point=point, text=text, source=source)
        event = _alert_events(alert, kind=kinds.ALERT, author=user, client_id=client_id)
        # Never the text or the position: the audit log says who and when, the alarm itself says what.
        detail = {"alert": alert.pk, "team": alert.team_id, "shift": alert.shift_id, "source": source}
        audit_record(user=user, action="alert.raise", detail=detail)
        return event

    return written_once(author=user, client_id=client_id, write=write)


def _alert_transition(*, user, client_id, alert_id, to: str, kind: kinds.Kind) -> Event:
    client_id = clean_client_id(client_id)
    if not access.may_acknowledge(access.viewer_for(user)):
        raise Forbidden(_("Bara jouren kan kvittera och avsluta larm."))
    alert_id = clean_id(alert_id, field="alert", message=_("alert måste vara ett larm-id."))

    def write() -> Event:
        query = Alert.objects.select_for_update(of=("self",)).select_related("team", "author", "acknowledged_by")
        alert = query.filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(_("Larmet finns inte."), field="alert")
        if alert.status not in ALLOWED_FROM[to]:
            raise Conflict(_("Larmet är redan %(status)s.") % {"status": alert.get_status_display().lower()})
        now = timezone.now()
        alert.status = to
        if to == Alert.Status.RESOLVED:
            alert.resolved_by, alert.resolved_at = user, now
        if alert.acknowledged_at is None:
            alert.acknowledged_by, alert.acknowledged_at = user, now
        alert.save()
        event = _alert_events(alert, kind=kind, author=user, client_id=client_id)
        audit_record(
            user=user,
            action=f"alert.{'resolve' if to == Alert.Status.RESOLVED else 'acknowledge'}",
            detail={"alert": alert.pk, "level": alert.level},
        )
        return event

    return written_once(author=user, client_id=client_id, write=write)


@inbound("ack_alert", sockets={Socket.OPS}, rename={"alert": "alert_id"})
def alert_acknowledge(*, user, client_id: str | None = None, alert_id) -> Event:
    """Duty has seen the alert and is acting on it."""
    return _alert_transition(
        user=user, client_id=client_id, alert_id=alert_id, to=Alert.Status.ACKNOWLEDGED, kind=kinds.ALERT_ACK
    )


@inbound("resolve_alert", sockets={Socket.OPS}, rename={"alert": "alert_id"})
def alert_resolve(*, user, client_id: str | None = None, alert_id) -> Event:
    """The situation behind the alert is over."""
    return _alert_transition(
        user=user, client_id=client_id, alert_id=alert_id, to=Alert.Status.RESOLVED, kind=kinds.ALERT_RESOLVED
    )


# --- escalation (a deployment job) ----------------------------------------------------------------


def _level_due(alert: Alert, *, now: datetime) -> int:
    """Level 1 after ALERT_ESCALATE_AFTER_S unacknowledged, level 2 after twice that."""
    waited = (now - alert.raised_at).total_seconds()
    return min(TOP_LEVEL, int(waited // max(1, settings.ALERT_ESCALATE_AFTER_S)))


def _escalate_one(alert_id: int, *, now: datetime) -> bool:
    """Raise one alarm's level if it is due; False when another run did it or it was acknowledged meanwhile."""
    with transaction.atomic():
        query = Alert.objects.select_for_update(of=("self",), skip_locked=True).select_related("team", "author")
        alert = query.filter(pk=alert_id, status=Alert.Status.RAISED).first()
        if alert is None:
            return False
        level = _level_due(alert, now=now)
        if level <= alert.level:
            return False  # a second worker run, or one that overlapped: the level is stored, never raised twice
        alert.level, alert.escalated_at = level, now
        alert.save(update_fields=["level", "escalated_at"])
        _alert_events(alert, kind=kinds.ALERT_ESCALATED)
        audit_record(user=None, action="alert.escalate", detail={"alert": alert.pk, "level": level})
        if level == TOP_LEVEL:
            # After commit: a slow or failing mail server must not hold back or undo the escalation.
            transaction.on_commit(lambda: _notify_second_contact(alert))
    return True


def _notify_second_contact(alert: Alert) -> None:
    result = notify.second_contact(alert)
    audit_record(user=None, action="alert.notify", detail={"alert": alert.pk, **result})


def alerts_escalate(*, now: datetime | None = None) -> int:
    """Escalate every raised alarm left unacknowledged past its next level; return how many moved.

    Idempotent: the level is stored on the alarm, so a second run (or a second worker) does nothing.
    """
    now = now or timezone.now()
    first = now - timedelta(seconds=max(1, settings.ALERT_ESCALATE_AFTER_S))
    due = Alert.objects.filter(status=Alert.Status.RAISED, level__lt=TOP_LEVEL, raised_at__lte=first)
    return sum(_escalate_one(pk, now=now) for pk in due.order_by("raised_at").values_list("pk", flat=True))
