"""Where to go next: one ranking of the places that need adults now, with its reasons.

Shared by the field page (the nearest three around the phone) and the duty map (the whole ranking).
Counts about places only: how many adults are inside an area, how many notes were written there;
never who.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.gis.geos import Point
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coordination.selectors.dialogue import recent_reports_by_area
from coordination.selectors.est import focus_area_ids
from maps.models import Area

__all__ = ["NOTE_WINDOW", "Suggestion", "where_next"]

# Notes and reports count for this long: a scuffle two hours ago may still need adults, not one at noon.
NOTE_WINDOW = timedelta(hours=2)
# A position older than this is not a guarantee that someone is still there (as coverage_counts).
POSITION_FRESH = timedelta(minutes=15)

# The weights, in points of need. A focus area decided by EST outweighs anything one evening's notes
# add up to on their own except several severe ones; an adult already there divides the need.
FOCUS_POINTS = 10.0
HOTSPOT_POINTS = 2.0
PRIORITY_POINTS = 0.5  # per step of Area.priority, at most PRIORITY_CAP steps
PRIORITY_CAP = 10
SEVERITY_POINTS = {1: 1.0, 2: 2.0, 3: 4.0}  # per note in the last NOTE_WINDOW, by severity
NOTES_CAP = 12.0
REPORT_POINTS = 1.5  # per citizen report in the last NOTE_WINDOW
REPORTS_CAP = 9.0
# Distance: the score is the need divided by (1 + km / DISTANCE_HALF_KM): 2 km away halves it.
DISTANCE_HALF_KM = 2.0


@dataclass(frozen=True)
class Suggestion:
    """One place that needs adults now, how much, and why."""

    area_id: int
    name: str
    kind: str
    distance_m: int | None  # from the asking point to the area's edge (0 inside); None without a point
    need: float  # before distance
    score: float  # need weighed by distance: what the ranking sorts by
    adults: int  # adults on shift inside the area now
    reasons: list[str] = field(
        default_factory=list
    )  # codes: focus, no_adults, adults, notes, reports, hotspot, priority
    reason_texts: list[str] = field(default_factory=list)  # the same, for a reader
    lat: float | None = None  # a point inside the area, to show it on a map
    lon: float | None = None

    def as_json(self) -> dict:
        return {
            "area": self.area_id,
            "name": self.name,
            "kind": self.kind,
            "distance_m": self.distance_m,
            "need": self.need,
            "score": self.score,
            "adults": self.adults,
            "reasons": self.reasons,
            "reason_texts": self.reason_texts,
            "lat": self.lat,
            "lon": self.lon,
        }


def _areas_now(*, point: Point | None, now: datetime) -> list[tuple]:
    """(id, name, kind, priority, adults now, distance m or None, lat, lon) of every district and hotspot."""
    lon, lat = (point.x, point.y) if point is not None else (None, None)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, a.name, a.kind, a.priority,
                   (SELECT count(*) FROM coordination_latestposition l
                     JOIN coordination_shift s ON s.id = l.shift_id AND s.ended_at IS NULL
                    WHERE ST_Intersects(a.polygon, l.point) AND l.recorded_at > %s AND l.recorded_at <= %s),
                   CASE WHEN %s::float8 IS NULL THEN NULL ELSE
                        ST_Distance(a.polygon::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) END,
                   ST_Y(ST_PointOnSurface(a.polygon)), ST_X(ST_PointOnSurface(a.polygon))
            FROM maps_area a
            WHERE a.kind <> 'municipality'
            """,
            [now - POSITION_FRESH, now, lon, lon, lat],
        )
        return cursor.fetchall()


