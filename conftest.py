"""Shared test fixtures: one small municipality and its named people.

alice and bob walk in team Hamnen, charlie in team Centrum; dana is the duty officer; erik runs
an association's activities; frida is the police partner; gustav holds no role at all.
"""

import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon

from coordination.models import Membership, Organization, Role, Team
from maps.models import Area, Place

User = get_user_model()


def square(lon: float, lat: float, size: float = 0.01) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((lon, lat, lon + size, lat + size)), srid=4326)


class World:
    """The people and places every test can name."""

    def __init__(self):
        self.municipality = Organization.objects.create(name="Lysekils kommun", kind="municipality")
        self.club = Organization.objects.create(name="IFK Lysekil", kind="association")
        self.other_club = Organization.objects.create(name="Lysekils Segelsällskap", kind="association")
        self.police = Organization.objects.create(name="Polisen Lysekil", kind="police")
        self.harbour_team = Team.objects.create(name="Hamnen", organization=self.municipality, short="HA")
        self.centre_team = Team.objects.create(name="Centrum", organization=self.municipality, short="CE")
        self.alice = self.person("alice", Role.FIELD, self.municipality, team=self.harbour_team)
        self.bob = self.person("bob", Role.FIELD, self.municipality, team=self.harbour_team)
        self.charlie = self.person("charlie", Role.FIELD, self.municipality, team=self.centre_team)
        self.dana = self.person("dana", Role.DUTY, self.municipality)
        self.erik = self.person("erik", Role.ASSOCIATION, self.club)
        self.frida = self.person("frida", Role.PARTNER, self.police)
        self.gustav = User.objects.create_user("gustav", password="pw")
        self.district = Area.objects.create(name="Centrum", kind="district", polygon=square(11.43, 58.27, 0.02))
        self.hotspot = Area.objects.create(name="Hamnen", kind="hotspot", priority=5, polygon=square(11.44, 58.275))
        self.place = Place.objects.create(name="Fritidsgården", kind="youth_centre", point="POINT(11.435 58.275)")

    def person(self, username: str, role: str, organization: Organization, *, team: Team | None = None):
        user = User.objects.create_user(username, password="pw", first_name=username.title())
        Membership.objects.create(user=user, organization=organization, role=role)
        if team:
            team.members.add(user)
        return user


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The default hasher costs ~100 ms a user on purpose; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:
    return World()


# --- the test run's own channel layer ---------------------------------------------------------------

# What the deployment configured (CHANNEL_PREFIX, or the one derived from its database), kept for the
# test that proves the two never hear each other.
DEPLOYMENT_CHANNEL_PREFIX: str | None = None


def pytest_configure(config) -> None:
    """Tests publish under a prefix of their own, never the deployment's CHANNEL_PREFIX.

    Set here, before anything builds a channel layer, so a demo on the same Redis never sees a
    test's events (and a test never sees the demo's). The browser tests' Daphne and worker
    subprocesses are handed this same prefix (tests/browser/conftest.py). The pid keeps two runs
    of one checkout apart too.
    """
    global DEPLOYMENT_CHANNEL_PREFIX
    from channels.layers import channel_layers
    from django.conf import settings

    # Pages render and static files are served from static/ as it is, without a collectstatic first:
    # the hashed, compressed storage of a deployment is tested on its own (tests/test_static_files.py).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True

    layer = settings.CHANNEL_LAYERS["default"]
    DEPLOYMENT_CHANNEL_PREFIX = layer["CONFIG"]["prefix"]
    test_prefix = f"narvaro-test-{os.getpid()}"
    settings.CHANNEL_PREFIX = test_prefix
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "prefix": test_prefix}}}
    channel_layers.backends.clear()


@pytest.fixture
def deployment_channel_prefix() -> str:
    return DEPLOYMENT_CHANNEL_PREFIX
