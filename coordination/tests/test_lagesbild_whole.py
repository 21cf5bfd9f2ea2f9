"""The lägesbild end to end, with no stand-ins: notes, a citizen report and last week's EST decision,
summed by the aggregation, read by the real selector and shown on the page, in the CSV and the PDF."""

import io
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from coordination import services
from coordination.models import AuditLog, CitizenReport, SituationNote
from coordination.selectors.lagesbild import period_for_week, picture
from coordination.selectors.where_next import where_next

pytestmark = pytest.mark.django_db

HARBOUR = {"lat": 58.2755, "lon": 11.4456}  # inside the Hamnen hotspot of conftest.World


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def week(world) -> tuple[int, int]:
    """Two weeks ago: a decision the week before it, two notes and a lighting report in it, all summed."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=2)
    year, number, _ = monday.isocalendar()
    before = monday - timedelta(weeks=1)
    services.est_decision_record(
        actor=world.dana,
        iso_year=before.isocalendar().year,
        iso_week=before.isocalendar().week,
        area_ids=[world.hotspot.pk],
        weekdays=[4],
        start="19:00",
        end="23:00",
        who="team",
        team_id=world.harbour_team.pk,
        organization_id=None,
        note="Hamnplanen efter 21",
    )
    friday = monday + timedelta(days=4)
    for hour in (21, 22):
        SituationNote.objects.create(
            author=world.alice, area=world.hotspot, category="gathering", severity=2, created_at=at(friday, hour)
        )
    report, _token = services.report_submit(category="lighting", text="Trasig lampa vid stigen", **HARBOUR)
    CitizenReport.objects.filter(pk=report.pk).update(created_at=at(friday, 20))
    call_command(
        "aggregate",
        "--from",
        (before - timedelta(weeks=4)).isoformat(),
        "--to",
        (monday + timedelta(days=6)).isoformat(),
    )
    return year, number


def test_the_picture_counts_reports_beside_notes_and_follows_up_last_weeks_decision(world, week):
    shown = picture(period=period_for_week(*week))
    harbour = next(a for a in shown.areas if a.area_id == world.hotspot.pk)
    assert harbour.notes_by_category == {"gathering": 2}
    assert harbour.reports_by_category == {"lighting": 1}
    assert shown.reports_by_category == {"lighting": 1}
    assert shown.reports_trend is not None and shown.reports_trend.current == 1
    [followup] = shown.followups
    assert (followup.area_name, followup.planned_hours, followup.notes_after) == ("Hamnen", 4, 2)


def test_the_page_csv_and_pdf_show_the_selectors_figures_and_each_read_is_audited(client, world, week):
    client.force_login(world.dana)
    url = reverse("lagesbild_week", kwargs={"year": week[0], "week": week[1]})
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Hamnen" in text and "Veckans fokus" not in text  # a past week: no live focus panel on the picture
    exported = client.get(url, {"format": "csv"})
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        areas_csv = next(name for name in archive.namelist() if "omr" in name or "area" in name)
        rows = archive.read(areas_csv).decode("utf-8-sig")
    assert "Hamnen" in rows
    pdf = client.get(url, {"format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    extracted = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Hamnen" in extracted
    assert AuditLog.objects.filter(user=world.dana, action__startswith="lagesbild").count() >= 3


def test_where_next_counts_citizen_reports_of_the_last_two_hours_by_itself(world):
    services.report_submit(category="gathering", text="Många samlas vid hamnen", **HARBOUR)
    suggestions = where_next(point=None, now=timezone.now(), limit=10)
    harbour = next(s for s in suggestions if s.area_id == world.hotspot.pk)
    assert "reports" in harbour.reasons
