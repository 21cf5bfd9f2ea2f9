"""The page, its exports and the level override through the real selector and service.

The other view tests stand in for the selector with a hand-built picture. Figures are the selector's
own tests' business: these only check that what it returns renders, and that an override made on
the page is shown on it.
"""

import pytest
from django.urls import reverse

from coordination.models import AuditLog
from coordination.tests.test_lagesbild_exports import pdf_text, unzip

WEEK = reverse("lagesbild_week", kwargs={"year": 2026, "week": 47})


@pytest.fixture
def dana(client, world):
    client.force_login(world.dana)
    return client


def test_the_real_picture_renders_as_page_csv_and_pdf_for_every_kind_of_period(dana, world):
    for url in (
        WEEK,
        WEEK + f"?area={world.hotspot.pk}",
        "/lagesbild/2026/11/",
        "/lagesbild/?from=2026-08-01&to=2026-11-30",
    ):
        response = dana.get(url)
        assert response.status_code == 200, url
        assert "Hamnen" in response.content.decode()
    assert "areas.csv" in unzip(dana.get(WEEK + "?format=csv").content)
    assert "Sammanfattning" in pdf_text(dana.get(WEEK + "?format=pdf").content)
    assert AuditLog.objects.filter(action="lagesbild.view").count() == 4
    assert AuditLog.objects.filter(action="lagesbild.export").count() == 2


def test_an_override_made_on_the_page_is_shown_on_it(dana, world):
    url = reverse("lagesbild_override", kwargs={"year": 2026, "week": 47})
    response = dana.post(url, {"area": world.hotspot.pk, "level": "red", "reason": "Knivhot fredag kväll"})
    assert response.status_code == 302
    html = dana.get(WEEK).content.decode()
    assert "Knivhot fredag kväll" in html
    assert 'class="lb-level lb-level-red">Röd<' in html


def test_the_services_refusal_shows_in_the_form(dana, world):
    url = reverse("lagesbild_override", kwargs={"year": 2026, "week": 47})
    response = dana.post(url, {"area": world.hotspot.pk, "level": "red", "reason": "   "})
    assert response.status_code == 400
    assert 'class="form-error"' in response.content.decode()
