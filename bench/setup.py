"""Bench population: field devices in teams of four on active shifts, duty viewers, device tokens.

Run by bench/run.py with DATABASE_URL pointing at the bench database (never the dev or test one).
Writes the clear token keys to bench/results/population.json (git-ignored); a later run reuses
what is there and only adds the missing devices or viewers.

    python bench/setup.py DEVICES VIEWERS
    python bench/setup.py --active DEVICES   # before each run: only the run's teams are on shift

Only the teams of the devices a run connects are on shift during it (the others' shifts are
ended through `shift_end`, missing ones started through `shift_start`): the field tick carries
every team on shift, so idle teams from a larger earlier run would inflate it.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from coordination.models import Membership, Organization, Role, Shift, Team  # noqa: E402
from coordination.services import device_token_issue, shift_end, shift_start  # noqa: E402

User = get_user_model()
TEAM_SIZE = 4
POPULATION = ROOT / "bench" / "results" / "population.json"


def load() -> dict:
    database = settings.DATABASES["default"]["NAME"]
    if POPULATION.exists():
        population = json.loads(POPULATION.read_text())
        if population.get("database") == database:
            return population
    return {"database": database, "devices": [], "viewers": []}


def still_valid(population: dict) -> bool:
    """The stored users still exist (shifts are set per run by `activate`)."""
    users = [d["user"] for d in population["devices"]] + [v["user"] for v in population["viewers"]]
    users += [p["user"] for p in population.get("partners", [])]
    return User.objects.filter(pk__in=users).count() == len(users)


def activate(population: dict, devices: int) -> None:
    """Exactly the teams of the first `devices` devices on shift; every other team's shift ended."""
    wanted = {d["team"]: d["user"] for d in reversed(population["devices"][:devices])}
    users = {d["team"]: d["user"] for d in population["devices"]}
    started = ended = 0
    for shift in Shift.objects.filter(ended_at__isnull=True, team__name__startswith="Bench "):
        if shift.team_id not in wanted:
            shift_end(user=User.objects.get(pk=users.get(shift.team_id) or shift.started_by_id), shift_id=shift.pk)
            ended += 1
    active = set(Shift.objects.filter(ended_at__isnull=True).values_list("team_id", flat=True))
    for team, user in wanted.items():
        if team not in active:
            shift_start(user=User.objects.get(pk=user), team_id=team)
            started += 1
    print(f"bench shifts: {len(wanted)} teams on shift ({started} started, {ended} ended)")


def add_devices(population: dict, wanted: int, organization: Organization) -> None:
    have = len(population["devices"])
    if have >= wanted:
        return
    # Whole teams only: extend to a multiple of TEAM_SIZE.
    first_team = have // TEAM_SIZE
    last_team = (wanted + TEAM_SIZE - 1) // TEAM_SIZE
    for t in range(first_team, last_team):
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(
                name=f"Bench {t:05d}", defaults={"organization": organization, "short": "B"}
            )
            members = []
            for k in range(TEAM_SIZE):
                user, created = User.objects.get_or_create(username=f"bench_f{t:05d}_{k}")
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                Membership.objects.get_or_create(user=user, organization=organization, role=Role.FIELD)
                team.members.add(user)
                members.append(user)
        if not Shift.objects.filter(team=team, ended_at__isnull=True).exists():
            shift_start(user=members[0], team_id=team.pk)
        for user in members:
            _, key = device_token_issue(user=user, name="bench")
            population["devices"].append({"user": user.pk, "team": team.pk, "token": key})


def add_viewers(population: dict, wanted: int, organization: Organization) -> None:
    for j in range(len(population["viewers"]), wanted):
        user, created = User.objects.get_or_create(username=f"bench_d{j:04d}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, organization=organization, role=Role.DUTY)
        _, key = device_token_issue(user=user, name="bench")
        population["viewers"].append({"user": user.pk, "token": key})


def add_partners(population: dict, wanted: int) -> None:
    """Police partners (read-only duty map, /ws/ops/) for the big-city scenario's viewers."""
    population.setdefault("partners", [])
    police, _ = Organization.objects.get_or_create(name="Bench polis", defaults={"kind": "police"})
    for j in range(len(population["partners"]), wanted):
        user, created = User.objects.get_or_create(username=f"bench_p{j:04d}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, organization=police, role=Role.PARTNER)
        _, key = device_token_issue(user=user, name="bench")
        population["partners"].append({"user": user.pk, "token": key})


def main() -> None:
    if sys.argv[1] == "--active":
        activate(load(), int(sys.argv[2]))
        return
    devices, viewers = int(sys.argv[1]), int(sys.argv[2])
    partners = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    population = load()
    if population["devices"] and not still_valid(population):
        sys.exit("bench population in the database no longer matches population.json; drop narvaro_bench")
    organization, _ = Organization.objects.get_or_create(name="Bench kommun", defaults={"kind": "municipality"})
    add_devices(population, devices, organization)
    add_viewers(population, viewers, organization)
    add_partners(population, partners)
    POPULATION.parent.mkdir(parents=True, exist_ok=True)
    POPULATION.write_text(json.dumps(population))
    print(f"bench population: {len(population['devices'])} devices, {len(population['viewers'])} viewers")


if __name__ == "__main__":
    main()
