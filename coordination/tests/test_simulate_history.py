"""`manage.py simulate_history`: six weeks of demo evenings a newcomer's picture is made from, once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from coordination.models import AggregatedDay, Alert, EstDecision, Event, PositionReport, PresenceHour, SituationNote
from coordination.selectors.lagesbild import period_for_week, picture

pytestmark = pytest.mark.django_db(transaction=False)


def test_six_weeks_of_history_have_notes_presence_and_alerts_every_week_and_a_rerun_adds_nothing():
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()

    call_command("simulate_history", "--weeks", "6", stdout=out)

    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    weeks = [(monday - timedelta(weeks=n)).isocalendar()[:2] for n in range(6, 0, -1)]
    pictures = [picture(period=period_for_week(year, week)) for year, week in weeks]
    for seen in pictures:
        assert sum(map(sum, seen.notes_matrix)) > 0, seen.period.label
        assert seen.presence_trend.current > 0, seen.period.label
        assert {kind for a in seen.areas for kind, m in a.presence_minutes.items() if m} == {
            "field",
            "youth_centre",
            "night_walker",
            "association",
        }
    # Fridays and Saturdays carry more notes than Mondays and Tuesdays over the six weeks.
    by_weekday = [sum(sum(seen.notes_matrix[d]) for seen in pictures) for d in range(7)]
    assert by_weekday[4] + by_weekday[5] > by_weekday[0] + by_weekday[1]
    assert pictures[-1].presence_trend.previous_mean > 0  # the last week has four weeks before it
    assert any(a.activities_held for a in pictures[-1].areas)
    assert Alert.objects.filter(status="resolved", acknowledged_at__isnull=False).exists()
    assert AggregatedDay.objects.filter(day=monday - timedelta(weeks=6)).exists()
    # Each week's EST meeting decided, through the service, and the next week's picture follows it up.
    assert EstDecision.objects.count() == 7 and Event.objects.filter(kind="decision").count() == 7
    assert all(len(seen.followups) == 1 and seen.followups[0].adult_hours_present >= 0 for seen in pictures[1:])

    counts = (PositionReport.objects.count(), SituationNote.objects.count(), Alert.objects.count())
    decisions = EstDecision.objects.count()
    presence = set(PresenceHour.objects.values_list("area_id", "day", "hour", "adult_kind", "person_minutes"))
    call_command("simulate_history", "--weeks", "6", stdout=StringIO())
    assert (PositionReport.objects.count(), SituationNote.objects.count(), Alert.objects.count()) == counts
    assert set(PresenceHour.objects.values_list("area_id", "day", "hour", "adult_kind", "person_minutes")) == presence
    assert EstDecision.objects.count() == decisions
    assert picture(period=period_for_week(*weeks[-1])) == pictures[-1]
