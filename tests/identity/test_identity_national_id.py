"""National ID numbers: shape, Egypt's embedded century/date/governorate/sex, checked against the record.

All numbers are generated for the test; none belongs to a person.
"""

from __future__ import annotations

import datetime as dt

import pytest

from registry.identity.dates import PartialDate
from registry.identity.national_id import (
    check_national_id,
    egyptian_id_facts,
    make_egyptian_id,
    normalise_national_id,
)

# C YY MM DD GG SSSS K: 2000s, 2015-03-07, Cairo (01), serial 0012 (even last digit: female), check 3.
EG_F_CAIRO_2015_03_07 = "31503070100123"
# Same, serial 0011 (odd: male), Giza (21).
EG_M_GIZA_2015_03_07 = "31503072100113"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("31503070100123", "31503070100123"),
        ("3 150307 01 0012 3", "31503070100123"),
        ("3-150307-01-0012-3", "31503070100123"),
        ("3.150307.01.0012.3", "31503070100123"),
        ("3/150307/01/0012/3", "31503070100123"),
        ("٣١٥٠٣٠٧٠١٠٠١٢٣", "31503070100123"),  # Arabic-Indic
        ("۳۱۵۰۳۰۷۰۱۰۰۱۲۳", "31503070100123"),  # Eastern Arabic-Indic
        ("٣١٥-۰٣٠٧٠١٠٠١٢٣", "31503070100123"),
        ("\u200e01234567890\u200f", "01234567890"),
    ],
)
def test_normalise_national_id_accepts_separators_and_arabic_indic_digits(raw, expected):
    assert normalise_national_id(raw) == expected


@pytest.mark.parametrize("raw", ["3150307010012A", "ID31503070100123", "0123456789O", "315_0307", "315,0307", "+0123"])
def test_normalise_national_id_rejects_letters_and_other_symbols(raw):
    with pytest.raises(ValueError, match="only digits"):
        normalise_national_id(raw)


def test_egyptian_id_facts_decode_date_governorate_and_sex():
    f = egyptian_id_facts(EG_F_CAIRO_2015_03_07)
    assert (f.date_of_birth, f.governorate_code, f.sex) == (dt.date(2015, 3, 7), "EG-C", "F")
    m = egyptian_id_facts(EG_M_GIZA_2015_03_07)
    assert (m.date_of_birth, m.governorate_code, m.sex) == (dt.date(2015, 3, 7), "EG-GZ", "M")


def test_egyptian_id_facts_read_century_digit_2_as_1900s():
    assert egyptian_id_facts("29912310200015").date_of_birth == dt.date(1999, 12, 31)


def test_egyptian_id_facts_born_abroad_code_88_has_no_governorate():
    f = egyptian_id_facts("31001018800021")
    assert f.governorate_code is None
    assert f.sex == "F"


@pytest.mark.parametrize(
    ("nid", "reason"),
    [
        ("11503070100123", "first digit (century) must be 2 or 3"),
        ("41503070100123", "first digit (century) must be 2 or 3"),
        ("01503070100123", "first digit (century) must be 2 or 3"),
        ("31513070100123", "digits 2-7 are not a valid date of birth"),  # month 13
        ("31502300100123", "digits 2-7 are not a valid date of birth"),  # 30 February
        ("31502290100123", "digits 2-7 are not a valid date of birth"),  # 29 Feb 2015, not a leap year
        ("31503000100123", "digits 2-7 are not a valid date of birth"),  # day 0
        ("39901010100123", "digits 2-7 encode a date of birth in the future"),  # 2099
        ("31503079900123", "digits 8-9 are not an Egyptian governorate code"),
        ("31503070500123", "digits 8-9 are not an Egyptian governorate code"),
        ("3150307010012", "an Egyptian national ID has 14 digits, this one has 13"),
    ],
)
def test_egyptian_id_facts_reject_malformed_ids_with_the_reason(nid, reason):
    with pytest.raises(ValueError) as exc:
        egyptian_id_facts(nid)
    assert str(exc.value).startswith(reason)


def test_egyptian_id_facts_accept_29_february_in_a_leap_year():
    assert egyptian_id_facts("31602290100123").date_of_birth == dt.date(2016, 2, 29)


@pytest.mark.parametrize("nid", ["01234567890", "99999999999", "00000000000"])
def test_check_national_id_accepts_any_11_digit_syrian_id(nid):
    assert check_national_id(nid, "SY") == []
    assert check_national_id(nid, None) == []


