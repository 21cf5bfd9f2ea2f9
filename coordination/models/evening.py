"""A team's evening: its shift and everything the shift produces."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination.models.log import NextSeq
from coordination.models.people import Team


class Shift(models.Model):
    """A team's evening out: active while ended_at is empty."""

    class Status(models.TextChoices):
        ON_ROUND = "on_round", _("På runda")
        AT_PLACE = "at_place", _("På plats")
        IN_CONVERSATION = "in_conversation", _("I samtal")
        BREAK = "break", _("Paus")
        NEED_BACKUP = "need_backup", _("Behöver förstärkning")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="shifts")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    planned_areas = models.ManyToManyField("maps.Area", blank=True, related_name="shifts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ON_ROUND)

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("pass")
        ordering = ["-started_at"]
        constraints = [
            # A team is out at most once at a time.
            models.UniqueConstraint(fields=["team"], condition=Q(ended_at__isnull=True), name="one_active_shift"),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.ended_at is None


class PositionReport(models.Model):
    """One raw position from a device during a shift; deleted after the retention period."""

    seq = models.BigIntegerField(db_default=NextSeq(), unique=True, editable=False)
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="positions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    point = models.PointField(srid=4326)
    accuracy = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    client_id = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["shift", "-recorded_at"], name="position_shift_recent"),
            models.Index(fields=["received_at"], name="position_received"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="position_client_unique"),
        ]


class LatestPosition(models.Model):
    """The newest position of each person on shift: what maps and coverage read, one row per person.

    Deleted when the shift ends; the raw track stays in PositionReport until retention removes it.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+")
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="latest_positions")
    point = models.PointField(srid=4326)
    accuracy = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField()


class NoteCategory(models.TextChoices):
    """What EST situation pictures count."""

    GATHERING = "gathering", _("Samling av unga")
    CONFLICT = "conflict", _("Konflikt eller hot")
    VANDALISM = "vandalism", _("Skadegörelse")
    ALCOHOL = "alcohol", _("Alkohol")
    DRUGS = "drugs", _("Narkotika")
    VEHICLE = "vehicle", _("Moped/fordon")
    UNSAFE_PLACE = "unsafe_place", _("Otrygg plats")
    POSITIVE = "positive", _("Positivt möte")
    OTHER = "other", _("Övrigt")


class SituationNote(models.Model):
    """An observation about a place or situation, never about a named person."""

    class Severity(models.IntegerChoices):
        LOW = 1, _("Låg")
        MEDIUM = 2, _("Medel")
        HIGH = 3, _("Hög")

    class Status(models.TextChoices):
        OPEN = "open", _("Ny")
        ACKNOWLEDGED = "acknowledged", _("Kvitterad")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="notes")
    point = models.PointField(srid=4326, null=True, blank=True)
    area = models.ForeignKey("maps.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="notes")
    category = models.CharField(max_length=20, choices=NoteCategory.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.LOW)
    youth_count = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lägesnotering")
        verbose_name_plural = _("lägesnoteringar")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="note_created")]


class Alert(models.Model):
    """A call for help from a field member, on shift or not: raised, acknowledged, resolved.

    Unacknowledged for ALERT_ESCALATE_AFTER_S it escalates (`level` 1, then 2: a second contact).
    """

    class Status(models.TextChoices):
        RAISED = "raised", _("Larm")
        ACKNOWLEDGED = "acknowledged", _("Kvitterat")
        RESOLVED = "resolved", _("Avslutat")

    class Source(models.TextChoices):
        PAGE = "page", _("Fältsidan")
        TRACKER = "tracker", _("Spårningsapp (SOS)")
        API = "api", _("API")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The person's team (their shift's, when one runs); none for someone in no team.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    # An alarm raised off shift has no shift: a call for help never waits for one to start.
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PAGE)
    level = models.PositiveSmallIntegerField(default=0)  # escalation: 0 none, 1 every duty screen, 2 second contact
    escalated_at = models.DateTimeField(null=True, blank=True)
    point = models.PointField(srid=4326, null=True, blank=True)
    text = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RAISED)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("larm")
        verbose_name_plural = _("larm")
        ordering = ["-raised_at"]


class ChatMessage(models.Model):
    """A message to everyone on duty, to one team or to the teams in one area."""

    class Channel(models.TextChoices):
        EVERYONE = "everyone", _("Alla i tjänst")
        TEAM = "team", _("Team")
        AREA = "area", _("Område")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey("maps.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chattmeddelande")
        verbose_name_plural = _("chattmeddelanden")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(channel="everyone", team__isnull=True, area__isnull=True)
                    | Q(channel="team", team__isnull=False, area__isnull=True)
                    | Q(channel="area", team__isnull=True, area__isnull=False)
                ),
                name="chat_channel_target",
            )
        ]


class CheckIn(models.Model):
    """A team on shift says it is at a known place (the youth centre, the harbour)."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="checkins")
    place = models.ForeignKey("maps.Place", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("incheckning")
        verbose_name_plural = _("incheckningar")
        ordering = ["-created_at"]
