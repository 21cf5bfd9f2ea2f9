"""`manage.py simulate_history [--weeks 6] [--seed 13]`: past evenings of the Lysekil demo, then their totals.

For the demo database only (after `seed_demo`): teams walk routes between the demo's places with a
position every 30–60 s, notes follow a weekday and hour pattern (Friday and Saturday late evenings
heaviest, the harbour slowly rising), a few alerts are acknowledged and resolved, and the
associations' weekly activities get past occurrences. Written straight through the models (it is
history: nothing is broadcast), then summed by coordination.services.day_aggregate.

Deterministic: each day draws from its own generator seeded by --seed and the date. Idempotent: a
day that already has simulated shifts is left as it is, so a rerun adds nothing and a rerun with more
weeks adds only the missing days. Each week, and this one, gets the EST decision its meeting would have made.
"""

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from coordination import services
from coordination.management.commands.seed_demo import DEMO, STOCKHOLM
from coordination.models import (
    AggregatedDay,
    Alert,
    EstDecision,
    NoteHour,
    Organization,
    PresenceHour,
    Shift,
    SituationNote,
    Team,
)
from coordination.services import day_aggregate
from maps.models import Activity, Area

CLIENT_PREFIX = "sim-"
SPEED_M_PER_S = 1.1  # strolling, with stops
METRES_PER_DEGREE_LAT = 111_320
# Notes per evening by weekday (Monday first) and by the hour they are made in.
NOTES_PER_DAY = [1.0, 1.5, 1.5, 2.5, 6.0, 7.0, 1.5]
NOTE_HOURS = {18: 1, 19: 2, 20: 3, 21: 4, 22: 5, 23: 3}
CATEGORIES = {
    "gathering": 30,
    "alcohol": 12,
    "vandalism": 9,
    "vehicle": 8,
    "conflict": 6,
    "unsafe_place": 6,
    "drugs": 4,
    "positive": 20,
    "other": 5,
}
# Simulated adults beyond the demo's field teams: (team, organisation, adult kind or "", members).
EXTRA_TEAMS = [
    ("Nattvandrarna", "Nattvandrarna Lysekil", "", ["natt1", "natt2"]),
    ("Fritidsgårdens personal", "Lysekils kommun", "youth_centre", ["fritid1"]),
    ("IFK ledare", "IFK Lysekil", "", ["ledare1"]),
]


@dataclass(frozen=True)
class Round:
    """A team's evening: which weekdays, from when to when, and the places it walks between."""

    team: str
    weekdays: tuple[int, ...]
    starts: str
    hours: float
    route: tuple[str, ...]
    dwell_min: int  # minutes spent at each stop


ROUNDS = [
    Round("Fältteam 1", (1, 3, 4, 5), "18:30", 4.5, ("Busstationen", "Södra hamnen", "Fritidsgården"), 15),
    Round("Fältteam 2", (2, 4, 5, 6), "19:00", 4.0, ("Kronbergets sporthall", "Mariedalsskolans skolgård"), 20),
    Round("Nattvandrarna", (4, 5), "21:30", 3.0, ("Busstationen", "Södra hamnen", "Lysekils kyrka"), 10),
    Round("Fritidsgårdens personal", (0, 1, 2, 3), "18:00", 4.0, ("Fritidsgården",), 60),
    Round("IFK ledare", (4,), "19:00", 3.0, ("Kronbergets sporthall",), 60),
]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (b[0] - a[0]) * METRES_PER_DEGREE_LAT * math.cos(math.radians(a[1]))
    dy = (b[1] - a[1]) * METRES_PER_DEGREE_LAT
    return math.hypot(dx, dy)


