"""The lägesbild page: who may read it, the periods it takes, bad input, navigation, override and audit rows.

Until coordination.selectors.lagesbild is on this branch, `lagesbild_selector` stands in for it with the
hand-built picture of lagesbild_fixture (the views reach the selector only through `_selector`).
"""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from coordination import access, lagesbild_views
from coordination.errors import Forbidden, Invalid
from coordination.models import AuditLog, Membership, Role
from coordination.tests.lagesbild_fixture import StandInSelector, stand_in_selector
from coordination.tests.test_access import person

User = get_user_model()

WEEK = reverse("lagesbild_week", kwargs={"year": 2026, "week": 47})


@pytest.fixture
def lagesbild_selector(world, monkeypatch) -> StandInSelector:
    return stand_in_selector(world, monkeypatch)


@pytest.fixture
def overrides(monkeypatch) -> list[dict]:
    """What reached the override service; a reason of "refuse" makes it refuse like a service does."""
    calls: list[dict] = []

    def stand_in(**kwargs):
        if kwargs["reason"] == "refuse":
            raise Invalid("Veckan är redan avslutad i EST.", field="reason")
        if kwargs["reason"] == "forbid":
            raise Forbidden("Bara EST-gruppen ändrar nivåer.")
        calls.append(kwargs)

    monkeypatch.setattr(lagesbild_views, "_override_level", stand_in)
    return calls


def signed_in(client, user):
    client.force_login(user)
    return client


# --- access, rule by rule and page by role ---------------------------------------------------------

READERS = {
    "dana": True,
    "frida": True,
    "superuser": True,
    "system owner (admin membership)": True,
    "alice off shift": False,
    "alice on shift": False,
    "erik": False,
    "gustav": False,
    "anonymous": False,
}
OVERRIDERS = {**READERS, "frida": False}


@pytest.mark.parametrize("who", READERS)
def test_may_read_lagesbild_cell_by_cell(world, who):
    assert access.may_read_lagesbild(access.viewer_for(person(world, who))) is READERS[who]


@pytest.mark.parametrize("who", OVERRIDERS)
def test_may_override_a_level_cell_by_cell(world, who):
    assert access.may_override_level(access.viewer_for(person(world, who))) is OVERRIDERS[who]


@pytest.mark.parametrize("who", ["dana", "frida", "superuser", "system owner (admin membership)"])
def test_duty_partner_and_admin_read_the_week(client, world, lagesbild_selector, who):
    response = signed_in(client, person(world, who)).get(WEEK)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lägesbild v. 47 2026" in html
    for heading in ("Sammanfattning", "Områden", "Mönster", "Trend", "Karta", "Uppföljning", "Larm och hur"):
        assert heading in html
    assert "Samling av unga ökade mest" in html  # the summary's first sentence
    assert "Team Hamnen och polisen" in html  # the follow-up of last week's decision


@pytest.mark.parametrize("who", ["alice off shift", "alice on shift", "erik", "gustav"])
def test_field_association_and_people_without_a_role_are_refused(client, world, lagesbild_selector, who):
    client = signed_in(client, person(world, who))
    for url in (WEEK, WEEK + "?format=csv", WEEK + "?format=pdf", reverse("lagesbild_month", args=[2026, 11])):
        assert client.get(url).status_code == 403
    assert lagesbild_selector.calls == []
    assert not AuditLog.objects.filter(action__startswith="lagesbild").exists()


def test_anonymous_is_sent_to_log_in(client, world, lagesbild_selector):
    response = client.get(WEEK)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- periods ------------------------------------------------------------------------------------------


def test_the_bare_address_goes_to_the_current_iso_week_keeping_the_area(client, world, lagesbild_selector):
    today = timezone.localdate().isocalendar()
    response = signed_in(client, world.dana).get(reverse("lagesbild") + f"?area={world.hotspot.pk}")
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("lagesbild_week", kwargs={"year": today.year, "week": today.week}) + f"?area={world.hotspot.pk}"
    )


