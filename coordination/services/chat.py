"""Chat: messages to everyone on duty, a team or the teams in an area."""

from django.utils.translation import gettext as _

from coordination import access, kinds, payloads
from coordination.audience import Audience, Scope
from coordination.errors import Forbidden, Invalid, NotFound
from coordination.events import event_append, written_once
from coordination.inbound import Socket, inbound
from coordination.models import ChatMessage, Event, Team
from coordination.services.common import CHAT_TEXT_MAX
from coordination.validation import clean_client_id, clean_text
from maps.models import Area

__all__ = ["chat_audience", "chat_send"]


def chat_audience(channel) -> Audience:
    """The audience of a channel name (everyone, team.<id>, area.<id>); Invalid for anything else."""
    try:
        return Audience.of_channel(channel)
    except ValueError:
        raise Invalid(_("channel måste vara everyone, team.<id> eller area.<id>."), field="channel") from None


@inbound("chat", sockets={Socket.FIELD, Socket.OPS}, fields=("channel", "text"))
def chat_send(*, user, client_id: str | None = None, channel, text) -> Event:
    """Send a chat message to everyone on duty, a team or an area."""
    client_id = clean_client_id(client_id)
    audience = chat_audience(channel)
    text = clean_text(text, field="text", max_length=CHAT_TEXT_MAX, required=True)
    team_id = audience.target if audience.scope == Scope.CHAT_TEAM else None
    area_id = audience.target if audience.scope == Scope.CHAT_AREA else None
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        raise NotFound(_("Teamet finns inte."), field="channel")
    if area_id is not None and not Area.objects.filter(pk=area_id).exists():
        raise NotFound(_("Området finns inte."), field="channel")
    if not access.may_chat(access.viewer_for(user), audience):
        raise Forbidden(_("Du kan inte skriva i den kanalen."))

    def write() -> Event:
        message = ChatMessage.objects.create(
            author=user, channel=audience.chat_kind, team_id=team_id, area_id=area_id, text=text
        )
        return event_append(
            kind=kinds.CHAT, audience=audience, data=payloads.chat_payload(message), author=user, client_id=client_id
        )

    return written_once(author=user, client_id=client_id, write=write)
