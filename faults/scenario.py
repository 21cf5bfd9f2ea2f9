"""One fault scenario: people in the private database, clients on the two Daphnes, traffic, a fault,
and the ledger that checks every promise of docs/reliability.md afterwards.

The checks, for every frame a client queued (by its client id):
- every ack has its row, under the acked seq (nothing acked is lost);
- every row has its ack: a row the client never heard about was resent until it was acked;
- no id is acked under two seqs, and no id is stored twice (no duplicates);
- every outbox is empty at the end (nothing is left unsent), nothing was refused that was valid;
- every duty viewer's picture (snapshot + events it applied) equals a fresh snapshot.
`recovery_s` is the time from the end of the fault until all of that holds.
"""

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from faults.client import Device, Viewer
from faults.stack import ROOT, App, Stack

FIGURES: list["Figures"] = []
RESULTS = ROOT / "test-artifacts" / "faults.json"


@dataclass
class Figures:
    scenario: str
    sent: int = 0  # frames queued by clients (distinct ids)
    acked: int = 0  # ids the server acked
    stored: int = 0  # rows (positions, events) with the run's client ids
    lost: int = 0  # acked without its row (or under another seq)
    unacked_rows: int = 0  # rows whose client never got an ack
    duplicates: int = 0  # ids acked under two seqs, or stored twice
    pending: int = 0  # still in an outbox at the end
    refused: dict[str, int] = field(default_factory=dict)  # error codes that dropped a frame
    resends: int = 0
    reconnects: int = 0
    recovery_s: float | None = None  # fault over -> everything acked and every viewer converged
    settle_s: float | None = None  # traffic stopped -> the same
    converged: bool = False
    diverged: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def line(self) -> str:
        refused = sum(self.refused.values())
        recovery = "never" if self.recovery_s is None else f"{self.recovery_s:.1f} s (settled {self.settle_s:.1f} s)"
        extra = "".join(f", {k} {v}" for k, v in self.extra.items())
        return (
            f"{self.scenario}: sent {self.sent}, acked {self.acked}, stored {self.stored}, lost {self.lost}, "
            f"duplicates {self.duplicates}, unacked rows {self.unacked_rows}, pending {self.pending}, "
            f"refused {refused}, resends {self.resends}, reconnects {self.reconnects}, recovery {recovery}{extra}"
        )

    def assert_promises_kept(self, *, refused_ok: int = 0) -> None:
        assert self.lost == 0, self.line()
        assert self.duplicates == 0, self.line()
        assert self.unacked_rows == 0, self.line()
        assert self.pending == 0, self.line()
        assert sum(self.refused.values()) == refused_ok, self.line()
        assert self.stored == self.acked, self.line()
        assert self.converged, f"viewers differ from a fresh snapshot in {self.diverged[:10]}; {self.line()}"


def record(figures: Figures) -> None:
    FIGURES.append(figures)
    print("\nFAULT " + figures.line(), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(f) for f in FIGURES], indent=1))


# --- people in the private database (the test process's own Django, pointed at it) ---------------


def population(run: str, *, teams: int, per_team: int, viewers: int) -> tuple[list[dict], list[dict], int]:
    """`teams` teams on shift with `per_team` field members each, `viewers` duty officers; tokens; head seq."""
    from django.contrib.auth import get_user_model
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from coordination import services
    from coordination.models import Event, Membership, Organization, Role, Team
    from maps.models import Area

    user_model = get_user_model()
    org, _ = Organization.objects.get_or_create(name="Felkommun", defaults={"kind": "municipality"})
    if not Area.objects.filter(name="Felcentrum").exists():
        box = MultiPolygon(Polygon.from_bbox((11.42, 58.26, 11.45, 58.29)), srid=4326)
        Area.objects.create(name="Felcentrum", kind="district", polygon=box)
    devices, duty = [], []
    for t in range(teams):
        team = Team.objects.create(name=f"{run} {t}", organization=org, short="F")
        members = []
        for k in range(per_team):
            user = user_model.objects.create_user(f"{run}_f{t}_{k}")
            Membership.objects.create(user=user, organization=org, role=Role.FIELD)
            team.members.add(user)
            members.append(user)
        services.shift_start(user=members[0], team_id=team.pk)
        for user in members:
            _, key = services.device_token_issue(user=user, name="faults")
            devices.append({"name": user.username, "user": user.pk, "team": team.pk, "token": key})
    for j in range(viewers):
        user = user_model.objects.create_user(f"{run}_d{j}")
        Membership.objects.create(user=user, organization=org, role=Role.DUTY)
        _, key = services.device_token_issue(user=user, name="faults")
        duty.append({"name": user.username, "user": user.pk, "token": key})
    head = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    return devices, duty, head