def test_a_week_links_to_the_week_before_and_after(client, world, lagesbild_selector):
    html = signed_in(client, world.dana).get(WEEK).content.decode()
    assert f'href="{reverse("lagesbild_week", kwargs={"year": 2026, "week": 46})}"' in html
    assert f'href="{reverse("lagesbild_week", kwargs={"year": 2026, "week": 48})}"' in html


def test_the_week_before_the_first_of_a_year_is_the_last_of_the_year_before(client, world, lagesbild_selector):
    html = signed_in(client, world.dana).get(reverse("lagesbild_week", args=[2026, 1])).content.decode()
    assert f'href="{reverse("lagesbild_week", kwargs={"year": 2025, "week": 52})}"' in html


def test_the_current_week_has_no_link_to_a_week_that_has_not_happened(client, world, lagesbild_selector):
    today = timezone.localdate().isocalendar()
    html = signed_in(client, world.dana).get(reverse("lagesbild_week", args=[today.year, today.week])).content.decode()
    assert 'rel="next"' not in html
    assert 'rel="prev"' in html


def test_a_month_and_a_four_month_range_are_pictures_too(client, world, lagesbild_selector):
    client = signed_in(client, world.frida)
    assert client.get(reverse("lagesbild_month", args=[2026, 10])).status_code == 200
    response = client.get(reverse("lagesbild") + "?from=2026-08-01&to=2026-11-30")
    assert response.status_code == 200
    assert [(p.start, p.end, p.iso_week) for p, _ in lagesbild_selector.calls] == [
        (date(2026, 10, 1), date(2026, 10, 31), None),
        (date(2026, 8, 1), date(2026, 11, 30), None),
    ]
    assert 'href="/lagesbild/2026/9/"' in client.get(reverse("lagesbild_month", args=[2026, 10])).content.decode()


def test_one_area_is_asked_for_with_its_id(client, world, lagesbild_selector):
    response = signed_in(client, world.dana).get(WEEK + f"?area={world.hotspot.pk}")
    assert response.status_code == 200
    assert lagesbild_selector.calls[-1][1] == world.hotspot.pk
    assert "Lägesbild v. 47 2026 · Hamnen" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/lagesbild/2026/v54/", 404, "Vecka 54 finns inte år 2026."),
        ("/lagesbild/2025/v53/", 404, "Vecka 53 finns inte år 2025."),
        ("/lagesbild/2026/v0/", 404, "Vecka 0 finns inte år 2026."),
        ("/lagesbild/1900/v10/", 404, "Det finns ingen lägesbild för år 1900"),
        ("/lagesbild/2026/13/", 404, "Månad 13 finns inte."),
        (
            "/lagesbild/?from=2026-05-01&to=2026-04-01",
            400,
            "Slutdatumet 2026-04-01 ligger före startdatumet 2026-05-01.",
        ),
        ("/lagesbild/?from=igår&to=2026-04-01", 400, "from måste vara ett datum som ÅÅÅÅ-MM-DD"),
        ("/lagesbild/?from=2026-02-30&to=2026-04-01", 400, "from måste vara ett datum"),
        ("/lagesbild/?from=2026-04-01", 400, "Ange både från och till"),
        ("/lagesbild/?from=2020-01-01&to=2026-06-30", 400, "En lägesbild gäller högst 366 dagar"),
        ("/lagesbild/2026/v47/?area=hamnen", 400, "Området ”hamnen” är inget områdes-id."),
        ("/lagesbild/2026/v47/?area=999999", 404, "Det finns inget område med id 999999."),
        ("/lagesbild/2026/v47/?format=docx", 400, "Formatet ”docx” finns inte"),
    ],
)
def test_bad_input_gets_a_page_that_says_what_is_wrong(client, world, lagesbild_selector, url, status, message):
    response = signed_in(client, world.dana).get(url)
    assert response.status_code == status
    assert message in response.content.decode()
    assert lagesbild_selector.calls == []
    assert not AuditLog.objects.filter(action__startswith="lagesbild").exists()


