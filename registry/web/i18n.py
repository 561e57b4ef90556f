"""Languages of the pages: Arabic (the default, right to left) and English, through gettext catalogues.

The catalogues live in `registry/web/locale/<lang>/LC_MESSAGES/messages.po`; the compiled `.mo` beside each is
committed, and a test checks that it is the compilation of its `.po` and that every string of the templates
and pages has a translation in both. Dates and numbers are formatted by Babel for the language (Arabic-Indic
digits in Arabic).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from registry.services.sessions import LANGUAGES, language_or_default

__all__ = ["LANGUAGES", "Language", "language_or_default", "translations"]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# The locale Babel formats with: Syrian Arabic uses Arabic-Indic digits, as do Egypt's forms.
_BABEL_LOCALE = {"ar": "ar_SY", "en": "en_GB"}
# Babel writes Latin digits whatever the locale (its symbols follow the locale): Arabic pages use Arabic-Indic.
_DIGITS = {"ar": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"), "en": str.maketrans("", "")}


@cache
def translations(lang: str) -> NullTranslations:  # a NullTranslations when the catalogue is missing
    return Translations.load(str(LOCALE_DIR), [lang], domain=DOMAIN)


@dataclass(frozen=True)
class Language:
    code: str

    @property
    def direction(self) -> str:
        return Locale.parse(_BABEL_LOCALE[self.code]).text_direction  # "rtl" | "ltr"

    @property
    def name(self) -> str:
        name = Locale.parse(_BABEL_LOCALE[self.code]).get_display_name(_BABEL_LOCALE[self.code])
        assert name is not None  # Babel has a display name for each locale of _BABEL_LOCALE
        return name.split(" (")[0]

    def gettext(self, message: str) -> str:
        return translations(self.code).gettext(message)

    def number(self, value: float | int, digits: int = 0) -> str:
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        text = format_decimal(value, format=fmt, locale=_BABEL_LOCALE[self.code], numbering_system="default")
        return text.translate(_DIGITS[self.code])

    def signed(self, value: float) -> str:
        """A match weight with its sign: +9.5 / -7.8 (the sign matters to a reviewer)."""
        text = self.number(abs(value), 1)
        return ("+" if value >= 0 else "−") + text

    def percent(self, value: float) -> str:
        text = format_percent(value, format="#,##0.0%", locale=_BABEL_LOCALE[self.code], numbering_system="default")
        return text.translate(_DIGITS[self.code])

    def when(self, value: dt.datetime | str | None) -> str:
        """A time as the page shows it (also from ISO text, as the use cases' dictionaries carry it)."""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return self.datetime(value)

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        text = format_datetime(value, format="medium", tzinfo=dt.UTC, locale=_BABEL_LOCALE[self.code])
        return text.translate(_DIGITS[self.code]) + " UTC"
