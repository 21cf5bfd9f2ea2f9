"""alerts_escalate: an alarm nobody acknowledges escalates to every duty screen, then to a second contact."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from coordination import notify, services
from coordination.models import Alert, AuditLog, Event

pytestmark = pytest.mark.django_db

SENT: list[dict] = []


class RecordingSms:
    """An SMS hook that keeps what it was asked to send."""

    def send(self, *, to, text):
        SENT.append({"to": to, "text": text})


class BrokenSms:
    def send(self, *, to, text):
        raise ConnectionError(f"gateway refused {text}")


@pytest.fixture(autouse=True)
def contacts(settings):
    SENT.clear()
    settings.ALERT_ESCALATE_AFTER_S = 120
    settings.ALERT_NOTIFY_EMAILS = ["polisen@example.se"]
    settings.ALERT_NOTIFY_SMS = ["+46700000000"]
    settings.ALERT_SMS_BACKEND = "coordination.tests.test_alert_escalation.RecordingSms"


@pytest.fixture
def alert(world) -> Alert:
    services.alert_raise(user=world.charlie, text="Hot vid kiosken", lat=58.2731, lon=11.4372)
    return Alert.objects.get()


def after(alert: Alert, seconds: float):
    return alert.raised_at + timedelta(seconds=seconds)


def escalations() -> list[tuple[str, int]]:
    return list(Event.objects.filter(kind="alert_escalated").order_by("seq").values_list("audience", "data__level"))


def test_an_alarm_unacknowledged_for_the_set_time_escalates_to_level_1(world, alert, mailoutbox):
    assert services.alerts_escalate(now=after(alert, 119)) == 0
    assert services.alerts_escalate(now=after(alert, 121)) == 1

    alert.refresh_from_db()
    assert (alert.level, alert.status) == (1, "raised")
    assert escalations() == [("staff", 1)]  # the raiser hears it as their own (kinds.Own.AUTHOR)
    assert (mailoutbox, SENT) == ([], [])  # the second contact only at level 2


def test_at_twice_the_time_it_escalates_to_level_2_and_tells_the_second_contact(
    world, alert, mailoutbox, django_capture_on_commit_callbacks
):
    services.alerts_escalate(now=after(alert, 121))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_escalate(now=after(alert, 241)) == 1

    assert Alert.objects.get().level == 2
    assert escalations()[-1:] == [("staff", 2)]
    (mail,) = mailoutbox
    assert mail.to == ["polisen@example.se"]
    assert "Centrum" in mail.subject and str(alert.pk) in mail.body
    (sms,) = SENT
    assert sms["to"] == ["+46700000000"]
    # Never the alarm's text or position, in the mail or the SMS.
    for text in (mail.subject, mail.body, sms["text"]):
        assert "kiosken" not in text and "58.27" not in text and "11.43" not in text


def test_a_second_run_does_not_escalate_or_notify_twice(world, alert, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_escalate(now=after(alert, 300)) == 1
        assert services.alerts_escalate(now=after(alert, 300)) == 0
        assert services.alerts_escalate(now=after(alert, 900)) == 0
    assert escalations() == [("staff", 2)]  # straight to 2 after a long pause
    assert (len(mailoutbox), len(SENT)) == (1, 1)


@pytest.mark.parametrize("handled", ["alert_acknowledge", "alert_resolve"])
def test_an_acknowledged_or_resolved_alarm_never_escalates(world, alert, handled):
    getattr(services, handled)(user=world.dana, alert_id=alert.pk)
    assert services.alerts_escalate(now=after(alert, 1000)) == 0
    assert escalations() == []


def test_every_escalation_and_notification_is_in_the_audit_log(
    world, alert, mailoutbox, django_capture_on_commit_callbacks
):
    services.alerts_escalate(now=after(alert, 121))
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_escalate(now=after(alert, 241))
    rows = list(AuditLog.objects.exclude(action="alert.raise").order_by("pk").values_list("user", "action", "detail"))
    assert rows == [
        (None, "alert.escalate", {"alert": alert.pk, "level": 1}),
        (None, "alert.escalate", {"alert": alert.pk, "level": 2}),
        (None, "alert.notify", {"alert": alert.pk, "email": "sent", "sms": "sent"}),
    ]


def test_a_failing_sms_gateway_is_audited_and_logged_without_the_message(
    world, alert, settings, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    settings.ALERT_SMS_BACKEND = "coordination.tests.test_alert_escalation.BrokenSms"
    settings.ALERT_NOTIFY_EMAILS = []
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_escalate(now=after(alert, 241))
    assert Alert.objects.get().level == 2  # the escalation stands
    assert AuditLog.objects.get(action="alert.notify").detail == {"alert": alert.pk, "email": "none", "sms": "failed"}
    assert "ConnectionError" in caplog.text
    assert "kontakta jouren" not in caplog.text and "Centrum" not in caplog.text


def test_the_console_sms_prints_the_message(capsys, world, alert):
    notify.ConsoleSms().send(to=["+4670"], text=notify.message(alert)[1])
    assert "SMS to +4670" in capsys.readouterr().out


def test_the_worker_runs_the_escalation(world, alert, settings):
    Alert.objects.filter(pk=alert.pk).update(raised_at=timezone.now() - timedelta(seconds=130))
    call_command("worker", "--once")
    assert Alert.objects.get().level == 1
