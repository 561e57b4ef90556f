"""Normalisation rules, one per test, Arabic and Latin."""

import pytest

from registry.names.normalize import MAX_NAME_LENGTH, normalize_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("مُحَمَّد", "محمد"),  # harakat and shadda
        ("محـــمد", "محمد"),  # tatweel
        ("أحمد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آمنة", "امنه"),  # madda alef, taa marbuta
        ("ٱلله", "الله"),  # alef wasla
        ("مؤمن", "مومن"),  # hamza on waw
        ("هانئ", "هاني"),  # hamza on yeh
        ("على", "علي"),  # alef maqsura (Egyptian spelling)
        ("فاطمة", "فاطمه"),
        ("یوسف", "يوسف"),  # Persian yeh
        ("کریم", "كريم"),  # Persian keheh and yeh
        ("\u200fمحمد\u200e", "محمد"),  # direction marks
        ("ﻣﺤﻤﺪ", "محمد"),  # presentation forms
    ],
)
def test_arabic_folding(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_alef_maqsura_is_not_folded_to_alef() -> None:
    # Some libraries map ى to ا; that would make علي (Ali) equal to علا (Ola).
    assert normalize_name("على") != normalize_name("علا")


def test_hamza_forms_are_not_turned_into_bare_hamza() -> None:
    assert "ء" not in normalize_name("أحمد إبراهيم")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dia'a", "diaa"),
        ("Dia’a", "diaa"),
        ("El-Khoury", "el khoury"),
        ("Aïcha", "aicha"),
        ("ÉLODIE", "elodie"),
        ("Mohd.", "mohd"),
        ("  Abdel   Rahman ", "abdel rahman"),
        ("Straße", "strasse"),
        ("Ḥasan", "hasan"),
    ],
)
def test_latin_folding(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_mixed_scripts_are_split_into_tokens() -> None:
    assert normalize_name("محمدAli") == "محمد ali"


def test_digits_and_punctuation_separate_tokens() -> None:
    assert normalize_name("Ahmed2 (Ali)") == "ahmed ali"
    assert normalize_name("١٢٣") == ""


@pytest.mark.parametrize("raw", ["", "   ", None, "ًٌٍَُِّْ", "123", "---", "Москва"])
def test_nothing_left_gives_empty_string(raw: str | None) -> None:
    assert normalize_name(raw) == ""


def test_too_long_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="longer than"):
        normalize_name("a" * (MAX_NAME_LENGTH + 1))
