"""EST decisions: the weekly meeting's focus areas, evenings, hours and who acts, recorded or withdrawn."""

from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination import access, kinds
from coordination.audience import STAFF
from coordination.errors import Conflict, Forbidden, Invalid, NotFound
from coordination.events import event_append
from coordination.models import EstDecision, Event, Organization, Team
from coordination.selectors.est import decision_payload
from coordination.validation import clean_choice, clean_id, clean_ids, clean_text
from maps.models import Area

__all__ = ["decision_hours_error", "est_decision_record", "est_decision_withdraw"]

NOTE_MAX = 1000


def clean_week(iso_year, iso_week) -> tuple[int, int]:
    """An ISO year and week that exist (week 53 only in years that have one)."""
    if isinstance(iso_year, bool) or not isinstance(iso_year, int) or not 2000 <= iso_year <= 2100:
        raise Invalid(_("Året måste vara ett årtal mellan 2000 och 2100."), field="year")
    if isinstance(iso_week, bool) or not isinstance(iso_week, int):
        raise Invalid(_("Veckan måste vara ett veckonummer."), field="week")
    try:
        date.fromisocalendar(iso_year, iso_week, 1)
    except ValueError:
        raise Invalid(
            _("Vecka %(week)s finns inte år %(year)s.") % {"week": iso_week, "year": iso_year}, field="week"
        ) from None
    return iso_year, iso_week


def _clean_time(value, *, field: str) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), "%H:%M").time()
        except ValueError:
            pass
    raise Invalid(_("Ange tiden som TT:MM, till exempel 19:00."), field=field)


def _clean_weekdays(value) -> list[int]:
    message = _("Välj minst en kväll (måndag till söndag).")
    days = clean_ids(value, field="weekdays", message=message)
    if not days or any(d > 6 for d in days):
        raise Invalid(message, field="weekdays")
    return sorted(set(days))


def _clean_areas(value) -> list[Area]:
    message = _("Välj minst ett fokusområde.")
    ids = sorted(set(clean_ids(value, field="areas", message=message)))
    if not ids:
        raise Invalid(message, field="areas")
    areas = list(Area.objects.filter(pk__in=ids))
    if len(areas) != len(ids):
        raise Invalid(_("Okänt område: välj bland kartans områden."), field="areas")
    return areas


def _clean_who(who, team_id, organization_id) -> tuple[str, Team | None, Organization | None]:
    """Who acts: a team (required), the police (optionally which), an association (required)."""
    who = clean_choice(who, EstDecision.Who.values, field="who")
    team = organization = None
    if who == EstDecision.Who.TEAM:
        if team_id is None:
            raise Invalid(_("Välj vilket team som agerar."), field="team")
        team = Team.objects.filter(pk=clean_id(team_id, field="team", message=_("Okänt team."))).first()
        if team is None:
            raise Invalid(_("Okänt team."), field="team")
        return who, team, None
    kinds_allowed = {
        EstDecision.Who.POLICE: [Organization.Kind.POLICE],
        EstDecision.Who.ASSOCIATION: [Organization.Kind.ASSOCIATION, Organization.Kind.VOLUNTEER],
    }[who]
    if organization_id is None:
        if who == EstDecision.Who.ASSOCIATION:
            raise Invalid(_("Välj vilken förening som agerar."), field="organization")
        return who, None, None
    org_id = clean_id(organization_id, field="organization", message=_("Okänd organisation."))
    organization = Organization.objects.filter(pk=org_id, kind__in=kinds_allowed).first()
    if organization is None:
        raise Invalid(_("Organisationen passar inte den som agerar."), field="organization")
    return who, None, organization


# An evening's window is at most this long; an end at or before the start is the next morning's.
MAX_WINDOW_HOURS = 12


def decision_hours_error(start: time, end: time) -> str | None:
    """Why `start`–`end` is no evening window (None when it is): equal times, or longer than MAX_WINDOW_HOURS.

    An end at or before the start means the next morning (Friday 21:00–01:00), as a night walk goes.
    """
    if end == start:
        return _("Sluttiden kan inte vara samma som starttiden.")
    minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % (24 * 60)
    if minutes > MAX_WINDOW_HOURS * 60:
        return _(
            "Ett beslut gäller högst %(hours)s timmar i sträck (en sluttid före starttiden är morgonen efter)."
        ) % {"hours": MAX_WINDOW_HOURS}
    return None


def est_decision_record(
    *,
    actor,
    iso_year,
    iso_week,
    area_ids,
    weekdays,
    start,
    end,
    who,
    team_id=None,
    organization_id=None,
    note="",
) -> Event:
    """Record one EST decision for a week (duty and admins); refused when the note names a person's numbers."""
    if not access.may_record_decision(access.viewer_for(actor)):
        raise Forbidden(_("Bara jouren och administratörer registrerar EST-beslut."))
    iso_year, iso_week = clean_week(iso_year, iso_week)
    areas = _clean_areas(area_ids)
    days = _clean_weekdays(weekdays)
    start, end = _clean_time(start, field="start"), _clean_time(end, field="end")
    if problem := decision_hours_error(start, end):
        raise Invalid(problem, field="end")
    who, team, organization = _clean_who(who, team_id, organization_id)
    note = clean_text(note, field="note", max_length=NOTE_MAX)

    with transaction.atomic():
        decision = EstDecision.objects.create(
            iso_year=iso_year,
            iso_week=iso_week,
            weekdays=days,
            start_time=start,
            end_time=end,
            who=who,
            team=team,
            organization=organization,
            note=note,
            created_by=actor,
        )
        decision.areas.set(areas)
        return event_append(kind=kinds.DECISION, audience=STAFF, data=decision_payload(decision), author=actor)


def est_decision_withdraw(*, actor, decision_id) -> Event:
    """Withdraw a decision (it stays in the record, marked withdrawn); twice is a conflict."""
    if not access.may_record_decision(access.viewer_for(actor)):
        raise Forbidden(_("Bara jouren och administratörer registrerar EST-beslut."))
    decision_id = clean_id(decision_id, field="decision", message=_("decision måste vara ett beslut-id."))
    with transaction.atomic():
        decision = EstDecision.objects.select_for_update().filter(pk=decision_id).first()
        if decision is None:
            raise NotFound(_("Beslutet finns inte."), field="decision")
        if decision.withdrawn:
            raise Conflict(_("Beslutet är redan återkallat."))
        decision.withdrawn_at = timezone.now()
        decision.withdrawn_by = actor
        decision.save(update_fields=["withdrawn_at", "withdrawn_by"])
        return event_append(kind=kinds.DECISION_WITHDRAWN, audience=STAFF, data={"id": decision.pk}, author=actor)