def _note_points(*, now: datetime) -> dict[int, tuple[float, int, int]]:
    """Per area: (severity points, notes, severe notes) of the notes in the NOTE_WINDOW before `now`."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT area_id, severity, count(*) FROM coordination_situationnote
            WHERE area_id IS NOT NULL AND created_at > %s AND created_at <= %s
            GROUP BY area_id, severity
            """,
            [now - NOTE_WINDOW, now],
        )
        rows = cursor.fetchall()
    points: dict[int, tuple[float, int, int]] = {}
    for area, severity, count in rows:
        value, notes, severe = points.get(area, (0.0, 0, 0))
        points[area] = (
            value + SEVERITY_POINTS.get(severity, 1.0) * count,
            notes + count,
            severe + (count if severity >= 3 else 0),
        )
    return points


def where_next(
    *, point: Point | None, now: datetime, limit: int = 3, recent_reports: dict[int, int] | None = None
) -> list[Suggestion]:
    """The `limit` places that most need adults at `now`, best first; nearer first at equal need.

    Candidates: areas in focus now (EST decisions) and areas without adults now that are hotspots or
    had notes or reports in the last NOTE_WINDOW. An area with adults inside stays a candidate only
    when in focus, its need divided by (1 + adults). `recent_reports` is the hook for citizen reports
    (area id -> reports in the last NOTE_WINDOW); None reads the citizen reports not rejected.
    """
    focus = focus_area_ids(now=now)
    notes = _note_points(now=now)
    reports = recent_reports_by_area(since=now - NOTE_WINDOW) if recent_reports is None else recent_reports
    suggestions = []
    for area_id, name, kind, priority, adults, distance, lat, lon in _areas_now(point=point, now=now):
        note_value, note_count, severe = notes.get(area_id, (0.0, 0, 0))
        report_count = reports.get(area_id, 0)
        in_focus = area_id in focus
        hotspot = kind == Area.Kind.HOTSPOT
        if not in_focus and (adults or not (hotspot or note_count or report_count)):
            continue
        reasons: list[tuple[str, str]] = []
        need = 0.0
        if in_focus:
            need += FOCUS_POINTS
            reasons.append(("focus", _("Veckans fokus (EST-beslut)")))
        if note_count:
            need += min(NOTES_CAP, note_value)
            text = ngettext("%(n)s notering senaste 2 h", "%(n)s noteringar senaste 2 h", note_count) % {
                "n": note_count
            }
            if severe:
                text += ", " + ngettext("%(n)s allvarlig", "%(n)s allvarliga", severe) % {"n": severe}
            reasons.append(("notes", text))
        if report_count:
            need += min(REPORTS_CAP, REPORT_POINTS * report_count)
            text = ngettext("%(n)s rapport från allmänheten", "%(n)s rapporter från allmänheten", report_count)
            reasons.append(("reports", text % {"n": report_count}))
        if hotspot:
            need += HOTSPOT_POINTS
            reasons.append(("hotspot", _("Hotspot")))
        if priority:
            need += PRIORITY_POINTS * min(priority, PRIORITY_CAP)
            reasons.append(("priority", _("Prioritet %(p)s") % {"p": priority}))
        if adults:
            need /= 1 + adults
            reasons.append(("adults", ngettext("%(n)s vuxen där nu", "%(n)s vuxna där nu", adults) % {"n": adults}))
        else:
            reasons.insert(1 if in_focus else 0, ("no_adults", _("Inga vuxna där nu")))
        km = None if distance is None else distance / 1000
        score = need if km is None else need / (1 + km / DISTANCE_HALF_KM)
        suggestions.append(
            Suggestion(
                area_id=area_id,
                name=name,
                kind=kind,
                distance_m=None if distance is None else round(distance),
                need=round(need, 2),
                score=round(score, 3),
                adults=adults,
                reasons=[code for code, _text in reasons],
                reason_texts=[text for _code, text in reasons],
                lat=round(lat, 5),
                lon=round(lon, 5),
            )
        )
    suggestions.sort(key=lambda s: (-s.score, s.distance_m if s.distance_m is not None else 0, s.name))
    return suggestions[:limit]