def shifts_end(run: str) -> None:
    """End the run's shifts: later scenarios start from a quiet evening."""
    from coordination import services
    from coordination.models import Shift

    for shift in Shift.objects.filter(team__name__startswith=f"{run} ", ended_at__isnull=True).select_related("team"):
        services.shift_end(user=shift.team.members.first(), shift_id=shift.pk)


def ledger(run: str, figures: Figures, peers: list) -> None:
    """Fill in the figures from the clients' ledgers and the rows in the database."""
    from django.db import connection

    from coordination.models import Event, PositionReport

    connection.close()  # the database may have restarted under this process's connection
    rows = list(PositionReport.objects.filter(client_id__startswith=f"{run}-").values_list("client_id", "seq"))
    rows += list(Event.objects.filter(client_id__startswith=f"{run}-").values_list("client_id", "seq"))
    stored = Counter(client_id for client_id, _ in rows)
    seq_of = dict(rows)
    acks: dict[str, set[int]] = {}
    refused: Counter[str] = Counter()
    sent: set[str] = set()
    for peer in peers:
        sent |= set(peer.ledger.frames)
        for fid, seqs in peer.ledger.acks.items():
            acks.setdefault(fid, set()).update(seqs)
        refused.update(peer.ledger.refused.values())
        figures.resends += peer.ledger.resends
        figures.reconnects += max(0, peer.connects - 1)
        figures.pending += peer.pending
    figures.sent = len(sent)
    figures.acked = len(acks)
    figures.stored = len(stored)
    figures.lost = sum(1 for fid, seqs in acks.items() if seq_of.get(fid) not in seqs)
    figures.unacked_rows = sum(1 for fid in stored if fid not in acks)
    figures.duplicates = sum(1 for seqs in acks.values() if len(seqs) > 1) + sum(n - 1 for n in stored.values())
    figures.refused = dict(refused)


def committed_ids(ids: set[str]) -> set[str]:
    """Which of `ids` the database holds (as positions or events) now."""
    from coordination.models import Event, PositionReport

    found = set(PositionReport.objects.filter(client_id__in=ids).values_list("client_id", flat=True))
    return found | set(Event.objects.filter(client_id__in=ids).values_list("client_id", flat=True))


# --- a run ---------------------------------------------------------------------------------------


