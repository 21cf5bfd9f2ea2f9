"""EST decisions: who records them, what is refused, how they reach the screens and how they are followed up."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from coordination import access, selectors, services
from coordination.errors import Conflict, Forbidden, Invalid
from coordination.lagesbild import Period
from coordination.models import EstDecision, Event, Role, Shift, SituationNote
from coordination.selectors.est import decision_followups, focus_area_ids
from coordination.tests.sockets import new_id

pytestmark = pytest.mark.django_db

ZONE = timezone.get_current_timezone()
# A constructed week: ISO week 49 of 2026 runs Monday 30 November to Sunday 6 December.
YEAR, WEEK = 2026, 49


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def friday() -> date:
    return date.fromisocalendar(YEAR, WEEK, 5)


def decision(world, **changes) -> dict:
    """Hamnen in focus on Friday and Saturday 19–23, team Hamnen acts, recorded by dana."""
    fields = {
        "actor": world.dana,
        "iso_year": YEAR,
        "iso_week": WEEK,
        "area_ids": [world.hotspot.pk],
        "weekdays": [4, 5],
        "start": "19:00",
        "end": "23:00",
        "who": "team",
        "team_id": world.harbour_team.pk,
        "note": "Samlingar vid hamnplanen efter 21",
    }
    return {**fields, **changes}


# --- who records ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "may"),
    [
        ("dana", True),  # duty
        ("admin", True),
        ("frida", False),  # the police partner reads the decisions but does not record them
        ("alice", False),  # field on shift
        ("charlie", False),  # field off shift
        ("erik", False),  # association
        ("gustav", False),  # no role
    ],
)
def test_duty_and_admins_record_decisions_and_no_one_else(world, person, may):
    user = world.person("ada", Role.ADMIN, world.municipality) if person == "admin" else getattr(world, person)
    services.shift_start(user=world.alice, client_id=new_id())
    assert access.may_record_decision(access.viewer_for(user)) is may
    if may:
        event = services.est_decision_record(**decision(world, actor=user))
        assert event.kind == "decision" and event.audience == "staff"
        assert EstDecision.objects.get().created_by == user
    else:
        with pytest.raises(Forbidden):
            services.est_decision_record(**decision(world, actor=user))
        assert not EstDecision.objects.exists() and not Event.objects.filter(kind="decision").exists()


@pytest.mark.parametrize(
    ("person", "may"),
    [("dana", True), ("frida", True), ("alice", False), ("erik", False), ("gustav", False)],
)
def test_duty_partner_and_admin_read_decisions(world, person, may):
    assert access.may_read_decisions(access.viewer_for(getattr(world, person))) is may


def test_a_decision_is_stored_with_its_week_areas_evenings_hours_and_who_acts(world):
    event = services.est_decision_record(**decision(world))
    d = EstDecision.objects.get()
    assert (d.iso_year, d.iso_week, d.weekdays, d.start_time, d.end_time) == (YEAR, WEEK, [4, 5], time(19), time(23))
    assert list(d.areas.all()) == [world.hotspot] and d.team == world.harbour_team
    assert d.planned_hours() == 8
    assert event.data["area_names"] == ["Hamnen"] and event.data["who_name"] == "Hamnen"
    assert event.data["windows"][0] == [local(friday(), 19).isoformat(), local(friday(), 23).isoformat()]


def test_the_police_or_an_association_may_act(world):
    police = services.est_decision_record(
        **decision(world, who="police", team_id=None, organization_id=world.police.pk)
    )
    club = services.est_decision_record(
        **decision(world, who="association", team_id=None, organization_id=world.club.pk)
    )
    assert police.data["who_name"] == "Polisen Lysekil" and club.data["who_name"] == "IFK Lysekil"
    with pytest.raises(Invalid) as wrong:
        services.est_decision_record(
            **decision(world, who="association", team_id=None, organization_id=world.police.pk)
        )
    assert wrong.value.field == "organization"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"iso_year": 2027, "iso_week": 53}, "week"),  # 2027 has 52 ISO weeks (2026 has 53)
        ({"iso_week": 0}, "week"),
        ({"iso_year": 1999}, "year"),
        ({"end": "18:00"}, "end"),  # 23 hours: a typo, not an evening
        ({"end": "19:00"}, "end"),  # no window at all
        ({"start": "7 pm"}, "start"),
        ({"area_ids": [999_999]}, "areas"),
        ({"area_ids": []}, "areas"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [7]}, "weekdays"),
        ({"who": "mayor"}, "who"),
        ({"team_id": None}, "team"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_written(world, changes, field):
    with pytest.raises(Invalid) as refused:
        services.est_decision_record(**decision(world, **changes))
    assert refused.value.field == field and refused.value.message
    assert not EstDecision.objects.exists() and not Event.objects.exists()


def test_an_evening_may_run_past_midnight_into_the_next_morning(world):
    # Friday and Sunday 21:00–01:00: a night walk ends after midnight.
    services.est_decision_record(**decision(world, weekdays=[4, 6], start="21:00", end="01:00"))
    saved = EstDecision.objects.get()
    fri, sun = friday(), friday() + timedelta(days=2)
    monday_after = sun + timedelta(days=1)
    assert saved.windows() == [
        (local(fri, 21), local(fri + timedelta(days=1), 1)),
        (local(sun, 21), local(monday_after, 1)),
    ]
    assert saved.planned_hours() == 8
    assert selectors.est.planned_text(saved) == "fre, sön 21:00–01:00"
    # In focus after midnight, also on the Monday that already belongs to the next ISO week.
    assert focus_area_ids(now=local(fri + timedelta(days=1), 0, 30)) == {world.hotspot.pk}
    assert focus_area_ids(now=local(monday_after, 0, 30)) == {world.hotspot.pk}
    assert focus_area_ids(now=local(monday_after, 1)) == set()
    assert [d.pk for d in selectors.est.live_decisions(now=local(monday_after, 0, 30))] == [saved.pk]


@pytest.mark.parametrize(
    "note",
    ["Ring 070-123 45 67 om det blir stökigt", "Gäller 19811218-9876 som brukar vara där", "+46 70 123 45 67"],
)
def test_a_note_with_a_phone_or_personal_number_is_refused_with_an_explanation(world, note):
    with pytest.raises(Invalid) as refused:
        services.est_decision_record(**decision(world, note=note))
    assert refused.value.field == "note"
    assert "nummer" in refused.value.message
    assert not EstDecision.objects.exists()


def test_a_withdrawn_decision_leaves_the_picture_and_cannot_be_withdrawn_twice(world):
    event = services.est_decision_record(**decision(world))
    with pytest.raises(Forbidden):
        services.est_decision_withdraw(actor=world.frida, decision_id=event.data["id"])
    gone = services.est_decision_withdraw(actor=world.dana, decision_id=event.data["id"])
    assert (gone.kind, gone.data) == ("decision_withdrawn", {"id": event.data["id"]})
    assert EstDecision.objects.get().withdrawn_by == world.dana
    with pytest.raises(Conflict):
        services.est_decision_withdraw(actor=world.dana, decision_id=event.data["id"])
    assert focus_area_ids(now=local(friday(), 20)) == set()


# --- Veckans fokus in the live snapshot ---------------------------------------------------------------


def snapshot_focus(world, person: str, at: datetime) -> list[dict]:
    with _now(at):
        snapshot = selectors.live_snapshot(viewer=access.viewer_for(getattr(world, person)))
    return [f["properties"] for f in snapshot["features"] if f["properties"]["layer"] == "focus"]


class _now:
    """Freeze django.utils.timezone.now (what the snapshot and selectors read) at `at`."""

    def __init__(self, at: datetime):
        self.at = at

    def __enter__(self):
        self.patch = pytest.MonkeyPatch()
        self.patch.setattr(timezone, "now", lambda: self.at)
        return self

    def __exit__(self, *exc):
        self.patch.undo()


def test_focus_is_in_the_staff_snapshot_during_the_evening_and_gone_after_it(world):
    services.est_decision_record(**decision(world, weekdays=[4]))  # Friday only
    during = snapshot_focus(world, "dana", local(friday(), 20, 30))
    assert [p["area_names"] for p in during] == [["Hamnen"]]
    assert focus_area_ids(now=local(friday(), 20, 30)) == {world.hotspot.pk}
    # Before the window opens the decision is known (a page left open shows it at 19:00), not in focus.
    assert focus_area_ids(now=local(friday(), 18, 59)) == set()
    assert focus_area_ids(now=local(friday() - timedelta(days=1), 20)) == set()
    # After the last evening is over it is not in the picture at all.
    assert snapshot_focus(world, "dana", local(friday(), 23, 0)) == []
    assert focus_area_ids(now=local(friday(), 23, 0)) == set()


def test_the_partner_and_field_on_shift_get_focus_and_the_public_does_not(world):
    services.est_decision_record(**decision(world))
    services.shift_start(user=world.alice, client_id=new_id())
    at = local(friday(), 20)
    Shift.objects.update(started_at=at - timedelta(hours=1))
    assert len(snapshot_focus(world, "frida", at)) == 1
    assert len(snapshot_focus(world, "alice", at)) == 1
    assert snapshot_focus(world, "charlie", at) == []  # off shift
    with _now(at):
        public = selectors.live_snapshot(viewer=access.ANONYMOUS)
    assert "focus" not in {f["properties"]["layer"] for f in public["features"]}


# --- follow-up ----------------------------------------------------------------------------------------


def walk(world, user, start: datetime, minutes: int, *, lon: float = 11.445, lat: float = 58.2755, every_s: int = 60):
    """`user` on shift reporting a position every `every_s` seconds from `start` for `minutes`."""
    shift = Shift.objects.filter(team__members=user).order_by("-started_at").first()
    from coordination.models import PositionReport

    PositionReport.objects.bulk_create(
        PositionReport(
            shift=shift,
            user=user,
            point=f"POINT({lon} {lat})",
            recorded_at=start + timedelta(seconds=i * every_s),
            client_id=new_id(),
        )
        for i in range(minutes * 60 // every_s)
    )


def note_at(world, at: datetime, area) -> None:
    SituationNote.objects.create(author=world.dana, area=area, category="gathering", created_at=at)


def test_next_weeks_picture_follows_each_decision_up_with_hours_and_notes(world):
    services.est_decision_record(**decision(world))  # Hamnen, Fri + Sat 19–23 = 8 planned hours
    services.shift_start(user=world.alice, client_id=new_id())
    fri, sat = friday(), friday() + timedelta(days=1)
    # Alice and Bob in Hamnen Friday 19:30–21:30 (2 h each), Alice Saturday 22:30–23:30 (30 min inside
    # the window), and Alice in Hamnen on Thursday evening (not a decided evening: not counted).
    walk(world, world.alice, local(fri, 19, 30), 120)
    walk(world, world.bob, local(fri, 19, 30), 120)
    walk(world, world.alice, local(sat, 22, 30), 60)
    walk(world, world.alice, local(fri - timedelta(days=1), 20), 60)
    # Charlie's team out but in Centrum (outside the hotspot), Friday 20–21: not counted either.
    services.shift_start(user=world.charlie, client_id=new_id())
    walk(world, world.charlie, local(fri, 20), 60, lon=11.432, lat=58.272)
    # Notes in Hamnen: three the week before the decision's week, one the week after; one in Centrum.
    monday = date.fromisocalendar(YEAR, WEEK, 1)
    for day in (monday - timedelta(days=5), monday - timedelta(days=3), monday - timedelta(days=1)):
        note_at(world, local(day, 21), world.hotspot)
    note_at(world, local(monday + timedelta(days=9), 21), world.hotspot)
    note_at(world, local(monday + timedelta(days=9), 21), world.district)
    note_at(world, local(fri, 21), world.hotspot)  # during the decided week: neither before nor after

    next_week = date.fromisocalendar(YEAR, WEEK + 1, 1)
    period = Period(start=next_week, end=next_week + timedelta(days=6), label="v. 50 2026", iso_week=(YEAR, WEEK + 1))
    [row] = decision_followups(period=period)
    assert row.area_name == "Hamnen" and row.who == "Hamnen"
    assert row.planned == "fre, lör 19:00–23:00"
    assert row.planned_hours == 8
    assert row.adult_hours_present == 4.5  # 2 h + 2 h + 30 min
    assert (row.notes_before, row.notes_after) == (3, 1)
    # The decision's own week's picture does not follow it up; a withdrawn decision is not followed up.
    this_week = Period(start=monday, end=monday + timedelta(days=6), label="v. 49", iso_week=(YEAR, WEEK))
    assert decision_followups(period=this_week) == []
    services.est_decision_withdraw(actor=world.dana, decision_id=EstDecision.objects.get().pk)
    assert decision_followups(period=period) == []


def test_the_follow_up_keeps_its_adult_hours_after_the_raw_positions_are_purged(world):
    services.est_decision_record(**decision(world))  # Hamnen, Fri + Sat 19–23
    services.shift_start(user=world.alice, client_id=new_id())
    fri, sat = friday(), friday() + timedelta(days=1)
    walk(world, world.alice, local(fri, 19, 30), 120)
    walk(world, world.bob, local(fri, 19, 30), 120)
    walk(world, world.alice, local(sat, 22, 30), 60)
    next_week = date.fromisocalendar(YEAR, WEEK + 1, 1)
    period = Period(start=next_week, end=next_week + timedelta(days=6), label="v. 50 2026", iso_week=(YEAR, WEEK + 1))
    with _now(local(next_week, 12)):
        [fresh] = decision_followups(period=period)  # this week's days are not summed: raw positions
    # Three weeks on, the daily job has summed the days and the purge has taken the raw positions.
    with _now(local(sat + timedelta(days=21), 4)):
        services.positions_purge()
    from coordination.models import AggregatedDay, PositionReport

    assert not PositionReport.objects.exists() and AggregatedDay.objects.filter(day=fri).exists()
    [old] = decision_followups(period=period)
    assert fresh.adult_hours_present == old.adult_hours_present == 4.5  # 2 h + 2 h + 30 min, from hourly totals


def test_a_decision_with_two_areas_is_followed_up_per_area(world):
    services.est_decision_record(**decision(world, area_ids=[world.hotspot.pk, world.district.pk]))
    next_week = date.fromisocalendar(YEAR, WEEK + 1, 1)
    period = Period(start=next_week, end=next_week + timedelta(days=6), label="v. 50", iso_week=(YEAR, WEEK + 1))
    assert [r.area_name for r in decision_followups(period=period)] == ["Hamnen", "Centrum"]


# --- the decisions page -------------------------------------------------------------------------------


def page_url(year: int = YEAR, week: int = WEEK) -> str:
    from django.urls import reverse

    return reverse("est_decisions", kwargs={"year": year, "week": week})


def form_data(world, **changes) -> dict:
    data = {
        "year": YEAR,
        "week": WEEK,
        "areas": [world.hotspot.pk],
        "weekdays": ["4", "5"],
        "start": "19:00",
        "end": "23:00",
        "who": "team",
        "team": world.harbour_team.pk,
        "organization": "",
        "note": "Samlingar vid hamnplanen",
    }
    return {**data, **changes}


@pytest.mark.parametrize(("person", "status"), [("dana", 200), ("frida", 200), ("alice", 403), ("erik", 403)])
def test_the_page_is_read_by_duty_and_partner_and_every_view_is_audited(client, world, person, status):
    from coordination.models import AuditLog

    client.force_login(getattr(world, person))
    response = client.get(page_url(), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == status
    if status == 200:
        assert "v. 49 2026" in response.content.decode()
        log = AuditLog.objects.get()
        assert log.user == getattr(world, person) and log.action == "est_decisions.view"
        assert log.detail == {"year": YEAR, "week": WEEK, "address": "10.1.2.3"}


def test_duty_records_a_decision_on_the_page_and_sees_it_listed(client, world):
    client.force_login(world.dana)
    response = client.post(page_url(), form_data(world), follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Beslutet är registrerat." in text and "Samlingar vid hamnplanen" in text and "fre, lör 19:00–23:00" in text
    assert EstDecision.objects.count() == 1


def test_the_page_says_that_an_end_before_the_start_is_the_next_morning_and_records_it(client, world):
    client.force_login(world.dana)
    form = client.get(page_url()).content.decode()
    assert "Före starttiden: morgonen efter" in form and 'aria-describedby="id_end_helptext"' in form
    text = client.post(page_url(), form_data(world, start="22:00", end="02:00"), follow=True).content.decode()
    assert "Beslutet är registrerat." in text and "fre, lör 22:00–02:00" in text


def test_the_partner_sees_no_form_and_may_not_post(client, world):
    client.force_login(world.frida)
    assert "Registrera beslutet" not in client.get(page_url()).content.decode()
    assert client.post(page_url(), form_data(world)).status_code == 403
    assert not EstDecision.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"year": 2027, "week": 53}, "Vecka 53 finns inte år 2027."),
        ({"end": "18:00"}, "högst 12 timmar i sträck"),  # 19:00 to 18:00 the next day: 23 hours
        ({"end": "19:00"}, "Sluttiden kan inte vara samma som starttiden."),
        ({"areas": [999_999]}, "Okänt område"),
        ({"weekdays": []}, "Välj minst en kväll."),
        ({"note": "Ring 070-123 45 67"}, "telefonnummer"),
        ({"team": ""}, "Välj vilket team som agerar."),
    ],
)
def test_bad_input_on_the_page_gets_a_clear_form_error(client, world, changes, message):
    client.force_login(world.dana)
    response = client.post(page_url(), form_data(world, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not EstDecision.objects.exists()


def test_a_week_that_does_not_exist_in_the_address_is_a_404_that_says_so(client, world):
    client.force_login(world.dana)
    response = client.get(page_url(2027, 53))
    assert response.status_code == 404
    assert "Vecka 53 finns inte år 2027." in response.content.decode()


def test_duty_withdraws_a_decision_on_the_page(client, world):
    from django.urls import reverse

    event = services.est_decision_record(**decision(world))
    url = reverse("est_decision_withdraw", kwargs={"year": YEAR, "week": WEEK, "pk": event.data["id"]})
    client.force_login(world.frida)
    assert client.post(url).status_code == 403
    client.force_login(world.dana)
    response = client.post(url, follow=True)
    assert "Beslutet är återkallat." in response.content.decode()
    assert EstDecision.objects.get().withdrawn


# --- the decision event on the sockets, and the pages ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_decision_reaches_the_duty_map_and_field_on_shift_but_not_off_shift_or_the_public(world):
    import asyncio

    from channels.db import database_sync_to_async

    from coordination.tests.sockets import nothing_more, receive, socket

    async def scenario():
        await database_sync_to_async(services.shift_start)(user=world.alice, client_id=new_id())
        head = await database_sync_to_async(selectors.event_head)()
        async with (
            socket("/ws/ops/", world.dana, hello=head) as ops,
            socket("/ws/ops/", world.frida, hello=head) as partner,
            socket("/ws/field/", world.alice, hello=head) as on_shift,
            socket("/ws/field/", world.charlie, hello=head) as off_shift,
            socket("/ws/public/", hello=head) as public,
        ):
            event = await database_sync_to_async(services.est_decision_record)(**decision(world))
            frames = [await receive(ops), await receive(partner), await receive(on_shift)]
            assert await nothing_more(off_shift) == [] and await nothing_more(public) == []
            gone = await database_sync_to_async(services.est_decision_withdraw)(
                actor=world.dana, decision_id=event.data["id"]
            )
            withdrawn = await receive(on_shift)
        return event, frames, gone, withdrawn

    event, frames, gone, withdrawn = asyncio.run(scenario())
    for frame in frames:
        assert (frame["kind"], frame["seq"]) == ("decision", event.seq)
        assert frame["data"]["area_names"] == ["Hamnen"] and frame["data"]["who_name"] == "Hamnen"
    assert (withdrawn["kind"], withdrawn["seq"], withdrawn["data"]) == (
        "decision_withdrawn",
        gone.seq,
        {"id": event.data["id"]},
    )


def test_the_duty_page_ranks_the_areas_in_focus_first_in_its_server_data(client, world):
    import json

    from django.urls import reverse

    # Centrum (priority 0) is in focus Friday evening; Hamnen (priority 5) otherwise comes first.
    services.est_decision_record(**decision(world, area_ids=[world.district.pk], weekdays=[4]))
    client.force_login(world.dana)

    def areas_at(at: datetime) -> list[str]:
        with _now(at):
            page = client.get(reverse("ops")).content.decode()
        config = json.loads(page.split('id="ops-config" type="application/json">')[1].split("</script>")[0])
        return [a["name"] for a in config["areas"]]

    assert areas_at(local(friday(), 20)) == ["Centrum", "Hamnen"]
    assert areas_at(local(friday(), 23, 30)) == ["Hamnen", "Centrum"]


def test_the_duty_and_field_pages_hold_the_focus_panel_and_suggestions(client, world):
    from django.urls import reverse

    client.force_login(world.dana)
    ops = client.get(reverse("ops")).content.decode()
    assert 'id="focus-panel"' in ops and "data-where-next" in ops and 'data-locate="0"' in ops
    client.force_login(world.alice)
    field = client.get(reverse("field")).content.decode()
    assert 'id="focus-panel"' in field and 'data-locate="1"' in field and "js/where-next.js" in field


def test_focus_js_shows_a_decision_only_inside_its_window_and_ranks_focus_areas_first():
    import json

    from tests.test_frontend import STATIC, node_import

    feature = {
        "properties": {
            "layer": "focus",
            "id": 7,
            "areas": [3],
            "area_names": ["Hamnen"],
            "start": "19:00",
            "end": "23:00",
            "who_name": "Hamnen",
            "note": "<b>Belysning</b>",
            "windows": [["2026-12-04T19:00:00+01:00", "2026-12-04T23:00:00+01:00"]],
        }
    }
    at = {
        "before": "2026-12-04T18:59:00+01:00",
        "during": "2026-12-04T20:00:00+01:00",
        "after": "2026-12-04T23:00:00+01:00",
    }
    body = """({
      active: Object.fromEntries(
        Object.entries(AT).map(([k, v]) => [k, m.activeFocus([F], Date.parse(v)).map((p) => p.id)])
      ),
      order: [{id: 1, priority: 9}, {id: 3, priority: 0}]
        .sort((a, b) =>
          m.focusFirst({features: new Map([["focus.7", F]])}, a, b, Date.parse(AT.during)) || b.priority - a.priority
        )
        .map((a) => a.id),
      html: m.focusHtml(m.activeFocus([F], Date.parse(AT.during))),
    })"""
    expression = f"((F, AT) => {body})({json.dumps(feature)}, {json.dumps(at)})"
    result = node_import(STATIC / "js" / "focus.js", expression)
    assert result["active"] == {"before": [], "during": [7], "after": []}
    assert result["order"] == [3, 1]  # the focus area before a higher priority
    assert "Hamnen" in result["html"] and "&#60;b&#62;Belysning" in result["html"] and "<b>" not in result["html"]
