"""Delete raw position tracks past POSITION_RETENTION_DAYS now (the worker's `purge` job: every PURGE_EVERY_S)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from coordination.services import positions_purge


class Command(BaseCommand):
    help = "Delete raw positions older than POSITION_RETENTION_DAYS."

    def handle(self, *args, **options) -> None:
        deleted = positions_purge()
        self.stdout.write(f"Deleted {deleted} positions older than {settings.POSITION_RETENTION_DAYS} days.")
