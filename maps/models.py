"""Areas, places and activities: the map that field teams, duty and the public share."""

from datetime import datetime

from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """A named polygon: the municipality, a district or a hotspot."""

    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Kommun")
        DISTRICT = "district", _("Stadsdel")
        HOTSPOT = "hotspot", _("Hotspot")

    name = models.CharField(_("namn"), max_length=120)
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices, default=Kind.DISTRICT)
    # Higher means more important to cover tonight (EST picks hotspots weekly).
    priority = models.PositiveSmallIntegerField(_("prioritet"), default=0)
    polygon = models.MultiPolygonField(_("område"), srid=4326)

    class Meta:
        verbose_name = _("område")
        verbose_name_plural = _("områden")
        ordering = ["-priority", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "kind"], name="area_name_kind_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Place(models.Model):
    """A point people know by name: youth centre, sports hall, harbour, bus station."""

    class Kind(models.TextChoices):
        YOUTH_CENTRE = "youth_centre", _("Fritidsgård")
        SPORTS_HALL = "sports_hall", _("Idrottshall")
        HARBOUR = "harbour", _("Hamn")
        BUS_STATION = "bus_station", _("Busstation")
        SCHOOL_YARD = "school_yard", _("Skolgård")
        CHURCH = "church", _("Kyrka")
        OTHER = "other", _("Annan plats")

    name = models.CharField(_("namn"), max_length=120, unique=True)
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    point = models.PointField(_("position"), srid=4326)
    owner = models.ForeignKey(
        "coordination.Organization",
        verbose_name=_("ägare"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="places",
    )
    address = models.CharField(_("adress"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("plats")
        verbose_name_plural = _("platser")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ActivityQuerySet(models.QuerySet):
    def not_over(self, at: datetime) -> "ActivityQuerySet":
        """Activities whose only occurrence ends after `at`, or weekly ones still repeating then."""
        return self.filter(
            Q(ends_at__gt=at)
            | Q(weekly=True, repeat_until__isnull=True)
            | Q(weekly=True, repeat_until__gte=timezone.localdate(at))
        )


class Activity(models.Model):
    """An organisation's announced activity at a place or a point, once or weekly."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planerad")
        OPEN = "open", _("Öppen")
        CLOSED = "closed", _("Stängd")
        CANCELLED = "cancelled", _("Inställd")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Öppen för alla")
        INTERNAL = "internal", _("Intern")

    organization = models.ForeignKey(
        "coordination.Organization",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="activities",
    )
    title = models.CharField(_("rubrik"), max_length=120)
    description = models.TextField(_("beskrivning"), blank=True, max_length=2000)
    place = models.ForeignKey(
        Place, verbose_name=_("plats"), null=True, blank=True, on_delete=models.PROTECT, related_name="activities"
    )
    point = models.PointField(_("position"), srid=4326, null=True, blank=True)
    starts_at = models.DateTimeField(_("börjar"))
    ends_at = models.DateTimeField(_("slutar"))
    # Weekly recurrence: the first occurrence is starts_at..ends_at, then every 7 days until `repeat_until`.
    weekly = models.BooleanField(_("varje vecka"), default=False)
    repeat_until = models.DateField(_("upprepas till"), null=True, blank=True)
    visibility = models.CharField(_("synlighet"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    age_group = models.CharField(_("åldersgrupp"), max_length=40, blank=True)
    contact = models.CharField(_("kontakt"), max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("aktivitet")
        verbose_name_plural = _("aktiviteter")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"),
            models.CheckConstraint(
                condition=Q(place__isnull=False) | Q(point__isnull=False), name="activity_has_location"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def location(self):
        """The point to show: the activity's own point, else its place's."""
        return self.point or (self.place.point if self.place_id else None)


class ActivityOccasion(models.Model):
    """One evening of an activity set apart from its series: opened, closed for the night or cancelled.

    No row means the evening goes as the series says (maps.occasions reads both).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Öppen")
        CLOSED = "closed", _("Stängd")
        CANCELLED = "cancelled", _("Inställd")

    activity = models.ForeignKey(
        Activity, verbose_name=_("aktivitet"), on_delete=models.CASCADE, related_name="occasions"
    )
    # The local (Europe/Stockholm) date the occasion starts on.
    date = models.DateField(_("datum"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tillfälle")
        verbose_name_plural = _("tillfällen")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["activity", "date"], name="activity_occasion_unique")]

    def __str__(self) -> str:
        return f"{self.activity} {self.date:%Y-%m-%d} ({self.get_status_display()})"
