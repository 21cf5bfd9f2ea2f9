"""Screening of free text: personal identity numbers (with checksum) and phone numbers are refused."""

import pytest

from coordination.errors import Invalid
from coordination.screening import contains_personal_number, contains_phone_number, screen_text

PNR_MESSAGE = "Texten innehåller ett personnummer. Skriv om platsen och situationen, aldrig om vem någon är."
PHONE_MESSAGE = "Texten innehåller ett telefonnummer. Telefonnummer till personer hör inte hemma här."


@pytest.mark.parametrize(
    "text",
    [
        "19811218-9876",
        "198112189876",
        "811218-9876",
        "8112189876",
        "811218+9876",
        "811218 9876",
        "Han (19811218-9876) stod vid kiosken",
        "pnr:811218-9876.",
        "Samordningsnummer 811278-9873",
        "811218\u20139876",  # en dash, as autocorrect writes it
        "19811218\u20139876",
        "811218\u22129876",  # minus sign
        "811218\u00a09876",  # non-breaking space
    ],
)
def test_it_finds_a_personal_identity_number_with_or_without_century_and_dash(text):
    assert contains_personal_number(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "19811218-9875",  # wrong checksum
        "811218-9875",
        "811318-9876",  # no 13th month
        "1198112189876",  # 13 digits: part of a longer number
        "kl 22.30 ca 15 unga",
        "2024-05-17 kl 21:45",
        "20240517",
        "Buss 860 kl 2230",
        "ordernummer 12345678901234",
        "",
    ],
)
def test_it_finds_no_personal_identity_number_in_other_digits(text):
    assert contains_personal_number(text) is False


@pytest.mark.parametrize(
    "text",
    ["070-123 45 67", "0701234567", "+46 70 123 45 67", "0046701234567", "0523-123 45", "031-123456"],
)
def test_it_finds_a_phone_number(text):
    assert contains_phone_number(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "Ringde 112 kl 22",
        "Polisen 114 14 kontaktad",
        "kl 21:45–22:10, 12-15 personer",
        "Samma grupp som 2024-05-17",
        "17/5 kl 19-21",
        "ca 150 personer 21.00-23.30",
        "Lysekil 453 30",
        "40 ungdomar, 3 mopeder",
    ],
)
def test_it_finds_no_phone_number_in_times_counts_dates_and_service_numbers(text):
    assert contains_phone_number(text) is False


def test_screening_explains_a_personal_identity_number_and_names_the_field():
    with pytest.raises(Invalid) as refused:
        screen_text("Gäller 811218-9876", field="description")
    assert (refused.value.code, refused.value.field, refused.value.message) == ("invalid", "description", PNR_MESSAGE)


def test_screening_explains_a_phone_number():
    with pytest.raises(Invalid) as refused:
        screen_text("Ring 070-123 45 67")
    assert (refused.value.field, refused.value.message) == ("text", PHONE_MESSAGE)


def test_a_personal_identity_number_is_named_before_a_phone_number():
    with pytest.raises(Invalid) as refused:
        screen_text("070-123 45 67 och 811218-9876")
    assert refused.value.message == PNR_MESSAGE


def test_plain_text_passes_screening():
    assert screen_text("Ca 15 unga vid busstationen kl 22.30, lugnt, samma som 2024-05-17") is None
