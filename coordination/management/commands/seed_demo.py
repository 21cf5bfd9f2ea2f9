"""`manage.py seed_demo`: the demo municipality Lysekil, its people, places and a week of activities.

Idempotent: everything is looked up by its natural key first, so a second run writes nothing.
Rows that already exist are left as they are (an admin may have edited them since).
"""

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

import maps
from coordination import services
from coordination.models import Membership, Organization, Role, Team
from maps.models import Activity, Area, Place

DEFAULT_PASSWORD = "narvaro-demo"
# Lysekil's evenings are Swedish evenings, whatever zone the server runs in.
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# The municipality's outline: feature 1484 of a public GeoJSON of Swedish municipalities (Valmyndigheten's
# borders, simplified with mapshaper), copied into the repository so a clone needs nothing else.
MUNICIPALITY_FILE = Path(maps.__file__).resolve().parent / "data" / "lysekil.geojson"

MUNICIPALITY = "Lysekils kommun"
ORGANIZATIONS = [
    (MUNICIPALITY, Organization.Kind.MUNICIPALITY),
    ("IFK Lysekil", Organization.Kind.ASSOCIATION),
    ("Lysekils församling", Organization.Kind.ASSOCIATION),
    ("Nattvandrarna Lysekil", Organization.Kind.VOLUNTEER),
    ("Polisen", Organization.Kind.POLICE),
]

TEAMS = [("Fältteam 1", "F1", ["falt1", "falt2"]), ("Fältteam 2", "F2", ["falt3"])]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    role: str | None
    organization: str | None
    superuser: bool = False


USERS = [
    DemoUser("falt1", "Amira", Role.FIELD, MUNICIPALITY),
    DemoUser("falt2", "Jonas", Role.FIELD, MUNICIPALITY),
    DemoUser("falt3", "Sofia", Role.FIELD, MUNICIPALITY),
    DemoUser("jour", "Lena", Role.DUTY, MUNICIPALITY),
    DemoUser("forening", "Peter", Role.ASSOCIATION, "IFK Lysekil"),
    DemoUser("polis", "Karin", Role.PARTNER, "Polisen"),
    DemoUser("admin", "Admin", None, None, superuser=True),
]

# Hand-drawn rings (lon, lat) around Lysekil's centre; the first point is repeated to close each.
DISTRICTS = {
    "Centrum": [
        (11.4270, 58.2700),
        (11.4330, 58.2688),
        (11.4420, 58.2695),
        (11.4460, 58.2740),
        (11.4440, 58.2800),
        (11.4350, 58.2810),
        (11.4280, 58.2770),
        (11.4270, 58.2700),
    ],
    "Kronberget": [
        (11.4330, 58.2805),
        (11.4440, 58.2800),
        (11.4500, 58.2840),
        (11.4470, 58.2885),
        (11.4360, 58.2880),
        (11.4310, 58.2845),
        (11.4330, 58.2805),
    ],
}
# name: (priority, ring). Higher priority: EST wants adults there first.
HOTSPOTS = {
    "Södra hamnen": (
        5,
        [(11.4352, 58.2708), (11.4398, 58.2704), (11.4405, 58.2726), (11.4378, 58.2734), (11.4350, 58.2725)],
    ),
    "Busstationen": (4, [(11.4358, 58.2772), (11.4386, 58.2771), (11.4388, 58.2787), (11.4360, 58.2788)]),
    "Fritidsgården": (3, [(11.4383, 58.2752), (11.4408, 58.2753), (11.4409, 58.2767), (11.4384, 58.2768)]),
    "Kronbergets sporthall": (2, [(11.4386, 58.2822), (11.4414, 58.2822), (11.4415, 58.2838), (11.4387, 58.2839)]),
    "Mariedalsskolans skolgård": (
        1,
        [(11.4443, 58.2783), (11.4467, 58.2783), (11.4467, 58.2797), (11.4443, 58.2797)],
    ),
}

# name: (kind, lon, lat, owner, address)
PLACES = {
    "Fritidsgården": (Place.Kind.YOUTH_CENTRE, 11.4395, 58.2760, MUNICIPALITY, ""),
    "Kronbergets sporthall": (Place.Kind.SPORTS_HALL, 11.4400, 58.2830, MUNICIPALITY, ""),
    "Södra hamnen": (Place.Kind.HARBOUR, 11.4375, 58.2718, MUNICIPALITY, "Södra Hamngatan"),
    "Busstationen": (Place.Kind.BUS_STATION, 11.4371, 58.2779, None, ""),
    "Kronbergsskolans skolgård": (Place.Kind.SCHOOL_YARD, 11.4378, 58.2846, MUNICIPALITY, ""),
    "Mariedalsskolans skolgård": (Place.Kind.SCHOOL_YARD, 11.4455, 58.2790, MUNICIPALITY, ""),
    "Lysekils kyrka": (Place.Kind.CHURCH, 11.4340, 58.2758, "Lysekils församling", ""),
}


