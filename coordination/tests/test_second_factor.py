"""Two factors for the powerful roles: duty, partner and admin enrol TOTP and give a code at sign-in."""

import time

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coordination.models import AuditLog

pytestmark = pytest.mark.django_db
LOGIN = "/konto/logga-in/"


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows now, computed as RFC 6238 says (django_otp.oath.totp)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Närvaro", confirmed=True)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize("person", ["dana", "frida"])
def test_duty_and_partner_are_not_signed_in_by_the_password_alone(client, world, person):
    enrolled(getattr(world, person))
    response = client.post(LOGIN, {"username": person, "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/konto/tvafaktor/"
    assert signed_in_as(client) is None
    assert client.get("/jour/").status_code == 302  # still signed out: to the login


def test_dana_signs_in_with_the_code_her_authenticator_shows(client, world):
    device = enrolled(world.dana)
    client.post(LOGIN, {"username": "dana", "password": "pw"})
    response = client.post("/konto/tvafaktor/", {"otp_token": code_for(device)})
    assert response.status_code == 302
    assert signed_in_as(client) == str(world.dana.pk)
    assert client.get("/jour/").status_code == 200
    assert AuditLog.objects.filter(user=world.dana, action="login.success", detail__factor="totp").exists()


def test_a_wrong_code_is_refused_and_counted(client, world):
    enrolled(world.dana)
    client.post(LOGIN, {"username": "dana", "password": "pw"})
    response = client.post("/konto/tvafaktor/", {"otp_token": "000000"})
    assert response.status_code == 400 and "Koden stämmer inte" in response.content.decode()
    assert signed_in_as(client) is None
    assert AuditLog.objects.filter(action="login.failed", detail__username="dana").exists()


def test_five_wrong_codes_lock_the_account(client, world, settings):
    settings.AXES_FAILURE_LIMIT = 5
    device = enrolled(world.dana)
    client.post(LOGIN, {"username": "dana", "password": "pw"})
    for _ in range(5):
        client.post("/konto/tvafaktor/", {"otp_token": "000000"})
    assert client.post("/konto/tvafaktor/", {"otp_token": code_for(device)}).status_code == 429
    assert signed_in_as(client) is None


def test_the_admin_without_a_device_must_enrol_before_being_signed_in(client, world):
    root = get_user_model().objects.create_superuser("root", password="pw")
    response = client.post(LOGIN, {"username": "root", "password": "pw"})
    assert response["Location"] == "/konto/tvafaktor/ny/"
    assert signed_in_as(client) is None
    page = client.get("/konto/tvafaktor/ny/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=root, confirmed=False)
    wrong = "123456" if code_for(device) != "123456" else "654321"
    assert client.post("/konto/tvafaktor/ny/", {"otp_token": wrong}).status_code == 400
    time.sleep(1.1)  # django-otp refuses any code for a second after a wrong one (its throttle)
    response = client.post("/konto/tvafaktor/ny/", {"otp_token": code_for(device)})
    assert response["Location"] == "/konto/tvafaktor/reservkoder/"
    assert signed_in_as(client) == str(root.pk)
    device.refresh_from_db()
    assert device.confirmed
    codes = client.get("/konto/tvafaktor/reservkoder/")
    tokens = list(StaticToken.objects.filter(device__user=root).values_list("token", flat=True))
    assert len(tokens) == 10 and all(token in codes.content.decode() for token in tokens)
    assert client.get("/konto/tvafaktor/reservkoder/").status_code == 302  # shown once
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_signs_in_once(client, world):
    enrolled(world.frida)
    from django_otp.plugins.otp_static.models import StaticDevice

    recovery = StaticDevice.objects.create(user=world.frida, name="Reservkoder")
    recovery.token_set.create(token="abcd2345")
    client.post(LOGIN, {"username": "frida", "password": "pw"})
    assert client.post("/konto/tvafaktor/", {"otp_token": "abcd 2345"}).status_code == 302
    client.logout()
    client.post(LOGIN, {"username": "frida", "password": "pw"})
    assert client.post("/konto/tvafaktor/", {"otp_token": "abcd2345"}).status_code == 400


def test_a_field_worker_signs_in_with_the_password_and_may_opt_in(client, world):
    response = client.post(LOGIN, {"username": "alice", "password": "pw"})
    assert response.status_code == 302 and signed_in_as(client) == str(world.alice.pk)
    client.get("/konto/tvafaktor/ny/")
    device = TOTPDevice.objects.get(user=world.alice)
    client.post("/konto/tvafaktor/ny/", {"otp_token": code_for(device)})
    device.refresh_from_db()
    assert device.confirmed
    client.logout()
    # Once opted in, she gives a code too.
    assert client.post(LOGIN, {"username": "alice", "password": "pw"})["Location"] == "/konto/tvafaktor/"


def test_the_pending_sign_in_expires(client, world, monkeypatch):
    device = enrolled(world.dana)
    client.post(LOGIN, {"username": "dana", "password": "pw"})
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.post("/konto/tvafaktor/", {"otp_token": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/konto/logga-in/"
    assert signed_in_as(client) is None


def test_the_admin_sign_in_page_leads_to_narvaros_own(client, world):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/konto/logga-in/?next=/admin/"


def test_the_demo_duty_officer_signs_in_with_the_documented_secret(client, db):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("demo_code", stdout=out)
    assert client.post(LOGIN, {"username": "jour", "password": "narvaro-demo"})["Location"] == "/konto/tvafaktor/"
    assert client.post("/konto/tvafaktor/", {"otp_token": out.getvalue().strip()}).status_code == 302
    assert client.get("/jour/").status_code == 200
