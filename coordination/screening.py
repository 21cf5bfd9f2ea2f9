"""Refuse personal identity numbers and phone numbers in free text: notes are about places."""

import re
import unicodedata

import phonenumbers
from django.utils.translation import gettext as _
from personnummer import personnummer

from coordination.errors import Invalid

# Candidates: 6 or 8 digits of date, optional - or +, 4 digits. personnummer checks date and checksum
# (and accepts coordination numbers), so a time like 2230 or a count of 15 never matches.
# The dash may be typographic (en dash from autocorrect, minus sign) and the space non-breaking.
_PNR = re.compile(r"(?<!\d)(\d{6}|\d{8})[-+\s\u2010-\u2015\u2212]?(\d{4})(?!\d)")


def contains_personal_number(text: str) -> bool:
    """True when `text` holds a valid Swedish personal or coordination number."""
    # Full-width and other digit forms become 0-9 first, or they would slip past the checksum.
    for match in _PNR.finditer(unicodedata.normalize("NFKC", text)):
        candidate = match.group(1) + match.group(2)
        try:
            if personnummer.valid(candidate):
                return True
        except Exception:  # noqa: BLE001 - the library raises on malformed input; malformed is not a match
            continue
    return False


def contains_phone_number(text: str) -> bool:
    """True when `text` holds a valid phone number (Swedish or international)."""
    for _match in phonenumbers.PhoneNumberMatcher(text, "SE", leniency=phonenumbers.Leniency.VALID):
        return True
    return False


def screen_text(text: str, *, field: str = "text", phones_allowed: bool = False) -> None:
    """Raise Invalid with an explanation when `text` holds a personal or (unless allowed) phone number."""
    if contains_personal_number(text):
        raise Invalid(
            _("Texten innehåller ett personnummer. Skriv om platsen och situationen, aldrig om vem någon är."),
            field=field,
        )
    if not phones_allowed and contains_phone_number(text):
        raise Invalid(
            _("Texten innehåller ett telefonnummer. Telefonnummer till personer hör inte hemma här."),
            field=field,
        )
