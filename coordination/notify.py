"""The second contact of an alarm nobody acknowledged: e-mail through Django's backend and an SMS hook.

Where it goes is a setting (ALERT_NOTIFY_EMAILS, ALERT_NOTIFY_SMS); the SMS hook is any class
named by ALERT_SMS_BACKEND with a `send(*, to, text)` method (ConsoleSms in development, like
Django's console e-mail backend). The message says that an alarm waits and since when, never its
text or position: a mailbox or a phone is not the place for them, the duty map is. Nothing here
logs the message either.
"""

import logging
import sys
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from coordination.models import Alert

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, to: list[str], text: str) -> None:
        """Send `text` to each number in `to`; raise when it could not."""


class ConsoleSms:
    """Development and tests: the message on standard output instead of a phone."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to: list[str], text: str) -> None:
        self.stream.write(f"SMS to {', '.join(to)}:\n{text}\n")
        self.stream.flush()


def sms_backend() -> SmsBackend:
    return import_string(settings.ALERT_SMS_BACKEND)()


def message(alert: Alert) -> tuple[str, str]:
    """Subject and body: which team's alarm waits, since when. No text, no position."""
    team = alert.team.name if alert.team_id else _("utan team")
    subject = _("Närvaro: larm utan kvittens (%(team)s)") % {"team": team}
    body = _(
        "Ett larm från %(team)s har inte kvitterats sedan %(time)s. "
        "Öppna jourkartan i Närvaro och kontakta jouren. (Larm %(id)s)"
    ) % {"team": team, "time": timezone.localtime(alert.raised_at).strftime("%H:%M"), "id": alert.pk}
    return subject, body


def second_contact(alert: Alert) -> dict:
    """Tell the second contact; return what happened per channel ("sent", "failed", "none"). Never raises."""
    subject, body = message(alert)
    result = {}
    emails = list(settings.ALERT_NOTIFY_EMAILS)
    result["email"] = _attempt("e-mail", alert, emails, lambda: send_mail(subject, body, None, emails))
    numbers = list(settings.ALERT_NOTIFY_SMS)
    result["sms"] = _attempt("sms", alert, numbers, lambda: sms_backend().send(to=numbers, text=body))
    return result


def _attempt(channel: str, alert: Alert, recipients: list[str], send) -> str:
    if not recipients:
        return "none"
    try:
        send()
    except Exception as exc:  # noqa: BLE001 - the duty screens still show the alarm; say so in the log
        # The type only: a mail server's error may quote the message.
        log.error("alert %s: %s to the second contact failed: %s", alert.pk, channel, type(exc).__qualname__)
        return "failed"
    log.info("alert %s: %s sent to %d second contact(s)", alert.pk, channel, len(recipients))
    return "sent"