@pytest.mark.parametrize(
    ("nid", "country", "reason"),
    [
        ("0123456789", "SY", "a Syrian national ID has 11 digits, this one has 10"),
        ("012345678901", "SY", "a Syrian national ID has 11 digits, this one has 12"),
        ("31503070100123", "SY", "a Syrian national ID has 11 digits, this one has 14"),
        ("01234567890", "EG", "an Egyptian national ID has 14 digits, this one has 11"),
        ("315030701001234", "EG", "an Egyptian national ID has 14 digits, this one has 15"),
        ("012345678901", None, "must have 11 digits (Syria) or 14 digits (Egypt)"),
        ("1", None, "must have 11 digits (Syria) or 14 digits (Egypt)"),
    ],
)
def test_check_national_id_rejects_wrong_length_for_the_country(nid, country, reason):
    assert check_national_id(nid, country) == [reason]


def test_check_national_id_accepts_egyptian_id_consistent_with_the_record():
    assert check_national_id(EG_F_CAIRO_2015_03_07, "EG", PartialDate(2015, 3, 7), "F", "EG-C") == []
    assert check_national_id(EG_M_GIZA_2015_03_07, None, PartialDate(2015, 3, 7), "M", "EG-GZ") == []


@pytest.mark.parametrize(
    "dob",
    [PartialDate(2015, 3), PartialDate(2015), PartialDate(2014, 1, 1, estimated=True), None],
    ids=["year-month", "year", "estimated-differs", "absent"],
)
def test_check_national_id_compares_only_the_known_part_of_the_date_and_skips_estimates(dob):
    assert check_national_id(EG_F_CAIRO_2015_03_07, "EG", dob, "F", "EG-C") == []


@pytest.mark.parametrize(
    "dob",
    [PartialDate(2015, 3, 8), PartialDate(2015, 4), PartialDate(2016), PartialDate(2015, 7, 3)],
    ids=["other-day", "other-month", "other-year", "day-month-swapped"],
)
def test_check_national_id_reports_date_of_birth_contradiction(dob):
    assert check_national_id(EG_F_CAIRO_2015_03_07, "EG", dob, "F", "EG-C") == [
        "digits 2-7 encode a date of birth that differs from the record's"
    ]


def test_check_national_id_reports_sex_contradiction():
    assert check_national_id(EG_F_CAIRO_2015_03_07, "EG", None, "M", None) == [
        "digit 13 encodes a sex that differs from the record's"
    ]
    assert check_national_id(EG_M_GIZA_2015_03_07, "EG", None, "F", None) == [
        "digit 13 encodes a sex that differs from the record's"
    ]


def test_check_national_id_reports_governorate_contradiction():
    assert check_national_id(EG_F_CAIRO_2015_03_07, "EG", None, None, "EG-ALX") == [
        "digits 8-9 encode a governorate that differs from the record's"
    ]


def test_check_national_id_reports_every_contradiction_at_once():
    problems = check_national_id(EG_F_CAIRO_2015_03_07, "EG", PartialDate(2016, 1, 1), "M", "EG-GZ")
    assert len(problems) == 3
    assert "date of birth" in problems[0]
    assert "sex" in problems[1]
    assert "governorate" in problems[2]


def test_check_national_id_accepts_born_abroad_code_88_with_any_egyptian_governorate():
    nid = "31503078800123"
    assert check_national_id(nid, "EG", PartialDate(2015, 3, 7), "F", "EG-C") == []
    assert check_national_id(nid, "EG", PartialDate(2015, 3, 7), "F", "EG-ASN") == []


@pytest.mark.parametrize("nid_code", ["01", "02", "21", "35", "88"])
@pytest.mark.parametrize("sex", ["M", "F"])
@pytest.mark.parametrize("born", [dt.date(1995, 12, 31), dt.date(2000, 1, 1), dt.date(2016, 2, 29)])
def test_make_egyptian_id_builds_ids_whose_facts_read_back(nid_code, sex, born):
    for serial in (0, 7, 1234, 9999):
        nid = make_egyptian_id(born, nid_code, sex, serial, check=5)
        assert len(nid) == 14 and nid.isdigit() and nid[-1] == "5"
        facts = egyptian_id_facts(nid)
        assert facts.date_of_birth == born
        assert facts.sex == sex
        assert nid[7:9] == nid_code
