"""Shifts: a team starts and ends its evening and says what it is doing."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access, kinds, payloads
from coordination.audience import STAFF
from coordination.errors import Conflict, Forbidden, Invalid, NotFound
from coordination.events import event_append, written_once
from coordination.inbound import Socket, inbound
from coordination.models import CheckIn, Event, LatestPosition, Shift, Team
from coordination.services.common import active_shift_for
from coordination.validation import clean_choice, clean_client_id, clean_id, clean_ids, clean_optional_id
from maps.models import Area, Place

__all__ = ["checkin_record", "shift_end", "shift_start", "shift_status_set"]


@inbound("shift_start", sockets={Socket.FIELD}, rename={"areas": "area_ids", "team": "team_id"}, rejoin=True)
def shift_start(*, user, client_id: str | None = None, team_id: int | None = None, area_ids=()) -> Event:
    """Start a shift for the user's team (the only one, or `team_id`) with planned areas."""
    client_id = clean_client_id(client_id)
    team_id = clean_optional_id(team_id, field="team", message=_("team måste vara ett team-id."))
    area_ids = clean_ids(area_ids, field="areas", message=_("areas måste vara en lista med område-id."))
    viewer = access.viewer_for(user)
    if team_id is None:
        if len(viewer.team_ids) != 1:
            raise Invalid(_("Välj vilket team passet gäller."), field="team")
        team_id = next(iter(viewer.team_ids))
    if not access.may_start_shift(viewer, team_id):
        raise Forbidden(_("Du kan bara starta pass för ditt eget team."))
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("Teamet finns inte."), field="team")
    planned = list(Area.objects.filter(pk__in=area_ids))
    if len(planned) != len(set(area_ids)):
        raise Invalid(_("Okänt område i areas."), field="areas")

    def write() -> Event:
        if Shift.objects.select_for_update().filter(team=team, ended_at__isnull=True).exists():
            raise Conflict(_("Teamet har redan ett pågående pass."))
        try:
            with transaction.atomic():
                shift = Shift.objects.create(team=team, started_by=user)
        except IntegrityError:
            # Another member started it at the same moment: exists() could not see an uncommitted row.
            raise Conflict(_("Teamet har redan ett pågående pass.")) from None
        shift.planned_areas.set(planned)
        return _shift_event(kinds.SHIFT, shift, user=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)


def _shift_event(kind: kinds.Kind, shift: Shift, *, user, client_id: str | None) -> Event:
    return event_append(kind=kind, audience=STAFF, data=payloads.shift_payload(shift), author=user, client_id=client_id)


def _shift_to_end(viewer: access.Viewer, shift_id: int | None) -> Shift:
    """The shift `shift_id`, or the viewer's team's active one; locked."""
    shifts = Shift.objects.select_for_update().select_related("team")
    if shift_id is not None:
        shift = shifts.filter(pk=shift_id).first()
        if shift is None:
            raise NotFound(_("Passet finns inte."), field="shift")
        return shift
    shift = shifts.filter(pk__in=viewer.active_shift_ids).order_by("-started_at").first()
    if shift is None:
        raise Conflict(_("Det finns inget pågående pass att avsluta."))
    return shift


@inbound("shift_end", sockets={Socket.FIELD}, rejoin=True)
def shift_end(*, user, client_id: str | None = None, shift_id: int | None = None) -> Event:
    """End the user's team's active shift (duty may end any shift by id). Positions stop here."""
    client_id = clean_client_id(client_id)
    shift_id = clean_optional_id(shift_id, field="shift", message=_("shift måste vara ett pass-id."))
    viewer = access.viewer_for(user)

    def write() -> Event:
        shift = _shift_to_end(viewer, shift_id)
        if not access.may_start_shift(viewer, shift.team_id):
            raise Forbidden(_("Du kan bara avsluta ditt eget teams pass."))
        if shift.ended_at is not None:
            raise Conflict(_("Passet är redan avslutat."))
        shift.ended_at = timezone.now()
        shift.save(update_fields=["ended_at"])
        # Nobody sees where a team is once it has gone home.
        LatestPosition.objects.filter(shift=shift).delete()
        return _shift_event(kinds.SHIFT, shift, user=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)


@inbound("status", sockets={Socket.FIELD}, fields=("status",))
def shift_status_set(*, user, client_id: str | None = None, status) -> Event:
    """Set the status of the user's team (on round, at place, in conversation, break, need backup)."""
    client_id = clean_client_id(client_id)
    status = clean_choice(status, Shift.Status.values, field="status")
    viewer = access.viewer_for(user)
    if not access.may_report(viewer):
        raise Forbidden(_("Du har inget pågående pass. Starta passet först."))

    def write() -> Event:
        shift = active_shift_for(viewer)
        shift.status = status
        shift.save(update_fields=["status"])
        return _shift_event(kinds.STATUS, shift, user=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)


@inbound("checkin", sockets={Socket.FIELD}, rename={"place": "place_id"})
def checkin_record(*, user, client_id: str | None = None, place_id) -> Event:
    """The user's team on shift says it is at `place_id`; staff see it, the public never does."""
    client_id = clean_client_id(client_id)
    place_id = clean_id(place_id, field="place", message=_("place måste vara ett plats-id."))
    place = Place.objects.filter(pk=place_id).first()
    if place is None:
        raise NotFound(_("Platsen finns inte."), field="place")
    viewer = access.viewer_for(user)
    if not access.may_report(viewer):
        raise Forbidden(_("Du har inget pågående pass. Starta passet först."))

    def write() -> Event:
        shift = active_shift_for(viewer)
        checkin = CheckIn.objects.create(shift=shift, place=place, author=user)
        data = {
            "id": checkin.pk,
            "team": shift.team_id,
            "team_name": shift.team.name,
            "shift": shift.pk,
            "place": place.pk,
            "place_name": place.name,
            "lat": round(place.point.y, 6),
            "lon": round(place.point.x, 6),
            "created_at": payloads.iso(checkin.created_at),
        }
        return event_append(kind=kinds.CHECKIN, audience=STAFF, data=data, author=user, client_id=client_id)

    return written_once(author=user, client_id=client_id, write=write)
