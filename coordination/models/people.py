"""Organisations, the roles people hold in them, field teams and device tokens."""

import hashlib

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FIELD = "field", _("Fältpersonal")
    DUTY = "duty", _("Jour")
    ASSOCIATION = "association", _("Förening")
    PARTNER = "partner", _("Partner")
    ADMIN = "admin", _("Administratör")
    # The municipality's dialogue officer: moderates and answers reports from the public.
    DIALOGUE = "dialogue", _("Dialoghandläggare")


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
    # Which kind of adult its members count as in the EST picture (coordination.lagesbild.ADULT_KINDS);
    # empty: from the organisation (municipality: field staff, volunteers: night walkers, association:
    # association leaders). A municipality's youth-centre team sets "youth_centre" here.
    adult_kind = models.CharField(
        _("typ av vuxen"),
        max_length=20,
        blank=True,
        choices=[
            ("field", _("Fältpersonal")),
            ("youth_centre", _("Fritidsgårdspersonal")),
            ("night_walker", _("Nattvandrare")),
            ("association", _("Föreningsledare")),
        ],
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("team")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def presence_kind(self) -> str:
        """The adult kind its presence counts as: its own setting, else its organisation's."""
        return self.adult_kind or ADULT_KIND_BY_ORGANIZATION.get(self.organization.kind, "field")


# A team without its own adult kind counts as its organisation's kind of adult.
ADULT_KIND_BY_ORGANIZATION = {
    Organization.Kind.MUNICIPALITY: "field",
    Organization.Kind.VOLUNTEER: "night_walker",
    Organization.Kind.ASSOCIATION: "association",
    Organization.Kind.POLICE: "field",
}


class DeviceToken(models.Model):
    """A revocable token for a device that cannot use a browser session; only its hash is kept."""

    class App(models.TextChoices):
        TRACCAR = "traccar", "Traccar Client"
        OWNTRACKS = "owntracks", "OwnTracks"
        OTHER = "other", _("Annan (skript eller API)")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens")
    name = models.CharField(_("namn"), max_length=80, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    # Which app the token was paired with (its QR code); tokens from `manage.py device_token` are "other".
    app = models.CharField(_("app"), max_length=20, choices=App.choices, default=App.OTHER)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When the device last delivered a stored position (the time only: never where).
    last_position_at = models.DateTimeField(_("senaste position"), null=True, blank=True)

    class Meta:
        verbose_name = _("enhetsnyckel")
        verbose_name_plural = _("enhetsnycklar")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class Invitation(models.Model):
    """An admin invites a person by e-mail to a role in an organisation (and a team); used once.

    The link carries a signed, timestamped reference to this row (coordination.services.accounts),
    so no secret is stored here; it expires after INVITATION_MAX_AGE_DAYS.
    """

    email = models.EmailField(_("e-post"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("roll"), max_length=20, choices=Role.choices)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        verbose_name = _("inbjudan")
        verbose_name_plural = _("inbjudningar")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} – {self.get_role_display()} – {self.organization}"