@dataclass(frozen=True)
class DemoActivity:
    organization: str
    title: str
    description: str
    weekday: int | None  # Monday is 0; None means today, so the public map has something tonight
    starts: time
    ends: time  # earlier than `starts` means after midnight
    place: str | None = None
    point: tuple[float, float] | None = None  # (lon, lat) when there is no place
    visibility: str = Activity.Visibility.PUBLIC
    age_group: str = ""
    contact: str = ""
    open_tonight: bool = False


ACTIVITIES = [
    DemoActivity(
        MUNICIPALITY,
        "Fritidsgården har öppet",
        "Häng, spela biljard och pingis eller bara prata med fritidsledarna.",
        None,
        time(18),
        time(22),
        place="Fritidsgården",
        age_group="13–17 år",
        contact="Fritidsledarna på Fritidsgården",
        open_tonight=True,
    ),
    DemoActivity(
        "IFK Lysekil",
        "Öppen hall fredagskväll",
        "Innebandy, basket och fotboll inomhus. Ingen anmälan, kom som du är.",
        4,
        time(19),
        time(22),
        place="Kronbergets sporthall",
        age_group="13–19 år",
        contact="IFK Lysekil, ungdomssektionen",
    ),
    DemoActivity(
        "IFK Lysekil",
        "Spontanfotboll",
        "Ledare från IFK finns på plats; bollar finns att låna.",
        2,
        time(17, 30),
        time(19, 30),
        point=(11.4428, 58.2848),
        age_group="10–16 år",
        contact="IFK Lysekil",
    ),
    DemoActivity(
        "Lysekils församling",
        "Kyrkcafé för unga",
        "Fika, spel och samtal i församlingshemmet bredvid kyrkan.",
        3,
        time(18),
        time(21),
        place="Lysekils kyrka",
        age_group="13–18 år",
        contact="Lysekils församling",
    ),
    DemoActivity(
        "Nattvandrarna Lysekil",
        "Nattvandring, samling",
        "Samling vid busstationen; västar och telefon delas ut.",
        4,
        time(21, 30),
        time(0, 30),
        place="Busstationen",
        visibility=Activity.Visibility.INTERNAL,
        contact="Nattvandrarna Lysekil",
    ),
]
WEEKS_AHEAD = 26


def ring_to_multipolygon(ring: list[tuple[float, float]]) -> MultiPolygon:
    """A one-part MultiPolygon in 4326 from a (lon, lat) ring, closed if it is not."""
    points = ring if ring[0] == ring[-1] else [*ring, ring[0]]
    return MultiPolygon(Polygon(points), srid=4326)


def municipality_outline() -> tuple[str, MultiPolygon]:
    """Name and polygon of the municipality in maps/data/lysekil.geojson."""
    feature = json.loads(MUNICIPALITY_FILE.read_text(encoding="utf-8"))["features"][0]
    geom = GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)
    polygon = geom if isinstance(geom, MultiPolygon) else MultiPolygon(geom, srid=4326)
    return feature["properties"]["kom_namn"], polygon


def first_occurrence(*, today: date, weekday: int | None, starts: time, ends: time) -> tuple[datetime, datetime]:
    """The first window on or after `today` on `weekday` (today if None), in Stockholm time."""
    day = today if weekday is None else today + timedelta(days=(weekday - today.weekday()) % 7)
    start = datetime.combine(day, starts, tzinfo=STOCKHOLM)
    end_day = day + timedelta(days=1) if ends <= starts else day
    return start, datetime.combine(end_day, ends, tzinfo=STOCKHOLM)


