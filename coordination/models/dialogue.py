"""Citizen dialogue: a place someone in town reports, the municipality's moderation and answer."""

import hashlib

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportCategory(models.TextChoices):
    LIGHTING = "lighting", _("Otrygg plats: belysning")
    VEGETATION = "vegetation", _("Otrygg plats: buskar och växtlighet")
    LITTER = "litter", _("Otrygg plats: skräp eller skadegörelse")
    GATHERING = "gathering", _("Unga samlas")
    UNSAFE = "unsafe", _("Känns otryggt")
    GOOD_PLACE = "good_place", _("En bra plats")
    WISH = "wish", _("Önskemål: aktivitet eller mötesplats")
    OTHER = "other", _("Annat")


class ReportWhen(models.TextChoices):
    NOW = "now", _("Just nu")
    EVENINGS = "evenings", _("Kvällar")
    WEEKENDS = "weekends", _("Helger")
    ALWAYS = "always", _("Alltid")


class CitizenReport(models.Model):
    """One report from the public; nothing of it is public until a moderator publishes it.

    `point` is where the reporter put it and is never shown outside moderation; a published
    report shows `public_lat`/`public_lon` (a rounded point or its area's centre) instead.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Mottagen")
        HANDLING = "handling", _("Hanteras")
        ANSWERED = "answered", _("Besvarad")
        CLOSED = "closed", _("Avslutad")

    point = models.PointField(srid=4326, null=True, blank=True)
    area = models.ForeignKey("maps.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.CharField(_("kategori"), max_length=20, choices=ReportCategory.choices)
    when = models.CharField(_("när"), max_length=10, choices=ReportWhen.choices, default=ReportWhen.ALWAYS)
    text = models.TextField(_("text"), blank=True)
    photo = models.FileField(_("foto"), upload_to="tips/", blank=True)
    email = models.EmailField(_("e-post"), blank=True)
    language = models.CharField(max_length=5, default="sv")
    # A hash of the sender's address with the secret key: enough to count sends per hour, never the address.
    source_hash = models.CharField(max_length=64, blank=True, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    published = models.BooleanField(_("publicerad"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    public_lat = models.FloatField(null=True, blank=True)
    public_lon = models.FloatField(null=True, blank=True)
    rejected = models.BooleanField(_("avvisad"), default=False)
    reject_reason = models.CharField(_("skäl"), max_length=300, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(_("svar"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    note = models.ForeignKey(
        "coordination.SituationNote", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hotspot_candidate = models.BooleanField(_("hotspotkandidat"), default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set when retention stripped a published report of text, e-mail, photo and exact point.
    stripped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("medborgarrapport")
        verbose_name_plural = _("medborgarrapporter")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
