"""Every write: check access, write the row and its Event, publish after commit. One module a subject.

Callers (consumers, views, tracker endpoints, admin) pass what the person sent; these functions
own validation and access. Each returns the Event that was stored (or the original one, when a
device repeats a client id) and raises a ServiceError subclass when nothing was stored. Importing
this package registers every frame type a socket accepts (coordination.inbound).
"""

from coordination.services.activities import (
    activity_cancel,
    activity_close,
    activity_create,
    activity_open,
    activity_payload,
    activity_update,
)
from coordination.services.alerts import alert_acknowledge, alert_raise, alert_resolve
from coordination.services.audit import audit_record
from coordination.services.chat import chat_audience, chat_send
from coordination.services.common import area_at
from coordination.services.devices import device_token_issue, device_token_revoke, device_token_touch
from coordination.services.notes import note_acknowledge, note_create
from coordination.services.periodic import (
    coverage_refresh,
    field_positions_refresh,
    positions_purge,
    presence_aggregate,
)
from coordination.services.positions import PositionIn, PositionOut, position_record, positions_record
from coordination.services.shifts import shift_end, shift_start, shift_status_set

__all__ = [
    "PositionIn",
    "PositionOut",
    "activity_cancel",
    "activity_close",
    "activity_create",
    "activity_open",
    "activity_payload",
    "activity_update",
    "alert_acknowledge",
    "alert_raise",
    "alert_resolve",
    "area_at",
    "audit_record",
    "chat_audience",
    "chat_send",
    "coverage_refresh",
    "device_token_issue",
    "device_token_revoke",
    "device_token_touch",
    "field_positions_refresh",
    "note_acknowledge",
    "note_create",
    "position_record",
    "positions_purge",
    "positions_record",
    "presence_aggregate",
    "shift_end",
    "shift_start",
    "shift_status_set",
]
