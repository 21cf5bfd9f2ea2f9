"""The event log: seqs in commit order, publishing on the real Redis layer only after commit."""

import asyncio
import random
import threading
import time

import orjson
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from coordination import audience, groups, kinds, services
from coordination.audience import Audience
from coordination.errors import Invalid
from coordination.events import event_append, event_frame, layer_message
from coordination.models import ChatMessage, Event, Shift, SituationNote


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def note_frame(event: Event) -> dict:
    return {
        "type": "event",
        "seq": event.seq,
        "kind": event.kind,
        "at": timezone.localtime(event.created_at).isoformat(),
        "data": event.data,
    }


def listen(group: str, *steps):
    """Subscribe a fresh channel to `group`, run the steps in order, return what each gave.

    A step is a sync callable (run in this thread, so in the test's DB connection) or
    ("receive", n): wait for the next n messages on the channel, 5 s at most each.
    """

    async def scenario():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        outcomes = []
        try:
            for step in steps:
                if isinstance(step, tuple) and step[0] == "receive":
                    outcomes.append([await asyncio.wait_for(layer.receive(channel), 5) for _ in range(step[1])])
                else:
                    outcomes.append(await sync_to_async(step)())
        finally:
            await layer.group_discard(group, channel)
        return outcomes

    return async_to_sync(scenario)()


def send_sentinel(group: str):
    """A marker message on the group: whatever arrives before it was published before it."""

    def step():
        async_to_sync(get_channel_layer().group_send)(group, {"type": "test.sentinel"})

    return step


# --- envelope ---------------------------------------------------------------------------------------


def test_the_frame_is_the_wire_envelope_in_local_time(world):
    event = services.note_create(user=world.dana, category="other", text="Lugnt")
    assert orjson.loads(event_frame(event)) == note_frame(event)
    assert orjson.loads(event_frame(event))["at"].endswith(("+01:00", "+02:00"))


def test_the_layer_message_carries_seq_audience_and_the_encoded_frame(world):
    before = services.note_create(user=world.dana, category="other")
    event = services.note_create(user=world.dana, category="positive")
    assert layer_message(event) == {
        "type": "narvaro.event",
        "seq": event.seq,
        "prev": before.seq,
        "kind": "note",
        "audience": "staff",
        "frame": event_frame(event),
    }


@pytest.mark.django_db(transaction=True)
def test_event_append_refuses_to_write_outside_a_transaction(world):
    with pytest.raises(AssertionError, match="needs the writer's transaction"):
        event_append(kind=kinds.COVERAGE, audience=audience.PUBLIC, data={"areas": []})
    assert Event.objects.count() == 0


def test_an_audience_no_one_can_receive_is_not_an_audience():
    with pytest.raises(ValueError, match="unknown audience"):
        Audience.parse("chat.squad.1")


def test_event_append_refuses_an_audience_its_kind_is_not_declared_for_before_writing(world):
    # A note to the public would reach every anonymous socket: the declaration says staff only.
    with pytest.raises(ValueError, match="is not sent to public"), transaction.atomic():
        event_append(kind=kinds.NOTE, audience=audience.PUBLIC, data={})
    assert Event.objects.count() == 0


def test_event_append_refuses_data_that_differs_from_its_kinds_declaration(world):
    declared = r"differs from its declaration in \['areas', 'extra'\]"
    with pytest.raises(ValueError, match=declared), transaction.atomic():
        event_append(kind=kinds.COVERAGE, audience=audience.PUBLIC, data={"extra": 1})
    assert Event.objects.count() == 0


# --- publish after commit: the capture of on_commit callbacks (no commit in these tests) ----------------


def test_a_write_registers_its_publish_for_after_commit_only(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        event = services.note_create(user=world.dana, category="other", text="Lugnt")
    assert len(callbacks) == 1

    # Nothing reaches the layer before the callback (the commit) runs; then exactly the event does.
    _, before_commit, _, after_commit = listen(
        groups.OPS, send_sentinel(groups.OPS), ("receive", 1), callbacks[0], ("receive", 1)
    )
    assert before_commit == [{"type": "test.sentinel"}]
    assert after_commit == [{**layer_message(event), "group": groups.OPS}]


def test_a_rolled_back_write_registers_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        services.note_create(user=world.dana, category="other")
        raise RuntimeError("the caller's transaction fails after the service returned")
    assert callbacks == []
    assert (SituationNote.objects.count(), Event.objects.count()) == (0, 0)


def test_a_refused_write_registers_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Invalid):
        services.note_create(user=world.dana, category="nonsense")
    assert callbacks == []


def test_a_retry_publishes_nothing_again(world, django_capture_on_commit_callbacks):
    services.chat_send(user=world.dana, client_id="c1", channel="everyone", text="Hej")
    with django_capture_on_commit_callbacks() as callbacks:
        services.chat_send(user=world.dana, client_id="c1", channel="everyone", text="Hej")
    assert callbacks == []


