"""Organisations, teams, shifts and everything a shift produces, plus the ordered event log."""

import hashlib

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination import kinds

# One PostgreSQL sequence numbers every event and position: one total order per deployment.
SEQ_NAME = "narvaro_seq"


class NextSeq(models.Func):
    """nextval() of the deployment-wide sequence, as a database default."""

    template = f"nextval('{SEQ_NAME}')"
    output_field = models.BigIntegerField()

    def __init__(self):
        super().__init__()


class Role(models.TextChoices):
    FIELD = "field", _("Fältpersonal")
    DUTY = "duty", _("Jour")
    ASSOCIATION = "association", _("Förening")
    PARTNER = "partner", _("Partner")
    ADMIN = "admin", _("Administratör")


class Organization(models.Model):
    """The municipality, an association, a volunteer group or the police."""

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Kommun")
        ASSOCIATION = "association", _("Förening")
        VOLUNTEER = "volunteer", _("Volontärgrupp")
        POLICE = "police", _("Polis")

    name = models.CharField(_("namn"), max_length=120, unique=True)
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user holds a role in an organisation; one person may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("roll"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = _("medlemskap")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.organization}"


class Team(models.Model):
    """A field team that goes out together; its members share one shift."""

    name = models.CharField(_("namn"), max_length=80, unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    # Two letters shown on maps and sent to OwnTracks as `tid`.
    short = models.CharField(_("kortnamn"), max_length=2, blank=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("team")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
    """A need-support alert from a team: raised, acknowledged, resolved."""

    class Status(models.TextChoices):
        RAISED = "raised", _("Larm")
        ACKNOWLEDGED = "acknowledged", _("Kvitterat")
        RESOLVED = "resolved", _("Avslutat")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="alerts")
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


class DeviceToken(models.Model):
    """A revocable token for a device that cannot use a browser session; only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens")
    name = models.CharField(_("namn"), max_length=80, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("enhetsnyckel")
        verbose_name_plural = _("enhetsnycklar")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class PresenceDay(models.Model):
    """Person-minutes of field presence per area and local day: what EST reports keep after raw tracks go.

    Counted in 5-minute slots: a person with at least one position inside the area in a slot
    counts five minutes. Holds no person, only totals.
    """

    area = models.ForeignKey("maps.Area", on_delete=models.CASCADE, related_name="presence_days")
    day = models.DateField()
    person_minutes = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("närvaro per dag")
        verbose_name_plural = _("närvaro per dag")
        constraints = [models.UniqueConstraint(fields=["area", "day"], name="presence_area_day_unique")]


class AuditLog(models.Model):
    """Who exported or looked through history, and what they asked for."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=60)
    detail = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("granskningslogg")
        verbose_name_plural = _("granskningslogg")
        ordering = ["-at"]
