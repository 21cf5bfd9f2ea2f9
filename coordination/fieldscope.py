"""What of a field tick each field device gets: its own teams and the teams near them, as deltas.

The worker's field tick (services.field_positions_refresh) stores every team on shift in one event
(audience field). Sending all of it to every device grows with devices × teams, so a device gets:

- its own teams, and up to FIELD_POSITIONS_MAX_TEAMS other teams within about
  FIELD_POSITIONS_RADIUS_M of its own team (the nearest first). "Near" is measured from the centre
  of the grid cell (a quarter of the radius wide) its own team is in, so every device whose team is
  in the same cell gets the same frame and a process encodes it once for all of them;
- as deltas: `teams` holds only what changed since the frame this socket got before (`gone`: teams
  that left its scope), with `full: true` (and every team of the scope) on the first frame after
  hello, when its own team moved to another cell, and every FIELD_POSITIONS_FULL_EVERY ticks.

Replay (hello, GET /api/events/) and the snapshot give the scope of a tick in full (`scoped_data`).
A client applies a `full` frame by dropping the position of every team not in it (docs/protocol.md).
"""

import math
from dataclasses import dataclass, field

import orjson
from django.conf import settings

__all__ = ["FieldTicks", "Sent", "delta", "near", "scope", "scope_key", "scoped_data", "ticks"]

# Metres per degree, near enough for "which teams are within a couple of kilometres".
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON = 111_320.0

Key = tuple[tuple[int, int], ...]


def _cell_m() -> float:
    return max(1.0, settings.FIELD_POSITIONS_RADIUS_M / 4)


def _xy(team: dict) -> tuple[float, float]:
    lat = team["lat"]
    return team["lon"] * M_PER_DEG_LON * math.cos(math.radians(lat)), lat * M_PER_DEG_LAT


def scope_key(teams: dict[int, dict], own: frozenset[int] | set[int]) -> Key:
    """The grid cells of the viewer's own teams in this tick: viewers with the same key get the same frame."""
    g = _cell_m()
    cells = set()
    for team_id in own:
        team = teams.get(team_id)
        if team is not None:
            x, y = _xy(team)
            cells.add((math.floor(x / g), math.floor(y / g)))
    return tuple(sorted(cells))


def near(teams: dict[int, dict], key: Key) -> dict[int, dict]:
    """Up to FIELD_POSITIONS_MAX_TEAMS teams within the radius of each cell of `key`, the nearest first."""
    g, radius2, most = _cell_m(), settings.FIELD_POSITIONS_RADIUS_M**2, settings.FIELD_POSITIONS_MAX_TEAMS
    where = {t: _xy(team) for t, team in teams.items()}
    chosen = {}
    for cx, cy in key:
        x0, y0 = (cx + 0.5) * g, (cy + 0.5) * g
        ranked = sorted((d2, t) for t, (x, y) in where.items() if (d2 := (x - x0) ** 2 + (y - y0) ** 2) <= radius2)
        chosen.update((t, teams[t]) for _d2, t in ranked[:most])
    return chosen


def scope(teams: dict[int, dict], own: frozenset[int] | set[int], key: Key) -> dict[int, dict]:
    """The teams of `teams` a viewer with `own` teams and scope `key` gets, by team id: near ones and its own."""
    return _with_own(near(teams, key), teams, own)


def _with_own(nearby: dict[int, dict], teams: dict[int, dict], own) -> dict[int, dict]:
    return dict(sorted({**nearby, **{t: teams[t] for t in own if t in teams}}.items()))


def delta(before: dict[int, dict], after: dict[int, dict]) -> tuple[list[dict], list[int]]:
    """(teams in `after` that are new or changed since `before`, ids in `before` no longer in `after`)."""
    changed = [team for t, team in after.items() if before.get(t) != team]
    gone = sorted(t for t in before if t not in after)
    return changed, gone


def scoped_data(data: dict, own: frozenset[int] | set[int]) -> dict:
    """A stored field tick's data as a full frame for a viewer with `own` teams (replay, snapshot)."""
    teams = {team["team"]: team for team in data["teams"]}
    return {"teams": list(scope(teams, own, scope_key(teams, own)).values()), "gone": [], "full": True}


@dataclass(slots=True)
class Sent:
    """What one socket got last: the tick's seq, its scope key, and ticks since its last full frame."""

    seq: int
    key: Key
    since_full: int


@dataclass(slots=True)
class _Tick:
    seq: int
    at: str
    teams: dict[int, dict]
    near: dict[Key, dict[int, dict]] = field(default_factory=dict)
    scopes: dict[tuple, dict[int, dict]] = field(default_factory=dict)
    frames: dict[tuple, str] = field(default_factory=dict)  # (scope id, delta base seq)


class FieldTicks:
    """Per process: each field tick parsed once, each (scope, base) frame encoded once for all sockets."""

    KEEP = 3  # ticks kept: a socket more than this behind gets a full frame

    def __init__(self) -> None:
        self._ticks: dict[int, _Tick] = {}

    def _tick(self, seq: int, frame: str) -> _Tick:
        tick = self._ticks.get(seq)
        if tick is None:
            parsed = orjson.loads(frame)
            tick = _Tick(seq, parsed["at"], {team["team"]: team for team in parsed["data"]["teams"]})
            self._ticks[seq] = tick
            for old in sorted(self._ticks)[: -self.KEEP]:
                del self._ticks[old]
        return tick

    def _scope(self, tick: _Tick, own: frozenset[int], key: Key) -> tuple[tuple, dict[int, dict]]:
        """(an id for the scope, the scope): devices whose own teams are among the near ones share both."""
        nearby = tick.near.get(key)
        if nearby is None:
            nearby = tick.near[key] = near(tick.teams, key)
        # Its own team not among the nearest (a crowded cell): a scope of its own.
        ident = (key,) if all(t in nearby or t not in tick.teams for t in own) else (key, own)
        found = tick.scopes.get(ident)
        if found is None:
            found = tick.scopes[ident] = _with_own(nearby, tick.teams, own)
        return ident, found

    def frame(self, *, seq: int, frame: str, own: frozenset[int], last: Sent | None) -> tuple[str, Sent]:
        """The frame of field tick `seq` (its stored wire `frame`) for a socket that got `last` before."""
        tick = self._tick(seq, frame)
        key = scope_key(tick.teams, own)
        ident, now = self._scope(tick, own, key)
        base = None
        if (
            last is not None
            and last.key == key
            and last.seq in self._ticks
            and last.seq < seq
            and last.since_full + 1 < settings.FIELD_POSITIONS_FULL_EVERY
        ):
            base = last.seq
        before = None if base is None else self._scope(self._ticks[base], own, key)
        cache = (ident, base, before and before[0])
        text = tick.frames.get(cache)
        if text is None:
            if before is None:
                data = {"teams": list(now.values()), "gone": [], "full": True}
            else:
                changed, gone = delta(before[1], now)
                data = {"teams": changed, "gone": gone, "full": False}
            envelope = {"type": "event", "seq": seq, "kind": "positions", "at": tick.at, "data": data}
            text = tick.frames[cache] = orjson.dumps(envelope).decode()
        return text, Sent(seq, key, 0 if base is None else last.since_full + 1)


ticks = FieldTicks()
