"""The audit log: who exported or read history, and what they asked for."""

from coordination.models import AuditLog

__all__ = ["audit_record"]


def audit_record(*, user, action: str, detail: dict) -> None:
    """Write who exported or read history, and what they asked for."""
    AuditLog.objects.create(user=user if user and user.is_authenticated else None, action=action, detail=detail)
