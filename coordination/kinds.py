"""Every event kind, declared once: where it may go, what its data holds, how a client applies it.

`Event.kind` takes its choices from here. coordination.events refuses an event whose audience or
data does not match its declaration, docs/protocol.md lists each kind, and static/js/live.js holds
the same rule for each kind in its `RULES` table (tests compare all three with this registry).
"""

from dataclasses import dataclass
from enum import StrEnum

from coordination.audience import Scope


class Own(StrEnum):
    """Whose own event a kind is, for those who hear it whatever its audience."""

    TEAM = "team"  # field members of data["team"]
    AUTHOR = "author"  # the person data["author"]


class Rule(StrEnum):
    """How a client applies an event to its live picture (live.js `RULES`)."""

    TEAM = "team"  # merge data into team.<team>, keep its position; an inactive shift removes it
    POSITIONS = "positions"  # move each listed team whose current shift it names
    UPSERT = "upsert"  # put data as the feature <layer>.<id>
    REMOVE = "remove"  # delete the feature <layer>.<id>
    ACTIVITY = "activity"  # upsert, or remove when cancelled (or internal, on the public map)
    COVERAGE = "coverage"  # set the adults of each listed area
    HISTORY = "history"  # not part of the picture: pages keep it in a list


@dataclass(frozen=True)
class Kind:
    """One event kind."""

    name: str
    scopes: frozenset[Scope]  # the audiences it may be addressed to
    fields: frozenset[str]  # exactly the keys of its data
    rule: Rule
    layer: str | None = None
    # Who hears it even when they may not see its audience (access.hears_own): a team's field
    # members their own shift's end (they are off duty from then on), an alarm's raiser its alarm.
    hears_own: "Own | None" = None

    def __str__(self) -> str:
        return self.name


KINDS: dict[str, Kind] = {}


def declare(
    name: str,
    *,
    scopes: set[Scope],
    fields: set[str],
    rule: Rule,
    layer: str | None = None,
    hears_own: Own | None = None,
) -> Kind:
    """Register a kind; each name once."""
    assert name not in KINDS, name
    assert hears_own is None or hears_own.value in fields, name
    kind = Kind(name, frozenset(scopes), frozenset(fields), rule, layer, hears_own)
    KINDS[name] = kind
    return kind


def choices() -> list[tuple[str, str]]:
    """Event.kind's choices."""
    return [(name, name) for name in KINDS]


STAFF, PUBLIC = {Scope.STAFF}, {Scope.PUBLIC}
SHIFT_FIELDS = {"shift", "team", "team_name", "short", "active", "status", "started_at", "ended_at", "areas"}
NOTE_FIELDS = {"id", "category", "severity", "youth_count", "text", "lat", "lon", "area", "team", "status"}
NOTE_FIELDS |= {"created_at", "acknowledged_at"}
ALERT_FIELDS = {"id", "team", "team_name", "text", "lat", "lon", "status", "raised_at", "acknowledged_at"}
ALERT_FIELDS |= {"resolved_at", "author", "raised_by", "acknowledged_by", "source", "level", "escalated_at"}
# Alarms go to staff; their raiser follows them too, on shift or not.
ALERT_SPEC = {"scopes": STAFF, "fields": ALERT_FIELDS, "rule": Rule.UPSERT, "layer": "alert", "hears_own": Own.AUTHOR}
ACTIVITY_FIELDS = {"id", "title", "description", "organization", "organization_name", "place", "place_name"}
ACTIVITY_FIELDS |= {"lat", "lon", "starts_at", "ends_at", "weekly", "repeat_until", "visibility", "status"}
ACTIVITY_FIELDS |= {"age_group", "contact", "occasions"}

