"""Spellings attested too rarely to count by themselves (under MIN_EVIDENCE in the shared data) are a known
name's where their letters fit it: Leen is لين (4 attestations), Amre is عمرو (2). Left unknown, such a spelling
agreed "by sound" with every name of its skeleton, so twins named لين and لينا (Leen, Lina) looked like one
child. Arabic and Latin in every case."""

import pytest

from registry.matching.encoding import _unit_ids, _unit_parts
from registry.names import NAME_MATCH_THRESHOLD, name_similarity
from registry.names.dictionary import MIN_EVIDENCE, load_dictionary, make_dictionary
from registry.names.similarity import KNOWN_DIFFERENT_CAP, analyse_unit
from registry.names.units import parse_unit


def shipped(a: str, b: str) -> float:
    return name_similarity(a, b, dictionary=load_dictionary())


@pytest.mark.parametrize(("latin", "arabic"), [("Leen", "لين"), ("LEEN", "لين"), ("Leena", "لينا"), ("Amre", "عمرو")])
def test_a_rare_spelling_is_the_name_it_fits(latin: str, arabic: str) -> None:
    d = load_dictionary()
    assert d.candidates(parse_unit(latin).head) == ()  # rare: not a spelling by the usual threshold
    a = analyse_unit(parse_unit(latin), d)
    assert a.known and a.name_id == arabic
    assert shipped(latin, arabic) >= NAME_MATCH_THRESHOLD


@pytest.mark.parametrize(("a", "b"), [("Leen", "لينا"), ("Leen", "Lina"), ("LEEN", "ليـنا"), ("Amre", "عمر"),
                                      ("Amre", "Omar"), ("Leena", "لين")])
def test_twin_names_written_with_a_rare_spelling_stay_apart(a: str, b: str) -> None:
    # لين/لينا and عمر/عمرو are names twins are given as a pair: two different known names.
    assert shipped(a, b) <= KNOWN_DIFFERENT_CAP < NAME_MATCH_THRESHOLD


def test_the_linkage_encodings_of_a_rare_spelling_are_the_names() -> None:
    leen, lin, lina = (parse_unit(t) for t in ("Leen", "لين", "لينا"))
    assert _unit_parts(leen)[0] == _unit_parts(lin)[0] == "id:لين"
    assert _unit_parts(leen)[2] is True  # known: against لينا the given name is "different known names"
    assert set(_unit_ids(leen)) & set(_unit_ids(lina)) == set()


def _dictionary():
    ids = [("لين", 60, "lin"), ("سمير", 40, "samir"), ("زبيدة", 2, "zubayda")]
    spellings = [("lin", "لين", 50), ("leen", "لين", 3), ("zorba", "لين", 2),  # zorba: noise of the mining
                 ("samir", "سمير", 40), ("sameer", "سمير", 1), ("zubaida", "زبيدة", 2)]
    return make_dictionary(ids, spellings)


def test_only_a_spelling_whose_letters_fit_is_taken() -> None:
    d = _dictionary()
    leen, sameer, zorba = (analyse_unit(parse_unit(t), d) for t in ("Leen", "Sameer", "Zorba"))
    assert (leen.known, leen.name_id) == (True, "لين")
    assert (sameer.known, sameer.name_id) == (True, "سمير")
    assert not zorba.known  # attested for لين, but its letters are another name's: left to phonetics


def test_a_rare_spelling_of_a_name_the_dictionary_does_not_know_stays_unknown() -> None:
    d = _dictionary()
    assert d.entry("زبيدة") is None and MIN_EVIDENCE > 2
    assert not analyse_unit(parse_unit("Zubaida"), d).known
    assert not analyse_unit(parse_unit("زبيدة"), d).known
