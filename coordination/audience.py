"""Who an event is for, as one value: parsed once, written once, turned into groups once.

`Event.audience` stores the text form ("public", "staff", "ops", "field", "chat.everyone",
"chat.team.<id>", "chat.area.<id>"); code passes `Audience` values. Who may see each audience is
a rule of coordination.access (`may_see`); static/js/live.js mirrors the text form in one table.
"""

import functools
from dataclasses import dataclass
from enum import StrEnum

from coordination import groups


class Scope(StrEnum):
    """The kinds of audience; chat scopes take a target id."""

    PUBLIC = "public"  # everyone, on every socket
    STAFF = "staff"  # duty, partner and field members on shift
    OPS = "ops"  # duty and partner: positions at every flush
    FIELD = "field"  # field members on shift: the slower field tick
    CHAT_EVERYONE = "chat.everyone"
    CHAT_TEAM = "chat.team"
    CHAT_AREA = "chat.area"
    DIALOGUE = "dialogue"  # the moderators of citizen reports: duty, dialogue officers, admins


TARGETED = frozenset({Scope.CHAT_TEAM, Scope.CHAT_AREA})


@dataclass(frozen=True)
class Audience:
    """One audience: a scope, and for team and area chat the id it names."""

    scope: Scope
    target: int | None = None

    def __post_init__(self) -> None:
        if (self.scope in TARGETED) != (self.target is not None):
            raise ValueError(f"audience {self.scope} {'needs' if self.scope in TARGETED else 'takes no'} target")

    @classmethod
    def parse(cls, text: str) -> "Audience":
        """The audience `text` names; ValueError for anything else."""
        if not isinstance(text, str):
            raise ValueError(f"unknown audience {text!r}")
        return _parse(text)

    @classmethod
    def of_channel(cls, channel: str) -> "Audience":
        """The audience of a chat channel name as clients write it (everyone, team.<id>, area.<id>)."""
        if not isinstance(channel, str) or channel.startswith("chat."):
            raise ValueError(f"unknown channel {channel!r}")
        audience = cls.parse(f"chat.{channel}")
        if not audience.is_chat:
            raise ValueError(f"unknown channel {channel!r}")
        return audience

    def __str__(self) -> str:
        return self.scope.value if self.target is None else f"{self.scope.value}.{self.target}"

    @property
    def is_chat(self) -> bool:
        return self.scope in (Scope.CHAT_EVERYONE, Scope.CHAT_TEAM, Scope.CHAT_AREA)

    @property
    def channel(self) -> str:
        """A chat audience's channel name: everyone, team.<id> or area.<id>."""
        assert self.is_chat, self
        return str(self).removeprefix("chat.")

    @property
    def chat_kind(self) -> str:
        """A chat audience's kind of channel: everyone, team or area (ChatMessage.Channel's values)."""
        assert self.is_chat, self
        return self.scope.value.removeprefix("chat.")

    @classmethod
    def of_chat(cls, *, channel: str, team_id: int | None, area_id: int | None) -> "Audience":
        """The audience of a stored chat message, from its channel kind and target."""
        target = {"team": team_id, "area": area_id}.get(channel)
        return cls(Scope(f"chat.{channel}"), target)

    def groups(self) -> list[str]:
        """The channel-layer groups its events are sent to; consumers still check each viewer."""
        match self.scope:
            case Scope.PUBLIC:
                return [groups.PUBLIC, groups.OPS, groups.FIELD]
            case Scope.STAFF:
                return [groups.OPS, groups.FIELD]
            case Scope.OPS:
                return [groups.OPS]
            case Scope.FIELD:
                return [groups.FIELD]
            case Scope.CHAT_EVERYONE:
                return [groups.DUTY, groups.FIELD]
            case Scope.DIALOGUE:
                # Duty sockets; dialogue officers' queue page reads over HTTP.
                return [groups.DUTY]
        return [groups.DUTY, groups.group_name(self.chat_kind, self.target)]


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Audience:
    # Cached: every socket asks for the audience of every event it is sent, and there are few of them.
    try:
        return Audience(Scope(text))
    except ValueError:
        pass
    prefix, _, target = text.rpartition(".")
    # isascii(): isdigit() also admits "²", which int() refuses.
    if prefix in TARGETED and target.isascii() and target.isdigit() and len(target) < 12:
        return Audience(Scope(prefix), int(target))
    raise ValueError(f"unknown audience {text!r}")


PUBLIC = Audience(Scope.PUBLIC)
STAFF = Audience(Scope.STAFF)
OPS = Audience(Scope.OPS)
FIELD = Audience(Scope.FIELD)
CHAT_EVERYONE = Audience(Scope.CHAT_EVERYONE)
DIALOGUE = Audience(Scope.DIALOGUE)
