"""GET /api/reports/weekly/: the EST week for duty, partner and admins, audit-logged, counts only."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from coordination import services
from coordination.models import AuditLog
from coordination.tests.sockets import new_id
from coordination.tests.test_api_snapshot_events import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("person", ["dana", "frida"])
def test_duty_and_partner_read_the_week_and_the_read_is_logged(world, person):
    services.shift_start(user=world.alice, client_id=new_id())
    services.note_create(user=world.alice, category="gathering", lat=58.2755, lon=11.445, youth_count=9)
    response = client_for(getattr(world, person)).get("/api/reports/weekly/")
    assert response.status_code == 200
    report = response.json()
    assert (report["notes"], report["notes_by_category"], report["shifts"]) == (1, {"gathering": 1}, 1)
    assert set(report) == {
        "week",
        "from",
        "to",
        "shifts",
        "notes",
        "notes_by_category",
        "alerts",
        "areas",
        "uncovered_hotspots",
    }
    log = AuditLog.objects.get()
    assert (log.user, log.action, log.detail) == (getattr(world, person), "report.weekly", {"week": report["from"]})


def test_a_named_week_starts_on_its_monday(world):
    report = client_for(world.dana).get("/api/reports/weekly/?week=2026-W01").json()
    assert (report["week"], report["from"], report["to"]) == ("2026-W01", "2025-12-29", "2026-01-04")


def test_an_admin_reads_the_week(world):
    root = get_user_model().objects.create_superuser("root", password="pw")
    assert client_for(root).get("/api/reports/weekly/").status_code == 200


@pytest.mark.parametrize("person", ["alice", "erik", "gustav"])
def test_field_association_and_people_without_a_role_may_not(world, person):
    response = client_for(getattr(world, person)).get("/api/reports/weekly/")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert not AuditLog.objects.exists()


def test_anonymous_is_401(world):
    assert APIClient().get("/api/reports/weekly/").status_code == 401


@pytest.mark.parametrize("week", ["2026-W54", "2026-48", "last week", "9999-W52", "1999-W10"])
def test_a_week_that_does_not_exist_is_a_400_naming_the_field(world, week):
    response = client_for(world.dana).get("/api/reports/weekly/", {"week": week})
    assert response.status_code == 400
    assert response.json()["field"] == "week"
