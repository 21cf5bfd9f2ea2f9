"""The EST situation picture (lägesbild) of a period, computed by rules from the stored totals.

Presence and notes come from PresenceHour and NoteHour (coordination.services.periodic sums each
finished day), so the picture of an old week is the same after its raw positions and notes are
purged. Alerts and activities come from their own rows, which no purge removes. Only counts and
durations: never a person, a position or a note's text. The rules are described in docs/lagesbild.md.
"""

import calendar
import statistics
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coordination.lagesbild import (
    ADULT_KINDS,
    AlertFigures,
    AreaPicture,
    Level,
    Period,
    Picture,
    Trend,
)
from coordination.models import AggregatedDay, Alert, LevelOverride, NoteCategory, NoteHour, PresenceHour
from coordination.selectors.dialogue import reports_by_area_category
from coordination.selectors.est import decision_followups
from maps.models import Activity, Area

__all__ = [
    "MAX_RANGE_DAYS",
    "area_points",
    "level_for_points",
    "period_for_month",
    "period_for_range",
    "period_for_week",
    "picture",
]

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_RANGE_DAYS = 400  # about 13 months: a year's picture and a little more, never several years
TREND_PERIODS = 4
HIGH = 3  # SituationNote.Severity.HIGH
# Notes that do not count towards an area's level: a good meeting is not a problem.
NOT_A_PROBLEM = {NoteCategory.POSITIVE.value}
LEVEL_ORDER = [Level.GREEN, Level.YELLOW, Level.ORANGE, Level.RED]


# --- periods ------------------------------------------------------------------------------------


def _check_year(year: int) -> None:
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(_("Året måste vara mellan %(min)d och %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR})


def period_for_week(year: int, week: int) -> Period:
    """ISO week `week` of `year`, Monday to Sunday; ValueError naming the problem for a week that does not exist."""
    _check_year(year)
    weeks = date(year, 12, 28).isocalendar().week  # 28 December always lies in the year's last ISO week
    if isinstance(week, bool) or not isinstance(week, int) or not 1 <= week <= weeks:
        raise ValueError(
            _("Vecka %(week)s finns inte år %(year)d: året har veckorna 1–%(weeks)d.")
            % {"week": week, "year": year, "weeks": weeks}
        )
    start = date.fromisocalendar(year, week, 1)
    return Period(
        start=start,
        end=start + timedelta(days=6),
        label=_("v. %(week)d %(year)d") % {"week": week, "year": year},
        iso_week=(year, week),
    )


def period_for_month(year: int, month: int) -> Period:
    """Calendar month `month` of `year`; ValueError for a month or year out of range."""
    _check_year(year)
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(_("Månaden måste vara 1–12."))
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    return Period(start=start, end=end, label=formats.date_format(start, "F Y"))


def period_for_range(start: date, end: date) -> Period:
    """Any range of local dates, both inclusive; ValueError when it ends before it starts or spans over ~13 months."""
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValueError(_("Början och slut måste vara datum."))
    _check_year(start.year)
    _check_year(end.year)
    if end < start:
        raise ValueError(_("Perioden slutar (%(end)s) före sin början (%(start)s).") % {"start": start, "end": end})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(_("En period får vara högst %(days)d dagar.") % {"days": MAX_RANGE_DAYS})
    iso = start.isocalendar()
    if start.weekday() == 0 and (end - start).days == 6:
        return period_for_week(iso.year, iso.week)
    return Period(start=start, end=end, label=f"{start.isoformat()} – {end.isoformat()}")


def _shifted(period: Period, periods_back: int) -> tuple[date, date]:
    length = (period.end - period.start).days + 1
    offset = timedelta(days=length * periods_back)
    return period.start - offset, period.end - offset


def _last_year(period: Period) -> tuple[date, date] | None:
    """The same ISO week a year earlier (or the same dates for other periods); None when there is none."""
    if period.iso_week is not None:
        year, week = period.iso_week
        if year - 1 < MIN_YEAR or week > date(year - 1, 12, 28).isocalendar().week:
            return None
        start = date.fromisocalendar(year - 1, week, 1)
        return start, start + timedelta(days=6)
    if period.start.year - 1 < MIN_YEAR:
        return None

    def back(day: date) -> date:
        return day.replace(year=day.year - 1, day=min(day.day, calendar.monthrange(day.year - 1, day.month)[1]))

    return back(period.start), back(period.end)


# --- the level rule -----------------------------------------------------------------------------


def area_points(*, notes_by_category: dict[str, int], high_notes: int, alerts: int) -> int:
    """An area's points: notes of a problem (not positive meetings) + 2 per high-severity note + 3 per alert."""
    problems = sum(n for category, n in notes_by_category.items() if category not in NOT_A_PROBLEM)
    return problems + 2 * high_notes + 3 * alerts


def level_for_points(points: int, *, days: int = 7) -> Level:
    """The level of `points` against LAGESBILD_LEVEL_THRESHOLDS (yellow, orange, red per week, scaled to `days`)."""
    scale = max(days, 1) / 7
    level = Level.GREEN
    for threshold, above in zip(settings.LAGESBILD_LEVEL_THRESHOLDS, LEVEL_ORDER[1:], strict=True):
        if points >= threshold * scale:
            level = above
    return level


# --- reading the totals ---------------------------------------------------------------------------


def _area_tree() -> dict[int, set[int]]:
    """Each area and the smaller areas (nine tenths or more) inside it, itself included: a district and its hotspots."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, b.id FROM maps_area a
            JOIN maps_area b ON a.id = b.id OR (
                ST_Area(b.polygon) < ST_Area(a.polygon) AND ST_Intersects(a.polygon, b.polygon)
                AND ST_Area(ST_Intersection(a.polygon, b.polygon)) >= 0.9 * ST_Area(b.polygon)
            )
            """
        )
        tree: dict[int, set[int]] = defaultdict(set)
        for outer, inner in cursor.fetchall():
            tree[outer].add(inner)
    return tree


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)


