"""What several services share: the area at a point, the writer's active shift, text limits."""

from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _

from coordination import access
from coordination.errors import Forbidden
from coordination.models import Shift
from maps.models import Area

__all__ = ["area_at"]

NOTE_TEXT_MAX = 1000
CHAT_TEXT_MAX = 1000
ALERT_TEXT_MAX = 500


def area_at(point: Point | None) -> Area | None:
    """The most specific area holding `point`: a hotspot before a district before the municipality."""
    if point is None:
        return None
    order = {Area.Kind.HOTSPOT: 0, Area.Kind.DISTRICT: 1, Area.Kind.MUNICIPALITY: 2}
    areas = list(Area.objects.filter(polygon__intersects=point).only("id", "kind", "priority"))
    return min(areas, key=lambda a: (order.get(a.kind, 3), -a.priority), default=None)


def active_shift_for(viewer: access.Viewer) -> Shift:
    """The shift of the viewer's team that is out now (the latest started, if several), locked.

    Read again inside the writer's transaction: the shift may have ended since the viewer was read.
    """
    shift = (
        Shift.objects.select_for_update(of=("self",))
        .filter(pk__in=viewer.active_shift_ids, ended_at__isnull=True)
        .select_related("team")
        .order_by("-started_at")
        .first()
    )
    if shift is None:
        raise Forbidden(_("Du har inget pågående pass. Starta passet först."))
    return shift
