"""chat_send: to everyone on duty, a team or an area; writing needs the right to read."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from coordination import services
from coordination.errors import Forbidden, Invalid, NotFound
from coordination.models import ChatMessage, Event, Shift


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hamnen_out(world) -> Shift:
    shift = Shift.objects.create(team=world.harbour_team, started_by=world.alice)
    shift.planned_areas.set([world.hotspot])
    return shift


def written() -> tuple[int, int]:
    return ChatMessage.objects.count(), Event.objects.count()


def channel_of(world, name: str) -> str:
    return {
        "everyone": "everyone",
        "team.H": f"team.{world.harbour_team.pk}",
        "team.C": f"team.{world.centre_team.pk}",
        "area.hot": f"area.{world.hotspot.pk}",
        "area.dist": f"area.{world.district.pk}",
    }[name]


def test_a_field_member_on_shift_writes_to_everyone_on_duty(world, hamnen_out):
    event = services.chat_send(user=world.alice, client_id="c1", channel="everyone", text="  Vi går mot hamnen  ")

    message = ChatMessage.objects.get()
    assert (message.author, message.channel, message.team, message.area, message.text) == (
        world.alice,
        "everyone",
        None,
        None,
        "Vi går mot hamnen",
    )
    assert Event.objects.get() == event
    assert (event.kind, event.audience, event.author, event.client_id) == ("chat", "chat.everyone", world.alice, "c1")
    assert event.data == {
        "id": message.pk,
        "channel": "everyone",
        "author": "Alice",
        "text": "Vi går mot hamnen",
        "created_at": timezone.localtime(message.created_at).isoformat(),
    }


def test_a_field_member_writes_to_their_team_also_off_shift(world):
    event = services.chat_send(user=world.bob, channel=channel_of(world, "team.H"), text="Samling 18.00")
    message = ChatMessage.objects.get()
    assert (message.channel, message.team, message.area) == ("team", world.harbour_team, None)
    assert (event.audience, event.data["channel"]) == (
        f"chat.team.{world.harbour_team.pk}",
        f"team.{world.harbour_team.pk}",
    )


def test_a_field_member_on_shift_writes_to_a_planned_area(world, hamnen_out):
    event = services.chat_send(user=world.alice, channel=channel_of(world, "area.hot"), text="Lugnt vid kajen")
    message = ChatMessage.objects.get()
    assert (message.channel, message.team, message.area) == ("area", None, world.hotspot)
    assert (event.audience, event.data["channel"]) == (f"chat.area.{world.hotspot.pk}", f"area.{world.hotspot.pk}")


def test_the_author_is_the_username_when_there_is_no_name(world):
    world.dana.first_name = ""
    world.dana.save()
    event = services.chat_send(user=world.dana, channel="everyone", text="Hej alla")
    assert event.data["author"] == "dana"


# Who may write where, while Hamnen is out with the hotspot planned and Centrum is not out.
WRITERS = [
    ("alice", "everyone", True),
    ("alice", "team.H", True),
    ("alice", "team.C", False),
    ("alice", "area.hot", True),
    ("alice", "area.dist", False),
    ("charlie", "everyone", False),
    ("charlie", "team.C", True),
    ("charlie", "team.H", False),
    ("charlie", "area.hot", False),
    ("dana", "everyone", True),
    ("dana", "team.H", True),
    ("dana", "team.C", True),
    ("dana", "area.hot", True),
    ("dana", "area.dist", True),
    ("frida", "everyone", False),
    ("frida", "team.H", False),
    ("frida", "area.hot", False),
    ("erik", "everyone", False),
    ("erik", "team.H", False),
    ("gustav", "everyone", False),
    ("gustav", "area.dist", False),
]


@pytest.mark.parametrize(("who", "channel", "allowed"), WRITERS)
def test_who_may_write_to_which_channel(world, hamnen_out, who, channel, allowed):
    send = {"user": getattr(world, who), "channel": channel_of(world, channel), "text": "Hej"}
    if allowed:
        services.chat_send(**send)
        assert written() == (1, 1)
    else:
        with pytest.raises(Forbidden) as refused:
            services.chat_send(**send)
        assert refused.value.code == "forbidden"
        assert written() == (0, 0)


def test_anonymous_may_not_chat(world, hamnen_out):
    with pytest.raises(Forbidden):
        services.chat_send(user=AnonymousUser(), channel="everyone", text="Hej")
    assert written() == (0, 0)


@pytest.mark.parametrize("channel", ["team.999999", "area.999999"])
def test_a_team_or_area_that_does_not_exist_is_not_found(world, channel):
    with pytest.raises(NotFound) as refused:
        services.chat_send(user=world.dana, channel=channel, text="Hej")
    assert (refused.value.code, refused.value.field) == ("not_found", "channel")
    assert written() == (0, 0)


@pytest.mark.parametrize(
    "channel",
    [
        "all",
        "Everyone",
        "everyone.1",
        "team",
        "team.",
        "team.x",
        "team.-1",
        "team.1²",
        "area.²",
        "squad.1",
        "team.1000000000000",
        None,
        5,
        ["everyone"],
    ],
)
def test_it_refuses_an_unknown_channel(world, channel):
    with pytest.raises(Invalid) as refused:
        services.chat_send(user=world.dana, channel=channel, text="Hej")
    assert (refused.value.code, refused.value.field) == ("invalid", "channel")
    assert written() == (0, 0)


@pytest.mark.parametrize("text", ["", "   ", None, 3, ["Hej"], "x" * 1001])
def test_it_refuses_empty_or_wrong_or_too_long_text(world, text):
    with pytest.raises(Invalid) as refused:
        services.chat_send(user=world.dana, channel="everyone", text=text)
    assert refused.value.field == "text"
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Killen heter 19811218-9876",
            "Texten innehåller ett personnummer. Skriv om platsen och situationen, aldrig om vem någon är.",
        ),
        ("Ring 0701234567", "Texten innehåller ett telefonnummer. Telefonnummer till personer hör inte hemma här."),
    ],
)
def test_it_refuses_a_personal_or_phone_number_with_an_explanation(world, text, message):
    with pytest.raises(Invalid) as refused:
        services.chat_send(user=world.dana, channel="everyone", text=text)
    assert (refused.value.field, refused.value.message) == ("text", message)
    assert written() == (0, 0)


def test_it_accepts_times_counts_and_dates(world):
    text = "Möts 21:30 vid busstationen, ca 20 unga, samma som 2024-05-17"
    services.chat_send(user=world.dana, channel="everyone", text=text)
    assert ChatMessage.objects.get().text == text


def test_the_longest_message_is_accepted(world):
    services.chat_send(user=world.dana, channel="everyone", text="x" * 1000)
    assert len(ChatMessage.objects.get().text) == 1000


def test_a_repeated_message_answers_with_the_original_seq_and_stores_nothing_twice(world):
    first = services.chat_send(user=world.dana, client_id="c1", channel="everyone", text="Hej")
    again = services.chat_send(user=world.dana, client_id="c1", channel="everyone", text="Hej")
    assert again.seq == first.seq
    assert written() == (1, 1)


def test_the_same_client_id_from_another_author_is_another_message(world, hamnen_out):
    first = services.chat_send(user=world.dana, client_id="c1", channel="everyone", text="Hej")
    other = services.chat_send(user=world.alice, client_id="c1", channel="everyone", text="Hej")
    assert other.seq > first.seq
    assert written() == (2, 2)