def _days_with_data(start: date, end: date) -> set[date]:
    return set(AggregatedDay.objects.filter(day__gte=start, day__lte=end).values_list("day", flat=True))


def _occurrences(activity: Activity, start: date, end: date, now: datetime) -> int:
    """Occurrences of `activity` starting on a day of start..end that had begun by `now`."""
    first = activity.starts_at
    last = activity.repeat_until if activity.weekly else timezone.localdate(first)
    count = 0
    at = first
    while True:
        day = timezone.localdate(at)
        if day > end or (last is not None and day > last) or at > now:
            break
        if day >= start:
            count += 1
        if not activity.weekly:
            break
        at += timedelta(days=7)
    return count


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    if seconds < 3600:
        return _("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(h)d h %(m)d min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}


def _number(value: float) -> str:
    return formats.number_format(round(value, 1), decimal_pos=1)


def _alert_figures(alerts: list[Alert]) -> AlertFigures:
    ack = [(a.acknowledged_at - a.raised_at).total_seconds() for a in alerts if a.acknowledged_at]
    resolve = [(a.resolved_at - a.raised_at).total_seconds() for a in alerts if a.resolved_at]
    return AlertFigures(
        raised=len(alerts),
        acknowledged=len(ack),
        resolved=len(resolve),
        median_seconds_to_ack=statistics.median(ack) if ack else None,
        median_seconds_to_resolve=statistics.median(resolve) if resolve else None,
        max_seconds_to_ack=max(ack) if ack else None,
    )


class _Totals:
    """Presence and notes of a span of days, read once, summed as the picture needs them."""

    def __init__(self, start: date, end: date):
        self.presence = list(
            PresenceHour.objects.filter(day__gte=start, day__lte=end).values_list(
                "area_id", "day", "hour", "adult_kind", "person_minutes"
            )
        )
        self.notes = list(
            NoteHour.objects.filter(day__gte=start, day__lte=end).values_list(
                "area_id", "day", "hour", "category", "severity", "notes", "youth", "uncovered"
            )
        )

    def presence_minutes(self, start: date, end: date, area: int | None) -> int:
        return sum(m for a, d, _h, _k, m in self.presence if a == area and start <= d <= end)

    def notes_in(self, start: date, end: date, areas: set[int] | None) -> list[tuple]:
        return [row for row in self.notes if start <= row[1] <= end and (areas is None or row[0] in areas)]


def _trend(current: float, previous: list[float | None], last_year: float | None) -> Trend:
    """Against the mean of those previous periods that have data (0 when none has)."""
    known = [value for value in previous if value is not None]
    return Trend(
        current=current, previous_mean=round(statistics.fmean(known), 2) if known else 0.0, last_year=last_year
    )


# --- the picture --------------------------------------------------------------------------------


def picture(*, period: Period, area_id: int | None = None) -> Picture:
    """The situation picture of `period`, municipality-wide, or of one area (and the areas inside it).

    ValueError for an area that does not exist.
    """
    tree = _area_tree()
    if area_id is not None and area_id not in tree:
        raise ValueError(_("Området finns inte."))
    scope = tree[area_id] if area_id is not None else None
    days = (period.end - period.start).days + 1
    previous = [_shifted(period, n) for n in range(1, TREND_PERIODS + 1)]
    last_year = _last_year(period)
    earliest = min([previous[-1][0]] + ([last_year[0]] if last_year else []))
    totals = _Totals(earliest, period.end)
    with_data = _days_with_data(earliest, period.end)

    def has_data(span: tuple[date, date]) -> bool:
        return any(span[0] <= d <= span[1] for d in with_data)

    start_at, end_at = _bounds(period.start, period.end)
    all_areas = {a.pk: a for a in Area.objects.all()}
    shown = [a for a in all_areas.values() if a.kind != Area.Kind.MUNICIPALITY and (scope is None or a.pk in scope)]
    alerts = list(Alert.objects.filter(raised_at__gte=start_at, raised_at__lt=end_at).order_by("raised_at"))
    if area_id is not None:
        polygon = all_areas[area_id].polygon
        alerts = [a for a in alerts if a.point is not None and polygon.covers(a.point)]
    now = timezone.now()
    activities = [
        a
        for a in Activity.objects.exclude(status=Activity.Status.CANCELLED).select_related("organization", "place")
        if a.organization.kind == "association" and a.location is not None
    ]
    overrides = {}
    if period.iso_week is not None:
        year, week = period.iso_week
        overrides = {o.area_id: o for o in LevelOverride.objects.filter(year=year, week=week)}

    # Citizen reports (issue 14) beside the notes: received, not rejected, counted where they were made.
    reports = reports_by_area_category(start=period.start, end=period.end)

    def reports_inside(counts: dict[int | None, dict[str, int]], inside) -> dict[str, int]:
        total: dict[str, int] = defaultdict(int)
        for area, by_category in counts.items():
            if inside is None or area in inside:
                for category, n in by_category.items():
                    total[category] += n
        return dict(sorted(total.items()))

    areas = []
    for area in shown:
        inside = tree[area.pk]
        notes = totals.notes_in(period.start, period.end, inside)
        by_category: dict[str, int] = defaultdict(int)
        by_severity = {severity: 0 for severity in (1, 2, 3)}
        for _a, _d, _h, category, severity, n, _y, _u in notes:
            by_category[category] += n
            by_severity[severity] = by_severity.get(severity, 0) + n
        minutes = {kind: 0 for kind in ADULT_KINDS}
        for a, d, _h, kind, m in totals.presence:
            if a == area.pk and period.start <= d <= period.end:
                minutes[kind] = minutes.get(kind, 0) + m
        area_alerts = sum(1 for alert in alerts if alert.point is not None and area.polygon.covers(alert.point))
        held = sum(
            _occurrences(activity, period.start, period.end, now)
            for activity in activities
            if area.polygon.covers(activity.location)
        )
        points = area_points(notes_by_category=by_category, high_notes=by_severity[HIGH], alerts=area_alerts)
        by_rule = level_for_points(points, days=days)
        reason = _(
            "%(points)d poäng (%(problems)d noteringar om problem, %(high)d med hög allvarlighet, %(alerts)d larm); "
            "gränser gul/orange/röd: %(limits)s"
        ) % {
            "points": points,
            "problems": sum(n for c, n in by_category.items() if c not in NOT_A_PROBLEM),
            "high": by_severity[HIGH],
            "alerts": area_alerts,
            "limits": "/".join(_number(t * days / 7) for t in settings.LAGESBILD_LEVEL_THRESHOLDS),
        }
        override = overrides.get(area.pk)
        areas.append(
            AreaPicture(
                area_id=area.pk,
                name=area.name,
                kind=area.kind,
                priority=area.priority,
                presence_minutes=minutes,
                notes_by_category=dict(sorted(by_category.items())),
                notes_by_severity=by_severity,
                youth_counted=sum(row[6] for row in notes),
                alerts=area_alerts,
                activities_held=held,
                level=Level(override.level) if override else by_rule,
                level_by_rule=by_rule,
                level_reason=override.reason if override else reason,
                overridden=override is not None,
                reports_by_category=reports_inside(reports, inside),
            )
        )
    areas.sort(key=lambda a: (-LEVEL_ORDER.index(a.level), -a.notes, -a.priority, a.name))

    # Municipality-wide (or the chosen area with the areas inside it).
    def notes_of(span: tuple[date, date]) -> list[tuple]:
        return totals.notes_in(span[0], span[1], scope)

    def hours_of(span: tuple[date, date]) -> float:
        return round(totals.presence_minutes(span[0], span[1], area_id) / 60, 1)

    here = (period.start, period.end)
    notes_matrix = [[0] * 24 for _ in range(7)]
    for _a, d, h, _c, _s, n, _y, _u in notes_of(here):
        notes_matrix[d.weekday()][h] += n
    presence_matrix = [[0.0] * 24 for _ in range(7)]
    for a, d, h, _k, m in totals.presence:
        if a == area_id and h is not None and period.start <= d <= period.end:
            presence_matrix[d.weekday()][h] += m / 60
    presence_matrix = [[round(v, 2) for v in row] for row in presence_matrix]

    def by_category(span: tuple[date, date]) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for row in notes_of(span):
            counts[row[3]] += row[5]
        return counts

    current = by_category(here)
    before = [by_category(span) if has_data(span) else None for span in previous]
    year_ago = by_category(last_year) if last_year and has_data(last_year) else None
    trend_by_category = {
        category: _trend(
            current.get(category, 0),
            [None if b is None else b.get(category, 0) for b in before],
            None if year_ago is None else year_ago.get(category, 0),
        )
        for category in NoteCategory.values
    }
    presence_trend = _trend(
        hours_of(here),
        [hours_of(span) if has_data(span) else None for span in previous],
        hours_of(last_year) if last_year and has_data(last_year) else None,
    )
    uncovered: dict[str, int] = defaultdict(int)
    for a, *_rest, u in notes_of(here):
        if u and a in all_areas and all_areas[a].kind == Area.Kind.HOTSPOT:
            uncovered[all_areas[a].name] += u
    uncovered_hotspots = sorted(uncovered, key=lambda name: (-uncovered[name], name))
    figures = _alert_figures(alerts)
    notes_total = sum(current.values())
    notes_before = [sum(b.values()) for b in before if b is not None]
    # Per area: its notes against the mean of the summed periods before (the area with those inside it).
    area_changes = []
    summed_before = [span for span in previous if has_data(span)]
    if summed_before:
        for area in areas:
            inside = tree[area.area_id]
            mean = statistics.fmean(sum(r[5] for r in totals.notes_in(*span, inside)) for span in summed_before)
            area_changes.append((area.name, area.notes, mean))
    today = timezone.localdate()
    summary = _summary(
        period=period,
        # A period not over yet (this week on Tuesday morning) is no match for four whole ones.
        in_progress=(max(0, (min(today, period.end + timedelta(days=1)) - period.start).days), days)
        if period.end >= today
        else None,
        notes_total=notes_total,
        notes_mean=statistics.fmean(notes_before) if notes_before else None,
        presence=presence_trend,
        trends=trend_by_category,
        areas=areas,
        uncovered={name: uncovered[name] for name in uncovered_hotspots},
        area_changes=area_changes,
        alerts=figures,
        notes_matrix=notes_matrix,
        presence_matrix=presence_matrix,
    )
    reports_total = reports_inside(reports, scope)
    reports_before = [
        sum(reports_inside(reports_by_area_category(start=span[0], end=span[1]), scope).values()) for span in previous
    ]
    shown_names = {a.name for a in areas}
    followups = [f for f in decision_followups(period=period) if scope is None or f.area_name in shown_names]
    return Picture(
        period=period,
        areas=areas,
        summary=summary,
        notes_matrix=notes_matrix,
        presence_matrix=presence_matrix,
        trend_by_category=trend_by_category,
        presence_trend=presence_trend,
        alerts=figures,
        uncovered_hotspots=uncovered_hotspots,
        followups=followups,
        reports_by_category=reports_total,
        reports_trend=_trend(sum(reports_total.values()), reports_before, None),
    )


def _category_label(category: str) -> str:
    return str(dict(NoteCategory.choices).get(category, category))


def _summary(
    *,
    period: Period,
    in_progress: tuple[int, int] | None = None,
    notes_total: int,
    notes_mean: float | None,
    presence: Trend,
    trends: dict[str, Trend],
    areas: list[AreaPicture],
    uncovered: dict[str, int],
    area_changes: list[tuple[str, int, float]],
    alerts: AlertFigures,
    notes_matrix: list[list[int]],
    presence_matrix: list[list[float]],
) -> list[str]:
    """Sentences written from the figures by fixed rules, most important first. No free text.

    `in_progress` (days done, days in all) for a period not over yet: its totals so far, and no
    comparison with the whole periods before it (a Tuesday's week is not "fewer notes" than a week).
    """
    lines = []
    if in_progress is not None:
        done, total = in_progress
        lines.append(
            ngettext(
                "%(period)s pågår: %(done)d av %(days)d dagar hittills. Jämförelsen med perioderna före görs "
                "när perioden är slut.",
                "%(period)s pågår: %(done)d av %(days)d dagar hittills. Jämförelsen med perioderna före görs "
                "när perioden är slut.",
                done,
            )
            % {"period": period.label, "done": done, "days": total}
        )
        lines.append(
            ngettext(
                "Hittills %(n)d notering och %(hours)s vuxentimmar ute.",
                "Hittills %(n)d noteringar och %(hours)s vuxentimmar ute.",
                notes_total,
            )
            % {"n": notes_total, "hours": _number(presence.current)}
        )
    elif notes_mean is None:
        lines.append(
            ngettext(
                "%(period)s: %(n)d notering och %(hours)s vuxentimmar ute; inga tidigare perioder att jämföra med.",
                "%(period)s: %(n)d noteringar och %(hours)s vuxentimmar ute; inga tidigare perioder att jämföra med.",
                notes_total,
            )
            % {"period": period.label, "n": notes_total, "hours": _number(presence.current)}
        )
    else:
        lines.append(
            ngettext(
                "%(period)s: %(n)d notering (i snitt %(mean)s de fyra perioderna före) och %(hours)s vuxentimmar "
                "ute (i snitt %(hours_mean)s).",
                "%(period)s: %(n)d noteringar (i snitt %(mean)s de fyra perioderna före) och %(hours)s vuxentimmar "
                "ute (i snitt %(hours_mean)s).",
                notes_total,
            )
            % {
                "period": period.label,
                "n": notes_total,
                "mean": _number(notes_mean),
                "hours": _number(presence.current),
                "hours_mean": _number(presence.previous_mean),
            }
        )
        # The largest changes against the mean of the four periods before: at most three, each at least 1.
        changes = sorted(
            ((category, trend) for category, trend in trends.items() if abs(trend.change) >= 1),
            key=lambda item: (-abs(item[1].change), item[0]),
        )[:3]
        for category, trend in changes:
            template = (
                _("%(category)s ökade: %(current)d mot i snitt %(mean)s.")
                if trend.change > 0
                else _("%(category)s minskade: %(current)d mot i snitt %(mean)s.")
            )
            lines.append(
                template
                % {
                    "category": _category_label(category),
                    "current": trend.current,
                    "mean": _number(trend.previous_mean),
                }
            )
    # The two areas whose notes changed most (by at least two) against their mean of the periods before.
    moved = sorted(
        (change for change in area_changes if in_progress is None and abs(change[1] - change[2]) >= 2),
        key=lambda change: (-abs(change[1] - change[2]), change[0]),
    )[:2]
    for name, current, mean in moved:
        template = (
            _("%(area)s: fler noteringar, %(current)d mot i snitt %(mean)s.")
            if current > mean
            else _("%(area)s: färre noteringar, %(current)d mot i snitt %(mean)s.")
        )
        lines.append(template % {"area": name, "current": current, "mean": _number(mean)})
    severe = [a for a in areas if a.level in (Level.RED, Level.ORANGE)]
    for level in (Level.RED, Level.ORANGE):
        names = [a.name for a in severe if a.level == level]
        if names:
            lines.append(_("Nivå %(level)s: %(areas)s.") % {"level": level.label.lower(), "areas": ", ".join(names)})
    for name, count in uncovered.items():
        lines.append(
            ngettext(
                "%(area)s: %(n)d notering gjordes när inga vuxna var på plats.",
                "%(area)s: %(n)d noteringar gjordes när inga vuxna var på plats.",
                count,
            )
            % {"area": name, "n": count}
        )
    if notes_total:
        # Do the adults come when things happen? Notes made in a weekday-hour when any adult was out.
        met = sum(
            notes_matrix[d][h] for d in range(7) for h in range(24) if notes_matrix[d][h] and presence_matrix[d][h]
        )
        lines.append(
            _("%(met)d av %(n)d noteringar gjordes en timme då vuxna var ute.") % {"met": met, "n": notes_total}
        )
    if alerts.raised:
        lines.append(
            ngettext(
                "%(n)d larm: kvitterat efter %(ack)s i median (längst %(max)s), avslutat efter %(resolve)s.",
                "%(n)d larm: kvitterade efter %(ack)s i median (längst %(max)s), avslutade efter %(resolve)s.",
                alerts.raised,
            )
            % {
                "n": alerts.raised,
                "ack": _duration(alerts.median_seconds_to_ack),
                "max": _duration(alerts.max_seconds_to_ack),
                "resolve": _duration(alerts.median_seconds_to_resolve),
            }
        )
        if alerts.acknowledged < alerts.raised:
            lines.append(
                _("%(n)d larm kvitterades aldrig.") % {"n": alerts.raised - alerts.acknowledged},
            )
    else:
        lines.append(_("Inga larm."))
    return lines
