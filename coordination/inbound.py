"""What a socket may send, declared by the service that handles it.

A service function registers its frame type with `@inbound`: which sockets accept it and which
frame fields it takes (and under which keyword). Consumers look frames up here and hand the
fields through untouched; the service validates them (coordination.validation).
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Socket(StrEnum):
    FIELD = "field"
    OPS = "ops"


@dataclass(frozen=True)
class Frame:
    """One client frame type and the service that stores it."""

    type: str
    service: Callable
    sockets: frozenset[Socket]
    fields: dict[str, str]  # frame field -> service keyword
    rejoin: bool = False  # what the sender may see changes: its socket re-reads rights and groups

    def kwargs(self, frame: dict) -> dict:
        """The service's keywords from `frame`: only declared fields, an absent one as None (the service decides)."""
        return {keyword: frame.get(name) for name, keyword in self.fields.items()}


FRAMES: dict[str, Frame] = {}


def inbound(type_: str, *, sockets, fields=(), rename=None, rejoin: bool = False) -> Callable:
    """Register the decorated service as the handler of frames of `type_` on `sockets`."""

    def register(service: Callable) -> Callable:
        assert type_ not in FRAMES, type_
        names = {name: name for name in fields} | dict(rename or {})
        FRAMES[type_] = Frame(type_, service, frozenset(sockets), names, rejoin)
        return service

    return register
