"""Situation notes: what a team sees at a place, and the duty officer's acknowledgement."""

from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access, kinds, payloads
from coordination.audience import STAFF
from coordination.errors import Conflict, Forbidden, Invalid, NotFound
from coordination.events import event_append, written_once
from coordination.inbound import Socket, inbound
from coordination.models import Event, NoteCategory, SituationNote
from coordination.services.common import NOTE_TEXT_MAX, active_shift_for, area_at
from coordination.validation import clean_choice, clean_client_id, clean_id, clean_text, point_from

__all__ = ["note_acknowledge", "note_create"]

NOTE_FIELDS = ("category", "severity", "text", "lat", "lon", "youth_count")


def _clean_youth_count(value) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000):
        raise Invalid(_("youth_count måste vara ett heltal, 0 eller mer."), field="youth_count")
    return value


def _clean_severity(value) -> int:
    if value is None:
        return SituationNote.Severity.LOW
    # An int, not 2.0 or True: the event must carry exactly the value the row stores.
    if isinstance(value, bool) or not isinstance(value, int) or value not in SituationNote.Severity.values:
        raise Invalid(_("severity måste vara 1, 2 eller 3."), field="severity")
    return value


@inbound("note", sockets={Socket.FIELD}, fields=NOTE_FIELDS)
def note_create(
    *, user, client_id: str | None = None, category, severity=None, text="", lat=None, lon=None, youth_count=None
) -> Event:
    """Record a situation note about a place; refused when the text names a person's numbers."""
    client_id = clean_client_id(client_id)
    category = clean_choice(category, NoteCategory.values, field="category")
    severity = _clean_severity(severity)
    youth_count = _clean_youth_count(youth_count)
    text = clean_text(text, field="text", max_length=NOTE_TEXT_MAX)
    point = point_from(lat, lon)
    viewer = access.viewer_for(user)
    if not access.may_write_note(viewer):
        raise Forbidden(_("Lägesnoteringar skrivs under ett pågående pass."))

    def write() -> Event:
        shift = active_shift_for(viewer) if viewer.on_duty else None
        note = SituationNote.objects.create(
            author=user,
            shift=shift,
            point=point,
            area=area_at(point),
            category=category,
            severity=severity,
            youth_count=youth_count,
            text=text,
        )
        return event_append(
            kind=kinds.NOTE, audience=STAFF, data=payloads.note_payload(note), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)


@inbound("ack_note", sockets={Socket.OPS}, rename={"note": "note_id"})
def note_acknowledge(*, user, client_id: str | None = None, note_id) -> Event:
    """Duty marks a note as seen; acknowledging twice is refused as a conflict."""
    client_id = clean_client_id(client_id)
    if not access.may_acknowledge(access.viewer_for(user)):
        raise Forbidden(_("Bara jouren kan kvittera noteringar."))
    note_id = clean_id(note_id, field="note", message=_("note måste vara ett noterings-id."))

    def write() -> Event:
        # of=self: the shift is an outer join (a duty officer's note has none) and cannot be locked.
        note = SituationNote.objects.select_for_update(of=("self",)).select_related("shift").filter(pk=note_id).first()
        if note is None:
            raise NotFound(_("Noteringen finns inte."), field="note")
        if note.status == SituationNote.Status.ACKNOWLEDGED:
            raise Conflict(_("Noteringen är redan kvitterad."))
        note.status = SituationNote.Status.ACKNOWLEDGED
        note.acknowledged_by = user
        note.acknowledged_at = timezone.now()
        note.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        return event_append(
            kind=kinds.NOTE_ACK, audience=STAFF, data=payloads.note_payload(note), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)
