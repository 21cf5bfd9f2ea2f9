"""Template tags of the account pages: the tracker start/stop links on the field page."""

from django import template

from coordination import pairing
from coordination.models import DeviceToken

register = template.Library()


@register.simple_tag(takes_context=True)
def tracker_links(context) -> list[dict]:
    """Start and stop links for each app the signed-in person has paired (and not revoked)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    apps = set(DeviceToken.objects.filter(user=user, revoked_at__isnull=True).values_list("app", flat=True))
    links = []
    if DeviceToken.App.TRACCAR in apps:
        links.append(
            {
                "app": DeviceToken.App.TRACCAR.label,
                "start": pairing.traccar_action_url("start"),
                "stop": pairing.traccar_action_url("stop"),
            }
        )
    if DeviceToken.App.OWNTRACKS in apps:
        links.append(
            {
                "app": DeviceToken.App.OWNTRACKS.label,
                "start": pairing.owntracks_monitoring_url(pairing.OWNTRACKS_MOVE),
                "stop": pairing.owntracks_monitoring_url(pairing.OWNTRACKS_QUIET),
            }
        )
    return links
