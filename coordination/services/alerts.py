"""Alerts: a team asks for support; the duty officer acknowledges and resolves."""

from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access, kinds, payloads
from coordination.audience import STAFF
from coordination.errors import Conflict, Forbidden, NotFound
from coordination.events import event_append, written_once
from coordination.inbound import Socket, inbound
from coordination.models import Alert, Event
from coordination.services.common import ALERT_TEXT_MAX, active_shift_for
from coordination.validation import clean_client_id, clean_id, clean_text, point_from

__all__ = ["alert_acknowledge", "alert_raise", "alert_resolve"]

# The states each transition may start from.
ALLOWED_FROM = {
    Alert.Status.ACKNOWLEDGED: {Alert.Status.RAISED},
    Alert.Status.RESOLVED: {Alert.Status.RAISED, Alert.Status.ACKNOWLEDGED},
}


@inbound("alert", sockets={Socket.FIELD}, fields=("text", "lat", "lon"))
def alert_raise(*, user, client_id: str | None = None, text="", lat=None, lon=None) -> Event:
    """A team on shift asks for support; duty sees it at once."""
    client_id = clean_client_id(client_id)
    text = clean_text(text, field="text", max_length=ALERT_TEXT_MAX)
    point = point_from(lat, lon)
    viewer = access.viewer_for(user)
    if not access.may_report(viewer):
        raise Forbidden(_("Larm skickas under ett pågående pass."))

    def write() -> Event:
        alert = Alert.objects.create(author=user, shift=active_shift_for(viewer), point=point, text=text)
        return event_append(
            kind=kinds.ALERT, audience=STAFF, data=payloads.alert_payload(alert), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


def _alert_transition(*, user, client_id, alert_id, to: str, kind: kinds.Kind) -> Event:
    client_id = clean_client_id(client_id)
    if not access.may_acknowledge(access.viewer_for(user)):
        raise Forbidden(_("Bara jouren kan kvittera och avsluta larm."))
    alert_id = clean_id(alert_id, field="alert", message=_("alert måste vara ett larm-id."))

    def write() -> Event:
        alert = Alert.objects.select_for_update().select_related("shift__team").filter(pk=alert_id).first()
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
        return event_append(
            kind=kind, audience=STAFF, data=payloads.alert_payload(alert), author=user, client_id=client_id
        )

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
