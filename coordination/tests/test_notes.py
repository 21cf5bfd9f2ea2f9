"""note_create and note_acknowledge: one note row, one Event, never a person's numbers."""

import math
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from coordination import services
from coordination.errors import Conflict, Forbidden, Invalid, NotFound
from coordination.models import Event, Shift, SituationNote


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PNR_MESSAGE = "Texten innehåller ett personnummer. Skriv om platsen och situationen, aldrig om vem någon är."
PHONE_MESSAGE = "Texten innehåller ett telefonnummer. Telefonnummer till personer hör inte hemma här."


@pytest.fixture
def hamnen_out(world) -> Shift:
    shift = Shift.objects.create(team=world.harbour_team, started_by=world.alice)
    shift.planned_areas.set([world.hotspot])
    return shift


def iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def note_data(note: SituationNote) -> dict:
    return {
        "id": note.pk,
        "category": note.category,
        "severity": note.severity,
        "youth_count": note.youth_count,
        "text": note.text,
        "lat": note.point.y if note.point else None,
        "lon": note.point.x if note.point else None,
        "area": note.area_id,
        "team": note.shift.team_id if note.shift_id else None,
        "status": note.status,
        "created_at": iso(note.created_at),
        "acknowledged_at": iso(note.acknowledged_at),
    }


def written() -> tuple[int, int]:
    return SituationNote.objects.count(), Event.objects.count()


# --- note_create ------------------------------------------------------------------------------------


def test_a_field_member_on_shift_records_a_note_in_the_hotspot_holding_the_point(world, hamnen_out):
    event = services.note_create(
        user=world.alice,
        client_id="n1",
        category="gathering",
        severity=2,
        text="  Ca 15 unga vid kiosken kl 22.30  ",
        lat=58.28,
        lon=11.445,
        youth_count=15,
    )

    note = SituationNote.objects.get()
    assert (note.author, note.shift, note.area, note.category, note.severity, note.youth_count, note.text) == (
        world.alice,
        hamnen_out,
        world.hotspot,
        "gathering",
        2,
        15,
        "Ca 15 unga vid kiosken kl 22.30",
    )
    assert (note.point.y, note.point.x, note.status, note.acknowledged_by) == (58.28, 11.445, "open", None)
    assert Event.objects.get() == event
    assert (event.kind, event.audience, event.author, event.client_id) == ("note", "staff", world.alice, "n1")
    assert event.data == note_data(note)
    assert (event.data["area"], event.data["team"]) == (world.hotspot.pk, world.harbour_team.pk)


def test_a_point_outside_every_hotspot_takes_the_district(world, hamnen_out):
    services.note_create(user=world.alice, category="vandalism", lat=58.272, lon=11.432)
    assert SituationNote.objects.get().area == world.district


def test_a_point_outside_every_area_has_no_area(world, hamnen_out):
    services.note_create(user=world.alice, category="vandalism", lat=57.7, lon=11.97)
    assert SituationNote.objects.get().area is None


def test_a_note_without_a_point_has_no_place(world, hamnen_out):
    event = services.note_create(user=world.alice, category="unsafe_place", text="Trasig belysning i gångtunneln")
    note = SituationNote.objects.get()
    assert (note.point, note.area, note.severity, note.youth_count) == (None, None, 1, None)
    assert event.data == note_data(note)


def test_duty_records_a_note_without_a_shift(world):
    event = services.note_create(user=world.dana, category="positive", text="Bra stämning på fritidsgården")
    note = SituationNote.objects.get()
    assert (note.author, note.shift) == (world.dana, None)
    assert event.data["team"] is None


