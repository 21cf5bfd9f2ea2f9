"""The bench expects each viewer to see exactly the notes, alerts and chat its role may see."""

import importlib.util
import sys
from pathlib import Path

import pytest

from coordination import access
from coordination.audience import Audience
from coordination.services import alert_raise, chat_send, note_create, shift_start

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_run():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


def test_the_bench_expects_of_duty_and_partner_what_the_access_rules_let_them_see(world):
    # What bench/load.py's devices send, through the services, as alice on shift: a note, an alarm
    # and a message to her own team's channel.
    shift_start(user=world.alice)
    sent = {
        "note": note_create(user=world.alice, category="gathering", text="Samling.", lat=58.275, lon=11.44),
        "alert": alert_raise(user=world.alice, text="Behöver stöd vid busstationen."),
        "chat": chat_send(user=world.alice, channel=f"team.{world.harbour_team.pk}", text="Vi går mot hamnen."),
    }
    rules = bench_run().RARE_SEEN_BY
    for role, person in (("duty", world.dana), ("partner", world.frida)):
        viewer = access.viewer_for(person)
        allowed = {
            kind
            for kind, event in sent.items()
            if access.may_see_event(viewer, audience=Audience.parse(event.audience), kind=event.kind, data=event.data)
        }
        assert rules[role] == allowed, role
    # Frida the partner reads notes and alarms, never a team's chat.
    assert rules["partner"] == {"note", "alert"}


def test_a_partner_not_given_team_chat_is_no_loss_but_a_duty_officer_not_given_it_is():
    rare_seen = bench_run().rare_seen
    acked = [("note", 11, 100.0), ("alert", 12, 100.0), ("chat", 13, 100.0)]
    dana = {"role": "duty", "rare_seen": [(11, 100.03), (12, 100.05)]}  # never got the chat
    frida = {"role": "partner", "rare_seen": [(11, 100.04), (12, 100.02)]}
    rare_lat, chat_lat, lost, leaked = rare_seen([dana, frida], acked)
    assert lost == 1 and leaked == 0 and chat_lat == []
    assert sorted(round(t, 3) for t in rare_lat) == [0.02, 0.03, 0.04, 0.05]


def test_a_partner_given_team_chat_is_counted_as_seen_by_a_role_that_may_not():
    rare_seen = bench_run().rare_seen
    acked = [("chat", 13, 100.0)]
    dana = {"role": "duty", "rare_seen": [(13, 100.02)]}
    frida = {"role": "partner", "rare_seen": [(13, 100.03)]}
    _rare_lat, chat_lat, lost, leaked = rare_seen([dana, frida], acked)
    assert (lost, leaked) == (0, 1)
    assert [round(t, 3) for t in chat_lat] == [0.02]
