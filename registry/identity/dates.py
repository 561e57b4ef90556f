"""Dates of birth as agencies know them: exact, year-month, year only, or estimated.

Written forms accepted: 2015-03-07, 07/03/2015 (day first, as in both countries), 2015-03, 2015,
and an estimate marked with '~' or 'about'/'ca.'/'تقريبا' (e.g. '~2015'). Arabic-Indic digits are read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from registry.names.text import clean_text

_ESTIMATE_MARKS = re.compile(
    r"^(~|about|approx\.?|ca\.?|circa|حوالي|تقريباً|تقريبا)\s*|\s*(تقريباً|تقريبا|\(est\.?\))$", re.I
)
_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[-/.](\d{4})$")

OLDEST_YEAR = 1990  # the registry is for children; older dates are clerical errors


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None
    estimated: bool = False

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def isoformat(self) -> str:
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return ("~" if self.estimated else "") + text

    def as_date(self) -> dt.date | None:
        return dt.date(self.year, self.month, self.day) if self.day and self.month else None

    def __str__(self) -> str:
        return self.isoformat()


def parse_date_of_birth(value: str | dt.date | None, today: dt.date | None = None) -> PartialDate | None:
    """Parse a date of birth; raise ValueError with the reason when it is not one."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return _checked(value.year, value.month, value.day, False, today)
    text = clean_text(value)
    if not text:
        return None
    estimated = False
    stripped = _ESTIMATE_MARKS.sub("", text).strip()
    if stripped != text:
        estimated, text = True, stripped
    if m := _ISO.match(text):
        y, mo, d = m.groups()
        return _checked(int(y), int(mo) if mo else None, int(d) if d else None, estimated, today)
    if m := _DMY.match(text):
        d, mo, y = m.groups()
        return _checked(int(y), int(mo), int(d), estimated, today)
    if m := _MY.match(text):
        mo, y = m.groups()
        return _checked(int(y), int(mo), None, estimated, today)
    raise ValueError("not a date: use YYYY-MM-DD, DD/MM/YYYY, YYYY-MM or YYYY, with '~' for an estimate")


def _checked(y: int, mo: int | None, d: int | None, estimated: bool, today: dt.date | None) -> PartialDate:
    today = today or dt.date.today()
    if mo is not None and not 1 <= mo <= 12:
        raise ValueError("the month does not exist (1-12)")
    if d is not None:
        try:
            dt.date(y, mo or 1, d)
        except ValueError:
            raise ValueError("the day does not exist in that month") from None
    if y < OLDEST_YEAR:
        raise ValueError(f"the year is before {OLDEST_YEAR}: not a child's date of birth")
    earliest_possible = dt.date(y, mo or 1, d or 1)
    if earliest_possible > today:
        raise ValueError("date of birth is in the future")
    return PartialDate(y, mo, d, estimated)
