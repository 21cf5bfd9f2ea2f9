"""`manage.py seed_demo`: the demo municipality Lysekil, its people, places and a week of activities.

Idempotent: everything is looked up by its natural key first, so a second run writes nothing.
Rows that already exist are left as they are (an admin may have edited them since).
"""

import base64
import json
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

import maps
from coordination import access, services
from coordination.models import CitizenReport, Membership, Organization, Team
from maps.models import Activity, Area, Place

DEFAULT_PASSWORD = "narvaro-demo"
# The demo's duty, partner and admin accounts sign in with a second factor; this documented secret
# (README) lets a newcomer add it to an authenticator app, or print the code: `manage.py demo_code`.
# A demo secret, public on purpose: never seed_demo a real deployment.
DEMO_TOTP_SECRET = "NARVARODEMOKODEN"
# Lysekil's evenings are Swedish evenings, whatever zone the server runs in.
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# The municipality's outline: feature 1484 of a public GeoJSON of Swedish municipalities (Valmyndigheten's
# borders, simplified with mapshaper), copied into the repository so a clone needs nothing else.
MUNICIPALITY_FILE = Path(maps.__file__).resolve().parent / "data" / "lysekil.geojson"

# The people, places and weekly activities of the demo, as data (lon, lat everywhere).
DEMO = json.loads((Path(__file__).resolve().parents[2] / "data" / "lysekil_demo.json").read_text(encoding="utf-8"))
# Citizen reports in each state: received, being handled, answered and published, closed, rejected.
DEMO_REPORTS = [
    {
        "category": "lighting",
        "when": "evenings",
        "lat": 58.2712,
        "lon": 11.4369,
        "steps": [],
        "text": "Gatlampan vid gångvägen ner mot Södra hamnen är trasig, helt mörkt efter sex.",
    },
    {
        "category": "wish",
        "when": "weekends",
        "lat": 58.2763,
        "lon": 11.4391,
        "steps": [],
        "text": "Önskar att fritidsgården hade öppet på söndagar också.",
    },
    {
        "category": "gathering",
        "when": "evenings",
        "lat": 58.2776,
        "lon": 11.4368,
        "by": "dialogue",
        "steps": ["take"],
        "text": "Många unga samlas vid busstationen sent på fredagar, det är stökigt.",
    },
    {
        "category": "vegetation",
        "when": "always",
        "lat": 58.2829,
        "lon": 11.4398,
        "steps": ["take", "publish:area", "answer:Buskarna vid sporthallen klipps ner vecka 12.", "hotspot"],
        "text": "Höga buskar vid sporthallens parkering gör att man inte ser någon.",
    },
    {
        "category": "good_place",
        "when": "evenings",
        "lat": 58.2787,
        "lon": 11.4452,
        "steps": ["take", "publish:point", "answer:Tack! Vi fortsätter med kvällsöppet på skolgården."],
        "text": "Skolgården vid Mariedal är en bra plats, belysningen gör att det känns tryggt.",
    },
    {
        "category": "litter",
        "when": "weekends",
        "lat": 58.2716,
        "lon": 11.4380,
        "steps": ["take", "publish:area", "answer:Papperskorgarna töms nu även på lördagar.", "close"],
        "text": "Mycket skräp och krossat glas vid bryggan efter helgerna.",
    },
    {
        "category": "other",
        "when": "now",
        "lat": 58.2760,
        "lon": 11.4340,
        "by": "dialogue",
        "steps": ["take", "reject:Rapporten handlar om en enskild person, inte om en plats."],
        "text": "Grannen spelar hög musik.",
    },
]
MUNICIPALITY = DEMO["municipality"]
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


