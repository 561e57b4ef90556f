"""Plaintext features of a name unit for the linkage index (which stores them as keyed encodings).

- unit_keys: exact-match keys (normalised form, cross-script skeleton, dictionary id when known).
- comparable_form: an ASCII romanisation, identical for the common spellings of a known name in both
  scripts; DuckDB string functions count UTF-8 bytes, so raw Arabic must never be compared there.
- unit_ngrams: padded character bigrams of the skeleton, so that the Dice overlap of two units' n-gram
  sets approximates their phonetic similarity without seeing the names.
- unit_neighbourhood: the skeleton and every form of it with one letter left out, so that two skeletons one
  typo apart (a letter changed, added, dropped or two swapped) share a member, as keyed tokens can.

How this relates to name_similarity (docs/name-matching.md): equal `id` keys <=> name_similarity >= 0.95
for known names; known names with different ids score <= KNOWN_DIFFERENT_CAP; otherwise the skeleton
n-gram Dice is the blocking/graded signal, and vowels (which the skeleton drops) are what name_similarity
adds on top.
"""

from __future__ import annotations

from registry.names.dictionary import active_dictionary
from registry.names.similarity import analyse_unit
from registry.names.skeleton import compose
from registry.names.units import NameUnit, parse_unit


def _as_unit(unit: NameUnit | str) -> NameUnit:
    return unit if isinstance(unit, NameUnit) else parse_unit(unit)


def comparable_form(unit: NameUnit | str) -> str:
    """ASCII comparable form: the phonetic form of the dictionary's usual Latin spelling of a known name,
    else the unit's own phonetic form (Arabic romanised letter by letter; Latin with country conventions folded)."""
    analysis = analyse_unit(_as_unit(unit))
    u = analysis.unit
    if analysis.known and analysis.name_id and (analysis.candidates[0][1] >= 0.5):
        entry = active_dictionary().entry(analysis.name_id)
        if entry is not None:
            return entry.latin
    return compose(u.prefix, analysis.phonetic, u.suffix)


def unit_keys(unit: NameUnit | str) -> dict[str, str]:
    """Exact-match keys of a unit: 'normalised', 'skeleton', and 'id' when the dictionary knows it."""
    analysis = analyse_unit(_as_unit(unit))
    keys = {"normalised": analysis.unit.text, "skeleton": analysis.skeleton}
    if analysis.known and analysis.candidates[0][1] >= 0.5:
        keys["id"] = analysis.name_id
    return keys


def unit_ngrams(unit: NameUnit | str, n: int = 2) -> set[str]:
    """Padded character n-grams of the unit's skeleton ("^" and "$" mark the ends)."""
    if n < 1:
        raise ValueError(f"n-gram size must be >= 1, got {n}")
    padded = "^" + analyse_unit(_as_unit(unit)).skeleton + "$"
    return {padded[i : i + n] for i in range(max(1, len(padded) - n + 1))}


# Shorter skeletons are one letter from too many other names (two-letter neighbourhoods are single letters).
NEIGHBOURHOOD_MIN_LENGTH = 3


def unit_neighbourhood(unit: NameUnit | str) -> set[str]:
    """The skeleton's deletion neighbourhood (as in SymSpell): the skeleton itself and each form with one letter
    left out. Two skeletons share a member when they are one substitution, insertion, deletion or adjacent swap
    apart (or equal), and also when one letter has moved ("abc", "bca"). Empty for skeletons shorter than
    NEIGHBOURHOOD_MIN_LENGTH."""
    skeleton = analyse_unit(_as_unit(unit)).skeleton
    if len(skeleton) < NEIGHBOURHOOD_MIN_LENGTH:
        return set()
    return {skeleton} | {skeleton[:i] + skeleton[i + 1:] for i in range(len(skeleton))}


def ngram_dice(a: set[str], b: set[str]) -> float:
    """Dice coefficient of two n-gram sets (what the index computes on keyed n-grams)."""
    if not a and not b:
        return 1.0
    return 2.0 * len(a & b) / (len(a) + len(b))
