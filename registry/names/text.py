"""Unicode cleaning of free text as it arrives from forms and spreadsheets.

This is cleaning, not matching: it keeps every letter a clerk wrote (harakat included, so a person reading
the record later sees what was entered) but removes what is invisible or ambiguous at the code-point level.
Name folding for matching (alef forms, taa marbuta, ...) lives in registry.matching.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidirectional control characters: invisible, yet they break equality and can hide text.
_INVISIBLE = dict.fromkeys(
    [
        0x200B, 0x200C, 0x200D, 0x200E, 0x200F,  # ZWSP, ZWNJ, ZWJ, LRM, RLM
        0x202A, 0x202B, 0x202C, 0x202D, 0x202E,  # embeddings and overrides
        0x2066, 0x2067, 0x2068, 0x2069,  # isolates
        0x061C,  # Arabic letter mark
        0xFEFF,  # byte-order mark / ZWNBSP
        0x00AD,  # soft hyphen
    ]
)

# Persian/Urdu code points that look like Arabic letters and mean the same in names.
_PERSIAN = {
    0x06CC: "\u064A",  # ی FARSI YEH -> ي
    0x06D2: "\u064A",  # ے YEH BARREE -> ي
    0x06A9: "\u0643",  # ک KEHEH -> ك
    0x06AA: "\u0643",  # ڪ SWASH KAF -> ك
    0x06C1: "\u0647",  # ہ HEH GOAL -> ه
    0x06D5: "\u0647",  # ە AE -> ه
    0x06BE: "\u0647",  # ھ HEH DOACHASHMEE -> ه
}

# Arabic-Indic (٠-٩) and Eastern Arabic-Indic (۰-۹) digits read as ASCII digits.
_DIGITS = {cp: str(i) for i, cp in enumerate(range(0x0660, 0x066A))}
_DIGITS.update({cp: str(i) for i, cp in enumerate(range(0x06F0, 0x06FA))})

_TABLE: dict[int, str | None] = {**_INVISIBLE, **_PERSIAN, **_DIGITS}
_SPACES = re.compile(r"\s+")
_ARABIC_LETTER = re.compile(r"[\u0621-\u063F\u0641-\u064A\u0671-\u06D3]")  # not tatweel (U+0640)
_LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F]")


def clean_text(value: str | None) -> str:
    """NFC, invisible controls removed, Persian letters and non-ASCII digits folded, spaces collapsed."""
    if value is None:
        return ""
    if isinstance(value, str) and value.isascii():
        # ASCII is already NFKC and NFC and holds nothing to fold: only the spaces (split() and \s agree on
        # what a space is). Most cells of an imported list are ASCII: references, dates, codes.
        return " ".join(value.split())
    # Compatibility forms (Arabic presentation forms, full-width Latin) to their base letters first, so a
    # presentation form of a Persian letter is folded too; NFC again as removals may leave marks unordered.
    text = unicodedata.normalize("NFKC", str(value)).translate(_TABLE)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


def ascii_digits(value: str | None) -> str:
    """Only the digits of a value, Arabic-Indic and Eastern digits included, as ASCII."""
    return "".join(ch for ch in clean_text(value) if ch.isdigit() and ch.isascii())


def script_of(value: str) -> str:
    """'arabic', 'latin', 'mixed' or 'none', by the letters present."""
    has_ar = bool(_ARABIC_LETTER.search(value))
    has_lat = bool(_LATIN_LETTER.search(value))
    if has_ar and has_lat:
        return "mixed"
    if has_ar:
        return "arabic"
    if has_lat:
        return "latin"
    return "none"