@pytest.mark.parametrize("who", ["alice", "charlie", "erik", "frida", "gustav"])
def test_it_refuses_a_note_from_someone_neither_on_shift_nor_duty(world, who):
    with pytest.raises(Forbidden) as refused:
        services.note_create(user=getattr(world, who), category="other", text="Lugnt")
    assert refused.value.code == "forbidden"
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": "fight"}, "category"),
        ({"category": "GATHERING"}, "category"),
        ({"category": None}, "category"),
        ({"category": ["other"]}, "category"),
        ({"severity": 0}, "severity"),
        ({"severity": 4}, "severity"),
        ({"severity": "2"}, "severity"),
        ({"severity": True}, "severity"),
        ({"severity": 2.0}, "severity"),
        ({"youth_count": -1}, "youth_count"),
        ({"youth_count": "5"}, "youth_count"),
        ({"youth_count": 1.5}, "youth_count"),
        ({"youth_count": True}, "youth_count"),
        ({"youth_count": 10_001}, "youth_count"),
        ({"text": 42}, "text"),
        ({"text": ["Lugnt"]}, "text"),
        ({"text": "x" * 1001}, "text"),
        ({"lat": 58.28}, "lon"),
        ({"lon": 11.44}, "lat"),
        ({"lat": 91, "lon": 11.44}, "lat"),
        ({"lat": 58.28, "lon": -180.1}, "lon"),
        ({"lat": math.nan, "lon": 11.44}, "lat"),
        ({"lat": 58.28, "lon": "east"}, "lon"),
        ({"client_id": ""}, "id"),
        ({"client_id": "x" * 65}, "id"),
    ],
)
def test_it_refuses_bad_note_input_naming_the_field(world, hamnen_out, fields, field):
    with pytest.raises(Invalid) as refused:
        services.note_create(user=world.alice, **{"category": "other", **fields})
    assert (refused.value.code, refused.value.field) == ("invalid", field)
    assert refused.value.message
    assert written() == (0, 0)


def test_the_longest_text_is_accepted(world, hamnen_out):
    services.note_create(user=world.alice, category="other", text="x" * 1000)
    assert len(SituationNote.objects.get().text) == 1000


@pytest.mark.parametrize(
    "text",
    [
        "Pojke med pnr 19811218-9876 bråkade",
        "811218-9876 syntes vid busstationen",
        "Personnummer 8112189876",
        "198112189876",
        "811218+9876 igen",
        "Samordningsnummer 811278-9873",
    ],
)
def test_it_refuses_a_personal_identity_number_with_an_explanation(world, hamnen_out, text):
    with pytest.raises(Invalid) as refused:
        services.note_create(user=world.alice, category="conflict", text=text)
    assert (refused.value.field, refused.value.message) == ("text", PNR_MESSAGE)
    assert written() == (0, 0)


@pytest.mark.parametrize("text", ["Ring mamman på 070-123 45 67", "+46 70 123 45 67", "Nr 0523-123 45"])
def test_it_refuses_a_phone_number_with_an_explanation(world, hamnen_out, text):
    with pytest.raises(Invalid) as refused:
        services.note_create(user=world.alice, category="other", text=text)
    assert (refused.value.field, refused.value.message) == ("text", PHONE_MESSAGE)
    assert written() == (0, 0)


@pytest.mark.parametrize(
    "text",
    [
        "Ca 15 unga vid busstationen kl 22.30",
        "kl 21:45–22:10, 12-15 personer, 3 mopeder",
        "Samma grupp som 2024-05-17 och 17/5",
        "Buss 860 kl 2230, ringde 112",
        "19811218-9875 är inget personnummer",
    ],
)
def test_it_accepts_times_counts_and_dates(world, hamnen_out, text):
    services.note_create(user=world.alice, category="gathering", text=text)
    assert SituationNote.objects.get().text == text


def test_a_repeated_note_answers_with_the_original_seq_and_stores_nothing_twice(world, hamnen_out):
    first = services.note_create(user=world.alice, client_id="n1", category="other", text="Lugnt")
    again = services.note_create(user=world.alice, client_id="n1", category="other", text="Lugnt")
    assert again.seq == first.seq
    assert written() == (1, 1)


def test_the_same_client_id_from_another_author_is_another_note(world, hamnen_out):
    first = services.note_create(user=world.alice, client_id="n1", category="other", text="Lugnt")
    other = services.note_create(user=world.bob, client_id="n1", category="other", text="Lugnt")
    assert other.seq > first.seq
    assert sorted(SituationNote.objects.values_list("author__username", flat=True)) == ["alice", "bob"]
    assert written() == (2, 2)


# --- note_acknowledge -------------------------------------------------------------------------------


