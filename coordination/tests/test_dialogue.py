"""Citizen dialogue: the public form, screening and abuse, the status link, moderation, the public
side, retention (issue 14)."""

import io
import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from coordination import access, selectors, services
from coordination.errors import Conflict, Forbidden, Invalid, RateLimited, TooLarge
from coordination.models import AuditLog, CitizenReport, Event, Role, SituationNote
from coordination.selectors.dialogue import reports_by_area_category, reports_trend

pytestmark = pytest.mark.django_db

HARBOUR = {"lat": 58.27551234, "lon": 11.44567891}  # inside the Hamnen hotspot of conftest.World


def report(**overrides):
    fields = {"category": "lighting", "text": "Trasig lampa vid stigen", **HARBOUR, **overrides}
    return services.report_submit(**fields)


@pytest.fixture
def hanna(world):
    """Hanna is the municipality's dialogue officer."""
    return world.person("hanna", Role.DIALOGUE, world.municipality)


def gps_photo(fmt: str = "JPEG") -> bytes:
    """A photo with GPS and camera EXIF, as a phone takes it."""
    image = Image.new("RGB", (64, 48), "orange")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel 12"  # Model
    exif[0x8825] = {1: "N", 2: (58.0, 16.0, 31.0), 3: "E", 4: (11.0, 26.0, 44.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif)
    return out.getvalue()


# --- the form's rules ------------------------------------------------------------------------------


def test_a_report_is_stored_with_its_point_area_and_a_token_only_its_hash_kept(world):
    stored, token = report(email="kim@example.se")
    assert stored.area == world.hotspot
    assert stored.point.y == pytest.approx(HARBOUR["lat"])
    assert len(token) >= 32 and token not in stored.token_hash
    assert stored.token_hash == CitizenReport.hash_token(token)
    event = Event.objects.get(kind="report")
    assert event.audience == "dialogue"
    assert "kim@example.se" not in str(event.data) and event.data["has_email"] is True


@pytest.mark.parametrize(
    "text",
    ["Killen heter 19811218-9876 och står där", "Ring 070-123 45 67 om det"],
)
def test_personal_and_phone_numbers_are_refused_with_the_notes_explanation(world, text):
    with pytest.raises(Invalid) as refused:
        report(text=text)
    assert refused.value.field == "text"
    assert "personnummer" in refused.value.message or "telefonnummer" in refused.value.message
    assert not CitizenReport.objects.exists()


def test_a_report_needs_a_place_a_known_category_and_a_text(world):
    for bad in ({"lat": None, "lon": None}, {"category": "spam"}, {"text": "  "}, {"when": "tomorrow"}):
        with pytest.raises(Invalid):
            report(**bad)
    assert not CitizenReport.objects.exists()


def test_the_honeypot_stores_nothing_and_tells_nothing(world):
    assert report(honeypot="http://cheap.example") == (None, None)
    assert not CitizenReport.objects.exists() and not Event.objects.filter(kind="report").exists()


def test_one_address_may_send_five_an_hour_and_another_still_may(world, settings):
    settings.DIALOGUE_RATE_PER_HOUR = 5
    for _ in range(5):
        report(source="203.0.113.7")
    with pytest.raises(RateLimited):
        report(source="203.0.113.7")
    report(source="198.51.100.2")
    assert CitizenReport.objects.count() == 6
    assert "203.0.113.7" not in CitizenReport.objects.first().source_hash


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_photo_is_reencoded_without_location_or_camera(world, fmt, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("lampa.img", gps_photo(fmt))
    stored, _token = report(photo=upload)
    with Image.open(stored.photo.path) as image:
        assert image.format == "JPEG"
        assert not image.getexif() and "exif" not in image.info
        assert image.size == (64, 48)


def test_a_photo_over_five_megabytes_or_not_an_image_is_refused(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(TooLarge):
        report(photo=SimpleUploadedFile("big.jpg", b"\xff" * (5 * 1024 * 1024 + 1)))
    with pytest.raises(Invalid):
        report(photo=SimpleUploadedFile("x.gif", b"GIF89a" + b"\0" * 100))
    assert not CitizenReport.objects.exists() and not list(tmp_path.rglob("*.jpg"))


# --- the status link ------------------------------------------------------------------------------------


def test_the_status_link_shows_status_and_answer_to_its_holder_and_a_wrong_token_is_404(world):
    stored, token = report()
    services.report_answer(user=world.dana, report_id=stored.pk, answer="Vi byter lampan på tisdag.")
    page = Client().get(f"/tips/status/{token}/")
    assert page.status_code == 200
    assert "Vi byter lampan på tisdag." in page.content.decode() and "Besvarad" in page.content.decode()
    assert Client().get(f"/tips/status/{token[:-2]}xx/").status_code == 404
    assert Client().get("/tips/status/short/").status_code == 404


def test_the_reporter_gets_an_email_when_the_status_changes(world, django_capture_on_commit_callbacks):
    stored, _token = report(email="kim@example.se")
    with django_capture_on_commit_callbacks(execute=True):
        services.report_take(user=world.dana, report_id=stored.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_answer(user=world.dana, report_id=stored.pk, answer="Tack, vi tittar på det.")
    assert [m.to for m in mail.outbox] == [["kim@example.se"], ["kim@example.se"]]
    assert "Tack, vi tittar på det." in mail.outbox[1].body


def test_a_rejected_reporter_is_told_why(world, django_capture_on_commit_callbacks):
    stored, _token = report(email="kim@example.se")
    with django_capture_on_commit_callbacks(execute=True):
        services.report_reject(user=world.dana, report_id=stored.pk, reason="Handlar om en person")
    assert len(mail.outbox) == 1 and "Handlar om en person" in mail.outbox[0].body
    assert "Avslutad" in mail.outbox[0].body


def test_no_email_without_an_address(world, django_capture_on_commit_callbacks):
    stored, _token = report()
    with django_capture_on_commit_callbacks(execute=True):
        services.report_close(user=world.dana, report_id=stored.pk)
    assert mail.outbox == []


# --- moderation ---------------------------------------------------------------------------------------


MODERATES = {"dana": True, "hanna": True, "admin": True, "frida": False, "alice": False, "erik": False, "gustav": False}


@pytest.mark.parametrize("who", MODERATES)
def test_duty_dialogue_officers_and_admins_moderate_and_nobody_else(world, hanna, who):
    people = {"hanna": hanna, "admin": world.person("owner", Role.ADMIN, world.municipality)}
    user = people.get(who) or getattr(world, who)
    viewer = access.viewer_for(user)
    assert access.may_moderate_reports(viewer) is MODERATES[who]
    assert access.may_see(viewer, "dialogue") is MODERATES[who]
    stored, _token = report()
    if MODERATES[who]:
        services.report_take(user=user, report_id=stored.pk)
    else:
        with pytest.raises(Forbidden):
            services.report_take(user=user, report_id=stored.pk)
    client = Client()
    client.force_login(user)
    assert client.get("/jour/tips/").status_code == (200 if MODERATES[who] else 403)
    assert client.get("/jour/tips.json").status_code == (200 if MODERATES[who] else 403)


def test_the_public_never_sees_the_dialogue_audience(world):
    assert not access.may_see(access.ANONYMOUS, "dialogue")
    assert "dialogue" not in [str(a) for a in access.visible_audiences(access.ANONYMOUS)]


def test_every_read_of_the_queue_is_audited(world):
    report()
    client = Client()
    client.force_login(world.dana)
    client.get("/jour/tips/?category=lighting")
    client.get("/jour/tips.json")
    reads = AuditLog.objects.filter(action="dialogue_queue_read", user=world.dana)
    assert reads.count() == 2 and reads.last().detail["category"] == "lighting"


def test_a_taken_report_is_handled_only_by_its_taker(world, hanna):
    stored, _token = report()
    services.report_take(user=hanna, report_id=stored.pk)
    with pytest.raises(Conflict) as refused:
        services.report_publish(user=world.dana, report_id=stored.pk)
    assert "Hanna" in refused.value.message
    services.report_release(user=hanna, report_id=stored.pk)
    services.report_publish(user=world.dana, report_id=stored.pk)
    stored.refresh_from_db()
    assert stored.published and stored.taken_by == world.dana


@pytest.mark.django_db(transaction=True)
def test_two_moderators_taking_at_once_one_gets_it_the_other_a_conflict(world, hanna):
    stored, _token = report()
    barrier = threading.Barrier(2)
    outcome = {}

    def take(user):
        try:
            barrier.wait()
            services.report_take(user=user, report_id=stored.pk)
            outcome[user.username] = "took"
        except Conflict:
            outcome[user.username] = "conflict"
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in (world.dana, hanna)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["conflict", "took"]
    stored.refresh_from_db()
    assert outcome[stored.taken_by.username] == "took"


def test_publish_at_area_level_shows_the_area_centre_never_the_point_given(world):
    stored, _token = report()
    event = services.report_publish(user=world.dana, report_id=stored.pk, level="area")
    public = Event.objects.filter(kind="report_published").get()
    assert public.audience == "public" and event.kind == "report_changed"
    assert public.data["area"] == world.hotspot.pk
    assert (public.data["lat"], public.data["lon"]) == (58.28, 11.445)
    assert "text" not in public.data and "email" not in public.data


def test_publish_as_a_point_rounds_it_to_about_a_hundred_metres(world):
    stored, _token = report()
    services.report_publish(user=world.dana, report_id=stored.pk, level="point")
    public = Event.objects.get(kind="report_published").data
    assert (public["lat"], public["lon"]) == (58.276, 11.446)


def test_a_rejected_report_never_reaches_the_public_and_cannot_be_published(world):
    stored, token = report()
    services.report_reject(user=world.dana, report_id=stored.pk, reason="Handlar om en person")
    with pytest.raises(Conflict):
        services.report_publish(user=world.dana, report_id=stored.pk)
    assert not Event.objects.filter(kind="report_published").exists()
    assert "Handlar om en person" in Client().get(f"/tips/status/{token}/").content.decode()


def test_a_report_becomes_a_situation_note_through_the_note_service(world, hanna):
    stored, _token = report(category="gathering", text="Många unga vid kiosken")
    services.report_to_note(user=world.dana, report_id=stored.pk)
    note = SituationNote.objects.get()
    assert note.category == "gathering" and "Många unga vid kiosken" in note.text and note.area == world.hotspot
    other, _ = report()
    with pytest.raises(Forbidden):  # writing notes stays duty's (and field's on shift)
        services.report_to_note(user=hanna, report_id=other.pk)


def test_marking_a_hotspot_candidate_counts_for_its_area(world):
    stored, _token = report()
    services.report_mark_hotspot(user=world.dana, report_id=stored.pk)
    assert selectors.dialogue.hotspot_candidates() == {world.hotspot.pk: 1}


def test_moderation_over_http_answers_json_and_refuses_with_code(world, hanna):
    stored, _token = report()
    dana, hanna_client = Client(), Client()
    dana.force_login(world.dana)
    hanna_client.force_login(hanna)
    took = dana.post(f"/jour/tips/{stored.pk}/take/", "{}", content_type="application/json")
    assert took.status_code == 200 and took.json()["report"]["taken_by_name"] == "Dana"
    refused = hanna_client.post(f"/jour/tips/{stored.pk}/answer/", '{"answer": "Hej"}', content_type="application/json")
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"


# --- the public side -------------------------------------------------------------------------------------


SECRET_TEXT = "Hemlig text om lampan vid bryggan"


def test_the_public_json_and_map_carry_no_unpublished_text_email_or_exact_point(world):
    hidden, _ = report(text=SECRET_TEXT, email="kim@example.se")
    shown, _ = report(text="Mörkt vid " + "bryggan", email="lo@example.se")
    services.report_publish(user=world.dana, report_id=shown.pk, level="point")
    services.report_answer(user=world.dana, report_id=shown.pk, answer="Ny belysning i vår.")
    body = Client().get("/tips/publicerade.json").content.decode() + Client().get("/").content.decode()
    for secret in (SECRET_TEXT, "Mörkt vid bryggan", "kim@example.se", "lo@example.se", "58.2755", "11.4456"):
        assert secret not in body
    published = Client().get("/tips/publicerade.json").json()
    assert published["counts"] == [
        {"area": world.hotspot.pk, "area_name": "Hamnen", "category": "lighting", "count": 1}
    ]
    assert [r["answer"] for r in published["reports"]] == ["Ny belysning i vår."]
    assert hidden.pk not in [r["id"] for r in published["reports"]]


def test_the_public_replay_holds_no_report_text_email_or_exact_point(world):
    head = selectors.event_head()
    stored, _ = report(text=SECRET_TEXT, email="kim@example.se")
    services.report_publish(user=world.dana, report_id=stored.pk, level="point")
    replay = selectors.events_after(viewer=access.ANONYMOUS, after=head)
    assert [e.kind for e in replay.events] == ["report_published"]
    wire = str([e.data for e in replay.events])
    assert SECRET_TEXT not in wire and "kim@example.se" not in wire and "58.2755" not in wire


# --- the lägesbild and retention ----------------------------------------------------------------------------


def test_reports_by_area_and_category_for_local_dates(world):
    report()
    report(category="wish", lat=58.2, lon=11.2)
    rejected, _ = report()
    services.report_reject(user=world.dana, report_id=rejected.pk, reason="Dubblett")
    today = timezone.localdate()
    assert reports_by_area_category(start=today, end=today) == {world.hotspot.pk: {"lighting": 1}, None: {"wish": 1}}
    assert reports_by_area_category(start=today - timedelta(days=3), end=today - timedelta(days=1)) == {}
    assert reports_by_area_category(start=date(2020, 1, 1), end=today) != {}


def test_retention_deletes_old_reports_photos_and_emails_and_keeps_published_aggregates(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DIALOGUE_RETENTION_DAYS = 30
    old, old_token = report(email="kim@example.se", photo=SimpleUploadedFile("a.jpg", gps_photo()))
    old_published, _ = report(email="lo@example.se", photo=SimpleUploadedFile("b.jpg", gps_photo()))
    services.report_publish(user=world.dana, report_id=old_published.pk)
    services.report_answer(user=world.dana, report_id=old_published.pk, answer="Åtgärdat.")
    fresh, _ = report()
    CitizenReport.objects.filter(pk__in=[old.pk, old_published.pk]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert len(list(tmp_path.rglob("*.jpg"))) == 2

    services.positions_purge()  # the daily purge runs the dialogue's too

    assert not CitizenReport.objects.filter(pk=old.pk).exists()
    kept = CitizenReport.objects.get(pk=old_published.pk)
    assert (kept.text, kept.email, kept.photo.name, kept.point, kept.token_hash) == ("", "", "", None, None)
    assert kept.answer == "Åtgärdat." and kept.published
    assert list(tmp_path.rglob("*.jpg")) == []
    assert CitizenReport.objects.filter(pk=fresh.pk).exists()
    assert not Event.objects.filter(kind__in=["report", "report_changed"], data__id__in=[old.pk, old_published.pk])
    assert Client().get(f"/tips/status/{old_token}/").status_code == 404
    assert Client().get("/tips/publicerade.json").json()["counts"][0]["count"] == 1


# --- the form over HTTP ----------------------------------------------------------------------------------


def test_the_form_posts_a_report_and_shows_the_status_link(world):
    client = Client(REMOTE_ADDR="192.0.2.9")
    assert "112" in client.get("/tips/").content.decode()
    answer = client.post("/tips/", {"category": "unsafe", "when": "evenings", "text": "Mörk gångtunnel", **HARBOUR})
    assert answer.status_code == 200
    stored = CitizenReport.objects.get()
    link = answer.context["token"]
    assert f"/tips/status/{link}/" in answer.content.decode()
    assert stored.when == "evenings" and stored.source_hash


def test_the_form_shows_the_screening_explanation_and_keeps_nothing(world):
    answer = Client().post("/tips/", {"category": "unsafe", "when": "now", "text": "Ring 0701234567", **HARBOUR})
    assert "telefonnummer" in answer.content.decode()
    assert not CitizenReport.objects.exists()


def test_the_photo_is_shown_to_moderators_only(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    stored, _ = report(photo=SimpleUploadedFile("a.jpg", gps_photo()))
    assert Client().get(f"/jour/tips/{stored.pk}/foto/").status_code == 302  # to the login page
    frida = Client()
    frida.force_login(world.frida)
    assert frida.get(f"/jour/tips/{stored.pk}/foto/").status_code == 403
    dana = Client()
    dana.force_login(world.dana)
    photo = dana.get(f"/jour/tips/{stored.pk}/foto/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"


def test_the_form_rate_limits_by_address_and_a_forged_forwarded_for_does_not_help(world, settings):
    settings.DIALOGUE_RATE_PER_HOUR = 2
    settings.SECURE_PROXY_SSL_HEADER = None  # not behind the proxy: X-Forwarded-For is the client's own
    sent = {"category": "unsafe", "when": "now", "text": "Mörk gångtunnel", **HARBOUR}
    answers = [
        Client(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").post("/tips/", sent) for i in range(3)
    ]
    assert [a.context.get("token") is not None for a in answers] == [True, True, False]
    assert "senaste timmen" in answers[2].content.decode()
    assert CitizenReport.objects.count() == 2


def test_behind_the_proxy_the_forwarded_address_is_the_sender(world, settings):
    settings.DIALOGUE_RATE_PER_HOUR = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    sent = {"category": "unsafe", "when": "now", "text": "Mörk gångtunnel", **HARBOUR}
    for address in ("198.51.100.1", "198.51.100.2"):
        Client(REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR=address).post("/tips/", sent)
    assert CitizenReport.objects.count() == 2


def test_the_honeypot_over_http_thanks_without_a_link_and_stores_nothing(world):
    sent = {"category": "unsafe", "when": "now", "text": "Billiga klockor", "website": "spam.example", **HARBOUR}
    answer = Client().post("/tips/", sent)
    assert answer.status_code == 200 and "Tack" in answer.content.decode()
    assert "/tips/status/" not in answer.content.decode() and not CitizenReport.objects.exists()


def test_anonymous_visitors_never_reach_the_queue_or_its_actions(world):
    stored, _ = report()
    anonymous = Client()
    assert anonymous.get("/jour/tips/").status_code == 302
    assert anonymous.get("/jour/tips.json").status_code == 401
    assert anonymous.post(f"/jour/tips/{stored.pk}/take/", "{}", content_type="application/json").status_code == 401
    assert not access.may_moderate_reports(access.ANONYMOUS)
    with pytest.raises(Forbidden):
        services.report_take(user=None, report_id=stored.pk)


def test_the_trend_sets_a_period_against_the_one_before(world):
    report()
    earlier, _ = report()
    CitizenReport.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=8))
    report(category="wish")
    today = timezone.localdate()
    trend = reports_trend(start=today - timedelta(days=6), end=today)
    assert trend == {world.hotspot.pk: {"lighting": (1, 1), "wish": (1, 0)}}


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_from_one_address_count_as_two(world, settings):
    settings.DIALOGUE_RATE_PER_HOUR = 1
    barrier = threading.Barrier(2)
    outcome = []

    def send():
        try:
            barrier.wait()
            report(source="203.0.113.7")
            outcome.append("stored")
        except RateLimited:
            outcome.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome) == ["refused", "stored"]
    assert CitizenReport.objects.count() == 1
