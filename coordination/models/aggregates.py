"""The totals the EST situation picture is made from, kept after raw positions and notes are purged.

Each holds counts and durations only: no person, no position, no text. `AggregatedDay` marks a
local day whose totals are complete; the purges delete raw rows of a day only once it is marked.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination import lagesbild


class AdultKind(models.TextChoices):
    """How presence is split: the kinds of adult in coordination.lagesbild.ADULT_KINDS."""

    FIELD = "field", _("Fältpersonal")
    YOUTH_CENTRE = "youth_centre", _("Fritidsgårdspersonal")
    NIGHT_WALKER = "night_walker", _("Nattvandrare")
    ASSOCIATION = "association", _("Föreningsledare")


assert tuple(AdultKind.values) == lagesbild.ADULT_KINDS


class PresenceHour(models.Model):
    """Person-minutes of adults out per area, local day, clock hour and adult kind.

    Counted in 5-minute slots: a person with at least one position inside the area in a slot counts
    five minutes. `area` empty: anywhere (the whole municipality, counted once however areas overlap).
    `hour` empty: a daily total kept from before hours were counted (migrated PresenceDay rows).
    """

    area = models.ForeignKey("maps.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hour = models.PositiveSmallIntegerField(null=True, blank=True)
    adult_kind = models.CharField(max_length=20, choices=AdultKind.choices)
    person_minutes = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("närvaro per timme")
        verbose_name_plural = _("närvaro per timme")
        constraints = [
            models.UniqueConstraint(
                fields=["area", "day", "hour", "adult_kind"], name="presence_hour_unique", nulls_distinct=False
            ),
        ]
        indexes = [models.Index(fields=["day"], name="presence_hour_day")]


class NoteHour(models.Model):
    """Situation notes per area (the most specific one, as on the note), local day, hour, category and severity.

    `uncovered`: of those, the notes made while no adult's position was inside that area within
    five minutes either side. `youth`: the sum of their approximate youth counts.
    """

    area = models.ForeignKey("maps.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20)
    severity = models.PositiveSmallIntegerField()
    notes = models.PositiveIntegerField()
    youth = models.PositiveIntegerField(default=0)
    uncovered = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("noteringar per timme")
        verbose_name_plural = _("noteringar per timme")
        constraints = [
            models.UniqueConstraint(
                fields=["area", "day", "hour", "category", "severity"], name="note_hour_unique", nulls_distinct=False
            ),
        ]
        indexes = [models.Index(fields=["day"], name="note_hour_day")]


class AggregatedDay(models.Model):
    """A local day whose presence and note totals are stored: raw rows of it may be purged from now on."""

    day = models.DateField(unique=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("summerad dag")
        verbose_name_plural = _("summerade dagar")


class LevelOverride(models.Model):
    """The EST group's level for an area in one ISO week, replacing the rule's, with its reason."""

    area = models.ForeignKey("maps.Area", on_delete=models.CASCADE, related_name="level_overrides")
    year = models.PositiveSmallIntegerField()
    week = models.PositiveSmallIntegerField()
    level = models.CharField(
        max_length=10, choices=[(level.value, lagesbild.LEVEL_LABELS[level]) for level in lagesbild.Level]
    )
    reason = models.CharField(max_length=300)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("nivå satt av EST")
        verbose_name_plural = _("nivåer satta av EST")
        constraints = [
            models.UniqueConstraint(fields=["area", "year", "week"], name="level_override_area_week"),
            models.CheckConstraint(condition=Q(week__gte=1, week__lte=53), name="level_override_week_range"),
        ]