def test_duty_acknowledges_a_note(world, hamnen_out):
    services.note_create(user=world.alice, category="alcohol", lat=58.28, lon=11.445)
    note = SituationNote.objects.get()

    event = services.note_acknowledge(user=world.dana, client_id="k1", note_id=note.pk)

    note.refresh_from_db()
    assert (note.status, note.acknowledged_by) == ("acknowledged", world.dana)
    assert note.acknowledged_at is not None
    assert (event.kind, event.audience, event.author, event.client_id) == ("note_ack", "staff", world.dana, "k1")
    assert event.data == note_data(note)
    assert written() == (1, 2)


def test_duty_acknowledges_a_note_that_has_no_shift(world):
    """A duty officer's own note has no shift: locking it must not trip over the empty join."""
    services.note_create(user=world.dana, category="other", text="Möte med rektorn")
    note = SituationNote.objects.get()
    event = services.note_acknowledge(user=world.dana, note_id=note.pk)
    note.refresh_from_db()
    assert note.status == "acknowledged"
    assert event.data == note_data(note)


def test_acknowledging_twice_is_a_conflict(world, hamnen_out):
    services.note_create(user=world.alice, category="other")
    note = SituationNote.objects.get()
    services.note_acknowledge(user=world.dana, note_id=note.pk)
    with pytest.raises(Conflict):
        services.note_acknowledge(user=world.dana, note_id=note.pk)
    assert written() == (1, 2)


def test_a_repeated_acknowledgement_answers_with_the_original_seq(world, hamnen_out):
    services.note_create(user=world.alice, category="other")
    note = SituationNote.objects.get()
    first = services.note_acknowledge(user=world.dana, client_id="k1", note_id=note.pk)
    again = services.note_acknowledge(user=world.dana, client_id="k1", note_id=note.pk)
    assert again.seq == first.seq
    assert written() == (1, 2)


@pytest.mark.parametrize("who", ["alice", "bob", "frida", "erik", "gustav"])
def test_only_duty_acknowledges_notes(world, hamnen_out, who):
    services.note_create(user=world.alice, category="other")
    note = SituationNote.objects.get()
    with pytest.raises(Forbidden):
        services.note_acknowledge(user=getattr(world, who), note_id=note.pk)
    note.refresh_from_db()
    assert (note.status, note.acknowledged_by) == ("open", None)
    assert written() == (1, 1)


def test_acknowledging_a_note_that_does_not_exist_is_not_found(world):
    with pytest.raises(NotFound) as refused:
        services.note_acknowledge(user=world.dana, note_id=999_999)
    assert refused.value.field == "note"
    assert written() == (0, 0)


@pytest.mark.parametrize("note_id", ["1", None, True, 1.0])
def test_it_refuses_a_note_id_that_is_not_an_integer(world, note_id):
    with pytest.raises(Invalid) as refused:
        services.note_acknowledge(user=world.dana, note_id=note_id)
    assert refused.value.field == "note"
    assert written() == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_acknowledge_answers_both_with_the_same_seq(world):
    """The second copy waits for the first one's lock, then finds its own acknowledgement."""
    services.note_create(user=world.dana, category="other")
    note = SituationNote.objects.get()
    first_written = threading.Event()
    seqs: dict[str, object] = {}

    def original():
        try:
            with transaction.atomic():
                seqs["original"] = services.note_acknowledge(user=world.dana, client_id="k1", note_id=note.pk).seq
                first_written.set()
                time.sleep(0.3)
        finally:
            connection.close()

    def retry():
        first_written.wait(5)
        try:
            seqs["retry"] = services.note_acknowledge(user=world.dana, client_id="k1", note_id=note.pk).seq
        except Exception as error:  # noqa: BLE001 - the test reports whatever the retry got
            seqs["retry"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=original), threading.Thread(target=retry)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert seqs["retry"] == seqs["original"]
    assert written() == (1, 2)


def test_a_note_without_severity_is_low(world):
    services.shift_start(user=world.alice, client_id="s")
    event = services.note_create(user=world.alice, category="other", severity=None)
    assert event.data["severity"] == 1