class Command(BaseCommand):
    help = "Load the demo municipality Lysekil: areas, places, organisations, teams, users, activities."

    def handle(self, *args, **options) -> None:
        env_password = os.environ.get("DEMO_PASSWORD") or None
        password = env_password or DEFAULT_PASSWORD
        self.created: dict[str, int] = {}
        # One transaction: a failure halfway leaves no half demo, and activity events publish at the end.
        with transaction.atomic():
            organizations = self.seed_organizations()
            self.seed_areas()
            places = self.seed_places(organizations)
            users = self.seed_users(organizations, password=password, reset_password=env_password is not None)
            self.seed_teams(organizations, users)
            self.seed_activities(organizations, places, admin=users["admin"])

        if self.created:
            summary = ", ".join(f"{count} {what}" for what, count in self.created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data for Lysekil: created {summary}."))
        else:
            self.stdout.write("Demo data for Lysekil is already in place; nothing changed.")
        self.print_logins(password=password, reset_password=env_password is not None)

    def count(self, what: str, created: bool) -> None:
        """Tally a created row for the summary line."""
        if created:
            self.created[what] = self.created.get(what, 0) + 1

    def seed_organizations(self) -> dict[str, Organization]:
        organizations = {}
        for name, kind in ORGANIZATIONS:
            organizations[name], created = Organization.objects.get_or_create(name=name, defaults={"kind": kind})
            self.count("organisations", created)
        return organizations

    def seed_areas(self) -> None:
        name, outline = municipality_outline()
        areas = [(name, Area.Kind.MUNICIPALITY, 0, outline)]
        areas += [(n, Area.Kind.DISTRICT, 0, ring_to_multipolygon(ring)) for n, ring in DISTRICTS.items()]
        areas += [(n, Area.Kind.HOTSPOT, p, ring_to_multipolygon(ring)) for n, (p, ring) in HOTSPOTS.items()]
        for name, kind, priority, polygon in areas:
            _, created = Area.objects.get_or_create(
                name=name, kind=kind, defaults={"priority": priority, "polygon": polygon}
            )
            self.count("areas", created)

    def seed_places(self, organizations: dict[str, Organization]) -> dict[str, Place]:
        places = {}
        for name, (kind, lon, lat, owner, address) in PLACES.items():
            places[name], created = Place.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "point": Point(lon, lat, srid=4326),
                    "owner": organizations[owner] if owner else None,
                    "address": address,
                },
            )
            self.count("places", created)
        return places

    def seed_users(self, organizations: dict[str, Organization], *, password: str, reset_password: bool) -> dict:
        User = get_user_model()
        users = {}
        for demo in USERS:
            user, created = User.objects.get_or_create(
                username=demo.username,
                defaults={"first_name": demo.first_name, "is_staff": demo.superuser, "is_superuser": demo.superuser},
            )
            # Only a deliberate DEMO_PASSWORD overrides a password someone may have changed since.
            if created or (reset_password and not user.check_password(password)):
                user.set_password(password)
                user.save(update_fields=["password"])
            self.count("users", created)
            if demo.role is not None:
                _, created = Membership.objects.get_or_create(
                    user=user, organization=organizations[demo.organization], role=demo.role
                )
                self.count("memberships", created)
            users[demo.username] = user
        return users

    def seed_teams(self, organizations: dict[str, Organization], users: dict) -> None:
        for name, short, members in TEAMS:
            team, created = Team.objects.get_or_create(
                name=name, defaults={"organization": organizations[MUNICIPALITY], "short": short}
            )
            self.count("teams", created)
            missing = [users[m] for m in members if not team.members.filter(pk=users[m].pk).exists()]
            if missing:
                team.members.add(*missing)
                self.created["team memberships"] = self.created.get("team memberships", 0) + len(missing)

    def seed_activities(self, organizations: dict[str, Organization], places: dict[str, Place], *, admin) -> None:
        """Announce the demo activities through the service, so each has its Event like any other."""
        today = timezone.localdate(timezone.now(), STOCKHOLM)
        for demo in ACTIVITIES:
            organization = organizations[demo.organization]
            if Activity.objects.filter(organization=organization, title=demo.title).exists():
                continue
            starts_at, ends_at = first_occurrence(today=today, weekday=demo.weekday, starts=demo.starts, ends=demo.ends)
            if demo.place is not None:
                location: dict = {"place": places[demo.place].pk}
            else:
                lon, lat = demo.point or (None, None)
                location = {"lat": lat, "lon": lon}
            event = services.activity_create(
                user=admin,
                organization_id=organization.pk,
                title=demo.title,
                description=demo.description,
                starts_at=starts_at,
                ends_at=ends_at,
                weekly=True,
                repeat_until=starts_at.date() + timedelta(weeks=WEEKS_AHEAD),
                visibility=demo.visibility,
                age_group=demo.age_group,
                contact=demo.contact,
                **location,
            )
            if demo.open_tonight:
                services.activity_open(user=admin, activity_id=event.data["id"])
            self.count("activities", True)

    def print_logins(self, *, password: str, reset_password: bool) -> None:
        rows = [("username", "role", "organisation / team", "password")]
        teams = {member: name for name, _, members in TEAMS for member in members}
        for demo in USERS:
            role = "superuser" if demo.superuser else str(demo.role)
            where = demo.organization or "-"
            if demo.username in teams:
                where = f"{where} / {teams[demo.username]}"
            rows.append((demo.username, role, where, password))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write("")
        for index, row in enumerate(rows):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        if not reset_password:
            self.stdout.write("(The password applies to users this command created; set DEMO_PASSWORD to reset it.)")
