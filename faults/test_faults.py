"""Faults for real: Redis and PostgreSQL stopped under traffic, a Daphne killed, acks lost, the same
id sent twice at once, a viewer that stops reading, 500 clients reconnecting, a poison frame.

Each scenario runs field devices (positions every second, now and then a note or a chat) and duty
viewers against two Daphne processes and the worker, breaks something, and then checks the
promises of docs/reliability.md with the ledger of faults/scenario.py: every ack has its row,
every row its ack, no duplicates, nothing left in an outbox, every viewer equal to a fresh
snapshot. Each prints one line of figures; `make faults` lists them all at the end.
"""

import asyncio
import time

import pytest

from faults.client import Device
from faults.scenario import Run


def play(
    run: Run, fault, *, before: float = 3, after: float = 3, period: float = 1.0, rare: float = 0.1, settle: float = 90
) -> None:
    """Connect, walk for `before` s, run `fault` while walking, walk `after` s more, settle, close."""

    async def main() -> None:
        await run.open()
        walking = asyncio.create_task(run.walk(3600, period=period, rare=rare))
        await asyncio.sleep(before)
        await fault()
        fault_over = time.monotonic()
        await asyncio.sleep(after)
        walking.cancel()
        await run.settle(since=fault_over, timeout=settle)
        await run.close()

    asyncio.run(main())


def blocking(function, *args):
    return asyncio.to_thread(function, *args)


def test_redis_restarted_under_traffic_loses_nothing(stack, app):
    run = Run(stack, app, "redis_restart", teams=4, viewers=3)

    async def fault():
        await blocking(stack.redis.stop)
        await asyncio.sleep(3)
        await blocking(stack.redis.start)
        # Traffic goes on in every audience the snapshot shows: the next note reveals the notes the
        # layer lost (its `prev`), and the consumers fetch them from the log. (An audience that stays
        # quiet after the restart has only the sweep: the scenario below.)
        await asyncio.sleep(1)
        run.devices[0].note()

    play(run, fault)
    run.finish().assert_promises_kept()


def test_sockets_opened_while_redis_is_down_still_store_and_get_acks(stack, app):
    """PostgreSQL is the truth: with the channel layer gone, a device that reconnects still has its
    frames stored and acked; what viewers missed comes from the log once Redis is back."""
    run = Run(stack, app, "redis_down", teams=4, viewers=3)
    figures = run.figures

    async def fault():
        await blocking(stack.redis.stop)
        dropped = run.devices[:6]
        acks_before = sum(len(d.ledger.acks) for d in dropped)
        for device in dropped:
            device.drop()
        await asyncio.sleep(6)
        figures.extra["reconnected_while_down"] = sum(d.online.is_set() for d in dropped)
        # Whatever they queued while cut off and sent since: acked on sockets opened during the outage.
        figures.extra["acked_while_down"] = sum(len(d.ledger.acks) for d in dropped) - acks_before
        await blocking(stack.redis.start)

    play(run, fault)
    run.finish().assert_promises_kept()
    assert figures.extra["reconnected_while_down"] == 6
    assert figures.extra["acked_while_down"] > 0


def test_an_event_of_a_quiet_audience_written_while_redis_is_down_reaches_every_viewer(stack, app):
    """A team chat and a note written while Redis is down, and nothing after them in those audiences:
    only the log (the sweep, or a reconnect's replay) can bring them to the viewers."""
    run = Run(stack, app, "quiet_redis", teams=3, viewers=3)
    written: list[str] = []

    async def fault():
        await blocking(stack.redis.stop)
        device = run.devices[0]
        written.extend([device.chat(), device.note()])
        await asyncio.sleep(4)  # two sweeps while Redis is away
        await blocking(stack.redis.start)

    play(run, fault, rare=0, after=6)
    figures = run.finish()
    figures.assert_promises_kept()
    seqs = [min(run.devices[0].ledger.acks[fid]) for fid in written]
    for viewer in run.viewers:
        assert all(seq in viewer.applied for seq in seqs), (viewer.name, seqs)


def test_postgresql_down_mid_write_loses_and_doubles_nothing(stack, app):
    run = Run(stack, app, "pg_down", teams=4, viewers=3)
    figures = run.figures

    async def fault():
        await blocking(stack.pg.stop, "immediate")  # a crash: transactions cut mid-statement
        down = time.monotonic()
        await asyncio.sleep(4)
        figures.extra["retry_errors_while_down"] = sum(d.ledger.retry_errors for d in run.devices)
        await blocking(stack.pg.start)
        figures.extra["down_s"] = round(time.monotonic() - down, 1)

    play(run, fault, settle=120)
    run.finish().assert_promises_kept()
    assert figures.extra["retry_errors_while_down"] > 0  # the devices were told `not_saved`, and resent


def test_kill_9_of_one_daphne_moves_its_clients_to_the_other(stack, app):
    run = Run(stack, app, "kill_daphne", teams=4, viewers=4)

    async def fault():
        await blocking(app.kill, 0)  # SIGKILL: its position buffer and unsent acks die with it
        await asyncio.sleep(3)
        await blocking(app.start_server, 0)

    play(run, fault)
    figures = run.finish()
    figures.assert_promises_kept()
    assert figures.reconnects > 0


