"""Citizen dialogue in a real browser (issue 14): the form on a phone with a photo whose GPS is
gone after upload, the duty page and the queue, the published report on the public map."""

import io
import shutil
from pathlib import Path

from django.core.files.storage import default_storage
from PIL import Image
from playwright.sync_api import expect

from coordination.models import CitizenReport
from tests.browser.conftest import DESKTOP, HARBOUR, screenshot

PHONE_390 = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "shots" / "dialogue"  # git-ignored
TEXT = "Trasig gatlampa vid gångvägen, mörkt efter sex"


def gps_jpeg() -> bytes:
    image = Image.new("RGB", (120, 90), "navy")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel 12"
    exif[0x8825] = {1: "N", 2: (58.0, 16.0, 31.0), 3: "E", 4: (11.0, 26.0, 44.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(0x8825)  # it does carry GPS
    return out.getvalue()


def keep(path: Path, name: str) -> None:
    """Keep a screenshot under test-artifacts/shots/dialogue/ for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / f"{name}.png")


def test_a_report_from_a_phone_reaches_duty_and_once_published_the_public_map(world, browsers):
    public_map = browsers.page(None, "/", viewport=DESKTOP)
    expect(public_map.locator("#connection")).to_have_attribute("data-state", "online")
    phone = browsers.page(None, "/", viewport=PHONE_390, geolocation=HARBOUR)
    phone.click("a.tips-link")
    # Module scripts run before DOMContentLoaded: after it, "use my location" has its handler (a click
    # before that was lost, and the test failed now and then).
    phone.wait_for_load_state("domcontentloaded")
    expect(phone.locator(".emergency").first).to_contain_text("112")
    phone.click("#tips-locate")
    expect(phone.locator("#tips-point")).to_contain_text("58.27550")
    expect(phone.locator("#tips-map .leaflet-marker-icon")).to_have_count(1)
    keep(screenshot(phone, "dialogue-form-phone"), "form-phone")
    phone.click("#tips-form button[type=submit]")  # no category yet: the form says so and keeps the place
    expect(phone.locator(".has-error .form-error")).to_have_count(2)  # category and text
    expect(phone.locator("#tips-point")).to_contain_text("58.27550")
    phone.select_option("select[name=category]", "lighting")
    phone.locator("label", has_text="Kvällar").click()
    phone.fill("textarea[name=text]", TEXT)
    phone.set_input_files(
        "input[name=photo]", files=[{"name": "lampa.jpg", "mimeType": "image/jpeg", "buffer": gps_jpeg()}]
    )
    phone.fill("input[name=email]", "kim@example.se")
    phone.click("#tips-form button[type=submit]")
    expect(phone.locator("#status-link")).to_be_visible()
    keep(screenshot(phone, "dialogue-thanks-phone"), "thanks-phone")
    status_url = phone.locator("#status-link").get_attribute("href")

    report = CitizenReport.objects.get()
    assert (report.category, report.when, report.area) == ("lighting", "evenings", world.hotspot)
    with default_storage.open(report.photo.name) as stored, Image.open(stored) as photo:
        assert photo.format == "JPEG" and photo.size == (120, 90)
        assert not photo.getexif() and not photo.getexif().get_ifd(0x8825) and "exif" not in photo.info

    duty = browsers.page(world.dana, "/jour/", viewport=DESKTOP)
    expect(duty.locator("#queue .queue-report")).to_contain_text("Trasig gatlampa")
    expect(duty.locator("#ops-map .mk-report")).to_have_count(1)
    keep(screenshot(duty, "dialogue-duty-page"), "duty-page")

    queue = browsers.page(world.dana, "/jour/tips/", viewport=DESKTOP)
    item = queue.locator(f"[data-report='{report.pk}']")
    expect(item).to_contain_text(TEXT)
    item.locator("[data-action=take]").click()
    expect(item.locator(".taken")).to_contain_text("Dana")
    expect(duty.locator("#queue .queue-report")).to_have_count(0)  # taken: out of the duty queue
    item.locator("[data-action=publish-area]").click()
    expect(item.locator(".flags")).to_contain_text("publicerad")
    queue.once("dialog", lambda dialog: dialog.accept("Lampan byts på tisdag."))
    item.locator("[data-action=answer]").click()
    expect(item).to_contain_text("Lampan byts på tisdag.")
    keep(screenshot(queue, "dialogue-queue", full_page=True), "queue")

    # The public map that was open all along hears it live: counts per area and the answer.
    expect(public_map.locator("#public-report-counts")).to_contain_text("Hamnen")
    expect(public_map.locator("#public-report-answers")).to_contain_text("Lampan byts på tisdag.")
    expect(public_map.locator("#public-map .mk-report")).to_have_count(1)
    keep(screenshot(public_map, "dialogue-public-map"), "public-map")
    html = public_map.content()
    assert TEXT not in html and "kim@example.se" not in html

    phone.goto(status_url)
    expect(phone.locator("#report-status")).to_contain_text("Besvarad")
    expect(phone.locator("#report-answer")).to_have_text("Lampan byts på tisdag.")
