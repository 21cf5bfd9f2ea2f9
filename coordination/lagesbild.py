"""The shape of the EST situation picture (lägesbild): what the selector computes and the page, CSV and PDF show.

`coordination.selectors.lagesbild.picture()` fills these; `coordination.lagesbild_views` renders them. Counts
and durations only: never a person, a position or a note's text.
"""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Level(StrEnum):
    """The police guidance's grading of a place, lowest first."""

    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])


LEVEL_LABELS = {Level.GREEN: _("Grön"), Level.YELLOW: _("Gul"), Level.ORANGE: _("Orange"), Level.RED: _("Röd")}

# Adult kinds, as presence is split: field staff, youth-centre staff, night-walker volunteers, association leaders.
ADULT_KINDS = ("field", "youth_centre", "night_walker", "association")


@dataclass(frozen=True)
class Period:
    """A closed range of local dates: an ISO week, a month, a four-month period or any range."""

    start: date
    end: date  # inclusive
    label: str  # "v. 47 2026", "november 2026", "2026-09-01 – 2026-12-31"
    iso_week: tuple[int, int] | None = None  # (year, week) when the period is exactly one ISO week


@dataclass(frozen=True)
class Trend:
    """One figure against the mean of the four periods before it (and the same week a year earlier, if any)."""

    current: float
    previous_mean: float
    last_year: float | None = None

    @property
    def change(self) -> float:
        return self.current - self.previous_mean


@dataclass(frozen=True)
class AreaPicture:
    """One area's figures for the period."""

    area_id: int
    name: str
    kind: str  # maps.Area.Kind value
    priority: int
    presence_minutes: dict[str, int]  # adult kind -> person-minutes
    notes_by_category: dict[str, int]
    notes_by_severity: dict[int, int]
    youth_counted: int  # sum of the approximate youth counts on notes
    alerts: int
    activities_held: int  # association activity occasions held in the area
    level: Level  # after an override, if any
    level_by_rule: Level
    level_reason: str  # which rule gave the level, or the override's reason
    overridden: bool = False
    reports_by_category: dict[str, int] = field(default_factory=dict)  # citizen reports (issue 14), when present

    @property
    def presence_hours(self) -> float:
        return round(sum(self.presence_minutes.values()) / 60, 1)

    @property
    def notes(self) -> int:
        return sum(self.notes_by_category.values())


@dataclass(frozen=True)
class AlertFigures:
    """Alerts in the period and how fast they were handled (seconds; None when there were none)."""

    raised: int
    acknowledged: int
    resolved: int
    median_seconds_to_ack: float | None
    median_seconds_to_resolve: float | None
    max_seconds_to_ack: float | None


@dataclass(frozen=True)
class DecisionFollowUp:
    """One EST decision of the period before, followed up: planned against what happened."""

    decision_id: int
    area_name: str
    planned: str  # the evenings and hours decided, as text for the reader
    who: str
    planned_hours: float
    adult_hours_present: float
    notes_before: int  # in the area in the period before the decision
    notes_after: int  # in the area in this period


@dataclass(frozen=True)
class Picture:
    """The whole situation picture of one period, municipality-wide and per area."""

    period: Period
    areas: list[AreaPicture]
    summary: list[str]  # sentences written by rules from the figures, most important first
    # weekday (0 = Monday) x hour (0-23) matrices over the period, municipality-wide
    notes_matrix: list[list[int]]
    presence_matrix: list[list[float]]  # adult-hours
    trend_by_category: dict[str, Trend]  # note category -> trend
    presence_trend: Trend  # adult-hours
    alerts: AlertFigures
    uncovered_hotspots: list[str]  # area names: notes made while no adult was present there
    followups: list[DecisionFollowUp] = field(default_factory=list)
    reports_by_category: dict[str, int] = field(default_factory=dict)  # citizen reports (issue 14), when present
    reports_trend: Trend | None = None
