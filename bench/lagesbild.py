"""Bench of the EST situation picture: a week of 10 teams x 7 evenings x 6 hours of positions every 5 s
(302,400 rows) and 2,000 notes in a fresh database, then the aggregation and picture() timed.

    .venv/bin/python bench/lagesbild.py          # make bench-lagesbild
    .venv/bin/python bench/lagesbild.py --keep   # time again on the week a previous run wrote

The database `bench_lagesbild` (BENCH_LAGESBILD_DB) on the dev PostgreSQL is dropped and created
afresh each run, migrated and seeded with the Lysekil demo; the dev and test databases are never
touched. Targets (issue 13): aggregation under 10 s on one core; the page render and PDF are the
page's (timed by its own bench, if any). Not a timed test: it prints its figures.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB = os.environ.get("BENCH_LAGESBILD_DB", "bench_lagesbild")
TEAMS, EVENINGS, HOURS, EVERY_S, NOTES = 10, 7, 6, 5, 2000


def prepare() -> dict[str, str]:
    """A fresh bench database, migrated and seeded; the environment pointing at it."""
    os.environ["BENCH_DATABASE_NAME"] = DB
    from bench import server

    server.psql(f"drop database if exists {DB}", "postgres")
    server.psql(f"create database {DB}", "postgres")
    server.psql("create extension if not exists postgis", DB)
    env = server.bench_env()
    manage = [sys.executable, str(ROOT / "manage.py")]
    started = time.perf_counter()
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, env=env, cwd=ROOT, timeout=900)
    subprocess.run([*manage, "seed_demo"], check=True, env=env, cwd=ROOT, timeout=600, capture_output=True)
    print(f"database {DB}: migrated and seeded in {time.perf_counter() - started:.1f} s")
    return env


def write_week(monday) -> None:
    """10 teams of one device each, out 18-24 every evening of the week from `monday`, and 2,000 notes."""
    import random
    from datetime import datetime, timedelta
    from datetime import time as clock

    from django.contrib.auth import get_user_model
    from django.contrib.gis.geos import Point
    from django.db import connection

    from coordination.management.commands.seed_demo import DEMO, STOCKHOLM
    from coordination.management.commands.simulate_history import _track, insert_positions
    from coordination.models import NoteCategory, Organization, Shift, SituationNote, Team
    from maps.models import Area

    rng = random.Random(8)
    User = get_user_model()
    org = Organization.objects.get(kind="municipality")
    places = [(p["lon"], p["lat"]) for p in DEMO["places"].values()]
    started = time.perf_counter()
    rows = 0
    for t in range(TEAMS):
        team = Team.objects.create(name=f"Bench {t}", organization=org)
        user = User.objects.create_user(f"bench{t}")
        team.members.add(user)
        for d in range(EVENINGS):
            start = datetime.combine(monday + timedelta(days=d), clock(18, 0), tzinfo=STOCKHOLM)
            shift = Shift.objects.create(
                team=team, started_by=user, started_at=start, ended_at=start + timedelta(hours=HOURS)
            )
            # The walk's shape from the demo history (a point every 30-60 s), sampled every 5 s.
            path = [(lon, lat) for _when, lon, lat in _track(rng, rng.sample(places, 3), start, HOURS, 10)]
            total = HOURS * 3600 // EVERY_S
            dense = []
            for i in range(total):
                lon, lat = path[min(i * len(path) // total, len(path) - 1)]
                when = start + timedelta(seconds=i * EVERY_S)
                dense.append((shift.pk, user.pk, lon, lat, 8.0, when, when, f"b-{shift.pk}-{i}"))
            insert_positions(dense)
            rows += len(dense)
    areas = list(Area.objects.exclude(kind="municipality"))
    author = User.objects.get(username="bench0")
    notes = []
    for _ in range(NOTES):
        area = rng.choice(areas)
        centre = area.polygon.point_on_surface
        day = monday + timedelta(days=rng.randrange(7))
        notes.append(
            SituationNote(
                author=author,
                area=area,
                point=Point(centre.x, centre.y, srid=4326),
                category=rng.choice(NoteCategory.values),
                severity=rng.choice([1, 1, 2, 3]),
                youth_count=rng.randint(0, 20),
                created_at=datetime.combine(day, clock(rng.randint(18, 23), rng.randrange(60)), tzinfo=STOCKHOLM),
            )
        )
    SituationNote.objects.bulk_create(notes)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE coordination_positionreport")
    print(f"written: {rows} positions, {NOTES} notes in {time.perf_counter() - started:.1f} s")


def run_inside() -> None:
    """In the bench database: write the week (unless there), sum it, build its picture; print the figures."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from datetime import timedelta

    import django

    django.setup()
    from django.utils import timezone

    from coordination.models import AggregatedDay, NoteHour, PresenceHour, Team
    from coordination.selectors.lagesbild import period_for_week, picture
    from coordination.services import aggregate_days

    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=2)
    year, week, _ = monday.isocalendar()
    if Team.objects.filter(name="Bench 0").exists():
        # --keep: the week is there; only its totals are dropped and summed again.
        for model in (PresenceHour, NoteHour, AggregatedDay):
            model.objects.all().delete()
        print("reusing the week written before")
    else:
        write_week(monday)

    started = time.perf_counter()
    days = aggregate_days(start=monday, end=monday + timedelta(days=6))
    aggregate_s = time.perf_counter() - started
    print(f"aggregation: {days} days in {aggregate_s:.2f} s ({PresenceHour.objects.count()} presence-hour rows)")

    period = period_for_week(year, week)
    started = time.perf_counter()
    seen = picture(period=period)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(5):
        picture(period=period)
    picture_s = (time.perf_counter() - started) / 5
    print(f"picture(): first {first_s * 1000:.0f} ms, then {picture_s * 1000:.0f} ms on average of 5")
    notes = sum(map(sum, seen.notes_matrix))
    print(f"  {len(seen.areas)} areas, {notes} notes, {seen.presence_trend.current} adult-hours")
    for line in seen.summary[:4]:
        print(f"  {line}")
    print(f"target: aggregation < 10 s: {'met' if aggregate_s < 10 else 'NOT met'}")


if __name__ == "__main__":
    if "--inside" in sys.argv:
        run_inside()
    else:
        if "--keep" in sys.argv:
            os.environ["BENCH_DATABASE_NAME"] = DB
            from bench import server

            env = server.bench_env()
        else:
            env = prepare()
        subprocess.run([sys.executable, __file__, "--inside"], check=True, env=env, cwd=ROOT)
