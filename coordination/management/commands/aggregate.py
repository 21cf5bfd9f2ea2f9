"""`manage.py aggregate [--from DATE --to DATE] [--rebuild]`: sum finished days for the EST situation picture now.

The worker's `presence` job does the same every PRESENCE_EVERY_S for days with raw rows; this fills a range
by hand. A day is summed once; --rebuild recounts days whose raw rows no purge can have touched yet.
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coordination.models import NoteHour, PositionReport, SituationNote
from coordination.services import aggregate_days, presence_finished_days


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Store presence per area and hour, and notes per area and hour, of finished days (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", type=_date, help="first local day (default: the oldest raw row)")
        parser.add_argument("--to", dest="end", type=_date, help="last local day (default: yesterday)")
        parser.add_argument("--rebuild", action="store_true", help="recount days summed already, where still possible")

    def handle(self, *args, start: date | None, end: date | None, rebuild: bool, **options) -> None:
        if start is None and end is None and not rebuild:
            presence_finished_days()
            self.stdout.write("Summed every finished day with raw positions or notes.")
            return
        end = end or timezone.localdate() - timedelta(days=1)
        if start is None:
            firsts = [
                PositionReport.objects.order_by("recorded_at").values_list("recorded_at", flat=True).first(),
                SituationNote.objects.order_by("created_at").values_list("created_at", flat=True).first(),
            ]
            firsts = [timezone.localdate(at) for at in firsts if at is not None]
            start = min(firsts, default=end)
        if end < start:
            raise CommandError(f"--to {end} is before --from {start}.")
        days = aggregate_days(start=start, end=end, rebuild=rebuild)
        stored = NoteHour.objects.filter(day__gte=start, day__lte=end).count()
        self.stdout.write(f"Summed {days} day(s) from {start} to {end}; {stored} note-hour rows in the range.")
