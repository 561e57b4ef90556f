"""The fast name_similarity gives the same results as before it was made fast (issue 15).

data/similarity_reference.tsv.gz holds 4,000 generated pairs (Arabic script and Latin letters, single names
and chains, random pairs and spellings of one name) with the score the implementation of commit 923da92 gave
each, recorded by `benchmarks/name_speed.py --record ... --pairs 4000` before any speed work. A scoring rule added
since (rare spellings taken where they fit the name, `similarity._rare_spelling`) is left out of the comparison:
the test keeps proving that the speed work changed no score, and tests/names/test_rare_spellings.py the rule.
"""

import dataclasses
import gzip
from pathlib import Path

from registry.names import name_similarity
from registry.names.dictionary import load_dictionary, using_dictionary
from registry.names.transliteration import alignment_similarity, bounded_alignment_similarity

REFERENCE = Path(__file__).parent / "data" / "similarity_reference.tsv.gz"


def _reference() -> list[tuple[str, str, float]]:
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    return [(a, b, float(score)) for a, b, score in rows]


def test_reference_pairs_cover_both_scripts_and_chains() -> None:
    rows = _reference()
    assert len(rows) == 4000
    arabic = sum(any("\u0600" <= ch <= "\u06ff" for ch in a + b) for a, b, _ in rows)
    latin = sum(any("a" <= ch <= "z" for ch in a + b) for a, b, _ in rows)
    chains = sum(" " in a or " " in b for a, b, _ in rows)
    matching = sum(score >= 0.86 for _, _, score in rows)
    assert min(arabic, latin, chains, matching) > 500


def test_same_scores_as_the_implementation_before_the_speed_work() -> None:
    with using_dictionary(dataclasses.replace(load_dictionary(), rare=None)):  # the rules of 923da92
        differing = [(a, b, score, name_similarity(a, b)) for a, b, score in _reference()
                     if abs(name_similarity(a, b) - score) > 1e-9]
    assert differing == []


def test_bounded_alignment_equals_full_alignment_above_the_bound() -> None:
    # The bound only stops work on alignments that cannot reach it: above it, the score is the full one.
    pairs = [("محمد", "mohamed"), ("محمود", "mohamed"), ("حسين", "hassan"), ("فاطمه", "fatme"), ("يوسف", "youssef"),
             ("عبد", "abdel"), ("كريم", "zaynab"), ("جورج", "georges"), ("نجاه", "najat"), ("سعودي", "saoudi")]
    for arabic, latin in pairs:
        full = alignment_similarity(arabic, latin)
        for floor in (0.0, 0.3, 0.6, 0.8, 0.95):
            bounded = bounded_alignment_similarity(arabic, latin, floor)
            if full >= floor:
                assert bounded == full, (arabic, latin, floor)
            else:
                assert bounded <= floor, (arabic, latin, floor)
