"""Pairing a phone tracker in one scan: the QR payloads are what the apps read, the token works and revokes."""

import base64
import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coordination import pairing, services
from coordination.models import AuditLog, DeviceToken, PositionReport
from coordination.tests.sockets import new_id
from coordination.tests.test_tracker import now_seconds, osmand_query

pytestmark = pytest.mark.django_db

# The parameter names Traccar Client's ConfigurationService.applyUri reads (lib/configuration_service.dart
# with the names of lib/preferences.dart), and the keys of an OwnTracks configuration message
# (booklet, tech/json.md, _type=configuration) that we set.
TRACCAR_PUBLISHED = {
    "url", "id", "accuracy", "distance", "interval", "angle", "heartbeat", "fastest_interval",
    "buffer", "wakelock", "stop_detection", "service", "startTime", "stopTime",
}  # fmt: skip
OWNTRACKS_PUBLISHED = {
    "_type", "allowRemoteLocation", "auth", "autostartOnBoot", "cmd", "deviceId", "extendedData",
    "ignoreInaccurateLocations", "locatorDisplacement", "locatorInterval", "locatorPriority", "mode",
    "monitoring", "password", "ping", "remoteConfiguration", "tid", "url", "username",
}  # fmt: skip


def pair(client, user, app: str, name: str = "Jobbtelefonen"):
    client.force_login(user)
    return client.post(reverse("devices"), {"app": app, "name": name})


def link_on(response) -> str:
    """The app link the pairing page offers (the one button whose href is an app scheme)."""
    html = response.content.decode()
    links = re.findall(r'href="((?:org\.traccar\.client|owntracks):[^"]+)"', html)
    assert len(links) == 1, links
    return links[0].replace("&amp;", "&")


def decode_qr_svg(svg: str) -> None:
    """The page's QR code is an inline SVG drawn by segno: no script in it."""
    assert svg.startswith("<svg") and "<script" not in svg


def test_alice_pairs_traccar_client_and_the_link_carries_exactly_what_the_app_reads(client, world):
    response = pair(client, world.alice, "traccar")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    link = urlsplit(link_on(response))
    assert (link.scheme, link.netloc) == ("org.traccar.client", "config")
    query = {k: v[0] for k, v in parse_qs(link.query, strict_parsing=True).items()}
    assert set(query) <= TRACCAR_PUBLISHED
    assert query["url"] == "http://testserver/track/osmand/"
    assert query["accuracy"] == "high" and query["buffer"] == "true"
    assert (int(query["interval"]), int(query["distance"])) == (30, 25)
    token = DeviceToken.objects.get(user=world.alice)
    assert (token.name, token.app) == ("Jobbtelefonen", "traccar")
    assert token.key_hash == DeviceToken.hash(query["id"])  # the key in the link is the new token's
    assert "service" not in query  # pairing does not start tracking before the shift


def test_alice_pairs_owntracks_and_the_inline_configuration_is_http_mode_with_her_token(client, world):
    response = pair(client, world.alice, "owntracks", name="")
    link = urlsplit(link_on(response))
    assert (link.scheme, link.netloc, link.path) == ("owntracks", "", "/config")
    (inline,) = parse_qs(link.query)["inline"]
    configuration = json.loads(base64.b64decode(unquote(inline), validate=True))
    assert set(configuration) <= OWNTRACKS_PUBLISHED
    token = DeviceToken.objects.get(user=world.alice)
    assert configuration == {
        "_type": "configuration",
        "mode": 3,
        "url": "http://testserver/track/owntracks/",
        "auth": True,
        "username": "alice",
        "password": configuration["password"],
        "deviceId": "narvaro",
        "tid": "HA",  # team Hamnen's short
        "monitoring": -1,
        "locatorInterval": 30,
        "locatorDisplacement": 25,
        "locatorPriority": 3,
        "extendedData": False,
        "cmd": False,
        "allowRemoteLocation": False,
        "remoteConfiguration": False,
    }
    assert token.key_hash == DeviceToken.hash(configuration["password"])
    assert token.name == "OwnTracks"  # no name given: the app's


