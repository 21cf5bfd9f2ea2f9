"""The registries are the contract: every declared kind and frame is documented, and nothing else is."""

import re
from pathlib import Path

import pytest

from coordination import services  # noqa: F401  (registers every frame type)
from coordination.audience import Audience, Scope
from coordination.inbound import FRAMES, Socket
from coordination.kinds import KINDS, Rule
from coordination.models import Event

PROTOCOL = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def table_after(heading: str) -> str:
    """The first Markdown table after `heading` in docs/protocol.md."""
    rest = PROTOCOL[PROTOCOL.index(heading) :]
    rows = re.search(r"(?:^\|.*\n)+", rest, re.M)
    assert rows, f"no table after {heading}"
    return rows.group(0)


def first_column(table: str) -> set[str]:
    names = set()
    for row in table.splitlines()[2:]:
        names |= set(re.findall(r"`([a-z_]+)`", row.split("|")[1]))
    return names


def test_every_declared_kind_is_documented_in_the_protocol_and_nothing_else():
    assert first_column(table_after("### `event`")) == set(KINDS)


def test_every_frame_a_socket_accepts_is_documented_in_the_protocol_and_nothing_else():
    assert first_column(table_after("## Client → server")) == {*FRAMES, "hello", "position"}


def test_every_kind_has_a_rule_a_client_can_apply():
    for kind in KINDS.values():
        assert kind.scopes, kind
        assert (kind.layer is not None) == (kind.rule in (Rule.UPSERT, Rule.REMOVE)), kind


def test_event_kind_choices_are_the_registry():
    assert [value for value, _label in Event._meta.get_field("kind").choices] == list(KINDS)


def test_every_frame_names_a_socket_and_an_existing_keyword():
    for frame in FRAMES.values():
        assert frame.sockets <= set(Socket), frame
        code = frame.service.__code__
        assert set(frame.fields.values()) <= set(code.co_varnames[: code.co_kwonlyargcount]), frame.type


@pytest.mark.parametrize("text", ["public", "staff", "ops", "field", "chat.everyone", "chat.team.3", "chat.area.12"])
def test_an_audience_reads_back_as_the_text_it_was_parsed_from(text):
    assert str(Audience.parse(text)) == text


@pytest.mark.parametrize("text", ["", "chat", "chat.team", "chat.team.x", "chat.team.²", "chat.squad.1", "team.3", 3])
def test_anything_else_is_not_an_audience(text):
    with pytest.raises(ValueError):
        Audience.parse(text)


def test_a_chat_channel_is_its_audience_without_the_prefix():
    assert Audience.of_channel("team.3") == Audience(Scope.CHAT_TEAM, 3)
    assert Audience.of_channel("team.3").channel == "team.3"
    for not_a_channel in ("staff", "chat.everyone", "public"):
        with pytest.raises(ValueError):
            Audience.of_channel(not_a_channel)


def test_live_js_applies_each_kind_by_the_rule_declared_here():
    from tests.test_frontend import STATIC, node_import

    rules = node_import(STATIC / "js" / "live.js", "m.RULES")
    declared = {name: {"rule": str(k.rule), **({"layer": k.layer} if k.layer else {})} for name, k in KINDS.items()}
    assert rules == declared
