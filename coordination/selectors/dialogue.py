"""Reads of citizen reports: the moderators' queue, what is published, the lägesbild's counts."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet

from coordination.models import CitizenReport
from coordination.payloads import iso, person_name
from coordination.selectors.reports import _local_day_bounds

__all__ = [
    "hotspot_candidates",
    "published_counts",
    "published_reports",
    "report_moderation_payload",
    "report_public_payload",
    "report_queue",
    "reports_by_area_category",
    "reports_trend",
]

QUEUE_MAX = 200


def report_moderation_payload(report: CitizenReport) -> dict:
    """A report as its moderators see it: the text and the point given, never the e-mail itself."""
    point = report.point
    return {
        "id": report.pk,
        "category": report.category,
        "when": report.when,
        "text": report.text,
        "lat": point.y if point else None,
        "lon": point.x if point else None,
        "area": report.area_id,
        "area_name": report.area.name if report.area_id else None,
        "status": report.status,
        "published": report.published,
        "rejected": report.rejected,
        "reject_reason": report.reject_reason,
        "taken_by": report.taken_by_id,
        "taken_by_name": person_name(report.taken_by) if report.taken_by_id else None,
        "taken_at": iso(report.taken_at),
        "answer": report.answer,
        "has_photo": bool(report.photo),
        "has_email": bool(report.email),
        "note": report.note_id,
        "hotspot_candidate": report.hotspot_candidate,
        "created_at": iso(report.created_at),
    }


def report_public_payload(report: CitizenReport) -> dict:
    """A published report as everyone sees it: category, area, a coarse point, the municipality's answer."""
    return {
        "id": report.pk,
        "category": report.category,
        "area": report.area_id,
        "area_name": report.area.name if report.area_id else None,
        "lat": report.public_lat,
        "lon": report.public_lon,
        "answer": report.answer,
        "status": report.status,
        "published_at": iso(report.published_at),
    }


def report_queue(
    *, status: str = "", category: str = "", area_id: int | None = None, include_done: bool = False
) -> QuerySet[CitizenReport]:
    """Reports for the moderation queue, newest first; closed and rejected ones only when asked for."""
    reports = CitizenReport.objects.select_related("area", "taken_by").filter(stripped_at__isnull=True)
    if status:
        reports = reports.filter(status=status)
    elif not include_done:
        reports = reports.exclude(status=CitizenReport.Status.CLOSED).filter(rejected=False)
    if category:
        reports = reports.filter(category=category)
    if area_id is not None:
        reports = reports.filter(area_id=area_id)
    return reports.order_by("-created_at")[:QUEUE_MAX]


def published_reports() -> list[dict]:
    """Every published report, as report_public_payload, newest first."""
    reports = CitizenReport.objects.select_related("area").filter(published=True).order_by("-published_at")
    return [report_public_payload(r) for r in reports]


def published_counts() -> list[dict]:
    """Published reports counted per area and category: [{area, area_name, category, count}]."""
    rows = (
        CitizenReport.objects.filter(published=True)
        .values("area", "area__name", "category")
        .annotate(count=Count("id"))
        .order_by("area__name", "category")
    )
    return [
        {"area": r["area"], "area_name": r["area__name"], "category": r["category"], "count": r["count"]} for r in rows
    ]


def reports_by_area_category(*, start: date, end: date) -> dict[int | None, dict[str, int]]:
    """Reports received from `start` to `end` (local dates, inclusive): area id → category → count.

    Rejected reports are left out (spam and mistakes are no signal); the rest count whether
    published or not, since the lägesbild is read by staff.
    """
    since = _local_day_bounds(start)[0]
    until = _local_day_bounds(end)[1]
    rows = (
        CitizenReport.objects.filter(created_at__gte=since, created_at__lt=until, rejected=False)
        .values("area_id", "category")
        .annotate(count=Count("id"))
    )
    result: dict[int | None, dict[str, int]] = defaultdict(dict)
    for row in rows:
        result[row["area_id"]][row["category"]] = row["count"]
    return dict(result)


def reports_trend(*, start: date, end: date) -> dict[int | None, dict[str, tuple[int, int]]]:
    """Area id → category → (count from `start` to `end`, count in the as long period just before).

    The lägesbild's trend beside its notes: e.g. a week against the week before.
    """
    days = (end - start).days + 1
    now = reports_by_area_category(start=start, end=end)
    before = reports_by_area_category(start=start - timedelta(days=days), end=start - timedelta(days=1))
    trend: dict[int | None, dict[str, tuple[int, int]]] = {}
    for area in now.keys() | before.keys():
        categories = now.get(area, {}).keys() | before.get(area, {}).keys()
        trend[area] = {c: (now.get(area, {}).get(c, 0), before.get(area, {}).get(c, 0)) for c in categories}
    return trend


def recent_reports_by_area(*, since: datetime) -> dict[int, int]:
    """Reports made since `since` that no moderator rejected: area id -> count (where to go next)."""
    rows = (
        CitizenReport.objects.filter(created_at__gte=since, rejected=False, area__isnull=False)
        .values("area_id")
        .annotate(count=Count("id"))
    )
    return {row["area_id"]: row["count"] for row in rows}


def hotspot_candidates() -> dict[int, int]:
    """Areas moderators marked as hotspot candidates: area id → reports marked."""
    rows = (
        CitizenReport.objects.filter(hotspot_candidate=True, area__isnull=False)
        .values("area_id")
        .annotate(count=Count("id", filter=Q(hotspot_candidate=True)))
    )
    return {row["area_id"]: row["count"] for row in rows}
