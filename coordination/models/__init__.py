"""Organisations, teams, shifts and everything a shift produces, plus the ordered event log."""

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
    "Alert",
    "AuditLog",
    "ChatMessage",
    "CheckIn",
    "DeviceToken",
    "Event",
    "Invitation",
    "LatestPosition",
    "Membership",
    "NextSeq",
    "NoteCategory",
    "Organization",
    "PositionReport",
    "PresenceDay",
    "Role",
    "Shift",
    "SituationNote",
    "Team",
]
