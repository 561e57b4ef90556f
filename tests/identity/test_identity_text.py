"""clean_text, ascii_digits and script_of: Unicode cleaning of what clerks type."""

from __future__ import annotations

import pytest

from registry.names.text import ascii_digits, clean_text, script_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("  Ahmad   Hassan  ", "Ahmad Hassan"),
        ("Ahmad\tHassan\nAli", "Ahmad Hassan Ali"),
        ("\u00a0Aïcha\u00a0", "Aïcha"),  # no-break spaces are spaces
        (12345, "12345"),  # spreadsheets hand over numbers
    ],
    ids=["none", "empty", "blank", "collapses-spaces", "tabs-newlines", "nbsp", "non-string"],
)
def test_clean_text_trims_and_collapses_whitespace(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ah\u200bmad", "Ahmad"),  # zero-width space
        ("Ah\u200cmad", "Ahmad"),  # ZWNJ
        ("Ah\u200dmad", "Ahmad"),  # ZWJ
        ("\u200eAhmad\u200f", "Ahmad"),  # LRM / RLM
        ("\u202bمحمد\u202c", "محمد"),  # RTL embedding + pop
        ("\u202eدمحم", "دمحم"),  # RTL override (can hide text) is dropped, letters kept in stored order
        ("\u2067محمد\u2069", "محمد"),  # isolates
        ("\u061cمحمد", "محمد"),  # Arabic letter mark
        ("\ufeffAhmad", "Ahmad"),  # BOM
        ("Ah\u00admad", "Ahmad"),  # soft hyphen
    ],
    ids=["zwsp", "zwnj", "zwj", "lrm-rlm", "rle-pdf", "rlo", "isolates", "alm", "bom", "soft-hyphen"],
)
def test_clean_text_removes_zero_width_and_bidi_controls(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علی", "علي"),  # FARSI YEH -> ARABIC YEH
        ("کریم", "كريم"),  # KEHEH and FARSI YEH
        ("\ufb8e\ufbfc", "كي"),  # presentation forms of KEHEH and FARSI YEH fold too
        ("ھانی", "هاني"),  # HEH DOACHASHMEE
    ],
    ids=["farsi-yeh", "keheh", "persian-presentation-forms", "heh-doachashmee"],
)
def test_clean_text_folds_persian_letters_to_arabic(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_keeps_harakat_and_tatweel_as_written():
    assert clean_text("مُحَمَّد") == "مُحَمَّد"
    assert clean_text("محمـــد") == "محمـــد"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),  # Arabic-Indic
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),  # Eastern Arabic-Indic (Persian)
        ("٢٠١٥-۰۳-07", "2015-03-07"),  # mixed digit systems in one value
    ],
    ids=["arabic-indic", "eastern", "mixed"],
)
def test_clean_text_reads_non_ascii_digits_as_ascii(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_composes_decomposed_latin_accents():
    assert clean_text("Ai\u0308cha") == "Aïcha"
    assert len(clean_text("Ai\u0308cha")) == 5


def test_clean_text_turns_arabic_presentation_forms_and_fullwidth_into_base_letters():
    assert clean_text("\ufee3\ufea3\ufee4\ufeaa") == "محمد"
    assert clean_text("\uff21\uff48\uff4d\uff41\uff44") == "Ahmad"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912 345 678", "0912345678"),
        ("٠٩١٢-٣٤٥", "0912345"),
        ("abc", ""),
        (None, ""),
    ],
)
def test_ascii_digits_keeps_only_digits_as_ascii(raw, expected):
    assert ascii_digits(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("محمد", "arabic"),
        ("مُحَمَّد", "arabic"),
        ("Ahmad", "latin"),
        ("Aïcha", "latin"),
        ("Ahmad محمد", "mixed"),
        ("\u064e\u064f", "none"),  # harakat only
        ("ـــ", "none"),  # tatweel only is not a letter
        ("-'.", "none"),
        ("", "none"),
    ],
)
def test_script_of_classifies_by_letters_present(text, expected):
    assert script_of(text) == expected


def test_ascii_text_is_cleaned_as_the_full_path_would():
    """clean_text's shortcut for ASCII (only the spaces change) gives what NFKC, folding and NFC would."""
    import random
    import unicodedata

    from registry.names import text as text_module

    def full_path(value: str) -> str:
        t = unicodedata.normalize("NFC", unicodedata.normalize("NFKC", value).translate(text_module._TABLE))
        return text_module._SPACES.sub(" ", t).strip()

    rng = random.Random(7)
    ascii_chars = [chr(i) for i in range(128)]
    samples = [a + "x" + b for a in ascii_chars for b in ascii_chars[::7]]
    samples += ["".join(rng.choice(ascii_chars) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    for value in samples:
        assert clean_text(value) == full_path(value), repr(value)
