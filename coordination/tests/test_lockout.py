"""Guessing is throttled: sign-ins lock per account and per address, device tokens per address."""

import json

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from rest_framework.test import APIClient

from coordination import services
from coordination.models import AuditLog
from coordination.tests.sockets import new_id
from coordination.tests.test_tracker import osmand_query

pytestmark = pytest.mark.django_db

LOGIN = "/konto/logga-in/"


@pytest.fixture(autouse=True)
def limit(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.DEVICE_FAILURE_LIMIT = 5


def sign_in(client, username: str, password: str, *, ip: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_danas_account_and_then_even_the_right_one_is_refused(client, world):
    for _ in range(4):
        assert sign_in(client, "dana", "fel").status_code == 200  # the form again, with its error
    locked = sign_in(client, "dana", "fel")
    assert locked.status_code == 429
    assert "För många misslyckade inloggningar" in locked.content.decode()
    refused = sign_in(client, "dana", "pw")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_account_lock_holds_from_another_address_and_the_address_lock_for_another_account(client, world):
    for _ in range(5):
        sign_in(client, "dana", "fel", ip="203.0.113.7")
    assert sign_in(client, "dana", "pw", ip="198.51.100.9").status_code == 429  # per account
    assert sign_in(client, "alice", "pw", ip="203.0.113.7").status_code == 429  # per address
    ok = sign_in(client, "alice", "pw", ip="198.51.100.9")
    assert ok.status_code == 302


def test_an_admin_unlocks_by_deleting_the_attempts_and_dana_signs_in(client, world):
    for _ in range(5):
        sign_in(client, "dana", "fel")
    assert sign_in(client, "dana", "pw").status_code == 429
    AccessAttempt.objects.all().delete()  # what the axes admin's delete action does
    assert sign_in(client, "dana", "pw").status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, world, settings):
    from datetime import timedelta

    from django.utils import timezone

    for _ in range(5):
        sign_in(client, "dana", "fel")
    assert sign_in(client, "dana", "pw").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert sign_in(client, "dana", "pw").status_code == 302


def test_failures_and_the_lockout_are_audited_without_the_password(client, world):
    for _ in range(5):
        sign_in(client, "dana", "hemligt-fel")
    actions = list(AuditLog.objects.order_by("at").values_list("action", flat=True))
    assert actions.count("login.failed") == 5 and "login.lockout" in actions
    assert "hemligt-fel" not in json.dumps(list(AuditLog.objects.values_list("detail", flat=True)))
    assert "hemligt-fel" not in json.dumps(list(AccessAttempt.objects.values_list("post_data", flat=True)))


def test_a_successful_sign_in_is_audited(client, world):
    assert sign_in(client, "alice", "pw").status_code == 302
    assert AuditLog.objects.filter(action="login.success", user=world.alice).exists()


def test_wrong_device_tokens_lock_the_address_out_of_the_tracker_with_json_429(world):
    services.shift_start(user=world.alice, client_id=new_id())
    key = services.device_token_issue(user=world.alice)[1]
    phone = APIClient(REMOTE_ADDR="203.0.113.50")
    for i in range(4):
        assert phone.post("/track/osmand/?" + osmand_query(f"guess-{i}")).status_code == 401
    locked = phone.post("/track/osmand/?" + osmand_query("guess-5"))
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out" and "Retry-After" in locked
    # Now even the right token is refused from that address, and the guesses are not kept.
    assert phone.post("/track/osmand/?" + osmand_query(key)).status_code == 429
    assert "guess-1" not in json.dumps(list(AccessAttempt.objects.values_list("get_data", flat=True)))
    # Another address is not affected.
    other = APIClient(REMOTE_ADDR="198.51.100.60")
    assert other.post("/track/osmand/?" + osmand_query(key)).status_code == 200
    assert AuditLog.objects.filter(action="device.failed").count() == 5


def test_wrong_bearer_tokens_and_owntracks_passwords_count_too(world):
    api = APIClient(REMOTE_ADDR="203.0.113.51")
    for i in range(3):
        assert api.get(reverse("api-snapshot"), HTTP_AUTHORIZATION=f"Bearer wrong-{i}").status_code == 401
    for i in range(2):
        api.credentials(HTTP_AUTHORIZATION="Basic " + __import__("base64").b64encode(f"alice:no{i}".encode()).decode())
        response = api.post("/track/owntracks/", {"_type": "location", "lat": 58.2, "lon": 11.4}, format="json")
    assert response.status_code == 429
    api.credentials()
    assert api.get(reverse("api-snapshot"), HTTP_AUTHORIZATION="Bearer wrong-x").status_code == 429


def test_device_token_guesses_never_lock_a_persons_sign_in_and_sign_in_failures_never_lock_trackers(client, world):
    services.shift_start(user=world.alice, client_id=new_id())
    key = services.device_token_issue(user=world.alice)[1]
    phone = APIClient(REMOTE_ADDR="203.0.113.80")
    for i in range(5):
        phone.post("/track/osmand/?" + osmand_query(f"guess-{i}"))
    assert phone.post("/track/osmand/?" + osmand_query(key)).status_code == 429
    assert sign_in(client, "alice", "pw", ip="203.0.113.80").status_code == 302  # the same address signs in
    client.logout()
    for _ in range(5):
        sign_in(client, "dana", "fel", ip="203.0.113.81")
    other_phone = APIClient(REMOTE_ADDR="203.0.113.81")
    assert other_phone.post("/track/osmand/?" + osmand_query(key)).status_code == 200


def test_the_address_behind_the_tls_proxy_is_the_one_caddy_put_last(rf, settings):
    from coordination.lockout import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    settings.BEHIND_TLS_PROXY = False
    assert client_ip(request) == "10.0.0.2"
    settings.BEHIND_TLS_PROXY = True
    assert client_ip(request) == "203.0.113.9"


@pytest.mark.django_db(transaction=True)  # the socket's database work runs on another thread
async def test_wrong_tokens_on_sockets_are_counted_and_lock_the_address_out_of_sockets_too(world, settings):
    from channels.db import database_sync_to_async

    from coordination.tests.sockets import refused, token_for

    settings.BEHIND_TLS_PROXY = True  # the address is the one Caddy puts last in X-Forwarded-For

    def bearer(key: str, address: str = "203.0.113.77") -> list:
        return [(b"authorization", f"Bearer {key}".encode()), (b"x-forwarded-for", address.encode())]

    key = await token_for(world.alice)
    for i in range(5):
        assert await refused("/ws/field/", headers=bearer(f"guess-{i}")) == 4401
    failed = await database_sync_to_async(lambda: AuditLog.objects.filter(action="device.failed").count())()
    assert failed == 5
    # Locked out: even Alice's right token is refused from that address, and not from another one.
    assert await refused("/ws/field/", headers=bearer(key)) == 4401
    assert await refused("/ws/ops/", headers=bearer(key, "198.51.100.9")) == 4403  # her token works: she is field
