"""`manage.py demo_code`: the current sign-in code of the demo accounts' documented authenticator secret."""

import base64

from django.core.management.base import BaseCommand
from django_otp.oath import totp

from coordination.management.commands.seed_demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current second-factor code of the demo accounts (jour, polis, admin) from seed_demo."

    def handle(self, *args, **options) -> None:
        # The demo secret only: real accounts' secrets are never printed.
        self.stdout.write(f"{totp(base64.b32decode(DEMO_TOTP_SECRET)):06d}")
