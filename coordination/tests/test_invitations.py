"""Accounts arrive by invitation and recover by e-mail; both links expire."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.urls import reverse

from coordination.models import AuditLog, Invitation, Membership

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def root_client(client, world):
    root = User.objects.create_superuser("root", password="pw", email="root@example.se")
    client.force_login(root)
    return client


def invite(root_client, world, **fields) -> str:
    data = {"email": "hanna@lysekil.se", "organization": world.municipality.pk, "role": "field", "team": "", **fields}
    response = root_client.post(reverse("admin:coordination_invitation_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    (message,) = mail.outbox
    assert message.to == [data["email"]]
    return re.search(r"http://testserver(/konto/inbjudan/[^/\s]+/)", message.body).group(1)


def test_an_admin_invites_hanna_to_team_hamnen_and_she_chooses_her_password(root_client, world, client):
    link = invite(root_client, world, team=world.harbour_team.pk)
    root_client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "Lysekils kommun" in page.content.decode()
    response = client.post(
        link,
        {"username": "hanna", "first_name": "Hanna", "password1": "Kvällspass-2026", "password2": "Kvällspass-2026"},
    )
    assert response.status_code == 302
    hanna = User.objects.get(username="hanna")
    assert hanna.email == "hanna@lysekil.se" and hanna.check_password("Kvällspass-2026")
    assert Membership.objects.filter(user=hanna, organization=world.municipality, role="field").exists()
    assert world.harbour_team.members.filter(pk=hanna.pk).exists()
    assert client.session["_auth_user_id"] == str(hanna.pk)
    assert {"invitation.create", "invitation.accept"} <= set(AuditLog.objects.values_list("action", flat=True))
    # Used once.
    client.logout()
    assert client.get(link).status_code == 410


def test_an_invited_duty_officer_enrols_the_second_factor_before_being_signed_in(root_client, world, client):
    link = invite(root_client, world, email="ivar@lysekil.se", role="duty")
    root_client.logout()
    response = client.post(link, {"username": "ivar", "password1": "Jourpass-2026!", "password2": "Jourpass-2026!"})
    assert response["Location"] == "/konto/tvafaktor/ny/"
    assert "_auth_user_id" not in client.session


def test_the_invitation_link_expires(root_client, world, client, settings, monkeypatch):
    settings.INVITATION_MAX_AGE_DAYS = 7
    link = invite(root_client, world)
    root_client.logout()
    later = time.time() + 7 * 86400 + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.get(link)
    assert response.status_code == 410 and "gått ut" in response.content.decode()
    assert not User.objects.filter(email="hanna@lysekil.se").exists()


def test_a_tampered_link_is_refused(client, world):
    assert client.get("/konto/inbjudan/1:abc:def/").status_code == 410


def test_only_admins_invite(client, world):
    from coordination import services
    from coordination.errors import Forbidden

    with pytest.raises(Forbidden):
        services.invitation_create(
            actor=world.dana, email="x@y.se", organization=world.municipality, role="field", link_for=str
        )
    assert not Invitation.objects.exists()


def test_a_forgotten_password_is_reset_by_e_mail_and_the_link_expires(client, world, settings, monkeypatch):
    world.alice.email = "alice@lysekil.se"
    world.alice.save()
    assert client.post("/konto/losenord/", {"email": "alice@lysekil.se"}).status_code == 302
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/konto/losenord/[^/\s]+/[^/\s]+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "Nytt-lösen-2026", "new_password2": "Nytt-lösen-2026"})
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.check_password("Nytt-lösen-2026")
    # The system owner sees the request and whose password changed, never the address typed.
    audited = list(AuditLog.objects.filter(action__startswith="password.").order_by("pk").values("action", "user"))
    assert audited == [
        {"action": "password.reset_requested", "user": None},
        {"action": "password.reset", "user": world.alice.pk},
    ]
    assert "alice@lysekil.se" not in str(list(AuditLog.objects.values_list("detail", flat=True)))

    # A second request, opened after PASSWORD_RESET_TIMEOUT: refused.
    client.post("/konto/losenord/", {"email": "alice@lysekil.se"})
    link = re.search(r"http://testserver(/konto/losenord/[^/\s]+/[^/\s]+/)", mail.outbox[-1].body).group(1)
    from datetime import datetime, timedelta

    from django.contrib.auth.tokens import default_token_generator

    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    expired = client.get(link, follow=True)
    assert "Länken har gått ut" in expired.content.decode()
