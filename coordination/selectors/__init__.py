"""Reads that several callers share: replay, the live picture, the weekly report. One module a subject."""

from coordination.selectors.live import (
    NOTE_HOURS,
    activity_features,
    alert_features,
    area_features,
    coverage_counts,
    live_snapshot,
    note_features,
    published_coverage,
    published_field_positions,
    team_features,
    team_latest_positions,
)
from coordination.selectors.replay import Replay, event_head, events_after, events_between
from coordination.selectors.reports import (
    PRESENCE_SLOT_MINUTES,
    presence_minutes,
    presence_minutes_raw,
    weekly_report,
)

__all__ = [
    "NOTE_HOURS",
    "PRESENCE_SLOT_MINUTES",
    "Replay",
    "activity_features",
    "alert_features",
    "area_features",
    "coverage_counts",
    "event_head",
    "events_after",
    "events_between",
    "live_snapshot",
    "note_features",
    "presence_minutes",
    "presence_minutes_raw",
    "published_coverage",
    "published_field_positions",
    "team_features",
    "team_latest_positions",
    "weekly_report",
]
