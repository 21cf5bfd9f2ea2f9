"""A situation picture built by hand, with the figures of an ordinary autumn week in a small town.

The rendering tests (page, CSV, PDF, charts) use it so that they do not depend on how the selector computes;
`picture_fixture(areas=...)` takes the ids and names of real areas so the map can find their outlines.
"""

from datetime import date, timedelta

from coordination.lagesbild import (
    AlertFigures,
    AreaPicture,
    DecisionFollowUp,
    Level,
    Period,
    Picture,
    Trend,
)


def _evening_matrix(peaks: dict[tuple[int, int], float]) -> list[list[float]]:
    matrix = [[0.0] * 24 for _ in range(7)]
    for (weekday, hour), value in peaks.items():
        matrix[weekday][hour] = value
    return matrix


NOTES_PEAKS = {
    (4, 20): 6,  # Friday 20-21: the gathering at the harbour
    (4, 21): 9,
    (4, 22): 5,
    (5, 21): 7,
    (5, 22): 8,
    (5, 23): 3,
    (2, 19): 2,
    (2, 20): 3,
    (0, 18): 1,
}
PRESENCE_PEAKS = {
    (4, 18): 4.5,
    (4, 19): 6.0,
    (4, 20): 6.0,
    (4, 21): 2.5,  # the adults go home as things peak: what the matrices should show
    (5, 19): 3.0,
    (5, 20): 3.0,
    (2, 18): 2.0,
    (2, 19): 2.0,
    (2, 20): 1.5,
}


def week_period(year: int = 2026, week: int = 47) -> Period:
    monday = date.fromisocalendar(year, week, 1)
    sunday = date.fromisocalendar(year, week, 7)
    return Period(start=monday, end=sunday, label=f"v. {week} {year}", iso_week=(year, week))


def picture_fixture(
    *, period: Period | None = None, areas: list[tuple[int, str, str]] | None = None, with_last_year: bool = True
) -> Picture:
    """Hamnen (red, 22 notes, few adults), Centrum (yellow) and, if named, a third area (green)."""
    areas = areas or [(1, "Hamnen", "hotspot"), (2, "Centrum", "district")]
    rows = [
        AreaPicture(
            area_id=areas[0][0],
            name=areas[0][1],
            kind=areas[0][2],
            priority=5,
            presence_minutes={"field": 540, "youth_centre": 120, "night_walker": 300, "association": 0},
            notes_by_category={"gathering": 11, "conflict": 4, "alcohol": 5, "vandalism": 2},
            notes_by_severity={1: 9, 2: 8, 3: 5},
            youth_counted=143,
            alerts=2,
            activities_held=1,
            level=Level.RED,
            level_by_rule=Level.ORANGE,
            level_reason="Höjd av EST: knivhot fredag kväll",
            overridden=True,
        ),
        AreaPicture(
            area_id=areas[1][0],
            name=areas[1][1],
            kind=areas[1][2],
            priority=2,
            presence_minutes={"field": 900, "youth_centre": 480, "night_walker": 240, "association": 360},
            notes_by_category={"gathering": 6, "vehicle": 3, "positive": 2},
            notes_by_severity={1: 8, 2: 3, 3: 0},
            youth_counted=61,
            alerts=0,
            activities_held=4,
            level=Level.YELLOW,
            level_by_rule=Level.YELLOW,
            level_reason="6–15 noteringar, ingen allvarlig",
        ),
    ]
    if len(areas) > 2:
        rows.append(
            AreaPicture(
                area_id=areas[2][0],
                name=areas[2][1],
                kind=areas[2][2],
                priority=0,
                presence_minutes={"field": 120, "youth_centre": 0, "night_walker": 0, "association": 90},
                notes_by_category={"positive": 1},
                notes_by_severity={1: 1},
                youth_counted=8,
                alerts=0,
                activities_held=2,
                level=Level.GREEN,
                level_by_rule=Level.GREEN,
                level_reason="Färre än 6 noteringar",
            )
        )
    last = (lambda value: value) if with_last_year else (lambda value: None)
    return Picture(
        period=period or week_period(),
        areas=rows,
        summary=[
            "Samling av unga ökade mest: 17 noteringar mot 9,5 i snitt de fyra veckorna före (+7,5).",
            "Hamnen hade 9 noteringar fredag och lördag 21–23 när inga vuxna fanns där.",
            "2 larm; kvitterade på i median 38 s, lösta på 14 min.",
        ],
        notes_matrix=_evening_matrix(NOTES_PEAKS),
        presence_matrix=_evening_matrix(PRESENCE_PEAKS),
        trend_by_category={
            "gathering": Trend(current=17, previous_mean=9.5, last_year=last(12)),
            "conflict": Trend(current=4, previous_mean=2.25, last_year=last(3)),
            "alcohol": Trend(current=5, previous_mean=6.0, last_year=last(4)),
            "vandalism": Trend(current=2, previous_mean=3.5, last_year=last(1)),
            "vehicle": Trend(current=3, previous_mean=1.0, last_year=last(0)),
            "positive": Trend(current=3, previous_mean=2.75, last_year=last(2)),
        },
        presence_trend=Trend(current=52.5, previous_mean=47.0, last_year=last(40.0)),
        alerts=AlertFigures(
            raised=2,
            acknowledged=2,
            resolved=2,
            median_seconds_to_ack=38.0,
            median_seconds_to_resolve=840.0,
            max_seconds_to_ack=61.0,
        ),
        uncovered_hotspots=[areas[0][1]],
        followups=[
            DecisionFollowUp(
                decision_id=7,
                area_name=areas[0][1],
                planned="fre–lör 20–23",
                who="Team Hamnen och polisen",
                planned_hours=12.0,
                adult_hours_present=8.5,
                notes_before=14,
                notes_after=22,
            )
        ],
    )


class StandInSelector:
    """A stand-in for coordination.selectors.lagesbild with the fixture's figures: the views' tests need no history."""

    def __init__(self, areas: list[tuple[int, str, str]]):
        self.areas = areas
        self.calls: list[tuple[Period, int | None]] = []

    def period_for_week(self, year: int, week: int) -> Period:
        start = date.fromisocalendar(year, week, 1)
        return Period(start=start, end=start + timedelta(days=6), label=f"v. {week} {year}", iso_week=(year, week))

    def period_for_month(self, year: int, month: int) -> Period:
        start = date(year, month, 1)
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return Period(start=start, end=end, label=f"{year}-{month:02d}")

    def period_for_range(self, start: date, end: date) -> Period:
        return Period(start=start, end=end, label=f"{start.isoformat()} – {end.isoformat()}")

    def picture(self, *, period: Period, area_id: int | None = None):
        self.calls.append((period, area_id))
        picture = picture_fixture(period=period, areas=self.areas)
        if area_id is not None:
            picture.areas[:] = [a for a in picture.areas if a.area_id == area_id]
        return picture


def stand_in_selector(world, monkeypatch) -> StandInSelector:
    """Let the lägesbild views read the fixture's picture for the world's Hamnen and Centrum."""
    from coordination import lagesbild_views

    selector = StandInSelector([(world.hotspot.pk, "Hamnen", "hotspot"), (world.district.pk, "Centrum", "district")])
    monkeypatch.setattr(lagesbild_views, "_selector", lambda: selector)
    return selector