def test_a_period_the_selector_refuses_is_a_404_with_its_message(client, world, lagesbild_selector, monkeypatch):
    def refuse(year, week):
        raise ValueError("Veckan har inga aggregat än.")

    monkeypatch.setattr(lagesbild_selector, "period_for_week", refuse)
    response = signed_in(client, world.dana).get(WEEK)
    assert response.status_code == 404
    assert "Veckan har inga aggregat än." in response.content.decode()


# --- what the page holds --------------------------------------------------------------------------------


def test_the_page_draws_its_charts_and_map_inline_without_any_inline_script(client, world, lagesbild_selector):
    html = signed_in(client, world.dana).get(WEEK).content.decode()
    assert html.count("<svg ") >= 4
    for chart in ("notes", "presence", "trend", "map"):
        assert f'data-chart="{chart}"' in html
    assert f'id="map-area-{world.hotspot.pk}"' in html and f'id="map-area-{world.district.pk}"' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either


def test_the_page_shows_each_areas_level_reason_and_figures(client, world, lagesbild_selector):
    html = signed_in(client, world.frida).get(WEEK).content.decode()
    assert 'class="lb-level lb-level-red">Röd<' in html
    assert "Ändrad av EST (regeln gav Orange):" in html and "knivhot fredag kväll" in html
    assert "Fältpersonal 9,0" in html  # Hamnen: 540 field minutes
    assert "Samling av unga 11" in html
    assert ">143<" in html  # youth counted in Hamnen


def test_the_page_links_to_its_csv_and_pdf_keeping_the_area(client, world, lagesbild_selector):
    html = signed_in(client, world.dana).get(WEEK + f"?area={world.district.pk}").content.decode()
    assert f'href="?area={world.district.pk}&amp;format=csv"' in html
    assert f'href="?area={world.district.pk}&amp;format=pdf"' in html


def test_the_week_links_to_its_est_decisions(client, world, lagesbild_selector):
    html = signed_in(client, world.dana).get(WEEK).content.decode()
    assert 'href="/lagesbild/2026/v47/beslut/"' in html


def test_duty_and_admin_find_the_picture_in_the_menu_field_does_not(client, world, lagesbild_selector):
    assert 'href="/lagesbild/"' in signed_in(client, world.dana).get(reverse("ops")).content.decode()
    assert 'href="/lagesbild/"' in signed_in(client, world.frida).get(reverse("ops")).content.decode()
    assert 'href="/lagesbild/"' not in signed_in(client, world.alice).get(reverse("field")).content.decode()


# --- the level override -------------------------------------------------------------------------------


def override_url(query: str = "") -> str:
    return reverse("lagesbild_override", kwargs={"year": 2026, "week": 47}) + query


def test_duty_sees_the_override_form_the_partner_does_not(client, world, lagesbild_selector):
    assert "Ändra nivå" in signed_in(client, world.dana).get(WEEK).content.decode()
    assert "Ändra nivå" not in signed_in(client, world.frida).get(WEEK).content.decode()


def test_a_month_has_no_override_form_since_levels_are_set_per_week(client, world, lagesbild_selector):
    html = signed_in(client, world.dana).get(reverse("lagesbild_month", args=[2026, 11])).content.decode()
    assert "Ändra nivå" not in html


def test_duty_overrides_a_level_through_the_service(client, world, lagesbild_selector, overrides):
    body = {"area": world.hotspot.pk, "level": "red", "reason": "Knivhot fredag kväll"}
    response = signed_in(client, world.dana).post(override_url(f"?area={world.hotspot.pk}"), body)
    assert response.status_code == 302
    assert response["Location"] == WEEK + f"?area={world.hotspot.pk}"
    assert overrides == [
        {
            "actor": world.dana,
            "area_id": world.hotspot.pk,
            "year": 2026,
            "week": 47,
            "level": "red",
            "reason": "Knivhot fredag kväll",
        }
    ]


def test_the_partner_may_not_override(client, world, lagesbild_selector, overrides):
    body = {"area": world.hotspot.pk, "level": "green", "reason": "Lugnt"}
    assert signed_in(client, world.frida).post(override_url(), body).status_code == 403
    assert overrides == []