def test_commit_then_drop_before_ack_is_answered_with_the_original_seq(stack, app):
    """The row is committed, the connection drops before the client reads its ack: the resend gets the
    original seq and nothing is stored twice."""
    run = Run(stack, app, "drop_before_ack", teams=3, viewers=2)
    figures = run.figures

    async def fault():
        from faults.scenario import committed_ids

        devices = run.devices
        for device in devices:
            device.deaf = True  # acks from here on are never read: the drop comes "before" them
            device.note(), device.chat(), device.position(), device.position()
        ids = {fid for d in devices for fid in d.outbox}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait until the server has committed every one of them
            if await blocking(committed_ids, ids) == ids:
                break
            await asyncio.sleep(0.2)
        figures.extra["committed_before_drop"] = len(await blocking(committed_ids, ids))
        figures.extra["queued_before_drop"] = len(ids)
        for device in devices:
            device.drop()

    play(run, fault)
    figures = run.finish()
    figures.assert_promises_kept()
    assert figures.extra["committed_before_drop"] == figures.extra["queued_before_drop"] >= 4 * len(run.devices)
    assert figures.resends >= figures.extra["committed_before_drop"]


def test_the_same_client_id_sent_concurrently_twice_is_stored_once(stack, app):
    """Each device's frames go out at the same moment on two sockets of the same person, one on each
    Daphne: both sockets get the same seq for each id, and one row exists."""
    run = Run(stack, app, "same_id_twice", teams=3, viewers=2)

    async def fault():
        for device, spec in zip(run.devices, run.device_specs, strict=True):
            twin = run.device(spec, ports=[app.ports[1]])
            device.ports = [app.ports[0]]
            run.others.append(twin)
            twin.start()
        await asyncio.gather(*(twin.online.wait() for twin in run.others))
        for device, twin in zip(run.devices, run.others, strict=True):
            for make in (device.note, device.chat, device.position, device.position, device.note):
                fid = make()
                twin.queue(dict(device.outbox[fid]))  # the same frame, the same id

    play(run, fault, after=4)
    figures = run.finish()
    figures.assert_promises_kept()
    assert sum(len(twin.ledger.acks) for twin in run.others) == 5 * len(run.devices)
    for device, twin in zip(run.devices, run.others, strict=True):
        for fid, seqs in twin.ledger.acks.items():
            assert device.ledger.acks[fid] == seqs  # one seq for one id, on either socket


def test_a_viewer_that_stops_reading_holds_back_nobody_and_catches_up(stack, app):
    run = Run(stack, app, "stalled_viewer", teams=4, viewers=3)
    figures = run.figures

    async def fault():
        stalled, other = run.viewers[0], run.viewers[1]
        stalled.paused.clear()
        rss = [app.rss_mb(0) + app.rss_mb(1)]
        seen_before = other.events
        acked_before = sum(len(d.ledger.acks) for d in run.devices)
        for _ in range(10):
            await asyncio.sleep(1)
            for device in run.devices[:4]:  # extra chat: the stalled socket's backlog grows
                device.chat()
            rss.append(app.rss_mb(0) + app.rss_mb(1))
        figures.extra["others_got_events_meanwhile"] = other.events - seen_before
        figures.extra["acks_meanwhile"] = sum(len(d.ledger.acks) for d in run.devices) - acked_before
        figures.extra["server_rss_growth_mb"] = round(max(rss) - rss[0], 1)
        stalled.paused.set()

    play(run, fault)
    figures = run.finish()
    figures.assert_promises_kept()
    assert figures.extra["others_got_events_meanwhile"] > 20
    assert figures.extra["acks_meanwhile"] > 50


@pytest.mark.timeout(600)
def test_a_reconnect_storm_of_500_clients_after_both_daphnes_restart(stack, app):
    """480 field devices and 20 duty viewers lose their server at once (both Daphnes killed and
    started again, as a crash of the whole tier) and come back together."""
    run = Run(stack, app, "storm", teams=120, per_team=4, viewers=20)
    figures = run.figures
    assert len(run.device_specs) + len(run.viewer_specs) == 500

    async def fault():
        await blocking(app.kill, 0)
        await blocking(app.kill, 1)
        down = time.monotonic()
        await blocking(app.start_server, 0)
        await blocking(app.start_server, 1)
        run.say("both daphnes restarted")
        await run.online(240)
        figures.extra["all_500_back_s"] = round(time.monotonic() - down, 1)
        run.say(f"all 500 back after {figures.extra['all_500_back_s']} s")

    play(run, fault, before=6, after=4, period=15.0, rare=0.05, settle=180)
    figures = run.finish()
    figures.assert_promises_kept()
    assert figures.reconnects >= 500


def test_a_poison_frame_in_a_batch_is_refused_alone(stack, app):
    run = Run(stack, app, "poison", teams=3, viewers=2)
    poisoned: dict[str, Device] = {}

    async def fault():
        device = run.devices[0]
        fid = device.position()
        device.outbox[fid]["id"] = fid + "\u0000"  # PostgreSQL text cannot hold NUL
        device.outbox[fid + "\u0000"] = device.outbox.pop(fid)
        device.ledger.frames[fid + "\u0000"] = device.ledger.frames.pop(fid)
        note = run.devices[1].note()
        run.devices[1].outbox[note]["text"] = "Samling\u0000 vid kiosken"
        poisoned.update({fid + "\u0000": device, note: run.devices[1]})

    play(run, fault, settle=30)
    figures = run.finish()
    for fid, device in poisoned.items():
        assert device.ledger.refused.get(fid) == "invalid", figures.line()
    figures.assert_promises_kept(refused_ok=2)
