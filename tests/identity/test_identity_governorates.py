"""Governorates: the 14 Syrian and 27 Egyptian ISO codes, names in both scripts, common spellings."""

from __future__ import annotations

import pytest

from registry.identity.governorates import BY_CODE, BY_NID_CODE, GOVERNORATES, find_governorate

SYRIA = ["SY-DI", "SY-RD", "SY-HL", "SY-HM", "SY-HI", "SY-ID", "SY-LA", "SY-TA", "SY-DR", "SY-SU", "SY-QU",
         "SY-DY", "SY-HA", "SY-RA"]  # fmt: skip
EGYPT = ["EG-C", "EG-ALX", "EG-PTS", "EG-SUZ", "EG-DT", "EG-DK", "EG-SHR", "EG-KB", "EG-KFS", "EG-GH", "EG-MNF",
         "EG-BH", "EG-IS", "EG-GZ", "EG-BNS", "EG-FYM", "EG-MN", "EG-AST", "EG-SHG", "EG-KN", "EG-ASN", "EG-LX",
         "EG-BA", "EG-WAD", "EG-MT", "EG-SIN", "EG-JS"]  # fmt: skip


def test_governorate_table_holds_exactly_14_syrian_and_27_egyptian_iso_codes():
    assert sorted(g.code for g in GOVERNORATES if g.country == "SY") == sorted(SYRIA)
    assert sorted(g.code for g in GOVERNORATES if g.country == "EG") == sorted(EGYPT)
    assert len({g.code for g in GOVERNORATES}) == 41


def test_every_egyptian_governorate_has_a_distinct_national_id_code_and_no_syrian_one_has():
    eg = [g for g in GOVERNORATES if g.country == "EG"]
    assert all(g.nid_code and len(g.nid_code) == 2 and g.nid_code.isdigit() for g in eg)
    assert len(BY_NID_CODE) == 27
    assert all(g.nid_code is None for g in GOVERNORATES if g.country == "SY")
    assert "88" not in BY_NID_CODE and "99" not in BY_NID_CODE


@pytest.mark.parametrize("code", SYRIA + EGYPT)
def test_find_governorate_resolves_every_iso_code_in_any_case(code):
    assert find_governorate(code).code == code
    assert find_governorate(code.lower()).code == code
    assert find_governorate(f"  {code}  ").code == code


@pytest.mark.parametrize("code", SYRIA + EGYPT)
def test_find_governorate_resolves_every_english_and_arabic_name(code):
    g = BY_CODE[code]
    assert find_governorate(g.name_en).code == code
    assert find_governorate(g.name_ar).code == code
    assert find_governorate(g.name_en.upper()).code == code


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("Halab", "SY-HL"),
        ("Dimashq", "SY-DI"),
        ("Rural Damascus", "SY-RD"),
        ("Hassakeh", "SY-HA"),
        ("Hasakah", "SY-HA"),
        ("Al Hasakah", "SY-HA"),
        ("Deir Ezzor", "SY-DY"),
        ("Deir al-Zor", "SY-DY"),
        ("Deir-ez-Zor", "SY-DY"),
        ("Lattakia", "SY-LA"),
        ("Tartous", "SY-TA"),
        ("Dara", "SY-DR"),
        ("Dar'a", "SY-DR"),
        ("Sweida", "SY-SU"),
        ("Suwayda", "SY-SU"),
        ("Ar-Raqqah", "SY-RA"),
        ("Kalyoubia", "EG-KB"),
        ("Qaliubiya", "EG-KB"),
        ("Menoufia", "EG-MNF"),
        ("Fayoum", "EG-FYM"),
        ("Assiut", "EG-AST"),
        ("Minia", "EG-MN"),
        ("Kafr el-Sheikh", "EG-KFS"),
        ("KAFR EL-SHEIKH", "EG-KFS"),
        ("Sharkia", "EG-SHR"),
        ("Behera", "EG-BH"),
        ("portsaid", "EG-PTS"),
        # Arabic without hamza on the alef, and with heh for taa marbuta
        ("ادلب", "SY-ID"),
        ("حماه", "SY-HM"),
        ("الاسكندرية", "EG-ALX"),
        ("اسوان", "EG-ASN"),
        ("الاقصر", "EG-LX"),
        ("القاهره", "EG-C"),
        ("\u200fدمشق\u200f", "SY-DI"),  # direction marks from a spreadsheet
    ],
)
def test_find_governorate_resolves_common_alternative_spellings(spelling, code):
    assert find_governorate(spelling).code == code


@pytest.mark.parametrize("value", ["Atlantis", "SY-XX", "EG-ZZ", "Beirut", "بيروت", "XX-DI", "12"])
def test_find_governorate_returns_none_for_unknown_places(value):
    assert find_governorate(value) is None


@pytest.mark.parametrize("value", ["", "   ", "\u200b"])
def test_find_governorate_returns_none_for_empty_input(value):
    assert find_governorate(value) is None
