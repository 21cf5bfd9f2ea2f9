"""The shared validators: each returns a clean value or raises Invalid naming the field."""

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.gis.geos import Point

from coordination.errors import Invalid
from coordination.validation import (
    MAX_CLOCK_SKEW,
    MAX_POSITION_AGE,
    clean_client_id,
    clean_id,
    clean_recorded_at,
    clean_text,
    lat_lon,
    number,
    number_from_text,
    point_from,
)

NOW = datetime(2026, 11, 27, 21, 30, tzinfo=ZoneInfo("Europe/Stockholm"))


def refusal(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(Invalid) as refused:
        call(*args, **kwargs)
    return refused.value.field, refused.value.message


# --- number -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(58, 58.0), (58.25, 58.25)])
def test_a_number_is_a_json_int_or_float(value, expected):
    assert number(value, "lat") == expected


@pytest.mark.parametrize(("value", "expected"), [(58, 58.0), (58.25, 58.25), ("58.25", 58.25), (" -3 ", -3.0)])
def test_a_number_from_text_may_also_come_as_numeric_text(value, expected):
    assert number_from_text(value, "lat") == expected


def test_numeric_text_is_not_a_json_number():
    # A socket or JSON client that sends "58.25" has a bug worth hearing about; trackers send text.
    assert refusal(number, "58.25", "lat") == ("lat", "lat måste vara ett tal.")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "lat måste vara ett tal."),
        (None, "lat måste vara ett tal."),
        ([1], "lat måste vara ett tal."),
        ("north", "lat måste vara ett tal."),
        ("", "lat måste vara ett tal."),
        (math.nan, "lat måste vara ett ändligt tal."),
        (-math.inf, "lat måste vara ett ändligt tal."),
        ("nan", "lat måste vara ett ändligt tal."),
        ("1e400", "lat måste vara ett ändligt tal."),
        pytest.param(10**400, "lat måste vara ett ändligt tal.", id="an int beyond any float"),
    ],
)
def test_anything_else_is_not_a_number(value, message):
    assert refusal(number_from_text, value, "lat") == ("lat", message)


# --- point_from and lat_lon -------------------------------------------------------------------------


def test_a_point_is_lon_lat_in_wgs84():
    point = point_from(58.2755, 11.4412)
    assert (point.x, point.y, point.srid) == (11.4412, 58.2755, 4326)
    assert point == Point(11.4412, 58.2755, srid=4326)


def test_no_point_is_none_but_a_position_needs_both():
    assert point_from(None, None) is None
    assert refusal(lat_lon, None, None) == ("lat", "lat och lon krävs.")
    assert lat_lon(58.2755, 11) == (58.2755, 11.0)


@pytest.mark.parametrize(
    ("lat", "lon", "field", "message"),
    [
        (58.2, None, "lon", "Ange både lat och lon."),
        (None, 11.4, "lat", "Ange både lat och lon."),
        (90.000001, 11.4, "lat", "lat måste ligga mellan -90 och 90."),
        (-90.5, 11.4, "lat", "lat måste ligga mellan -90 och 90."),
        (58.2, 180.01, "lon", "lon måste ligga mellan -180 och 180."),
        (58.2, -200, "lon", "lon måste ligga mellan -180 och 180."),
        (math.nan, 11.4, "lat", "lat måste vara ett ändligt tal."),
        (58.2, math.inf, "lon", "lon måste vara ett ändligt tal."),
        ("x", 11.4, "lat", "lat måste vara ett tal."),
    ],
)
@pytest.mark.parametrize("check", [point_from, lat_lon])
def test_a_point_outside_the_globe_or_half_given_is_refused(check, lat, lon, field, message):
    assert refusal(check, lat, lon) == (field, message)


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180), (0, 0)])
def test_the_edges_of_the_globe_are_points(lat, lon):
    point = point_from(lat, lon)
    assert (point.y, point.x) == (lat, lon)


# --- clean_text -------------------------------------------------------------------------------------


def test_text_is_stripped_and_none_is_empty():
    assert clean_text("  Lugnt vid kajen \n", field="text", max_length=20) == "Lugnt vid kajen"
    assert clean_text(None, field="text", max_length=20) == ""


def test_the_length_limit_applies_after_stripping():
    assert clean_text("  " + "x" * 20 + "  ", field="text", max_length=20) == "x" * 20
    assert refusal(clean_text, "x" * 21, field="text", max_length=20) == ("text", "text får vara högst 20 tecken.")