def first_occurrence(*, today: date, weekday: int | None, starts: str, ends: str) -> tuple[datetime, datetime]:
    """The first window on or after `today` on `weekday` (today if None), "HH:MM" in Stockholm time.

    An end earlier than the start is after midnight.
    """
    starts, ends = time.fromisoformat(starts), time.fromisoformat(ends)
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
            self.seed_second_factors(users)
            self.seed_activities(organizations, places, admin=users["admin"])
            self.seed_reports(duty=users["jour"], dialogue=users["dialog"])

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
        for name, kind in DEMO["organizations"]:
            organizations[name], created = Organization.objects.get_or_create(name=name, defaults={"kind": kind})
            self.count("organisations", created)
        return organizations

    def seed_areas(self) -> None:
        name, outline = municipality_outline()
        areas = [(name, Area.Kind.MUNICIPALITY, 0, outline)]
        areas += [(n, Area.Kind.DISTRICT, 0, ring_to_multipolygon(ring)) for n, ring in DEMO["districts"].items()]
        hotspots = DEMO["hotspots"].items()
        areas += [(n, Area.Kind.HOTSPOT, h["priority"], ring_to_multipolygon(h["ring"])) for n, h in hotspots]
        for name, kind, priority, polygon in areas:
            _, created = Area.objects.get_or_create(
                name=name, kind=kind, defaults={"priority": priority, "polygon": polygon}
            )
            self.count("areas", created)

    def seed_places(self, organizations: dict[str, Organization]) -> dict[str, Place]:
        places = {}
        for name, place in DEMO["places"].items():
            places[name], created = Place.objects.get_or_create(
                name=name,
                defaults={
                    "kind": place["kind"],
                    "point": Point(place["lon"], place["lat"], srid=4326),
                    "owner": organizations[place["owner"]] if place["owner"] else None,
                    "address": place["address"],
                },
            )
            self.count("places", created)
        return places

    def seed_users(self, organizations: dict[str, Organization], *, password: str, reset_password: bool) -> dict:
        User = get_user_model()
        users = {}
        for demo in DEMO["users"]:
            superuser = demo["superuser"]
            user, created = User.objects.get_or_create(
                username=demo["username"],
                defaults={"first_name": demo["first_name"], "is_staff": superuser, "is_superuser": superuser},
            )
            # Only a deliberate DEMO_PASSWORD overrides a password someone may have changed since.
            if created or (reset_password and not user.check_password(password)):
                user.set_password(password)
                user.save(update_fields=["password"])
            self.count("users", created)
            if demo["role"] is not None:
                _, created = Membership.objects.get_or_create(
                    user=user, organization=organizations[demo["organization"]], role=demo["role"]
                )
                self.count("memberships", created)
            users[demo["username"]] = user
        return users

    def seed_second_factors(self, users: dict) -> None:
        """An authenticator with DEMO_TOTP_SECRET for each demo account that must use a second factor."""
        key = base64.b32decode(DEMO_TOTP_SECRET).hex()
        for user in users.values():
            if not access.must_use_second_factor(access.viewer_for(user), is_staff=user.is_staff):
                continue
            _, created = TOTPDevice.objects.get_or_create(
                user=user, confirmed=True, defaults={"name": "Demo", "key": key}
            )
            self.count("authenticators", created)

    def seed_teams(self, organizations: dict[str, Organization], users: dict) -> None:
        for demo in DEMO["teams"]:
            team, created = Team.objects.get_or_create(
                name=demo["name"], defaults={"organization": organizations[MUNICIPALITY], "short": demo["short"]}
            )
            self.count("teams", created)
            members = demo["members"]
            missing = [users[m] for m in members if not team.members.filter(pk=users[m].pk).exists()]
            if missing:
                team.members.add(*missing)
                self.created["team memberships"] = self.created.get("team memberships", 0) + len(missing)

    def seed_activities(self, organizations: dict[str, Organization], places: dict[str, Place], *, admin) -> None:
        """Announce the demo activities through the service, so each has its Event like any other."""
        today = timezone.localdate(timezone.now(), STOCKHOLM)
        for demo in DEMO["activities"]:
            organization = organizations[demo["organization"]]
            if Activity.objects.filter(organization=organization, title=demo["title"]).exists():
                continue
            when = {name: demo[name] for name in ("weekday", "starts", "ends")}
            starts_at, ends_at = first_occurrence(today=today, **when)
            if demo["place"] is not None:
                location: dict = {"place": places[demo["place"]].pk}
            else:
                lon, lat = demo["point"]
                location = {"lat": lat, "lon": lon}
            event = services.activity_create(
                user=admin,
                organization_id=organization.pk,
                starts_at=starts_at,
                ends_at=ends_at,
                weekly=True,
                repeat_until=starts_at.date() + timedelta(weeks=WEEKS_AHEAD),
                **{name: demo[name] for name in ("title", "description", "visibility", "age_group", "contact")},
                **location,
            )
            if demo["open_tonight"]:
                services.activity_open(user=admin, activity_id=event.data["id"])
            self.count("activities", True)

    def seed_reports(self, *, duty, dialogue) -> None:
        """Citizen reports in each state, through the dialogue services (events and all); once."""
        for demo in DEMO_REPORTS:
            if CitizenReport.objects.filter(text=demo["text"]).exists():
                continue
            report, _token = services.report_submit(
                category=demo["category"], when=demo["when"], text=demo["text"], lat=demo["lat"], lon=demo["lon"]
            )
            self.count("citizen reports", True)
            who = dialogue if demo.get("by") == "dialogue" else duty
            for step in demo["steps"]:
                action, _, argument = step.partition(":")
                match action:
                    case "take":
                        services.report_take(user=who, report_id=report.pk)
                    case "publish":
                        services.report_publish(user=who, report_id=report.pk, level=argument or "area")
                    case "answer":
                        services.report_answer(user=who, report_id=report.pk, answer=argument)
                    case "reject":
                        services.report_reject(user=who, report_id=report.pk, reason=argument)
                    case "close":
                        services.report_close(user=who, report_id=report.pk)
                    case "hotspot":
                        services.report_mark_hotspot(user=who, report_id=report.pk)

    def print_logins(self, *, password: str, reset_password: bool) -> None:
        rows = [("username", "role", "organisation / team", "password")]
        teams = {member: team["name"] for team in DEMO["teams"] for member in team["members"]}
        for demo in DEMO["users"]:
            role = "superuser" if demo["superuser"] else demo["role"]
            where = demo["organization"] or "-"
            if demo["username"] in teams:
                where = f"{where} / {teams[demo['username']]}"
            rows.append((demo["username"], role, where, password))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write("")
        for index, row in enumerate(rows):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        if not reset_password:
            self.stdout.write("(The password applies to users this command created; set DEMO_PASSWORD to reset it.)")
        self.stdout.write(
            f"jour, polis and admin also give a code: add the key {DEMO_TOTP_SECRET} to an authenticator app "
            "(TOTP, 6 digits, 30 s), or print the current code with `python manage.py demo_code`."
        )
