"""The staff screens over HTTP: who lands where, who may open which screen, what the pages embed."""

import json

import pytest
from django.utils import timezone

from coordination import services
from coordination.models import Membership, Role
from coordination.tests.sockets import new_id


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def embedded(response, element_id: str) -> dict:
    """The JSON a template embedded with json_script under `element_id`."""
    html = response.content.decode()
    tag = f'<script id="{element_id}" type="application/json">'
    start = html.index(tag) + len(tag)
    return json.loads(html[start : html.index("</script>", start)])


# --- landing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "screen"),
    [("alice", "/falt/"), ("dana", "/jour/"), ("frida", "/jour/"), ("erik", "/forening/")],
)
def test_home_sends_each_role_to_its_screen(world, client, person, screen):
    client.force_login(getattr(world, person))
    response = client.get("/start/")
    assert response.status_code == 302
    assert response["Location"] == screen


def test_home_lets_a_person_with_several_roles_choose(world, client):
    Membership.objects.create(user=world.alice, organization=world.club, role=Role.ASSOCIATION)
    client.force_login(world.alice)
    response = client.get("/start/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/falt/"' in html and 'href="/forening/"' in html
    assert 'href="/jour/"' not in html


def test_home_tells_a_person_without_a_role_to_ask_for_one(world, client):
    client.force_login(world.gustav)
    response = client.get("/start/")
    assert response.status_code == 200
    assert "Ingen roll ännu" in response.content.decode()


def test_home_asks_an_anonymous_visitor_to_sign_in(client, db):
    response = client.get("/start/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logga-in/")


def test_signing_in_lands_on_the_role_screen(world, client):
    # (Duty signs in with a second factor too: coordination/tests/test_second_factor.py.)
    response = client.post("/konto/logga-in/", {"username": "alice", "password": "pw"}, follow=True)
    assert response.redirect_chain == [("/start/", 302), ("/falt/", 302)]
    assert response.status_code == 200


def test_a_wrong_password_shows_the_form_again(world, client):
    response = client.post("/konto/logga-in/", {"username": "dana", "password": "nej"})
    assert response.status_code == 200
    assert 'class="form-error"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_goes_to_the_public_map(world, client):
    client.force_login(world.dana)
    response = client.post("/konto/logga-ut/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_the_menu_lists_every_screen_of_a_person_with_several_roles(world, client):
    Membership.objects.create(user=world.dana, organization=world.club, role=Role.ASSOCIATION)
    client.force_login(world.dana)
    html = client.get("/jour/").content.decode()
    assert 'href="/jour/" aria-current="page"' in html
    assert 'href="/forening/"' in html


# --- field page -------------------------------------------------------------------------------------


def test_the_field_page_is_for_field_members(world, client):
    client.force_login(world.alice)
    response = client.get("/falt/")
    assert response.status_code == 200
    config = embedded(response, "field-config")
    assert config["ws_path"] == "/ws/field/"
    assert config["my_teams"] == [world.harbour_team.pk]
    assert config["snapshot_url"] == "/api/snapshot/"
    assert [value for value, _ in config["categories"]][:2] == ["gathering", "conflict"]


@pytest.mark.parametrize("person", ["dana", "erik", "frida", "gustav"])
def test_the_field_page_refuses_everyone_else(world, client, person):
    client.force_login(getattr(world, person))
    assert client.get("/falt/").status_code == 403


def test_the_field_page_sends_an_anonymous_visitor_to_sign_in(client, db):
    response = client.get("/falt/")
    assert response.status_code == 302
    assert response["Location"] == "/konto/logga-in/?next=/falt/"


def test_the_field_page_embeds_the_staff_picture_while_the_team_is_out(world, client):
    services.shift_start(user=world.charlie, client_id=new_id())
    services.position_record(user=world.charlie, client_id=new_id(), lat=58.28, lon=11.44, recorded_at=timezone.now())
    client.force_login(world.alice)
    before = {f["id"] for f in embedded(client.get("/falt/"), "field-config")["snapshot"]["features"]}
    assert f"team.{world.centre_team.pk}" not in before  # off duty: no staff positions

    services.shift_start(user=world.alice, client_id=new_id())
    snapshot = embedded(client.get("/falt/"), "field-config")["snapshot"]
    ids = {f["id"] for f in snapshot["features"]}
    assert {f"team.{world.centre_team.pk}", f"team.{world.harbour_team.pk}"} <= ids
    assert snapshot["seq"] > 0


def test_the_field_page_embeds_tonights_chat_the_person_may_read(world, client):
    services.shift_start(user=world.alice, client_id=new_id())
    services.chat_send(user=world.dana, channel="everyone", text="Fika kl 21")
    services.chat_send(user=world.dana, channel=f"team.{world.centre_team.pk}", text="Bara till Centrum")
    client.force_login(world.alice)
    chat = embedded(client.get("/falt/"), "field-config")["chat"]
    assert [event["data"]["text"] for event in chat] == ["Fika kl 21"]


def test_the_service_worker_is_served_from_the_field_page_folder(client, db):
    response = client.get("/falt/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'const PAGE = "/falt/";' in body
    assert '"/static/js/live.js"' in body and '"/static/leaflet/leaflet.js"' in body


def test_the_manifest_makes_the_field_page_installable(client, db):
    response = client.get("/falt/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == manifest["scope"] == "/falt/"
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}


# --- duty map ---------------------------------------------------------------------------------------


def test_the_duty_map_gives_the_duty_officer_acknowledge_and_chat(world, client):
    services.shift_start(user=world.alice, client_id=new_id())
    services.note_create(user=world.alice, category="gathering", youth_count=6)
    client.force_login(world.dana)
    response = client.get("/jour/")
    assert response.status_code == 200
    config = embedded(response, "ops-config")
    assert config["can_act"] is True
    assert config["ws_path"] == "/ws/ops/"
    assert {f["properties"]["layer"] for f in config["snapshot"]["features"]} >= {"team", "note", "area"}
    html = response.content.decode()
    assert 'id="chat-form"' in html and 'id="sound"' in html


def test_the_duty_map_is_read_only_for_the_partner(world, client):
    client.force_login(world.frida)
    response = client.get("/jour/")
    assert response.status_code == 200
    assert embedded(response, "ops-config")["can_act"] is False
    html = response.content.decode()
    assert 'id="chat-form"' not in html and 'id="sound"' not in html
    assert "läsläge" in html


@pytest.mark.parametrize("person", ["alice", "erik", "gustav"])
def test_the_duty_map_refuses_everyone_else(world, client, person):
    client.force_login(getattr(world, person))
    assert client.get("/jour/").status_code == 403


# --- language -----------------------------------------------------------------------------------------


def test_the_language_switch_turns_the_screens_english(world, client):
    """Needs the compiled catalogue (make messages, which make test runs first)."""
    client.force_login(world.alice)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/falt/"})
    assert response["Location"] == "/falt/"
    response = client.get("/falt/")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Start tonight's shift" in html and "Alarm: help now" in html
    config = embedded(response, "field-config")
    assert dict(config["categories"])["gathering"] == "Young people gathering"
    assert "strings" not in config  # the scripts' own text comes from the JavaScript catalog
    assert '<script src="/jsi18n/"></script>' in html
    catalog = client.get("/jsi18n/").content.decode()
    assert '"Ansluten": "Connected"' in catalog


def test_swedish_is_the_default(world, client):
    client.force_login(world.alice)
    html = client.get("/falt/").content.decode()
    assert '<html lang="sv">' in html and "Starta kvällens pass" in html
