"""Django admin for the system owner: people and teams (staff), areas, places and activities (places)."""

from coordination.admin import places, staff

__all__ = ["places", "staff"]
