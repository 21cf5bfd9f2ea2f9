"""EST decisions read back: their event data, "Veckans fokus" now, and next week's follow-up.

Places only: a decision names areas, evenings, hours and who acts (a team or an organisation),
never a person; the follow-up counts adult hours and notes.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from coordination.lagesbild import DecisionFollowUp, Period
from coordination.models import AggregatedDay, EstDecision, PresenceHour, SituationNote
from coordination.payloads import iso
from coordination.selectors.reports import PRESENCE_SLOT_MINUTES
from maps.models import Area

__all__ = [
    "decision_followups",
    "decision_payload",
    "decisions_of_week",
    "focus_area_ids",
    "focus_features",
    "focus_now",
    "live_decisions",
]


def weekday_names() -> list[str]:
    """Short weekday names, Monday first, in the reader's language (translated per call, not at import)."""
    return [_("mån"), _("tis"), _("ons"), _("tors"), _("fre"), _("lör"), _("sön")]


def _decisions() -> QuerySet:
    return EstDecision.objects.select_related("team", "organization").prefetch_related(
        Prefetch("areas", queryset=Area.objects.order_by("-priority", "name"))
    )


def who_text(decision: EstDecision) -> str:
    """Who acts, for the reader: the team's name, the organisation's, or "Polisen"."""
    if decision.who == EstDecision.Who.TEAM and decision.team_id:
        return decision.team.name
    if decision.organization_id:
        return decision.organization.name
    return str(EstDecision.Who(decision.who).label)


def planned_text(decision: EstDecision) -> str:
    """The decided evenings and hours: "fre, lör 19:00–23:00"."""
    names = weekday_names()
    days = ", ".join(names[d] for d in decision.weekdays)
    return f"{days} {decision.start_time:%H:%M}–{decision.end_time:%H:%M}"


def decision_payload(decision: EstDecision) -> dict:
    """The `decision` event's data, and the properties of its `focus.<id>` snapshot feature."""
    areas = list(decision.areas.all())
    return {
        "id": decision.pk,
        "year": decision.iso_year,
        "week": decision.iso_week,
        "areas": [a.pk for a in areas],
        "area_names": [a.name for a in areas],
        "weekdays": list(decision.weekdays),
        "start": f"{decision.start_time:%H:%M}",
        "end": f"{decision.end_time:%H:%M}",
        # Absolute instants, so a screen in another time zone still opens the window at 19:00 here.
        "windows": [[iso(start), iso(end)] for start, end in decision.windows()],
        "who": decision.who,
        "who_name": who_text(decision),
        "note": decision.note,
        "created_at": iso(decision.created_at),
    }


def decisions_of_week(iso_year: int, iso_week: int, *, include_withdrawn: bool = False) -> list[EstDecision]:
    """The decisions recorded for one ISO week, in the order of their hours."""
    decisions = _decisions().filter(iso_year=iso_year, iso_week=iso_week)
    if not include_withdrawn:
        decisions = decisions.filter(withdrawn_at__isnull=True)
    return list(decisions.order_by("start_time", "pk"))


def _week_of(day: date) -> tuple[int, int]:
    calendar = day.isocalendar()
    return calendar.year, calendar.week


def live_decisions(*, now: datetime) -> list[EstDecision]:
    """Decisions not withdrawn with an evening window not yet over: what the live snapshot carries.

    From last week's on: Sunday's window may run past midnight into this week's Monday.
    """
    year, week = _week_of(timezone.localdate(now) - timedelta(days=7))
    candidates = _decisions().filter(withdrawn_at__isnull=True, iso_year__gte=year - 1)
    return [
        d
        for d in candidates.order_by("iso_year", "iso_week", "start_time", "pk")
        if (d.iso_year, d.iso_week) >= (year, week) and any(end > now for _start, end in d.windows())
    ]


def focus_features(*, now: datetime) -> list[dict]:
    """The `focus.<id>` features of the live snapshot (staff only): decisions still to come or under way."""
    return [
        {"type": "Feature", "id": f"focus.{d.pk}", "geometry": None, "properties": {"layer": "focus", **p}}
        for d in live_decisions(now=now)
        for p in [decision_payload(d)]
    ]


def focus_now(*, now: datetime) -> list[EstDecision]:
    """Decisions whose evening window holds `now`: "Veckans fokus" is shown.

    This week's and last week's: Sunday's window may run past midnight into Monday.
    """
    weeks = {_week_of(timezone.localdate(now)), _week_of(timezone.localdate(now) - timedelta(days=1))}
    week_filter = Q()
    for year, week in weeks:
        week_filter |= Q(iso_year=year, iso_week=week)
    decisions = _decisions().filter(week_filter, withdrawn_at__isnull=True)
    return [d for d in decisions if any(start <= now < end for start, end in d.windows())]


def focus_area_ids(*, now: datetime) -> set[int]:
    """The areas in focus at `now`."""
    return {area.pk for d in focus_now(now=now) for area in d.areas.all()}


def areas_focus_first(areas: list[Area], *, now: datetime) -> list[Area]:
    """`areas` with those in focus now first, then by priority (highest first), then by name."""
    focus = focus_area_ids(now=now)
    return sorted(areas, key=lambda a: (a.pk not in focus, -a.priority, a.name))