def test_a_refused_override_shows_the_services_message_in_the_form(client, world, lagesbild_selector, overrides):
    body = {"area": world.hotspot.pk, "level": "green", "reason": "refuse"}
    response = signed_in(client, world.dana).post(override_url(), body)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Veckan är redan avslutad i EST." in html
    assert re.search(r'<details class="lb-override" open>', html)
    assert overrides == []


def test_a_forbidden_override_is_shown_too(client, world, lagesbild_selector, overrides):
    body = {"area": world.hotspot.pk, "level": "green", "reason": "forbid"}
    response = signed_in(client, world.dana).post(override_url(), body)
    assert response.status_code == 400
    assert "Bara EST-gruppen ändrar nivåer." in response.content.decode()


def test_an_override_without_a_reason_or_with_an_unknown_level_is_a_form_error(
    client, world, lagesbild_selector, overrides
):
    client = signed_in(client, world.dana)
    response = client.post(override_url(), {"area": world.hotspot.pk, "level": "purple", "reason": ""})
    assert response.status_code == 400
    assert 'class="form-error"' in response.content.decode()
    assert overrides == []


def test_an_override_for_a_week_that_does_not_exist_is_a_404(client, world, lagesbild_selector, overrides):
    url = reverse("lagesbild_override", kwargs={"year": 2026, "week": 60})
    body = {"area": world.hotspot.pk, "level": "red", "reason": "x"}
    assert signed_in(client, world.dana).post(url, body).status_code == 404
    assert overrides == []


# --- the audit log --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "action", "fmt"), [("", "lagesbild.view", "html"), ("?format=csv", "lagesbild.export", "csv")]
)
def test_every_read_is_written_to_the_audit_log_with_the_address(client, world, lagesbild_selector, query, action, fmt):
    signed_in(client, world.frida).get(WEEK + query, REMOTE_ADDR="203.0.113.7")
    row = AuditLog.objects.get(action__startswith="lagesbild")
    assert (row.user, row.action) == (world.frida, action)
    assert row.detail == {
        "period": "v. 47 2026",
        "start": "2026-11-16",
        "end": "2026-11-22",
        "area": None,
        "format": fmt,
        "address": "203.0.113.7",
    }
    assert timezone.now() - row.at < timedelta(minutes=1)


def test_a_range_for_one_area_is_audited_with_its_area(client, world, lagesbild_selector):
    signed_in(client, world.dana).get(f"/lagesbild/?from=2026-08-01&to=2026-11-30&area={world.district.pk}")
    row = AuditLog.objects.get(action="lagesbild.view")
    assert (row.detail["start"], row.detail["end"], row.detail["area"]) == (
        "2026-08-01",
        "2026-11-30",
        world.district.pk,
    )


def test_admins_read_the_audit_log_but_cannot_change_it(client, world, lagesbild_selector):
    root = User.objects.create_superuser("root", password="pw")
    client = signed_in(client, root)
    client.get(WEEK)
    row = AuditLog.objects.get(action="lagesbild.view")
    assert "lagesbild.view" in client.get(reverse("admin:coordination_auditlog_changelist")).content.decode()
    assert client.get(reverse("admin:coordination_auditlog_change", args=[row.pk])).status_code == 200
    assert client.get(reverse("admin:coordination_auditlog_add")).status_code == 403
    assert client.post(reverse("admin:coordination_auditlog_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    client.post(reverse("admin:coordination_auditlog_change", args=[row.pk]), {"action": "changed"})
    row.refresh_from_db()
    assert row.action == "lagesbild.view"


def test_a_partner_without_admin_rights_cannot_open_the_audit_log(client, world):
    Membership.objects.filter(user=world.frida).update(role=Role.PARTNER)
    response = signed_in(client, world.frida).get(reverse("admin:coordination_auditlog_changelist"))
    assert response.status_code == 302  # the admin's own login page: frida is no staff member
