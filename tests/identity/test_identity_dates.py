"""Dates of birth: exact, day-first, year-month, year, estimated; impossible and out-of-range dates."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.identity.dates import OLDEST_YEAR, PartialDate, parse_date_of_birth

TODAY = dt.date(2024, 6, 15)


def parse(value):
    return parse_date_of_birth(value, today=TODAY)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-03-07", PartialDate(2015, 3, 7)),
        ("2015/03/07", PartialDate(2015, 3, 7)),
        ("2015.3.7", PartialDate(2015, 3, 7)),
        ("07/03/2015", PartialDate(2015, 3, 7)),  # day first
        ("7/3/2015", PartialDate(2015, 3, 7)),
        ("07-03-2015", PartialDate(2015, 3, 7)),
        ("07.03.2015", PartialDate(2015, 3, 7)),
        ("2015-03", PartialDate(2015, 3)),
        ("03/2015", PartialDate(2015, 3)),
        ("3-2015", PartialDate(2015, 3)),
        ("2015", PartialDate(2015)),
        ("  2015-03-07  ", PartialDate(2015, 3, 7)),
    ],
)
def test_parse_date_of_birth_reads_exact_partial_and_day_first_forms(raw, expected):
    assert parse(raw) == expected


def test_parse_date_of_birth_reads_day_first_not_month_first():
    assert parse("01/02/2015") == PartialDate(2015, 2, 1)
    with pytest.raises(ValueError, match="month does not exist"):
        parse("12/13/2015")  # a US-style month-first date is rejected, not silently swapped


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("~2015", PartialDate(2015, estimated=True)),
        ("~ 2015-03", PartialDate(2015, 3, estimated=True)),
        ("about 2016", PartialDate(2016, estimated=True)),
        ("About 2016", PartialDate(2016, estimated=True)),
        ("ca. 2016", PartialDate(2016, estimated=True)),
        ("circa 2016", PartialDate(2016, estimated=True)),
        ("approx 2016", PartialDate(2016, estimated=True)),
        ("2016 (est.)", PartialDate(2016, estimated=True)),
        ("حوالي 2016", PartialDate(2016, estimated=True)),
        ("حوالي ٢٠١٦", PartialDate(2016, estimated=True)),
        ("تقريبا 2016", PartialDate(2016, estimated=True)),
        ("تقريباً 2016", PartialDate(2016, estimated=True)),  # with tanween
        ("2016 تقريبا", PartialDate(2016, estimated=True)),
        ("2016 تقريباً", PartialDate(2016, estimated=True)),
        ("~07/03/2015", PartialDate(2015, 3, 7, estimated=True)),
    ],
)
def test_parse_date_of_birth_marks_estimates_in_arabic_and_latin(raw, expected):
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("٢٠١٥-٠٣-٠٧", PartialDate(2015, 3, 7)),  # Arabic-Indic
        ("۲۰۱۵-۰۳-۰۷", PartialDate(2015, 3, 7)),  # Eastern Arabic-Indic
        ("٠٧/٠٣/٢٠١٥", PartialDate(2015, 3, 7)),
        ("۲۰۱۵", PartialDate(2015)),
        ("٢٠١٥-03", PartialDate(2015, 3)),
    ],
)
def test_parse_date_of_birth_reads_arabic_indic_and_eastern_digits(raw, expected):
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2015-13-01", "the month does not exist (1-12)"),
        ("2015-00", "the month does not exist (1-12)"),
        ("2015-04-31", "the day does not exist in that month"),
        ("31/04/2015", "the day does not exist in that month"),
        ("2015-03-00", "the day does not exist in that month"),
        ("2015-02-29", "the day does not exist in that month"),  # not a leap year
        ("29/02/2015", "the day does not exist in that month"),
        ("2000-02-30", "the day does not exist in that month"),
    ],
)
def test_parse_date_of_birth_rejects_impossible_month_or_day(raw, reason):
    with pytest.raises(ValueError) as exc:
        parse(raw)
    assert reason in str(exc.value)


@pytest.mark.parametrize("raw", ["2016-02-29", "29/02/2016", "2000-02-29", "2020-02-29"])
def test_parse_date_of_birth_accepts_29_february_in_leap_years(raw):
    result = parse(raw)
    assert (result.month, result.day) == (2, 29)


@pytest.mark.parametrize(
    "raw",
    ["2024-06-16", "16/06/2024", "2024-07", "2025", "~2030", "2099-01-01"],
)
def test_parse_date_of_birth_rejects_future_dates(raw):
    with pytest.raises(ValueError, match="in the future"):
        parse(raw)


@pytest.mark.parametrize(("raw", "expected"), [("2024-06-15", PartialDate(2024, 6, 15)), ("2024-06", PartialDate(2024, 6)), ("2024", PartialDate(2024))])  # noqa: E501
def test_parse_date_of_birth_accepts_today_and_the_current_month_and_year(raw, expected):
    assert parse(raw) == expected


@pytest.mark.parametrize("raw", ["1989-12-31", "1989", "01/01/1985", "~1970", "0015-03-07"])
def test_parse_date_of_birth_rejects_years_before_1990(raw):
    with pytest.raises(ValueError, match=f"before {OLDEST_YEAR}"):
        parse(raw)


def test_parse_date_of_birth_accepts_1990_the_oldest_year():
    assert parse("1990-01-01") == PartialDate(1990, 1, 1)
    assert parse("1990") == PartialDate(1990)


@pytest.mark.parametrize(
    "raw",
    [
        "unknown",
        "غير معروف",
        "March 2015",
        "15",
        "20150307",
        "2015-03-07-01",
        "07/03/15",  # two-digit year is ambiguous
        "2015 03 07",
        "~",
        "2015-3-7T00:00",
    ],
)
def test_parse_date_of_birth_rejects_garbage_with_the_accepted_forms(raw):
    with pytest.raises(ValueError, match="not a date: use YYYY-MM-DD, DD/MM/YYYY"):
        parse(raw)


@pytest.mark.parametrize("raw", [None, "", "   ", "\u200b"])
def test_parse_date_of_birth_returns_none_for_missing_values(raw):
    assert parse(raw) is None


def test_parse_date_of_birth_accepts_date_and_datetime_objects():
    assert parse(dt.date(2015, 3, 7)) == PartialDate(2015, 3, 7)
    assert parse(dt.datetime(2015, 3, 7, 13, 45)) == PartialDate(2015, 3, 7)
    with pytest.raises(ValueError, match="in the future"):
        parse(dt.date(2024, 6, 16))
    with pytest.raises(ValueError, match="before 1990"):
        parse(dt.date(1980, 1, 1))


@pytest.mark.parametrize(
    ("date", "iso"),
    [
        (PartialDate(2015, 3, 7), "2015-03-07"),
        (PartialDate(2015, 3), "2015-03"),
        (PartialDate(2015), "2015"),
        (PartialDate(2015, estimated=True), "~2015"),
        (PartialDate(2015, 11, estimated=True), "~2015-11"),
        (PartialDate(2015, 1, 2, estimated=True), "~2015-01-02"),
    ],
)
def test_partial_date_isoformat_pads_and_marks_estimates(date, iso):
    assert date.isoformat() == iso
    assert str(date) == iso


@pytest.mark.parametrize(
    "date",
    [PartialDate(2015, 3, 7), PartialDate(2015, 3), PartialDate(2015), PartialDate(2015, 11, estimated=True)],
)
def test_partial_date_isoformat_parses_back_to_the_same_date(date):
    assert parse(date.isoformat()) == date


@pytest.mark.parametrize(
    ("date", "precision", "as_date"),
    [
        (PartialDate(2015, 3, 7), "day", dt.date(2015, 3, 7)),
        (PartialDate(2015, 3), "month", None),
        (PartialDate(2015), "year", None),
    ],
)
def test_partial_date_precision_and_as_date(date, precision, as_date):
    assert date.precision == precision
    assert date.as_date() == as_date
