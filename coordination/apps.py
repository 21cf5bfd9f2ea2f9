from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = _("Samordning")

    def ready(self) -> None:
        # Audit sign-ins, failures and lockouts (coordination/account_signals.py).
        from coordination import account_signals  # noqa: F401
