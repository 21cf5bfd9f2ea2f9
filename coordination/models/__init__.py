"""Organisations, teams, shifts and everything a shift produces, plus the ordered event log."""

from coordination.models.aggregates import AdultKind, AggregatedDay, LevelOverride, NoteHour, PresenceHour
from coordination.models.dialogue import CitizenReport, ReportCategory, ReportWhen
from coordination.models.est import EstDecision
from coordination.models.evening import (
    Alert,
    ChatMessage,
    CheckIn,
    LatestPosition,
    NoteCategory,
    PositionReport,
    Shift,
    SituationNote,
)
from coordination.models.log import SEQ_NAME, AuditLog, Event, NextSeq, PresenceDay
from coordination.models.people import DeviceToken, Invitation, Membership, Organization, Role, Team

__all__ = [
    "SEQ_NAME",
    "AdultKind",
    "AggregatedDay",
    "Alert",
    "AuditLog",
    "ChatMessage",
    "CheckIn",
    "CitizenReport",
    "DeviceToken",
    "EstDecision",
    "Event",
    "Invitation",
    "LatestPosition",
    "LevelOverride",
    "Membership",
    "NextSeq",
    "NoteCategory",
    "NoteHour",
    "Organization",
    "PositionReport",
    "PresenceDay",
    "PresenceHour",
    "ReportCategory",
    "ReportWhen",
    "Role",
    "Shift",
    "SituationNote",
    "Team",
]
