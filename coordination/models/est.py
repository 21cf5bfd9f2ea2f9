"""EST decisions: what the weekly meeting of municipality and police decides for the coming week."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination.models.people import Organization, Team


class EstDecision(models.Model):
    """Focus areas for evenings of one ISO week, at set hours, and who acts there; withdrawn, never deleted."""

    class Who(models.TextChoices):
        TEAM = "team", _("Fältteam")
        POLICE = "police", _("Polisen")
        ASSOCIATION = "association", _("Förening")

    iso_year = models.PositiveSmallIntegerField(_("år"))
    iso_week = models.PositiveSmallIntegerField(_("vecka"))
    areas = models.ManyToManyField("maps.Area", related_name="est_decisions", verbose_name=_("fokusområden"))
    # ISO weekday numbers minus one: 0 = Monday .. 6 = Sunday, ascending, no repeats.
    weekdays = ArrayField(models.PositiveSmallIntegerField(), verbose_name=_("kvällar"))
    start_time = models.TimeField(_("från"))
    end_time = models.TimeField(_("till"))
    who = models.CharField(_("vem agerar"), max_length=20, choices=Who.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="est_decisions")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="est_decisions"
    )
    note = models.TextField(_("anteckning"), max_length=1000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("EST-beslut")
        verbose_name_plural = _("EST-beslut")
        ordering = ["iso_year", "iso_week", "start_time", "pk"]
        indexes = [models.Index(fields=["iso_year", "iso_week"], name="est_decision_week")]
        constraints = [
            # An end before the start is the next morning's (windows()); only equal times mean nothing.
            models.CheckConstraint(condition=~Q(end_time=models.F("start_time")), name="est_decision_end_differs"),
            models.CheckConstraint(
                condition=Q(who="team", team__isnull=False) | ~Q(who="team"), name="est_decision_team_acts"
            ),
        ]

    def __str__(self) -> str:
        return f"v. {self.iso_week} {self.iso_year}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def days(self) -> list[date]:
        """The local dates of the decided evenings."""
        return [date.fromisocalendar(self.iso_year, self.iso_week, d + 1) for d in self.weekdays]

    def windows(self) -> list[tuple[datetime, datetime]]:
        """Each decided evening's hours as aware local datetimes, earliest first.

        An end at or before the start is the next morning's: Friday 21:00–01:00 ends Saturday 01:00.
        """
        zone = timezone.get_current_timezone()
        overnight = timedelta(days=1) if self.end_time <= self.start_time else timedelta(0)
        return [
            (
                datetime.combine(day, self.start_time, tzinfo=zone),
                datetime.combine(day + overnight, self.end_time, tzinfo=zone),
            )
            for day in self.days()
        ]

    def planned_hours(self) -> float:
        """Evenings × hours, as decided."""
        return sum((end - start) / timedelta(hours=1) for start, end in self.windows())


def week_start(iso_year: int, iso_week: int) -> date:
    """The Monday of an ISO week (ValueError when the week does not exist)."""
    return date.fromisocalendar(iso_year, iso_week, 1)
