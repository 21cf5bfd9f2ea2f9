"""Citizen dialogue: a report from anyone, its moderation by duty and dialogue officers, its retention.

Nothing a member of the public sends reaches the public until a moderator publishes it, and then
only its category, area, a coarse point and the municipality's answer (kinds.REPORT_PUBLISHED).
A moderator "takes" a report before handling it; the row lock makes that hold between two at once.
"""

import hashlib
import io
import logging
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from coordination import access, kinds
from coordination.audience import DIALOGUE, PUBLIC
from coordination.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, TooLarge
from coordination.events import event_append
from coordination.logsafe import log_failure
from coordination.models import CitizenReport, Event, NoteCategory, ReportCategory, ReportWhen
from coordination.payloads import person_name
from coordination.selectors.dialogue import report_moderation_payload, report_public_payload
from coordination.services.common import area_at
from coordination.services.notes import note_create
from coordination.validation import clean_choice, clean_id, clean_text, point_from

__all__ = [
    "dialogue_purge",
    "report_answer",
    "report_close",
    "report_mark_hotspot",
    "report_publish",
    "report_reject",
    "report_release",
    "report_submit",
    "report_take",
    "report_to_note",
]

log = logging.getLogger(__name__)

REPORT_TEXT_MAX = 2000
ANSWER_TEXT_MAX = 2000
REASON_TEXT_MAX = 300
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_MAX_PIXELS = 40_000_000  # a small file may still decode to a huge image
PHOTO_MAX_SIDE = 2048  # stored at most this wide or high: enough to see a broken lamp
# A published point is rounded to this many decimals (≈ 110 m north–south, ≈ 60 m east–west here).
PUBLIC_DECIMALS = 3

NOTE_CATEGORY = {
    ReportCategory.LIGHTING: NoteCategory.UNSAFE_PLACE,
    ReportCategory.VEGETATION: NoteCategory.UNSAFE_PLACE,
    ReportCategory.LITTER: NoteCategory.VANDALISM,
    ReportCategory.GATHERING: NoteCategory.GATHERING,
    ReportCategory.UNSAFE: NoteCategory.UNSAFE_PLACE,
    ReportCategory.GOOD_PLACE: NoteCategory.POSITIVE,
    ReportCategory.WISH: NoteCategory.OTHER,
    ReportCategory.OTHER: NoteCategory.OTHER,
}


def source_hash(address: str) -> str:
    """The sender's address made unrecognisable (keyed with SECRET_KEY), for the rate limit only."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()


def clean_photo(upload) -> bytes:
    """The uploaded image re-encoded as JPEG without any metadata (location, camera); Invalid otherwise."""
    if upload.size > PHOTO_MAX_BYTES:
        raise TooLarge(_("Fotot får vara högst 5 MB."), field="photo")
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise TooLarge(_("Fotot får vara högst 5 MB."), field="photo")
    refused = Invalid(_("Fotot måste vara en JPEG-, PNG- eller WebP-bild."), field="photo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in PHOTO_FORMATS:
                raise refused
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise Invalid(_("Bilden är för stor."), field="photo")
            # Turned as the camera meant before the EXIF orientation goes with the rest of the metadata.
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "L"):
                flat = Image.new("RGB", image.size, "white")
                flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
                image = flat
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            # A new image from the pixels alone: nothing of the original's info (EXIF, XMP, ICC, comments) follows.
            clean = Image.new(image.mode, image.size)
            clean.paste(image)
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=85)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise refused from None


def report_submit(
    *,
    category,
    when=None,
    text="",
    lat=None,
    lon=None,
    email="",
    photo=None,
    honeypot: str = "",
    source: str = "",
    language: str = "sv",
) -> tuple[CitizenReport | None, str | None]:
    """Store a report from the public; return it and the token of its private status link.

    A filled honeypot (a field people never see) stores nothing and returns (None, None): the
    sender is told thanks like anyone, so a bot learns nothing. More than DIALOGUE_RATE_PER_HOUR
    reports an hour from one address are refused.
    """
    category = clean_choice(category, ReportCategory.values, field="category")
    when = clean_choice(when or ReportWhen.ALWAYS, ReportWhen.values, field="when")
    text = clean_text(text, field="text", max_length=REPORT_TEXT_MAX, required=True)
    point = point_from(lat, lon)
    if point is None:
        raise Invalid(_("Välj en plats på kartan."), field="lat")
    email = clean_text(email, field="email", max_length=254, phones_allowed=True)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Invalid(_("Ange en giltig e-postadress eller lämna fältet tomt."), field="email") from None
    if honeypot:
        return None, None
    photo_bytes = clean_photo(photo) if photo else None
    hashed = source_hash(source) if source else ""
    token = secrets.token_urlsafe(24)
    # The file first, under a name nobody can guess; removed again if the row is not stored.
    name = default_storage.save(f"tips/{uuid.uuid4().hex}.jpg", ContentFile(photo_bytes)) if photo_bytes else ""
    try:
        with transaction.atomic():
            if hashed:
                _rate_limit(hashed)
            report = CitizenReport.objects.create(
                point=point,
                area=area_at(point),
                category=category,
                when=when,
                text=text,
                email=email,
                photo=name,
                language=language if language in ("sv", "en") else "sv",
                source_hash=hashed,
                token_hash=CitizenReport.hash_token(token),
            )
            event_append(kind=kinds.REPORT, audience=DIALOGUE, data=report_moderation_payload(report))
    except BaseException:
        if name:
            default_storage.delete(name)
        raise
    return report, token


def _rate_limit(hashed: str) -> None:
    """Refuse a sender past DIALOGUE_RATE_PER_HOUR; a lock per sender makes two sends at once count as two."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"dialogue:{hashed}"])
    since = timezone.now() - timedelta(hours=1)
    if (
        CitizenReport.objects.filter(source_hash=hashed, created_at__gte=since).count()
        >= settings.DIALOGUE_RATE_PER_HOUR
    ):
        raise RateLimited(_("Du har skickat många rapporter den senaste timmen. Försök igen senare."))


