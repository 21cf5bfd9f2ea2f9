"""Logs never carry a device token, a password or a second-factor code: not the log output, not the audit log."""

import json
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from rest_framework.test import APIClient

from coordination import services
from coordination.models import AuditLog
from coordination.tests.sockets import new_id
from coordination.tests.test_tracker import now_seconds, osmand_query

pytestmark = pytest.mark.django_db


def test_pairing_tracking_guessing_and_signing_in_leave_no_secret_in_any_log(client, world, caplog, settings):
    settings.AXES_FAILURE_LIMIT = 3
    caplog.set_level(logging.DEBUG)
    client.force_login(world.alice)
    page = client.post(reverse("devices"), {"app": "traccar", "name": "Telefonen"}).content.decode()
    link = re.search(r'href="(org\.traccar\.client://config\?[^"]+)"', page).group(1).replace("&amp;", "&")
    key = parse_qs(urlsplit(link).query)["id"][0]
    services.shift_start(user=world.alice, client_id=new_id())
    phone = APIClient(REMOTE_ADDR="203.0.113.70")
    assert phone.post("/track/osmand/?" + osmand_query(key)).status_code == 200
    guesses = [f"gissning-{i}-{'x' * 30}" for i in range(4)]
    for guess in guesses:
        phone.post("/track/osmand/?" + osmand_query(guess, timestamp=now_seconds()))
    client.logout()
    client.post("/konto/logga-in/", {"username": "alice", "password": "hemligt-fel-lösen"}, REMOTE_ADDR="203.0.113.71")

    secrets = [key, *guesses, "hemligt-fel-lösen"]
    output = "\n".join(record.getMessage() for record in caplog.records)
    stored = json.dumps(list(AuditLog.objects.values_list("detail", flat=True)))
    attempts = json.dumps(list(AccessAttempt.objects.values_list("get_data", "post_data")))
    for secret in secrets:
        assert secret not in output
        assert secret not in stored
        assert secret not in attempts
    assert any("AXES" in record.getMessage() for record in caplog.records)  # the logs were captured at all
