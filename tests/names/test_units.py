"""Unit and chain rules in both scripts."""

import pytest

from registry.names import parse_chain, split_units
from registry.names.skeleton import unit_skeleton
from registry.names.units import parse_unit


def structure(name: str) -> tuple[str, ...]:
    return tuple(f"{u.prefix}|{u.head}|{u.suffix}" for u in split_units(name))


@pytest.mark.parametrize("name", ["عبد الله", "عبدالله", "Abdallah", "Abdullah", "Abdulla", "Abd Allah"])
def test_abdallah_is_one_unit(name: str) -> None:
    assert structure(name) == ("abd||allah",)


@pytest.mark.parametrize(
    "name", ["عبد الرحمن", "عبدالرحمن", "Abd al-Rahman", "Abdel Rahman", "Abdulrahman", "Abd ar-Rahman",
             "Abdelrahman", "Abderrahman"],
)
def test_abd_al_rahman_is_one_unit_with_one_skeleton(name: str) -> None:
    units = split_units(name)
    assert len(units) == 1
    assert units[0].prefix == "abd"
    assert unit_skeleton(units[0]) == "abd-rhmn"


@pytest.mark.parametrize("name", ["نور الدين", "نورالدين", "Nour El-Din", "Nureddin", "Noureddine", "Nour al Deen"])
def test_x_al_din_is_one_unit(name: str) -> None:
    units = split_units(name)
    assert len(units) == 1
    assert units[0].suffix == "din"
    assert unit_skeleton(units[0]) == "nr-din"


@pytest.mark.parametrize("name", ["جاد الله", "جادالله", "Jadallah", "Gad Allah"])
def test_x_allah_is_one_unit(name: str) -> None:
    unit = parse_unit(name)
    assert unit.suffix == "allah"
    assert unit_skeleton(unit) == "jd-allah"


@pytest.mark.parametrize("name", ["أبو بكر", "ابو بكر", "Abu Bakr", "Abou Bakr", "Aboubakr"])
def test_abu_x_is_one_unit(name: str) -> None:
    unit = parse_unit(name)
    assert (unit.prefix, unit_skeleton(unit)) == ("abu", "abu-bkr")


@pytest.mark.parametrize("name", ["بن علي", "ابن علي", "Ben Ali", "Bin Ali", "ibn Ali"])
def test_ibn_x_is_one_unit(name: str) -> None:
    unit = parse_unit(name)
    assert (unit.prefix, unit_skeleton(unit)) == ("ibn", "ibn-Al")


@pytest.mark.parametrize("name", ["الحسن", "El-Hassan", "al-Hasan", "Al Hassan", "Alhasan", "el Hassan"])
def test_article_is_removed_from_the_head(name: str) -> None:
    unit = parse_unit(name)
    assert unit_skeleton(unit) == "hsn"


@pytest.mark.parametrize(("name", "head"), [("الياس", "الياس"), ("الهام", "الهام"), ("Elias", "elias"),
                                            ("Ilham", "ilham"), ("Elham", "elham"), ("Essam", "essam")])
def test_names_that_begin_like_the_article_stay_whole(name: str, head: str) -> None:
    assert parse_unit(name).head == head


def test_assimilated_joined_article_is_removed() -> None:
    assert parse_unit("Errachidi").head == "rachidi"
    assert parse_unit("Elsayed").head == "sayed"


@pytest.mark.parametrize("name", ["Mhd", "Mohd", "Mohd.", "MHD"])
def test_muhammad_abbreviations(name: str) -> None:
    assert parse_unit(name).head == "muhammad"


def test_plain_names_are_not_compounds() -> None:
    for name in ["Abdo", "Abdi", "Fadila", "Jamila", "عبده"]:
        unit = parse_unit(name)
        assert (unit.prefix, unit.suffix) == ("", ""), name


def test_full_arabic_chain() -> None:
    chain = parse_chain("محمد عبد الله الحسن")
    assert chain.given.head == "محمد"
    assert chain.father is not None and chain.father.key == "abd||allah"
    assert chain.grandfather is None
    assert chain.family is not None and chain.family.head == "حسن"


def test_full_latin_chain_with_compounds() -> None:
    chain = parse_chain("Mohamed Abdel Rahman Nour El-Din El-Khoury")
    assert [unit_skeleton(u) for u in chain.units] == ["mhmd", "abd-rhmn", "nr-din", "Xr"]
    assert chain.father is not None and chain.father.prefix == "abd"
    assert chain.grandfather is not None and chain.grandfather.suffix == "din"
    assert chain.family is not None and chain.family.head == "khoury"


def test_chain_shapes() -> None:
    one = parse_chain("Ahmed")
    assert (one.father, one.grandfather, one.family) == (None, None, None)
    two = parse_chain("Ahmed Hassan")
    assert two.father is None and two.family is not None and two.family.head == "hassan"
    five = parse_chain("احمد محمد علي حسن الخطيب")
    assert [u.head for u in five.middle] == ["حسن"]
    assert five.family is not None and five.family.head == "خطيب"


def test_mixed_script_field_gives_units_of_both_scripts() -> None:
    assert [u.script for u in split_units("محمد Ali")] == ["arabic", "latin"]


def test_odd_input() -> None:
    assert split_units("") == ()
    assert split_units("ًٌٍ") == ()
    assert split_units("12345") == ()
    with pytest.raises(ValueError, match="no Arabic or Latin letters"):
        parse_chain("٠١٢")
    with pytest.raises(ValueError, match="name units"):
        parse_unit("Ahmed Ali")
    with pytest.raises(ValueError, match="longer than"):
        split_units("محمد " * 100)