# --- follow-up ----------------------------------------------------------------------------------


def _week_bounds(iso_year: int, iso_week: int) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(date.fromisocalendar(iso_year, iso_week, 1), time.min, tzinfo=zone)
    return start, start + timedelta(days=7)


def _raw_minutes(area: Area, windows: list[tuple[datetime, datetime]]) -> int:
    """Person-minutes inside `area` during `windows` from raw positions in 5-minute person-slots.

    As selectors.reports.presence_minutes_raw counts a day: a person seen at least once inside the
    polygon within a 5-minute slot counts 5 minutes.
    """
    if not windows:
        return 0
    slot = PRESENCE_SLOT_MINUTES * 60
    ranges = " OR ".join(["(p.recorded_at >= %s AND p.recorded_at < %s)"] * len(windows))
    params: list = [area.pk]
    for start, end in windows:
        params += [start, end]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(DISTINCT (p.user_id, floor(extract(epoch FROM p.recorded_at) / {slot:d})))
            FROM coordination_positionreport p
            JOIN maps_area a ON a.id = %s AND ST_Intersects(a.polygon, p.point)
            WHERE {ranges}
            """,  # only placeholders and an integer are formatted into the text
            params,
        )
        return cursor.fetchone()[0] * PRESENCE_SLOT_MINUTES


def _hour_slices(start: datetime, end: datetime) -> list[tuple[date, int, datetime, datetime]]:
    """`start`–`end` cut at local clock hours: (local day, hour, slice start, slice end)."""
    zone = timezone.get_current_timezone()
    slices = []
    at = start.astimezone(zone)
    end = end.astimezone(zone)
    while at < end:
        hour_end = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        slices.append((at.date(), at.hour, at, min(hour_end, end)))
        at = hour_end
    return slices


def adult_minutes_in(area: Area, windows: list[tuple[datetime, datetime]]) -> int:
    """Person-minutes of adults inside `area` during `windows` (5-minute person-slots, every adult kind).

    Summed days are read from the stored hourly totals (PresenceHour), which outlive the raw
    positions' purge, so an old decision's follow-up keeps its figure and agrees with the picture's
    presence; an hour only partly inside a window counts its share of that hour's total. Days not
    summed yet (this week's) are counted from the raw positions.
    """
    slices = [piece for start, end in windows for piece in _hour_slices(start, end)]
    if not slices:
        return 0
    summed = set(AggregatedDay.objects.filter(day__in={day for day, *_rest in slices}).values_list("day", flat=True))
    hourly: dict[tuple[date, int], int] = {}
    for day, hour, minutes in PresenceHour.objects.filter(area=area, day__in=summed, hour__isnull=False).values_list(
        "day", "hour", "person_minutes"
    ):
        hourly[(day, hour)] = hourly.get((day, hour), 0) + minutes
    stored = 0.0
    raw: list[tuple[datetime, datetime]] = []
    for day, hour, start, end in slices:
        if day in summed:
            stored += hourly.get((day, hour), 0) * ((end - start) / timedelta(hours=1))
        else:
            raw.append((start, end))
    return round(stored) + _raw_minutes(area, raw)


def _notes_in(area: Area, start: datetime, end: datetime) -> int:
    return SituationNote.objects.filter(area=area, created_at__gte=start, created_at__lt=end).count()


def decision_followups(*, period: Period) -> list[DecisionFollowUp]:
    """The decisions for the week before `period`'s week, one row per decision and focus area.

    planned_hours: evenings × hours decided. adult_hours_present: person-hours of adults on shift
    inside the area during those evenings and hours (5-minute slots; stored hourly totals for summed days).
    notes_before: notes in the area in the week before the decision's week (what the meeting saw);
    notes_after: notes in the area in the week after the decision's week, i.e. `period`'s week.
    For a period that is not one ISO week, the decisions whose week ends in the 7 days before each
    day of the period are followed up: the week before the period's first week through its last.
    """
    first = period.start - timedelta(days=7)
    last = period.end - timedelta(days=7)
    weeks = sorted({_week_of(first + timedelta(days=i)) for i in range((last - first).days + 1)})
    rows: list[DecisionFollowUp] = []
    for year, week in weeks:
        for decision in decisions_of_week(year, week):
            week_start, week_end = _week_bounds(year, week)
            windows = decision.windows()
            for area in decision.areas.all():
                rows.append(
                    DecisionFollowUp(
                        decision_id=decision.pk,
                        area_name=area.name,
                        planned=planned_text(decision),
                        who=who_text(decision),
                        planned_hours=round(decision.planned_hours(), 2),
                        adult_hours_present=round(adult_minutes_in(area, windows) / 60, 2),
                        notes_before=_notes_in(area, week_start - timedelta(days=7), week_start),
                        notes_after=_notes_in(area, week_end, week_end + timedelta(days=7)),
                    )
                )
    return rows


def week_label(iso_year: int, iso_week: int) -> str:
    """ "v. 49 2026 (30 nov – 6 dec)" for headings."""
    start = date.fromisocalendar(iso_year, iso_week, 1)
    end = start + timedelta(days=6)
    dates = f"{start.day}/{start.month} – {end.day}/{end.month}"
    return _("v. %(week)s %(year)s (%(dates)s)") % {"week": iso_week, "year": iso_year, "dates": dates}