def test_each_write_in_one_transaction_publishes_its_own_event_in_seq_order(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        first = services.chat_send(user=world.dana, channel="everyone", text="Ett")
        second = services.chat_send(user=world.dana, channel="everyone", text="Två")
    _, received = listen(groups.DUTY, lambda: [callback() for callback in callbacks], ("receive", 2))
    assert [m["seq"] for m in received] == [first.seq, second.seq]
    assert received[1]["prev"] == first.seq


# --- publish after a real commit ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_delivers_the_exact_layer_message(world):
    prev = Event.objects.filter(audience="staff").order_by("-seq").values_list("seq", flat=True).first() or 0

    event, (message,) = listen(
        groups.OPS,
        lambda: services.note_create(user=world.dana, category="gathering", text="Ca 10 unga", youth_count=10),
        ("receive", 1),
    )

    assert message == {
        "type": "narvaro.event",
        "seq": event.seq,
        "prev": prev,
        "kind": "note",
        "audience": "staff",
        "frame": event_frame(event),
        "group": groups.OPS,  # each group's copy names it: the sweep tells which groups delivered
    }
    stored = Event.objects.get(seq=event.seq)
    assert orjson.loads(message["frame"]) == note_frame(stored)
    assert orjson.loads(message["frame"])["data"]["youth_count"] == 10


@pytest.mark.django_db(transaction=True)
def test_a_chat_message_reaches_the_groups_of_its_audience(world):
    shift = Shift.objects.create(team=world.harbour_team, started_by=world.alice)
    shift.planned_areas.set([world.hotspot])
    team_group = groups.group_name("team", world.harbour_team.pk)

    event, (message,) = listen(
        team_group,
        lambda: services.chat_send(user=world.alice, channel=f"team.{world.harbour_team.pk}", text="Vi går nu"),
        ("receive", 1),
    )

    assert (message["seq"], message["audience"], message["kind"]) == (
        event.seq,
        f"chat.team.{world.harbour_team.pk}",
        "chat",
    )
    assert orjson.loads(message["frame"])["data"]["text"] == "Vi går nu"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_publishes_nothing_and_leaves_no_rows(world):
    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.note_create(user=world.dana, category="other", text="Ångras")
            raise RuntimeError("roll back")

    _, committed, (first,) = listen(
        groups.OPS,
        rolled_back,
        lambda: services.note_create(user=world.dana, category="other", text="Kvar"),
        ("receive", 1),
    )

    # The first message on the group is the committed note: the rolled-back one was never sent.
    assert first["seq"] == committed.seq
    assert list(SituationNote.objects.values_list("text", flat=True)) == ["Kvar"]
    assert list(Event.objects.values_list("seq", flat=True)) == [committed.seq]


# --- order under concurrent writers ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_seqs_are_distinct_and_commit_in_seq_order_under_concurrent_writers(world):
    """Four people write at once through real transactions.

    What an observer sees must follow seq order: every snapshot of the log is a prefix of the final
    log, so a client that saw seq N never later finds a committed event below N. (The order in
    which the writers' on_commit callbacks run is not evidence either way: a thread can be put to
    sleep between its COMMIT and its callback.)
    """
    for team, user in ((world.harbour_team, world.alice), (world.centre_team, world.charlie)):
        Shift.objects.create(team=team, started_by=user)
    start = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    per_writer = 25
    committed: list[int] = []
    committed_lock = threading.Lock()
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []
    snapshots: list[list[int]] = []

    def write_many(name, write):
        try:
            rng = random.Random(name)
            for i in range(per_writer):
                with transaction.atomic():
                    written: dict[str, int] = {}
                    transaction.on_commit(lambda written=written: _record(written["seq"]))
                    written["seq"] = write(f"{name}-{i}").seq
                    # Hold the transaction a moment so writers overlap and commits could reorder.
                    time.sleep(rng.random() / 500)
        except BaseException as error:  # noqa: BLE001 - reported by the test thread below
            errors.append(error)
        finally:
            connection.close()

    def _record(seq):
        with committed_lock:
            committed.append(seq)

    log = Event.objects.filter(seq__gt=start).order_by("seq")

    def observe():
        try:
            while writing.is_set():
                snapshots.append(list(log.values_list("seq", flat=True)))
        finally:
            connection.close()

    writers = {
        "alice": lambda cid: services.note_create(user=world.alice, client_id=cid, category="gathering"),
        "bob": lambda cid: services.chat_send(
            user=world.bob, client_id=cid, channel=f"team.{world.harbour_team.pk}", text="Hej"
        ),
        "charlie": lambda cid: services.chat_send(user=world.charlie, client_id=cid, channel="everyone", text="Hej"),
        "dana": lambda cid: (
            services.note_create(user=world.dana, client_id=cid, category="other")
            if cid.endswith(("0", "2", "4", "6", "8"))
            else services.chat_send(user=world.dana, client_id=cid, channel="everyone", text="Hej")
        ),
    }
    observer = threading.Thread(target=observe)
    threads = [threading.Thread(target=write_many, args=item) for item in writers.items()]
    observer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    writing.clear()
    observer.join(10)

    assert errors == []
    final = list(log.values_list("seq", flat=True))
    assert len(final) == len(set(final)) == 4 * per_writer
    assert (SituationNote.objects.count(), ChatMessage.objects.count()) == (25 + 13, 25 + 25 + 12)
    assert len(snapshots) > 1
    assert [s for s in snapshots if s != final[: len(s)]] == []
    assert sorted(committed) == final  # each committed write ran its on_commit once


@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_the_original_stores_one_note_and_answers_with_its_seq(world):
    """The device resends before the first copy committed: the unique constraint decides."""
    first_written = threading.Event()
    seqs: dict[str, int] = {}
    errors: list[BaseException] = []

    def original():
        try:
            with transaction.atomic():
                seqs["original"] = services.note_create(user=world.dana, client_id="n1", category="other").seq
                first_written.set()
                time.sleep(0.3)  # the retry now waits on the event lock, then meets the unique index
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    def retry():
        try:
            first_written.wait(5)
            seqs["retry"] = services.note_create(user=world.dana, client_id="n1", category="other").seq
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=original), threading.Thread(target=retry)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert seqs["retry"] == seqs["original"]
    assert (SituationNote.objects.count(), Event.objects.count()) == (1, 1)