def _track(rng: random.Random, stops: list[tuple[float, float]], start: datetime, hours: float, dwell_min: int):
    """(time, lon, lat) every 30–60 s: a while at each stop, then walking to the next, round and round."""
    end = start + timedelta(hours=hours)
    at, index = start, 0
    here = stops[0]
    while at < end:
        stay_until = at + timedelta(minutes=dwell_min * rng.uniform(0.6, 1.4))
        while at < min(stay_until, end):
            yield at, here[0] + rng.uniform(-1.5e-4, 1.5e-4), here[1] + rng.uniform(-8e-5, 8e-5)
            at += timedelta(seconds=rng.randint(30, 60))
        if len(stops) == 1:
            continue
        index = (index + 1) % len(stops)
        there = stops[index]
        walk_s = _metres(here, there) / SPEED_M_PER_S
        left = at
        while at < end and (at - left).total_seconds() < walk_s:
            share = (at - left).total_seconds() / walk_s
            yield at, here[0] + (there[0] - here[0]) * share, here[1] + (there[1] - here[1]) * share
            at += timedelta(seconds=rng.randint(30, 60))
        here = there


def insert_positions(rows: list[tuple]) -> None:
    """Insert raw positions (shift, user, lon, lat, accuracy, recorded_at, received_at, client_id) in one statement.

    Many thousand rows a day: one INSERT from arrays is some twenty times faster than bulk_create here.
    """
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO coordination_positionreport
                (shift_id, user_id, point, accuracy, recorded_at, received_at, client_id)
            SELECT s, u, ST_SetSRID(ST_MakePoint(x, y), 4326), a, r, v, c
            FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::float8[], %s::float8[],
                        %s::timestamptz[], %s::timestamptz[], %s::text[]) AS t(s, u, x, y, a, r, v, c)
            """,
            [list(column) for column in columns],
        )


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Command(BaseCommand):
    help = "Simulate past evenings of the Lysekil demo (positions, notes, alerts, activities) and sum them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--weeks", type=int, default=6, help="full ISO weeks before this one (1–52)")
        parser.add_argument("--seed", type=int, default=13)

    def handle(self, *args, weeks: int, seed: int, **options) -> None:
        if not 1 <= weeks <= 52:
            raise CommandError("--weeks must be 1–52.")
        if not Team.objects.filter(name=ROUNDS[0].team).exists():
            raise CommandError("Run `manage.py seed_demo` first: the history walks the demo's teams and areas.")
        today = timezone.localdate(timezone.now(), STOCKHOLM)
        first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks)
        days = [first + timedelta(days=n) for n in range((today - first).days)]  # up to yesterday
        self.setup()
        written = {"positions": 0, "notes": 0, "alerts": 0}
        new_days = []
        for day in days:
            if Shift.objects.filter(team__in=self.teams.values(), started_at__date=day).exists():
                continue  # simulated before (some team is out every day of the week): a rerun adds nothing
            rng = random.Random(f"{seed}-{day.isoformat()}")
            with transaction.atomic():
                counts = self.simulate_day(day, rng, weeks_back=(today - day).days // 7)
                # Totals the worker may have stored for the day while it was empty are redone below.
                PresenceHour.objects.filter(day=day).delete()
                NoteHour.objects.filter(day=day).delete()
                AggregatedDay.objects.filter(day=day).delete()
            for key, value in counts.items():
                written[key] += value
            new_days.append(day)
        self.past_activities(first)
        decided = self.decisions(first, today)
        summed = sum(day_aggregate(day=day) is not None for day in days)
        self.stdout.write(
            f"History from {first} to {days[-1]}: {len(new_days)} new day(s), {written['positions']} positions, "
            f"{written['notes']} notes, {written['alerts']} alerts, {decided} EST decision(s); {summed} day(s) summed."
        )

    def setup(self) -> None:
        """The simulated teams beside the demo's (people without a password or role: they only walk)."""
        User = get_user_model()
        for name, organization, kind, members in EXTRA_TEAMS:
            team, _ = Team.objects.get_or_create(
                name=name,
                defaults={"organization": Organization.objects.get(name=organization), "adult_kind": kind},
            )
            for username in members:
                user, created = User.objects.get_or_create(username=username, defaults={"first_name": username})
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                team.members.add(user)
        self.teams = {r.team: Team.objects.get(name=r.team) for r in ROUNDS}
        self.members = {name: list(team.members.order_by("username")) for name, team in self.teams.items()}
        self.places = {name: (p["lon"], p["lat"]) for name, p in DEMO["places"].items()}
        self.areas = list(Area.objects.exclude(kind=Area.Kind.MUNICIPALITY))
        order = {Area.Kind.HOTSPOT: 0, Area.Kind.DISTRICT: 1}
        self.areas.sort(key=lambda a: (order.get(a.kind, 2), -a.priority))
        self.hotspots = [a for a in self.areas if a.kind == Area.Kind.HOTSPOT]
        self.duty = User.objects.get(username="jour")

    def decisions(self, first: date, today: date) -> int:
        """One EST decision a week, as the Tuesday meeting makes it: Friday and Saturday evenings in the
        hotspot with the most notes the week before, for the first simulated team; through the service."""
        made = 0
        monday = first
        while monday <= today:
            year, week, _ = monday.isocalendar()
            if not EstDecision.objects.filter(iso_year=year, iso_week=week).exists():
                notes = {
                    a.pk: SituationNote.objects.filter(
                        area=a, created_at__date__gte=monday - timedelta(weeks=1), created_at__date__lt=monday
                    ).count()
                    for a in self.hotspots
                }
                focus = max(self.hotspots, key=lambda a: (notes[a.pk], a.priority, a.name))
                services.est_decision_record(
                    actor=self.duty,
                    iso_year=year,
                    iso_week=week,
                    area_ids=[focus.pk],
                    weekdays=[4, 5],
                    start="20:00",
                    end="23:00",
                    who="team",
                    team_id=self.teams[ROUNDS[0].team].pk,
                    note=f"Fler vuxna vid {focus.name} fredag och lördag kväll.",
                )
                made += 1
            monday += timedelta(weeks=1)
        return made

    def area_at(self, lon: float, lat: float) -> Area | None:
        point = Point(lon, lat, srid=4326)
        return next((a for a in self.areas if a.polygon.covers(point)), None)

    def simulate_day(self, day: date, rng: random.Random, *, weeks_back: int) -> dict[str, int]:
        positions, tracks = [], {}
        for round_ in ROUNDS:
            if day.weekday() not in round_.weekdays or not self.members[round_.team]:
                continue
            start = datetime.combine(day, time.fromisoformat(round_.starts), tzinfo=STOCKHOLM)
            start += timedelta(minutes=rng.randint(-10, 15))
            stops = [self.places[name] for name in round_.route]
            track = list(_track(rng, stops, start, round_.hours, round_.dwell_min))
            members = self.members[round_.team]
            shift = Shift.objects.create(
                team=self.teams[round_.team], started_by=members[0], started_at=start, ended_at=track[-1][0]
            )
            tracks[round_.team] = (shift, track)
            for n, (at, lon, lat) in enumerate(track):
                for m, member in enumerate(members):
                    # Members walk together, a few metres apart, each phone on its own clock.
                    when = at + timedelta(seconds=m * 7)
                    positions.append(
                        (
                            shift.pk,
                            member.pk,
                            lon + m * 4e-5,
                            lat + m * 2e-5,
                            rng.choice([5.0, 8.0, 12.0]),
                            when,
                            when + timedelta(seconds=1),
                            f"{CLIENT_PREFIX}{shift.pk}-{member.pk}-{n}",
                        )
                    )
        insert_positions(positions)
        notes = self.notes(day, rng, tracks, weeks_back=weeks_back)
        alerts = self.alerts(day, rng, tracks)
        return {"positions": len(positions), "notes": notes, "alerts": alerts}

    def notes(self, day: date, rng: random.Random, tracks: dict, *, weeks_back: int) -> int:
        """Notes by the teams out (where they are) and by duty on tips (at a hotspot, maybe with nobody there)."""
        out = [(shift, track) for shift, track in tracks.values() if shift.team.presence_kind == "field"]
        out += [(shift, track) for shift, track in tracks.values() if shift.team.presence_kind == "night_walker"]
        rows = []
        for _ in range(_poisson(rng, NOTES_PER_DAY[day.weekday()] * (1 + 0.06 * (6 - weeks_back)))):
            hour = _weighted(rng, NOTE_HOURS)
            when = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=STOCKHOLM)
            walking = [(s, t) for s, t in out if t[0][0] <= when <= t[-1][0]]
            category = _weighted(rng, CATEGORIES)
            if walking and rng.random() < 0.75:
                shift, track = rng.choice(walking)
                _at, lon, lat = min(track, key=lambda p: abs((p[0] - when).total_seconds()))
                author = rng.choice(self.members[shift.team.name])
            else:
                # A tip from the public or the police, written by duty: the harbour more often, more so lately.
                shift = None
                weights = {
                    a: a.priority + (4 - min(weeks_back, 4) if a.name == "Södra hamnen" else 0) for a in self.hotspots
                }
                area = _weighted(rng, weights)
                centre = area.polygon.point_on_surface
                lon, lat, author = centre.x, centre.y, self.duty
            severity = 1 if category == "positive" else rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
            if category == "conflict":
                severity = max(severity, 2)
            youth = rng.randint(3, 25) if category in ("gathering", "alcohol", "positive") else None
            rows.append(
                SituationNote(
                    author=author,
                    shift=shift,
                    point=Point(lon, lat, srid=4326),
                    area=self.area_at(lon, lat),
                    category=category,
                    severity=severity,
                    youth_count=youth,
                    status=SituationNote.Status.ACKNOWLEDGED,
                    created_at=when,
                    acknowledged_by=self.duty,
                    acknowledged_at=when + timedelta(seconds=rng.randint(30, 600)),
                )
            )
        SituationNote.objects.bulk_create(rows)
        return len(rows)

    def alerts(self, day: date, rng: random.Random, tracks: dict) -> int:
        """Now and then on a Friday or Saturday a field member calls for help; duty acknowledges and resolves it."""
        field = [(s, t) for s, t in tracks.values() if s.team.presence_kind == "field"]
        if day.weekday() not in (4, 5) or not field or rng.random() > 0.45:
            return 0
        shift, track = rng.choice(field)
        raised, lon, lat = track[rng.randrange(len(track) // 3, len(track))]
        acknowledged = raised + timedelta(seconds=rng.randint(15, 150))
        Alert.objects.create(
            author=rng.choice(self.members[shift.team.name]),
            team=shift.team,
            shift=shift,
            point=Point(lon, lat, srid=4326),
            status=Alert.Status.RESOLVED,
            raised_at=raised,
            acknowledged_by=self.duty,
            acknowledged_at=acknowledged,
            resolved_by=self.duty,
            resolved_at=acknowledged + timedelta(minutes=rng.randint(4, 35)),
        )
        return 1

    def past_activities(self, first: date) -> None:
        """The associations' weekly activities held every week of the history too: closed series before the seeded."""
        for activity in Activity.objects.filter(organization__kind=Organization.Kind.ASSOCIATION, weekly=True):
            seeded = timezone.localdate(activity.starts_at, STOCKHOLM)
            if (
                seeded <= first
                or Activity.objects.filter(
                    organization=activity.organization, title=activity.title, starts_at__lt=activity.starts_at
                ).exists()
            ):
                continue
            weeks = (seeded - first).days // 7
            Activity.objects.create(
                organization=activity.organization,
                title=activity.title,
                description=activity.description,
                place=activity.place,
                point=activity.point,
                starts_at=activity.starts_at - timedelta(weeks=weeks),
                ends_at=activity.ends_at - timedelta(weeks=weeks),
                weekly=True,
                repeat_until=seeded - timedelta(days=1),
                visibility=activity.visibility,
                status=Activity.Status.CLOSED,
                age_group=activity.age_group,
                contact=activity.contact,
            )
