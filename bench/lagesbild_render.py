"""How long the lägesbild page and its PDF take to render for a realistic picture (issue 13, item 8).

    TEST_DATABASE_NAME=test_lagesbild_bench python bench/lagesbild_render.py [--rounds 5]

Works in a scratch test database (created once, kept), never the deployment's: 12 areas around Lysekil,
2,000 notes with points in the week, one duty officer. The picture itself is the hand-built one of the
rendering tests, widened to 12 areas, so this measures drawing and rendering, not the selector (the
aggregate bench measures that). Each round starts with the figure memory emptied: every figure is drawn.
Prints the median and worst of each step, wall clock and this process's CPU time (the measure on a shared
machine: one request uses one core); the targets are a page under 1 s and a PDF under 5 s.
"""

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_lagesbild_bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.geos import MultiPolygon, Point, Polygon  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

PAGE_TARGET_S = 1.0
PDF_TARGET_S = 5.0
AREAS = 12
NOTES = 2000


def world():
    """Areas, notes and a duty officer in the scratch database; returns (duty user, area tuples, week)."""
    from coordination.lagesbild import Level
    from coordination.models import Membership, Organization, Role, SituationNote
    from maps.models import Area

    SituationNote.objects.all().delete()
    Area.objects.all().delete()
    random.seed(13)
    areas = []
    for index in range(AREAS):
        lon, lat = 11.40 + (index % 4) * 0.018, 58.26 + (index // 4) * 0.012
        ring = [(lon, lat), (lon + 0.015, lat + 0.001), (lon + 0.016, lat + 0.010), (lon + 0.002, lat + 0.011)]
        polygon = MultiPolygon(Polygon([*ring, ring[0]]), srid=4326)
        kind = "hotspot" if index % 3 == 0 else "district"
        area = Area.objects.create(name=f"Område {index + 1}", kind=kind, priority=index % 5, polygon=polygon)
        areas.append((area.pk, area.name, area.kind, lon, lat))
    User = get_user_model()
    duty = User.objects.filter(username="bench-duty").first() or User.objects.create_user("bench-duty")
    municipality, _ = Organization.objects.get_or_create(name="Benchkommun", kind="municipality")
    Membership.objects.get_or_create(user=duty, organization=municipality, role=Role.DUTY)
    zone = timezone.get_current_timezone()
    monday = datetime(2026, 11, 16, tzinfo=zone)
    SituationNote.objects.bulk_create(
        SituationNote(
            author=duty,
            category=random.choice(["gathering", "conflict", "alcohol", "vandalism", "vehicle", "positive"]),
            area_id=area[0],
            point=Point(area[3] + random.random() * 0.015, area[4] + random.random() * 0.01, srid=4326),
            created_at=monday + timedelta(days=random.randrange(7), hours=17 + random.randrange(7)),
        )
        for area in (random.choice(areas) for _ in range(NOTES))
    )
    return duty, areas, Level


def stand_in(areas, Level):
    """A selector with the rendering tests' picture, widened to every bench area."""
    from coordination.tests.lagesbild_fixture import StandInSelector, picture_fixture

    class Bench(StandInSelector):
        def picture(self, *, period, area_id=None):
            base = picture_fixture(period=period, areas=[(pk, name, kind) for pk, name, kind, *_ in areas[:3]])
            rows = list(base.areas)
            levels = list(Level)
            for index, (pk, name, kind, *_corner) in enumerate(areas[3:]):
                rows.append(replace(base.areas[index % 3], area_id=pk, name=name, kind=kind, level=levels[index % 4]))
            # The week's 2,000 notes spread over seven evenings 17-24, and adults out 17-23: every evening
            # cell of both heatmaps has a figure to print, as in a busy real week.
            rng = random.Random(47)
            notes = [[0] * 24 for _ in range(7)]
            presence = [[0.0] * 24 for _ in range(7)]
            for day in range(7):
                for hour in range(17, 24):
                    notes[day][hour] = rng.randint(15, 70)
                    presence[day][hour] = round(rng.uniform(2, 14), 1) if hour < 23 else 0.0
            return replace(base, areas=rows, notes_matrix=notes, presence_matrix=presence)

    return Bench([(pk, name, kind) for pk, name, kind, *_ in areas])


def timed(client: Client, url: str) -> tuple[float, float, int]:
    """Wall seconds, this process's CPU seconds (the server's work: the client is in-process), bytes."""
    from coordination import lagesbild_views

    lagesbild_views._FIGURES.clear()
    start, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, cpu, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True)
    from coordination import lagesbild_views

    duty, areas, Level = world()
    selector = stand_in(areas, Level)
    lagesbild_views._selector = lambda: selector
    client = Client()
    client.force_login(duty)
    week = "/lagesbild/2026/v47/"
    timed(client, week)  # warm: imports, fonts, template loading, WeasyPrint's first load
    timed(client, week + "?format=pdf")
    results = {}
    for name, url in (("page", week), ("pdf", week + "?format=pdf"), ("csv", week + "?format=csv")):
        runs = [timed(client, url) for _ in range(args.rounds)]
        results[name] = ([run[0] for run in runs], [run[1] for run in runs], runs[-1][2])
    load = os.getloadavg()[0]
    print(f"lägesbild render, {AREAS} areas, {NOTES} note points, {args.rounds} rounds, figures drawn every round")
    print(f"  (load average {load:.1f} on {os.cpu_count()} cores: wall time grows with it, CPU time does not)")
    for name, (wall, cpu, size) in results.items():
        target = {"page": PAGE_TARGET_S, "pdf": PDF_TARGET_S}.get(name)
        verdict = "" if target is None else (" ok" if statistics.median(cpu) < target else f" OVER {target:.0f} s")
        print(
            f"  {name:5s} wall median {statistics.median(wall):6.3f} s worst {max(wall):6.3f} s"
            f"  cpu median {statistics.median(cpu):6.3f} s worst {max(cpu):6.3f} s  {size / 1024:7.1f} KiB{verdict}"
        )


if __name__ == "__main__":
    main()