def test_required_text_may_not_be_blank():
    assert refusal(clean_text, "   ", field="title", max_length=20, required=True) == (
        "title",
        "title får inte vara tom.",
    )


@pytest.mark.parametrize("value", [5, 5.0, ["a"], {"text": "a"}, b"bytes"])
def test_text_must_be_a_string(value):
    assert refusal(clean_text, value, field="text", max_length=20) == ("text", "text måste vara text.")


def test_text_is_screened_and_a_contact_field_may_hold_a_phone_number_but_never_a_personal_number():
    assert refusal(clean_text, "Ring 070-123 45 67", field="text", max_length=50)[0] == "text"
    contact = clean_text("Ring 070-123 45 67", field="contact", max_length=50, phones_allowed=True)
    assert contact == "Ring 070-123 45 67"
    assert refusal(clean_text, "Kalle 811218-9876", field="contact", max_length=50, phones_allowed=True)[0] == "contact"


def test_a_personal_number_in_full_width_digits_is_found():
    assert refusal(clean_text, "８１１２１８-９８７６ var där", field="text", max_length=50)[0] == "text"


# --- clean_client_id --------------------------------------------------------------------------------


def test_a_client_id_is_optional_text_of_1_to_64_characters():
    assert clean_client_id(None) is None
    assert clean_client_id("8c6d3e7a-43c4-4c1e-9f62-0d1f4c8f2b1e") == "8c6d3e7a-43c4-4c1e-9f62-0d1f4c8f2b1e"
    assert clean_client_id("x" * 64) == "x" * 64


@pytest.mark.parametrize("value", ["", "x" * 65, 7, ["id"], True])
def test_any_other_client_id_is_refused(value):
    assert refusal(clean_client_id, value) == ("id", "id måste vara en text på 1–64 tecken (ett UUID).")


# --- clean_recorded_at ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [NOW, NOW + MAX_CLOCK_SKEW, NOW - MAX_POSITION_AGE, NOW - timedelta(minutes=5), NOW.astimezone(ZoneInfo("UTC"))],
)
def test_a_recent_aware_time_is_a_recorded_at(value):
    assert clean_recorded_at(value, now=NOW) == value


def test_a_device_sends_recorded_at_as_iso_8601_text():
    assert clean_recorded_at("2026-11-27T20:30:00Z", now=NOW) == NOW


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "recorded_at måste vara en tidpunkt."),
        ("igår", "recorded_at måste vara en ISO 8601-tidpunkt."),
        ("2026-11-27T21:30:00", "recorded_at måste ange tidszon."),
        (1795811400, "recorded_at måste vara en tidpunkt."),
        (date(2026, 11, 27), "recorded_at måste vara en tidpunkt."),
        (datetime(2026, 11, 27, 21, 30), "recorded_at måste ange tidszon."),
        (NOW + MAX_CLOCK_SKEW + timedelta(seconds=1), "recorded_at ligger i framtiden; kontrollera enhetens klocka."),
        (NOW - MAX_POSITION_AGE - timedelta(seconds=1), "recorded_at är för gammal."),
    ],
)
def test_anything_else_is_not_a_recorded_at(value, message):
    assert refusal(clean_recorded_at, value, now=NOW) == ("recorded_at", message)


# --- control characters never reach the database (issue 12, item 6) --------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "bell\x07", "esc\x1b[2J", "del\x7f", "half \ud800 surrogate"])
def test_control_characters_in_text_are_refused_naming_the_field(text):
    assert refusal(clean_text, text, field="text", max_length=50) == (
        "text",
        "text innehåller otillåtna kontrolltecken.",
    )


def test_tabs_and_line_breaks_are_text():
    assert clean_text("rad ett\r\nrad\ttvå\n", field="text", max_length=50) == "rad ett\r\nrad\ttvå"


@pytest.mark.parametrize("value", ["a\x00b", "line\nbreak", "\ud800", "\x1f"])
def test_control_characters_in_a_client_id_are_refused(value):
    assert refusal(clean_client_id, value)[0] == "id"


@pytest.mark.parametrize("value", [-1, 2**63, 10**40])
def test_an_id_beyond_what_the_database_holds_is_refused(value):
    assert refusal(clean_id, value, field="note", message="nej") == ("note", "nej")