class Run:
    """The clients of one scenario against `app`, and the loop that waits for everything to settle."""

    def __init__(self, stack: Stack, app: App, name: str, *, teams: int, viewers: int, per_team: int = 4) -> None:
        self.stack, self.app, self.name = stack, app, name
        self.run = f"{name[:12]}{random.randrange(16**4):04x}"
        specs, duty, self.head = population(self.run, teams=teams, per_team=per_team, viewers=viewers)
        self.device_specs, self.viewer_specs = specs, duty
        self.figures = Figures(name)
        self.devices: list[Device] = []
        self.viewers: list[Viewer] = []
        self.others: list[Device] = []  # clients a scenario adds (a second socket of a person)

    def device(self, spec: dict, *, ports: list[int] | None = None) -> Device:
        return Device(
            spec["name"], spec["token"], ports or self.app.ports, team=spec["team"], run=self.run, last_seq=self.head
        )

    async def open(self, *, connect_timeout: float = 120) -> None:
        """Viewers load their snapshot and connect, then every device connects; wait until all are online."""
        self.viewers = [Viewer(s["name"], s["token"], self.app.ports) for s in self.viewer_specs]
        self.devices = [self.device(s) for s in self.device_specs]
        started = time.monotonic()
        loading = asyncio.Semaphore(4)

        async def load(viewer: Viewer) -> None:
            async with loading:
                await viewer.load()

        await asyncio.gather(*(load(v) for v in self.viewers))
        self.say(f"{len(self.viewers)} snapshots in {time.monotonic() - started:.1f} s")
        # The evening begins at 50 sockets a second at most; the storms are the faults' business.
        for i, peer in enumerate([*self.viewers, *self.devices]):
            peer.start()
            if i % 10 == 9:
                await asyncio.sleep(0.2)
        await self.online(connect_timeout)
        self.say(f"{len(self.devices) + len(self.viewers)} clients online")

    def say(self, what: str) -> None:
        """A progress line (pytest shows them when a scenario fails)."""
        print(f"{time.strftime('%H:%M:%S', time.gmtime())} {self.name}: {what}", flush=True)

    async def online(self, timeout: float) -> None:
        """Wait until every client is connected and has said hello; fail with how far they got."""
        peers = [*self.viewers, *self.devices]
        try:
            await asyncio.wait_for(asyncio.gather(*(p.online.wait() for p in peers)), timeout)
        except TimeoutError:
            online = sum(p.online.is_set() for p in peers)
            failures = sum(p.connect_failures for p in peers)
            errors = Counter(p.last_error for p in peers if p.last_error).most_common(3)
            raise AssertionError(
                f"{online} of {len(peers)} clients online after {timeout:g} s ({failures} failed connects: {errors})"
            ) from None

    async def walk(self, seconds: float, *, period: float = 1.0, rare: float = 0.1) -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(d.walk(period=period, until=until, rare=rare) for d in self.devices))

    async def settle(self, *, since: float, timeout: float = 90) -> None:
        """Wait until every outbox is empty and every viewer equals a fresh snapshot; note the time.

        `recovery_s` counts from `since` (the end of the fault, traffic going on after it);
        `settle_s` from now (the traffic stopped).
        """
        self.settle_from = time.monotonic()
        deadline = time.monotonic() + timeout
        while True:
            quiet = all(d.pending == 0 for d in [*self.devices, *self.others, *self.viewers])
            if quiet and self.viewers and all(v.online.is_set() and not v.loading for v in self.viewers):
                fresh = await self.viewers[0].snapshot()
                diverged = sorted({fid for v in self.viewers for fid in v.differs_from(fresh)})
                self.figures.diverged = diverged
                if not diverged:
                    self.say("settled")
                    self.settled(since)
                    return
            elif quiet and not self.viewers:
                self.settled(since)
                return
            if time.monotonic() > deadline:
                pending = sum(d.pending for d in [*self.devices, *self.others, *self.viewers])
                self.say(f"not settled: {pending} frames pending, viewers differ in {self.figures.diverged[:5]}")
                return
            await asyncio.sleep(0.25)

    def settled(self, since: float) -> None:
        self.figures.converged = True
        self.figures.recovery_s = round(time.monotonic() - since, 1)
        self.figures.settle_s = round(time.monotonic() - self.settle_from, 1)

    async def close(self) -> None:
        await asyncio.gather(*(p.stop() for p in [*self.viewers, *self.devices, *self.others]))

    def finish(self) -> Figures:
        """The ledger against the database; the run's shifts end; the figures are recorded."""
        ledger(self.run, self.figures, [*self.devices, *self.others, *self.viewers])
        shifts_end(self.run)
        record(self.figures)
        return self.figures


def summary_lines() -> list[str]:
    return [f.line() for f in FIGURES]


def results_path() -> Path:
    return RESULTS