def report_for_token(token: str) -> CitizenReport:
    """The report whose private status link holds `token`; NotFound for any other text."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise NotFound(_("Rapporten finns inte."))
    report = CitizenReport.objects.select_related("area").filter(token_hash=CitizenReport.hash_token(token)).first()
    if report is None:
        raise NotFound(_("Rapporten finns inte."))
    return report


# --- moderation ---------------------------------------------------------------------------------------


def _moderator(user) -> access.Viewer:
    viewer = access.viewer_for(user)
    if not access.may_moderate_reports(viewer):
        raise Forbidden(_("Bara jouren och dialoghandläggare hanterar rapporter."))
    return viewer


def _locked(user, report_id, *, take: bool = True) -> CitizenReport:
    """The report, locked for this transaction; taken by `user` if free; Conflict when someone else has it."""
    report_id = clean_id(report_id, field="report", message=_("report måste vara ett rapport-id."))
    report = (
        CitizenReport.objects.select_for_update(of=("self",))
        .select_related("area", "taken_by")
        .filter(pk=report_id, stripped_at__isnull=True)
        .first()
    )
    if report is None:
        raise NotFound(_("Rapporten finns inte."), field="report")
    if report.taken_by_id not in (None, user.pk):
        raise Conflict(_("Rapporten hanteras redan av %(name)s.") % {"name": person_name(report.taken_by)})
    if take and report.taken_by_id is None:
        report.taken_by, report.taken_at = user, timezone.now()
        if report.status == CitizenReport.Status.RECEIVED:
            report.status = CitizenReport.Status.HANDLING
    return report


def _changed(user, report: CitizenReport, *, old_status: str) -> Event:
    """Save the report, tell the moderators, tell the public when it is published, mail the reporter on a new status."""
    report.updated_at = timezone.now()
    report.save()
    event = event_append(
        kind=kinds.REPORT_CHANGED, audience=DIALOGUE, data=report_moderation_payload(report), author=user
    )
    if report.published:
        event_append(kind=kinds.REPORT_PUBLISHED, audience=PUBLIC, data=report_public_payload(report), author=user)
    if report.email and report.status != old_status:
        pk, status = report.pk, report.status
        transaction.on_commit(lambda: _mail_status(pk, status))
    return event


def _mail_status(report_id: int, status: str) -> None:
    """Tell the reporter their report's new status (and the answer); never raises."""
    report = CitizenReport.objects.filter(pk=report_id).first()
    if report is None or not report.email:
        return
    with translation.override(report.language):
        subject = _("Din rapport till kommunen: %(status)s") % {"status": report.get_status_display().lower()}
        body = [_("Status för din rapport: %(status)s.") % {"status": report.get_status_display()}]
        if report.rejected:
            body += ["", _("Rapporten publiceras inte."), report.reject_reason]
        if report.answer:
            body += ["", _("Kommunens svar:"), report.answer]
        body += ["", _("Du kan följa rapporten via länken du fick när du skickade den.")]
    try:
        send_mail(subject, "\n".join(body), None, [report.email])
    except Exception as exc:  # noqa: BLE001 - a mail server down must not undo a moderator's work
        log_failure(log, "status mail", exc)


def report_take(*, user, report_id) -> Event:
    """Take a report: from now on only `user` handles it (Conflict when someone else already has it)."""
    _moderator(user)
    with transaction.atomic():
        report = _locked(user, report_id)
        old = CitizenReport.objects.filter(pk=report.pk).values_list("status", flat=True).first()
        return _changed(user, report, old_status=old)


def report_release(*, user, report_id) -> Event:
    """Give a taken report back to the queue; its taker or an admin."""
    viewer = _moderator(user)
    with transaction.atomic():
        report_id = clean_id(report_id, field="report", message=_("report måste vara ett rapport-id."))
        report = CitizenReport.objects.select_for_update().filter(pk=report_id, stripped_at__isnull=True).first()
        if report is None:
            raise NotFound(_("Rapporten finns inte."), field="report")
        if report.taken_by_id not in (None, user.pk) and not viewer.is_admin:
            raise Conflict(_("Bara den som tagit rapporten kan lämna tillbaka den."))
        report.taken_by, report.taken_at = None, None
        return _changed(user, report, old_status=report.status)