def test_the_qr_code_is_server_made_svg_of_the_same_link(world):
    link = pairing.traccar_config_url(server_url="https://n.example/track/osmand/", key="k" * 43)
    svg = pairing.qr_svg(link)
    decode_qr_svg(svg)
    assert svg.count("<path") >= 1


def test_the_start_and_stop_links_are_the_apps_own(world):
    assert pairing.traccar_action_url("start") == "org.traccar.client://action/start"
    assert pairing.traccar_action_url("stop") == "org.traccar.client://action/stop"
    start = urlsplit(pairing.owntracks_monitoring_url(pairing.OWNTRACKS_MOVE))
    inline = json.loads(base64.b64decode(unquote(parse_qs(start.query)["inline"][0])))
    assert inline == {"_type": "configuration", "monitoring": 2}


def test_the_field_page_offers_start_and_stop_for_each_paired_app(client, world):
    pair(client, world.alice, "traccar")
    page = client.get(reverse("field")).content.decode()
    assert "org.traccar.client://action/start" in page and "org.traccar.client://action/stop" in page
    assert "owntracks:///config" not in page  # she paired no OwnTracks
    assert reverse("devices") in page


def test_a_paired_token_posts_a_position_on_shift_and_stops_once_revoked(client, world):
    response = pair(client, world.alice, "traccar")
    key = parse_qs(urlsplit(link_on(response)).query)["id"][0]
    services.shift_start(user=world.alice, client_id=new_id())
    tracker = APIClient()
    assert tracker.post("/track/osmand/?" + osmand_query(key)).status_code == 200
    assert PositionReport.objects.filter(user=world.alice).count() == 1
    token = DeviceToken.objects.get(user=world.alice)
    token.refresh_from_db()
    assert token.last_position_at is not None
    listing = client.get(reverse("devices")).content.decode()
    assert "Senaste position" in listing

    revoke = client.post(reverse("device_revoke", args=[token.pk]))
    assert revoke.status_code == 302
    refused = tracker.post("/track/osmand/?" + osmand_query(key, timestamp=now_seconds() + 1))
    assert refused.status_code == 401
    assert PositionReport.objects.filter(user=world.alice).count() == 1


def test_bob_cannot_revoke_alices_device_but_an_admin_can_pair_and_revoke_for_her(client, world):
    token, _key = services.device_token_issue(user=world.alice, name="Alices")
    client.force_login(world.bob)
    assert client.post(reverse("device_revoke", args=[token.pk])).status_code == 403
    assert client.get(reverse("person_devices", args=[world.alice.pk])).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None

    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="pw")
    client.force_login(root)
    page = client.post(reverse("person_devices", args=[world.alice.pk]), {"app": "owntracks", "name": "Reserv"})
    assert page.status_code == 200 and "owntracks:///config?inline=" in page.content.decode()
    assert DeviceToken.objects.filter(user=world.alice, name="Reserv").exists()
    assert client.post(reverse("device_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_only_field_staff_pair_a_tracker(client, world):
    response = pair(client, world.dana, "traccar")
    assert response.status_code == 403
    assert not DeviceToken.objects.filter(user=world.dana).exists()


def test_pairing_and_revoking_are_audited_without_the_key(client, world):
    response = pair(client, world.alice, "traccar")
    key = parse_qs(urlsplit(link_on(response)).query)["id"][0]
    token = DeviceToken.objects.get(user=world.alice)
    client.post(reverse("device_revoke", args=[token.pk]))
    actions = list(AuditLog.objects.filter(user=world.alice).order_by("at").values_list("action", flat=True))
    assert actions == ["device.pair", "device.revoke"]
    for row in AuditLog.objects.all():
        assert key not in json.dumps(row.detail) and key[:8] not in json.dumps(row.detail)
