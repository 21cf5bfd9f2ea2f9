"""The audit log: who exported or read history, and what they asked for; every step of an alarm."""

from coordination.models import AuditLog

__all__ = ["audit_record"]


def audit_record(*, user, action: str, detail: dict) -> None:
    """Write who did what (`user` None for the system, e.g. an escalation) and the details that matter."""
    AuditLog.objects.create(user=user if user and user.is_authenticated else None, action=action, detail=detail)
