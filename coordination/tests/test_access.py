"""The access matrix, cell by cell: every rule in coordination.access for every named person."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from coordination import access
from coordination.models import Membership, Role, Shift

User = get_user_model()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def out_on_shift(team, user, *areas) -> Shift:
    shift = Shift.objects.create(team=team, started_by=user)
    shift.planned_areas.set(areas)
    return shift


def person(world, who: str):
    """The user behind each row of the matrix, with the shifts that row needs."""
    if who == "alice off shift":
        return world.alice
    if who == "alice on shift":
        out_on_shift(world.harbour_team, world.alice, world.hotspot)
        return world.alice
    if who == "charlie while Hamnen is out":
        out_on_shift(world.harbour_team, world.alice, world.hotspot)
        return world.charlie
    if who == "erik also walking with Centrum":
        # A club leader who also walks on Fridays: association in IFK Lysekil and field in Centrum.
        Membership.objects.create(user=world.erik, organization=world.municipality, role=Role.FIELD)
        world.centre_team.members.add(world.erik)
        out_on_shift(world.centre_team, world.erik, world.district)
        return world.erik
    if who == "superuser":
        return User.objects.create_superuser("root", password="pw")
    if who == "system owner (admin membership)":
        owner = User.objects.create_user("owner", password="pw")
        Membership.objects.create(user=owner, organization=world.municipality, role=Role.ADMIN)
        return owner
    if who == "anonymous":
        return AnonymousUser()
    return getattr(world, who)


# Columns of the matrix; H is team Hamnen, C team Centrum, hot the Hamnen hotspot, dist the Centrum district.
COLUMNS = [
    "see public",
    "see staff",
    "see chat.everyone",
    "see chat.team.H",
    "see chat.team.C",
    "see chat.area.hot",
    "see chat.area.dist",
    "connect field",
    "connect ops",
    "start shift H",
    "start shift C",
    "report",
    "write note",
    "acknowledge",
    "chat everyone",
    "chat team.H",
    "chat team.C",
    "chat area.hot",
    "chat area.dist",
    "manage IFK Lysekil",
    "manage Segelsällskap",
    "read reports",
    "read live",
    "raise alert",
    "hear own alarm",
    "hear bob's alarm",
]

# fmt: off
# Each row: see (public staff everyone team.H team.C area.hot area.dist), connect (field ops),
# start shift (H C), report, write note, acknowledge, chat (everyone team.H team.C area.hot area.dist),
# manage activities (IFK Lysekil, Segelsällskap), read reports, read live, raise an alarm, hear the
# events of one's own alarms and of bob's as one's own (access.hears_own; duty sees bob's as staff). 1 = allowed.
MATRIX = {
    "alice off shift":                "1001000 10 10 000 01000 00 00 110",
    "alice on shift":                 "1111010 10 10 110 11010 00 01 110",
    "charlie while Hamnen is out":    "1000100 10 01 000 00100 00 00 110",
    "dana":                           "1111111 01 11 011 11111 00 11 010",
    "erik":                           "1000000 00 00 000 00000 10 00 010",
    "erik also walking with Centrum": "1110101 10 01 110 10101 10 01 110",
    "frida":                          "1100000 01 00 000 00000 00 11 010",
    "gustav":                         "1000000 00 00 000 00000 00 00 010",
    "superuser":                      "1000000 00 11 000 00000 11 10 010",
    "system owner (admin membership)": "1000000 00 11 000 00000 11 10 010",
    "anonymous":                      "1000000 00 00 000 00000 00 00 000",
}
# fmt: on


def observed(world, viewer: access.Viewer) -> dict[str, bool]:
    audiences = {
        "public": "public",
        "staff": "staff",
        "chat.everyone": "chat.everyone",
        "chat.team.H": f"chat.team.{world.harbour_team.pk}",
        "chat.team.C": f"chat.team.{world.centre_team.pk}",
        "chat.area.hot": f"chat.area.{world.hotspot.pk}",
        "chat.area.dist": f"chat.area.{world.district.pk}",
    }
    channels = {
        "everyone": "chat.everyone",
        "team.H": audiences["chat.team.H"],
        "team.C": audiences["chat.team.C"],
        "area.hot": audiences["chat.area.hot"],
        "area.dist": audiences["chat.area.dist"],
    }
    cells = {f"see {name}": access.may_see(viewer, audience) for name, audience in audiences.items()}
    cells |= {
        "connect field": access.may_connect_field(viewer),
        "connect ops": access.may_connect_ops(viewer),
        "start shift H": access.may_start_shift(viewer, world.harbour_team.pk),
        "start shift C": access.may_start_shift(viewer, world.centre_team.pk),
        "report": access.may_report(viewer),
        "write note": access.may_write_note(viewer),
        "acknowledge": access.may_acknowledge(viewer),
    }
    cells |= {f"chat {name}": access.may_chat(viewer, audience) for name, audience in channels.items()}
    cells |= {
        "manage IFK Lysekil": access.may_manage_activity(viewer, world.club.pk),
        "manage Segelsällskap": access.may_manage_activity(viewer, world.other_club.pk),
        "read reports": access.may_read_reports(viewer),
        "read live": access.may_read_live(viewer),
        "raise alert": access.may_raise_alert(viewer),
        "hear own alarm": access.hears_own(viewer, kind="alert", data={"author": viewer.user_id}),
        "hear bob's alarm": access.hears_own(viewer, kind="alert", data={"author": world.bob.pk}),
    }
    return cells


@pytest.mark.parametrize("who", list(MATRIX))
def test_each_person_gets_exactly_their_row_of_the_matrix(world, who):
    viewer = access.viewer_for(person(world, who))
    expected = dict(zip(COLUMNS, (flag == "1" for flag in MATRIX[who].replace(" ", "")), strict=True))
    assert observed(world, viewer) == expected


def test_the_matrix_has_one_cell_per_column():
    assert all(len(row.replace(" ", "")) == len(COLUMNS) for row in MATRIX.values())


def test_it_reads_roles_teams_and_the_active_shift_of_a_field_member(world):
    shift = out_on_shift(world.harbour_team, world.bob, world.hotspot, world.district)
    assert access.viewer_for(world.alice) == access.Viewer(
        user_id=world.alice.pk,
        roles=frozenset({Role.FIELD}),
        team_ids=frozenset({world.harbour_team.pk}),
        on_duty_team_ids=frozenset({world.harbour_team.pk}),
        duty_area_ids=frozenset({world.hotspot.pk, world.district.pk}),
        association_org_ids=frozenset(),
        is_superuser=False,
        active_shift_ids=frozenset({shift.pk}),
    )


def test_an_ended_shift_takes_the_field_member_off_duty(world):
    shift = out_on_shift(world.harbour_team, world.alice, world.hotspot)
    Shift.objects.filter(pk=shift.pk).update(ended_at=shift.started_at)
    viewer = access.viewer_for(world.alice)
    assert (viewer.on_duty, viewer.active_shift_ids, viewer.duty_area_ids) == (False, frozenset(), frozenset())


def test_anonymous_and_none_are_the_same_viewer():
    assert access.viewer_for(AnonymousUser()) is access.ANONYMOUS
    assert access.viewer_for(None) is access.ANONYMOUS


def test_a_team_member_without_the_field_role_is_never_on_duty(world):
    world.harbour_team.members.add(world.gustav)
    out_on_shift(world.harbour_team, world.alice, world.hotspot)
    viewer = access.viewer_for(world.gustav)
    assert (viewer.on_duty, access.may_report(viewer), access.may_see(viewer, "staff")) == (False, False, False)


def test_a_superuser_who_is_also_duty_sees_and_acknowledges_everything(world):
    root = User.objects.create_superuser("root", password="pw")
    Membership.objects.create(user=root, organization=world.municipality, role=Role.DUTY)
    viewer = access.viewer_for(root)
    assert viewer.roles == frozenset({Role.DUTY, Role.ADMIN})
    assert (access.may_see(viewer, "staff"), access.may_acknowledge(viewer), access.may_connect_ops(viewer)) == (
        True,
        True,
        True,
    )


@pytest.mark.parametrize(
    "audience",
    [
        "",
        "chat",
        "chat.team",
        "chat.team.",
        "chat.team.abc",
        "chat.team.-{team}",
        "chat.team.{team}²",
        "chat.team.²",
        "chat.area.{area}.1",
        "chat.squad.{team}",
        "team.{team}",
        "area.{area}",
    ],
)
def test_a_malformed_audience_is_seen_by_no_field_member(world, audience):
    out_on_shift(world.harbour_team, world.alice, world.hotspot)
    audience = audience.format(team=world.harbour_team.pk, area=world.hotspot.pk)
    assert access.may_see(access.viewer_for(world.alice), audience) is False


def test_an_area_channel_is_seen_only_while_that_area_is_planned(world):
    out_on_shift(world.harbour_team, world.alice, world.district)
    viewer = access.viewer_for(world.alice)
    assert access.may_see(viewer, f"chat.area.{world.district.pk}") is True
    assert access.may_see(viewer, f"chat.area.{world.hotspot.pk}") is False


def test_activity_filter_lets_staff_see_all_and_others_public_and_their_own(world):
    from datetime import timedelta

    from django.utils import timezone

    from maps.models import Activity

    start = timezone.now() + timedelta(hours=1)

    def activity(title, organization, visibility):
        return Activity.objects.create(
            title=title,
            organization=organization,
            visibility=visibility,
            point="POINT(11.44 58.27)",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
        )

    activity("Öppen hall", world.club, "public")
    activity("Ledarmöte", world.club, "internal")
    activity("Seglarmöte", world.other_club, "internal")

    def titles(user):
        return sorted(
            Activity.objects.filter(access.activity_filter(access.viewer_for(user))).values_list("title", flat=True)
        )

    assert titles(world.dana) == titles(world.frida) == ["Ledarmöte", "Seglarmöte", "Öppen hall"]
    assert titles(world.erik) == ["Ledarmöte", "Öppen hall"]
    assert titles(AnonymousUser()) == titles(world.gustav) == titles(world.alice) == ["Öppen hall"]


@pytest.mark.parametrize("who", list(MATRIX))
def test_the_replay_filter_in_the_database_keeps_every_event_the_person_may_see(world, who):
    from coordination import services
    from coordination.models import Event

    user = person(world, who)
    if not Shift.objects.filter(team=world.centre_team, ended_at__isnull=True).exists():
        services.shift_start(user=world.charlie, client_id="c", area_ids=[world.district.pk])
    for channel in (
        "everyone",
        f"team.{world.harbour_team.pk}",
        f"team.{world.centre_team.pk}",
        f"area.{world.hotspot.pk}",
        f"area.{world.district.pk}",
    ):
        services.chat_send(user=world.dana, channel=channel, text="Hej")
    services.note_create(user=world.charlie, category="other")
    services.alert_raise(user=world.charlie)  # staff, and charlie's own copy
    services.alert_raise(user=world.bob)
    services.position_record(user=world.charlie, client_id="p", lat=58.28, lon=11.44, recorded_at=timezone.now())
    services.field_positions_refresh()
    services.coverage_refresh()
    services.shift_end(user=world.dana, shift_id=world.centre_team.shifts.get(ended_at__isnull=True).pk)
    viewer = access.viewer_for(user)

    def visible(events):
        return [e.seq for e in events if access.may_see_event(viewer, audience=e.audience, kind=e.kind, data=e.data)]

    everything = Event.objects.order_by("seq")
    assert visible(everything.filter(access.visible_events(viewer))) == visible(everything)