def report_publish(*, user, report_id, level="area") -> Event:
    """Publish a report: at its area's centre (`area`) or at a point rounded to ≈ 100 m (`point`)."""
    _moderator(user)
    level = clean_choice(level, ["area", "point"], field="level")
    with transaction.atomic():
        report = _locked(user, report_id)
        old = report.status
        if report.rejected:
            raise Conflict(_("En avvisad rapport kan inte publiceras."))
        if level == "area" and report.area_id:
            centre = report.area.polygon.point_on_surface
            lat, lon = centre.y, centre.x
        else:
            lat, lon = report.point.y, report.point.x
        report.public_lat, report.public_lon = round(lat, PUBLIC_DECIMALS), round(lon, PUBLIC_DECIMALS)
        report.published, report.published_at = True, report.published_at or timezone.now()
        return _changed(user, report, old_status=old)


def report_reject(*, user, report_id, reason) -> Event:
    """Reject a report with a reason (shown to its reporter); it never reaches the public."""
    _moderator(user)
    reason = clean_text(reason, field="reason", max_length=REASON_TEXT_MAX, required=True)
    with transaction.atomic():
        report = _locked(user, report_id)
        old = report.status
        if report.published:
            raise Conflict(_("Rapporten är redan publicerad."))
        report.rejected, report.reject_reason = True, reason
        report.status = CitizenReport.Status.CLOSED
        return _changed(user, report, old_status=old)


def report_answer(*, user, report_id, answer) -> Event:
    """The municipality's answer: shown to the reporter, and on the public map when the report is published."""
    _moderator(user)
    answer = clean_text(answer, field="answer", max_length=ANSWER_TEXT_MAX, required=True)
    with transaction.atomic():
        report = _locked(user, report_id)
        old = report.status
        report.answer, report.answered_at = answer, timezone.now()
        report.status = CitizenReport.Status.ANSWERED
        return _changed(user, report, old_status=old)


def report_close(*, user, report_id) -> Event:
    """Close a report: handled, nothing more to do."""
    _moderator(user)
    with transaction.atomic():
        report = _locked(user, report_id)
        old = report.status
        report.status = CitizenReport.Status.CLOSED
        return _changed(user, report, old_status=old)


def report_to_note(*, user, report_id) -> Event:
    """Turn a report into a situation note (through note_create: duty only, as for any note)."""
    _moderator(user)
    with transaction.atomic():
        report = _locked(user, report_id)
        old = report.status
        if report.note_id:
            raise Conflict(_("Rapporten är redan en lägesnotering."))
        point = report.point
        note = note_create(
            user=user,
            category=NOTE_CATEGORY[report.category],
            text=_("Från medborgarrapport: %(text)s") % {"text": report.text},
            lat=point.y if point else None,
            lon=point.x if point else None,
        )
        report.note_id = note.data["id"]
        return _changed(user, report, old_status=old)


def report_mark_hotspot(*, user, report_id) -> Event:
    """Mark the report's area as a hotspot candidate for the lägesbild."""
    _moderator(user)
    with transaction.atomic():
        report = _locked(user, report_id)
        if report.area_id is None:
            raise Invalid(_("Rapporten ligger utanför alla områden."), field="report")
        report.hotspot_candidate = True
        return _changed(user, report, old_status=report.status)


# --- retention --------------------------------------------------------------------------------------------


def dialogue_purge(*, now: datetime | None = None) -> int:
    """Delete reports past DIALOGUE_RETENTION_DAYS with their photos and e-mail; return how many went.

    A published report is kept stripped (no text, e-mail, photo, exact point, token or sender
    hash): its category, area, coarse point and the answer are the public aggregate that stays.
    The moderators' events, which carry text and the point given, go too.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DIALOGUE_RETENTION_DAYS)
    old = CitizenReport.objects.filter(created_at__lt=cutoff, stripped_at__isnull=True)
    photos = [name for name in old.exclude(photo="").values_list("photo", flat=True)]
    ids = list(old.values_list("id", flat=True))
    with transaction.atomic():
        deleted, _ = CitizenReport.objects.filter(pk__in=ids, published=False).delete()
        stripped = CitizenReport.objects.filter(pk__in=ids, published=True).update(
            text="",
            email="",
            photo="",
            point=None,
            token_hash=None,
            source_hash="",
            reject_reason="",
            stripped_at=now,
        )
        Event.objects.filter(kind__in=[kinds.REPORT.name, kinds.REPORT_CHANGED.name], data__id__in=ids).delete()
    for name in photos:
        try:
            default_storage.delete(name)
        except OSError as exc:
            log_failure(log, "photo delete", exc)
    return deleted + stripped
