"""The ordered event log, the totals kept for reports, and the audit log."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination import kinds

SEQ_NAME = "narvaro_seq"


class NextSeq(models.Func):
    """nextval() of the deployment-wide sequence, as a database default."""

    template = f"nextval('{SEQ_NAME}')"
    output_field = models.BigIntegerField()

    def __init__(self):
        super().__init__()


class Event(models.Model):
    """The ordered log of everything that was broadcast; clients replay from it by seq."""

    seq = models.BigIntegerField(primary_key=True, db_default=NextSeq(), editable=False)
    kind = models.CharField(max_length=30, choices=kinds.choices)
    # Who may see it: the text form of a coordination.audience.Audience ("staff", "chat.team.3").
    audience = models.CharField(max_length=40)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    client_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            # A device's retry with the same client id is recognised, never stored twice.
            models.UniqueConstraint(
                fields=["author", "client_id"], condition=Q(client_id__isnull=False), name="event_client_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "-seq"], name="event_kind_seq"),
            models.Index(fields=["audience", "seq"], name="event_audience_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"


class PresenceDay(models.Model):
    """Person-minutes of field presence per area and local day: the daily totals of PresenceHour.

    A database view (migration 0009) summing PresenceHour over hours and adult kinds, so there is one
    truth: the hourly table. Read-only; coordination.services.periodic writes PresenceHour.
    """

    id = models.BigIntegerField(primary_key=True)  # area id * 100000 + days since 2000-01-01, unique per row
    area = models.ForeignKey("maps.Area", on_delete=models.DO_NOTHING, related_name="+")
    day = models.DateField()
    person_minutes = models.PositiveIntegerField()

    class Meta:
        managed = False
        db_table = "coordination_presenceday_view"
        verbose_name = _("närvaro per dag")
        verbose_name_plural = _("närvaro per dag")


class AuditLog(models.Model):
    """Who exported or looked through history, and what they asked for; and every step of an alarm."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=60)
    detail = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("granskningslogg")
        verbose_name_plural = _("granskningslogg")
        ordering = ["-at"]
