"""`manage.py device_token USERNAME [--name NAME]`: issue a device token and show its key once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coordination.services import device_token_issue


class Command(BaseCommand):
    help = "Issue a device token for a user (a phone tracker app, say); the key is printed only this once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the device is, e.g. 'Team 1 phone'.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate the account first.")
        token, key = device_token_issue(user=user, name=name)
        # The explanation goes to stderr so that `device_token falt1 > key.txt` captures the key alone.
        self.stderr.write(
            f"Device token {token.prefix}… for {username}; the key is not stored and cannot be shown again:",
            style_func=str,
        )
        self.stdout.write(key)