SHIFT = declare("shift", scopes=STAFF, fields=SHIFT_FIELDS, rule=Rule.TEAM, hears_own=Own.TEAM)
STATUS = declare("status", scopes=STAFF, fields=SHIFT_FIELDS, rule=Rule.TEAM)
POSITIONS = declare("positions", scopes={Scope.OPS, Scope.FIELD}, fields={"teams"}, rule=Rule.POSITIONS)
NOTE = declare("note", scopes=STAFF, fields=NOTE_FIELDS, rule=Rule.UPSERT, layer="note")
NOTE_ACK = declare("note_ack", scopes=STAFF, fields=NOTE_FIELDS, rule=Rule.UPSERT, layer="note")
ALERT = declare("alert", **ALERT_SPEC)
ALERT_ACK = declare("alert_ack", **ALERT_SPEC)
# A resolved alarm stays in the picture for the evening (status "resolved"): its raiser must see
# that it was resolved, not watch it vanish. Screens choose how to show it.
ALERT_RESOLVED = declare("alert_resolved", **ALERT_SPEC)
# Unacknowledged too long: level 1 (every duty screen, louder), then 2 (a second contact).
ALERT_ESCALATED = declare("alert_escalated", **ALERT_SPEC)
CHAT = declare(
    "chat",
    scopes={Scope.CHAT_EVERYONE, Scope.CHAT_TEAM, Scope.CHAT_AREA},
    fields={"id", "channel", "author", "text", "created_at"},
    rule=Rule.HISTORY,
)
ACTIVITY = declare("activity", scopes=PUBLIC | STAFF, fields=ACTIVITY_FIELDS, rule=Rule.ACTIVITY)
ACTIVITY_REMOVED = declare("activity_removed", scopes=PUBLIC, fields={"id"}, rule=Rule.REMOVE, layer="activity")
COVERAGE = declare("coverage", scopes=PUBLIC, fields={"areas"}, rule=Rule.COVERAGE)
CHECKIN = declare(
    "checkin",
    scopes=STAFF,
    fields={"id", "team", "team_name", "shift", "place", "place_name", "lat", "lon", "created_at"},
    rule=Rule.HISTORY,
)
# The EST group set an area's level for a week (coordination.services.lagesbild); history, not part of the picture.
LEVEL_OVERRIDE = declare(
    "level_override",
    scopes=STAFF,
    fields={"area", "area_name", "year", "week", "level", "reason"},
    rule=Rule.HISTORY,
)
# EST decisions for staff screens: focus areas, evenings and hours (the duty map and field page show
# "Veckans fokus" while a window is open). Withdrawn decisions leave the picture.
DECISION_FIELDS = {"id", "year", "week", "areas", "area_names", "weekdays", "start", "end", "windows"}
DECISION_FIELDS |= {"who", "who_name", "note", "created_at"}
DECISION = declare("decision", scopes=STAFF, fields=DECISION_FIELDS, rule=Rule.UPSERT, layer="focus")
DECISION_WITHDRAWN = declare("decision_withdrawn", scopes=STAFF, fields={"id"}, rule=Rule.REMOVE, layer="focus")
# Citizen dialogue: the full report to its moderators, only what was published to everyone.
REPORT_FIELDS = {"id", "category", "when", "text", "lat", "lon", "area", "area_name", "status", "published"}
REPORT_FIELDS |= {"rejected", "reject_reason", "taken_by", "taken_by_name", "taken_at", "answer", "has_photo"}
REPORT_FIELDS |= {"has_email", "note", "hotspot_candidate", "created_at"}
DIALOGUE = {Scope.DIALOGUE}
# The queue keeps them in a list of its own: reports are not features of the live picture.
REPORT = declare("report", scopes=DIALOGUE, fields=REPORT_FIELDS, rule=Rule.HISTORY)
REPORT_CHANGED = declare("report_changed", scopes=DIALOGUE, fields=REPORT_FIELDS, rule=Rule.HISTORY)
# Published: never the reporter's text or e-mail, never the point given; a rounded point or the area's centre.
PUBLIC_REPORT_FIELDS = {"id", "category", "area", "area_name", "lat", "lon", "answer", "status", "published_at"}
REPORT_PUBLISHED = declare("report_published", scopes=PUBLIC, fields=PUBLIC_REPORT_FIELDS, rule=Rule.HISTORY)
