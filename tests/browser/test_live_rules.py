"""static/js/live.js applies events exactly as the server's rule book does.

The zulip-style check of coordination/tests/test_snapshot_events.py, run through the browser's
`applyEvent`: the snapshot at N plus the events after N, applied in the page, equals the snapshot now.
"""

import copy

import pytest

from coordination.tests.test_snapshot_events import by_id, evening_seen_by
from tests.browser.conftest import off_loop

APPLY = """
async ([snapshot, events, publicOnly]) => {
  const { LiveState } = await import("/static/js/live.js");
  const state = new LiveState(snapshot, { publicOnly });
  const applied = events.map((event) => state.apply(event));
  return { features: Object.fromEntries(state.features), seq: state.seq, applied };
}
"""


def before_and_after(world, person):
    """The snapshot a viewer loaded, the events they were sent since, and the snapshot now."""
    before, replay, after, public_only = evening_seen_by(world, person)
    events = [{"type": "event", "seq": e.seq, "kind": e.kind, "data": copy.deepcopy(e.data)} for e in replay.events]
    return before, events, after, public_only


@pytest.mark.parametrize("person", ["dana", "frida", "alice", None])
def test_the_pages_rule_book_turns_an_old_snapshot_into_the_new_one(transactional_db, world, static_page, person):
    # Another thread writes: publishing after commit cannot run beside Playwright's event loop.
    before, events, after, public_only = off_loop(before_and_after, world, person)
    result = static_page.evaluate(APPLY, [before, events, public_only])
    assert result["features"] == by_id(after)
    assert result["seq"] == max(e["seq"] for e in events)  # what the next hello reports
    assert all(result["applied"])


def test_the_page_ignores_an_event_it_already_applied(static_page):
    snapshot = {"type": "FeatureCollection", "seq": 10, "features": []}
    coverage = {"kind": "coverage", "data": {"areas": []}}
    result = static_page.evaluate(
        APPLY,
        [
            snapshot,
            [{**coverage, "seq": 9}, {**coverage, "seq": 12}, {**coverage, "seq": 11}, {**coverage, "seq": 12}],
            True,
        ],
    )
    # Older than the snapshot: already in it. 12 twice: once. 11 after 12: not yet applied, so applied.
    assert result["applied"] == [False, True, True, False]
    assert result["seq"] == 12


WITH_RULES = """
async ([kinds, events]) => {
  const { LiveState, RULES } = await import("/static/js/live.js");
  Object.assign(RULES, kinds);  // a kind the page learns: only its table entry is added
  const warnings = [];
  console.warn = (...args) => warnings.push(args.join(" "));
  const state = new LiveState({ type: "FeatureCollection", seq: 0, features: [] });
  for (const event of events) state.apply(event);
  return { features: Object.fromEntries(state.features), warnings };
}
"""


def test_the_page_applies_an_event_by_its_kinds_entry_in_the_rule_table(static_page):
    note = {"id": 7, "lat": 58.27, "lon": 11.44, "status": "open"}
    result = static_page.evaluate(
        WITH_RULES,
        [
            {"note_moved": {"rule": "upsert", "layer": "note"}},
            [
                {"seq": 1, "kind": "note", "data": note},
                {"seq": 2, "kind": "note_moved", "data": {**note, "lat": 58.28}},
            ],
        ],
    )
    assert result["features"]["note.7"]["geometry"] == {"type": "Point", "coordinates": [11.44, 58.28]}
    assert result["warnings"] == []


def test_a_kind_without_a_rule_is_ignored_with_a_warning(static_page):
    result = static_page.evaluate(WITH_RULES, [{}, [{"seq": 1, "kind": "weather", "data": {"id": 1, "lat": 58.0}}]])
    assert result["features"] == {}
    assert result["warnings"] == ["live: no rule for event kind weather"]


def test_the_page_applies_scoped_field_ticks_as_the_server_declares(static_page):
    """Issue 16, item 2: a full frame clears teams not in it, deltas move, `gone` clears; as apply_event does."""
    from coordination.tests.test_snapshot_events import apply_event

    def team(t, lat=None):
        props = {"layer": "team", "team": t, "shift": t * 10, "team_name": f"Lag {t}", "lat": lat, "lon": None}
        props |= {"accuracy": None, "recorded_at": None}
        if lat is not None:
            props |= {"lon": 11.4, "recorded_at": "t0"}
        geometry = None if lat is None else {"type": "Point", "coordinates": [11.4, lat]}
        return {"type": "Feature", "id": f"team.{t}", "geometry": geometry, "properties": props}

    snapshot = {"type": "FeatureCollection", "seq": 10, "features": [team(1, 58.1), team(2, 58.2), team(3, 58.3)]}

    def where(t, lat, at):
        return {"team": t, "shift": t * 10, "lat": lat, "lon": 11.4, "recorded_at": at}

    ticks = [
        {"teams": [where(1, 58.11, "t1"), where(2, 58.2, "t0")], "gone": [], "full": True},  # 3 went out of reach
        {"teams": [where(2, 58.25, "t2")], "gone": [], "full": False},
        {"teams": [where(3, 58.31, "t3")], "gone": [1], "full": False},
    ]
    events = [{"type": "event", "seq": 11 + i, "kind": "positions", "data": data} for i, data in enumerate(ticks)]
    result = static_page.evaluate(APPLY, [snapshot, events, False])
    expected = {f["id"]: copy.deepcopy(f) for f in snapshot["features"]}
    for event in events:
        apply_event(expected, copy.deepcopy(event), public_only=False)
    assert result["features"] == expected
    assert [result["features"][f"team.{t}"]["properties"]["lat"] for t in (1, 2, 3)] == [None, 58.25, 58.31]
