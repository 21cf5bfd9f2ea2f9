"""The EST situation picture's one write: the group's level for an area in a week, with its reason."""

from django.db import transaction
from django.utils.translation import gettext as _

from coordination import access, kinds
from coordination.audience import STAFF
from coordination.errors import Forbidden, Invalid, NotFound
from coordination.events import event_append
from coordination.lagesbild import Level
from coordination.models import Event, LevelOverride
from coordination.validation import clean_id, clean_text
from maps.models import Area

__all__ = ["area_level_override"]

REASON_MAX = 300


def area_level_override(*, actor, area_id, year, week, level, reason) -> Event:
    """Set `area_id`'s level for ISO week `year`-W`week` (replacing an earlier one) with a reason; duty and admin only.

    Writes the LevelOverride and a `level_override` event (staff) in one transaction.
    """
    # Imported here: the selector module imports the services package's siblings.
    from coordination.selectors.lagesbild import period_for_week

    if not access.may_override_level(access.viewer_for(actor)):
        raise Forbidden(_("Bara jour och administratörer kan ändra ett områdes nivå."))
    area_id = clean_id(area_id, field="area_id", message=_("Okänt område."))
    if isinstance(year, bool) or not isinstance(year, int) or isinstance(week, bool) or not isinstance(week, int):
        raise Invalid(_("År och vecka måste vara heltal."), field="week")
    try:
        period_for_week(year, week)
    except ValueError as exc:
        raise Invalid(str(exc), field="week") from exc
    if level not in {choice.value for choice in Level}:
        raise Invalid(_("Nivån måste vara grön, gul, orange eller röd."), field="level")
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, required=True)
    with transaction.atomic():
        area = Area.objects.filter(pk=area_id).first()
        if area is None:
            raise NotFound(_("Okänt område."))
        LevelOverride.objects.update_or_create(
            area=area, year=year, week=week, defaults={"level": level, "reason": reason, "author": actor}
        )
        return event_append(
            kind=kinds.LEVEL_OVERRIDE,
            audience=STAFF,
            data={
                "area": area.pk,
                "area_name": area.name,
                "year": year,
                "week": week,
                "level": level,
                "reason": reason,
            },
            author=actor,
        )
