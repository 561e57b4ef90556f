"""National ID numbers: shape checks, and Egypt's embedded facts checked against the record.

Egypt (14 digits): C YY MM DD GG SSS S K -- century (2 = 1900s, 3 = 2000s), date of birth, civil-registry
governorate code, a serial whose last digit is odd for males and even for females, and a check digit.
The check-digit algorithm is not published, so it is not verified here; the embedded facts are.
Syria (11 digits): only the shape is public, so only the shape is checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry.identity.dates import PartialDate
from registry.identity.governorates import BY_NID_CODE, EGYPT_BORN_ABROAD_NID_CODE
from registry.names.text import clean_text

_SEPARATORS = str.maketrans("", "", " -./")


@dataclass(frozen=True)
class EgyptianIdFacts:
    date_of_birth: dt.date
    governorate_code: str | None  # ISO code; None when born abroad
    sex: str  # "M" or "F"


def normalise_national_id(value: str) -> str:
    """Digits only (Arabic-Indic digits read); raises ValueError if anything but digits and separators."""
    text = clean_text(value).translate(_SEPARATORS)
    if not text.isdigit() or not text.isascii():
        raise ValueError("must contain only digits")
    return text


def egyptian_id_facts(nid: str) -> EgyptianIdFacts:
    if len(nid) != 14:
        raise ValueError(f"an Egyptian national ID has 14 digits, this one has {len(nid)}")
    century = {"2": 1900, "3": 2000}.get(nid[0])
    if century is None:
        raise ValueError("first digit (century) must be 2 or 3")
    try:
        born = dt.date(century + int(nid[1:3]), int(nid[3:5]), int(nid[5:7]))
    except ValueError:
        raise ValueError("digits 2-7 are not a valid date of birth") from None
    if born > dt.date.today():
        raise ValueError("digits 2-7 encode a date of birth in the future")
    gov = nid[7:9]
    if gov != EGYPT_BORN_ABROAD_NID_CODE and gov not in BY_NID_CODE:
        raise ValueError("digits 8-9 are not an Egyptian governorate code")
    sex = "M" if int(nid[12]) % 2 else "F"
    return EgyptianIdFacts(born, BY_NID_CODE[gov].code if gov in BY_NID_CODE else None, sex)


def check_national_id(
    nid: str,
    country: str | None,
    date_of_birth: PartialDate | None = None,
    sex: str | None = None,
    governorate: str | None = None,
) -> list[str]:
    """Reasons the ID does not fit the record (empty when it fits). `country` is 'EG', 'SY' or None.

    The reasons name the digits and the field they contradict, never what the digits decode to: a reason is
    shown and written to import reports, and a decoded date of birth is the child's identity."""
    if country is None:
        country = "EG" if len(nid) == 14 else "SY" if len(nid) == 11 else None
    if country == "SY":
        return [] if len(nid) == 11 else [f"a Syrian national ID has 11 digits, this one has {len(nid)}"]
    if country != "EG":
        return ["must have 11 digits (Syria) or 14 digits (Egypt)"]
    try:
        facts = egyptian_id_facts(nid)
    except ValueError as e:
        return [str(e)]
    problems = []
    if date_of_birth is not None and not date_of_birth.estimated:
        b = facts.date_of_birth
        if (
            b.year != date_of_birth.year
            or (date_of_birth.month and b.month != date_of_birth.month)
            or (date_of_birth.day and b.day != date_of_birth.day)
        ):
            problems.append("digits 2-7 encode a date of birth that differs from the record's")
    if sex and sex != facts.sex:
        problems.append("digit 13 encodes a sex that differs from the record's")
    if governorate and facts.governorate_code and governorate != facts.governorate_code:
        problems.append("digits 8-9 encode a governorate that differs from the record's")
    return problems


def make_egyptian_id(born: dt.date, governorate_nid_code: str, sex: str, serial: int, check: int = 0) -> str:
    """Build a well-formed Egyptian ID (for generated test data only)."""
    century = "2" if born.year < 2000 else "3"
    last = serial % 10
    if (last % 2 == 1) != (sex == "M"):
        last = (last + 1) % 10
    body = f"{century}{born:%y%m%d}{governorate_nid_code}{serial // 10 % 1000:03d}{last}"
    return body + str(check % 10)
