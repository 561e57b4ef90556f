"""Similarity of two names (units or chains) in either script: name_similarity.

For one unit against another the evidence is taken in this order:
1. Structure: prefix (عبد, ابو, بن) and suffix (الدين, الله) must agree, else the score is scaled down.
2. Dictionary: an Arabic unit has an id; a Latin spelling has the ids it was attested for (with shares).
   Same id -> the names are the same (score >= 0.95). Both known but never attested for each other ->
   distinct known names (محمود / "Mohamed", حسن / "Hussein"): the score is capped below the threshold.
3. Phonetics: Arabic against Latin by alignment (transliteration.py, long vowels must be realised);
   Latin against Latin by Jaro-Winkler on phonetic forms, penalised when the consonant skeletons differ,
   or, when one Latin spelling is known, by aligning the other against the known Arabic name (pivot);
   Arabic against Arabic by edit distance on folded letters (Arabic spelling barely varies once folded).
Chains are compared unit by unit (chain_similarity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jellyfish

from registry.names.chains import chain_from_units
from registry.names.dictionary import MIN_SHARE, NameDictionary, active_dictionary, arabic_id, latin_key
from registry.names.skeleton import (
    arabic_skeleton,
    head_phonetic,
    latin_phonetic,
    phonetic_skeleton,
    unit_skeleton,
)
from registry.names.transliteration import bounded_alignment_similarity
from registry.names.units import NameUnit, parse_unit, split_units

# Chosen on the dev fold of the TRAIN split (maximum of recall - hard-negative false-accept rate, with a
# dictionary built from the rest of train: `benchmarks/name_matching.py --split dev`); never on test.
NAME_MATCH_THRESHOLD = 0.86
# Ceiling for two names the dictionary knows as different names.
KNOWN_DIFFERENT_CAP = 0.7
# Id-distribution overlap from which two known names count as the same name.
SAME_NAME_OVERLAP = 0.3
# A Latin spelling that makes up at least this share of a known Arabic name's attestations is one of its
# usual spellings: same name, whatever other names also use it.
USUAL_SPELLING_SHARE = 0.1
PIVOT_PHONETIC_FACTOR = 0.9
JOINED_ARTICLE_COST = 0.05
FUSED_ARTICLE_COST = 0.03
MISPARSE_MARGIN = 0.1
# Below this Jaro-Winkler of consonant skeletons an Arabic/Latin pair is not aligned (scored low at once).
SKELETON_PREFILTER = 0.6
# A chain scores at most its given-name similarity plus this.
GIVEN_NAME_MARGIN = 0.1
_JOINED_ARTICLE = re.compile(r"(?:al|el)[aeiou][a-z]{3,}")
STRUCTURE_MISMATCH_FACTOR = 0.6
SKELETON_MISMATCH_FACTOR = 0.85
FINAL_VOWEL_MISMATCH_FACTOR = 0.85
AMBIGUOUS_READING_COST = 0.02
VOWEL_LENGTH_MISMATCH_FACTOR = 0.95
# A rarely attested spelling (under dictionary.MIN_EVIDENCE) is a known name's only where its letters fit it this
# well: 1 % of the well-attested spellings fit their name less (a sample of 600, one-off), Amre fits عمرو at 0.83.
RARE_SPELLING_FIT = 0.8


@dataclass(frozen=True)
class UnitAnalysis:
    """Everything comparison needs about one unit, computed once (cached)."""

    unit: NameUnit
    phonetic: str
    skeleton: str
    name_id: str  # Arabic units: own id; Latin units: best dictionary id, or "" when unknown
    known: bool  # the dictionary knows the name (Arabic) or the spelling (Latin)
    candidates: tuple[tuple[str, float], ...]  # (id, share); Arabic: ((own id, 1.0),) when known


def analyse_unit(unit: NameUnit, dictionary: NameDictionary | None = None) -> UnitAnalysis:
    """Analysis of a unit against `dictionary` (default: the active one, see dictionary.using_dictionary)."""
    return _analyse(unit, dictionary or active_dictionary())


@lru_cache(maxsize=200_000)
def _analyse(unit: NameUnit, dictionary: NameDictionary) -> UnitAnalysis:
    if unit.script == "arabic":
        own = arabic_id(unit)
        known = dictionary.entry(own) is not None
        return UnitAnalysis(unit, head_phonetic(unit), unit_skeleton(unit), own, known,
                            ((own, 1.0),) if known else ())
    key = latin_key(unit)
    candidates = dictionary.candidates(key) or _rare_spelling(dictionary, key, unit.head)
    best = candidates[0][0] if candidates else ""
    return UnitAnalysis(unit, head_phonetic(unit), unit_skeleton(unit), best, bool(candidates), candidates)


def usual_spelling(dictionary: NameDictionary, unit: NameUnit, name_id: str) -> bool:
    """Is this Latin unit a usual spelling of the name (at least USUAL_SPELLING_SHARE of the name's own
    attestations), however often the spelling stands for other names? Zaki is ذكي's, Hala is حلا's."""
    return dictionary.spelling_share(latin_key(unit), name_id) >= USUAL_SPELLING_SHARE


def _rare_spelling(dictionary: NameDictionary, key: str, head: str) -> tuple[tuple[str, float], ...]:
    """A spelling attested too rarely to count by itself (Leen for لين: 4 times in the shared data) is taken
    for the known names whose letters it fits (alignment >= RARE_SPELLING_FIT), shares by attestations. Left
    unknown, it agreed "by sound" with every name of its skeleton, and twins named لين and لينا (Leen, Lina)
    were the largest group of false automatic merges at a million records."""
    fits = [(name_id, count) for name_id, count in dictionary.rare_candidates(key)
            if _alignment(_id_head(name_id), head) >= RARE_SPELLING_FIT]
    total = sum(count for _, count in fits)
    return tuple((name_id, count / total) for name_id, count in fits if count / total >= MIN_SHARE)


@lru_cache(maxsize=200_000)
def _latin_skeleton(head: str) -> str:
    return phonetic_skeleton(latin_phonetic(head))


@lru_cache(maxsize=50_000)
def _id_head(name_id: str) -> str:
    return parse_unit(name_id).head


def _arabic_edit_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    distance = jellyfish.damerau_levenshtein_distance(a, b)
    return max(0.0, 1.0 - 1.5 * distance / max(len(a), len(b), 1))


@lru_cache(maxsize=200_000)
def final_sound(head: str) -> str:
    """How a Latin head ends: "C" (consonant), "a" (-a, -ah, -eh, -aa: ة or ى), "i" (-i, -y, -ee, -ie:
    the nisba or ي), "u" (-u, -ou, -o, -oo), or "e" (a French mute e after a consonant: Amine, Yasmine,
    or a Levantine -e for ة: Fatme), which is compatible with "C" and "a"."""
    if not head:
        return "C"
    if len(head) > 2 and head.endswith("h") and head[-2] in "ae":
        return "a"
    last = head[-1]
    if last == "e":
        return "i" if head.endswith(("ee", "ie")) else ("a" if head[-2:-1] in ("a", "e") else "e")
    if last in "iy":
        return "i"
    if last == "a":
        return "a"
    if last in "ou":
        return "u"
    return "C"


def _same_ending(a: str, b: str) -> bool:
    x, y = final_sound(a), final_sound(b)
    return x == y or "e" in (x, y) and {x, y} <= {"e", "C", "a"}


# Latin letters that stand for more than one Arabic letter, tried both ways between two Latin spellings:
# dh is ض (Nidhal = Nidal), ذ or ظ (Munther, Hafidh = Hafid); gh is غ, written g by some (Ghassan, Gassan);
# an initial vowel before a consonant is ا/إ/ع, heard e or i (Issam, Essam; Ilyes, Elyas).
_AMBIGUOUS_LATIN = (("dh", "d"), ("gh", "g"))
_FRENCH_GU = re.compile(r"gu(?=[ei])")


@lru_cache(maxsize=200_000)
def _latin_variants(head: str) -> tuple[str, ...]:
    """Phonetic forms of a Latin head under the ambiguous readings (_AMBIGUOUS_LATIN)."""
    forms = {head}
    for src, dst in _AMBIGUOUS_LATIN:
        forms |= {f.replace(src, dst) for f in forms if src in f}
    forms |= {"i" + f[1:] for f in forms if len(f) > 3 and f[0] == "e" and f[1] not in "aeiouy"}
    # French gu before e/i is a hard g: ق in the Maghreb (Rezgui = Rezki), ج in Egypt (Guindi = Gindi).
    forms |= {_FRENCH_GU.sub(sub, f) for f in forms if "gu" in f for sub in ("q", "g")}
    return tuple(sorted(latin_phonetic(f) for f in forms))


def _variant_similarity(a: str, b: str) -> float:
    """Best Jaro-Winkler (x skeleton agreement) over the ambiguous readings of two Latin heads."""
    best = 0.0
    for x in _latin_variants(a):
        for y in _latin_variants(b):
            score = 1.0 if x == y else jellyfish.jaro_winkler_similarity(x, y)
            if _skeleton_of_phonetic(x) != _skeleton_of_phonetic(y):
                score *= SKELETON_MISMATCH_FACTOR
            best = max(best, score)
    return best - AMBIGUOUS_READING_COST


@lru_cache(maxsize=200_000)
def _skeleton_of_phonetic(phonetic: str) -> str:
    return phonetic_skeleton(phonetic)


_VOWEL_GROUPS = re.compile(r"[aiu]+")


@lru_cache(maxsize=200_000)
def _vowel_lengths(phonetic: str) -> tuple[int, ...]:
    """Length (1 or 2+) of each vowel group of a phonetic form, medial groups only (the first and last
    vowels are handled by the alignment's initial and final rules)."""
    groups = [(m.start(), m.end()) for m in _VOWEL_GROUPS.finditer(phonetic)]
    return tuple(min(2, end - start) for start, end in groups if start > 0 and end < len(phonetic))


def _differs_in_vowel_length(a: str, b: str) -> bool:
    x, y = _vowel_lengths(a), _vowel_lengths(b)
    return len(x) == len(y) and any(p != q for p, q in zip(x, y))


def _latin_phonetic_similarity(a: UnitAnalysis, b: UnitAnalysis) -> float:
    if a.phonetic == b.phonetic and _same_ending(a.unit.head, b.unit.head):
        return 1.0
    score = jellyfish.jaro_winkler_similarity(a.phonetic, b.phonetic)
    if a.skeleton != b.skeleton:
        score *= SKELETON_MISMATCH_FACTOR
    if score < 1.0 and (len(_latin_variants(a.unit.head)) > 1 or len(_latin_variants(b.unit.head)) > 1):
        score = max(score, _variant_similarity(a.unit.head, b.unit.head))
    if _differs_in_vowel_length(a.phonetic, b.phonetic):
        # Saoudi / Sadi, Hamaidi / Hamidi, Tueni / Tani: a vowel pair (a long vowel or diphthong, و/ي in
        # Arabic) against a single vowel in the same place is a different name more often than not.
        score *= VOWEL_LENGTH_MISMATCH_FACTOR
    if not _same_ending(a.unit.head, b.unit.head):
        # Bakr / Bakri (nisba), Hamad / Hamada, Karim / Karima (ة), Fadi / Fadia: a different final
        # vowel is a different name, however alike the rest.
        score *= FINAL_VOWEL_MISMATCH_FACTOR
    # A joined article before a vowel left on one side only (Alansari / Al-Ansari).
    for x, y in ((a, b), (b, a)):
        if _JOINED_ARTICLE.match(x.unit.head) and not _JOINED_ARTICLE.match(y.unit.head):
            stripped = latin_phonetic(x.unit.head[2:])
            score = max(score, jellyfish.jaro_winkler_similarity(stripped, y.phonetic) - JOINED_ARTICLE_COST)
    return score


def _overlap(a: tuple[tuple[str, float], ...], b: tuple[tuple[str, float], ...]) -> float:
    """Bhattacharyya overlap of two id distributions: 1 when both are surely the same known name."""
    shares = dict(b)
    return sum((p * shares.get(i, 0.0)) ** 0.5 for i, p in a)


def _from_dictionary(phonetic: float, overlap: float) -> float:
    """Both names known: a solid overlap means the same name; little or none means different names."""
    if overlap >= SAME_NAME_OVERLAP:
        return max(phonetic, 0.95 + 0.05 * overlap)
    return min(phonetic, KNOWN_DIFFERENT_CAP + 0.3 * overlap)


def _explained_elsewhere(arabic_head: str, lat: UnitAnalysis, phonetic: float) -> float:
    """An unknown Arabic name against a known Latin spelling: if the spelling fits the name it is known
    for better than this Arabic name (Mahmoud: محمود 1.0, محمد 0.85), lower the score by the difference."""
    best = 0.0
    for name_id, share in lat.candidates[:3]:
        if share >= 0.2 and _id_head(name_id) != arabic_head:
            # Only a better fit than this Arabic name lowers the score: no need to align the rest exactly.
            best = max(best, _alignment(_id_head(name_id), lat.unit.head, max(best, phonetic)))
    return phonetic - max(0.0, best - phonetic)


@lru_cache(maxsize=500_000)
def _alignment(arabic_head: str, latin_head: str, floor: float = 0.0) -> float:
    """Alignment similarity; a Latin head that still starts with a joined article before a vowel
    (Alansari for الانصاري, left whole by the unit rules so that Elias stays Elias) may drop it.
    Names whose skeletons are far apart are not aligned at all (fast path for clear non-matches).
    Exact when at least `floor`; below it, some value <= floor (the caller only needs to know that)."""
    skeleton_a, skeleton_b = arabic_skeleton(arabic_head), _latin_skeleton(latin_head)
    if min(len(skeleton_a), len(skeleton_b)) >= 3:
        skeleton_score = jellyfish.jaro_winkler_similarity(skeleton_a, skeleton_b)
        if skeleton_score < SKELETON_PREFILTER:
            return 0.5 * skeleton_score
    score = bounded_alignment_similarity(arabic_head, latin_head, floor)
    if score < 1.0 and _JOINED_ARTICLE.match(latin_head):
        stripped = bounded_alignment_similarity(arabic_head, latin_head[2:],
                                                max(score, floor) + JOINED_ARTICLE_COST)
        score = max(score, stripped - JOINED_ARTICLE_COST)
    return score


def _latin_readings(ar: NameUnit, lat: NameUnit) -> list[tuple[str, float]]:
    """Other ways to read a Latin head against an Arabic one, with a small cost each:
    - the whole token when the unit rules took its start for an article (Assaad for اسعد, Essid for الصيد);
    - after an Arabic article, the Maghreb "l"/"la"/"le" fused to the name (Larbi for العربي, Lahbib,
      Laouadi) or a fused assimilated article (Essid: e + ss)."""
    head = lat.head
    readings: list[tuple[str, float]] = []
    if not lat.prefix and not lat.suffix and " " not in lat.text and lat.text != head:
        readings.append((lat.text, 0.0))
    had_article = ar.text.replace(" ", "").startswith("ال" + ar.head[:1]) and not ar.prefix
    if had_article and len(head) >= 4:
        if head[0] == "l":
            readings.append((head[1:], FUSED_ARTICLE_COST))
            if head[1] in "ae":
                readings.append((head[2:], FUSED_ARTICLE_COST))
        elif head[0] in "ae" and head[1] == head[2] and head[1] not in "aeiou":
            readings.append((head[2:], FUSED_ARTICLE_COST))
    return readings


def _arabic_latin(ar: UnitAnalysis, lat: UnitAnalysis, dictionary: NameDictionary) -> float:
    if not ar.unit.head and not lat.unit.head:
        return 1.0
    phonetic = head_score = _alignment(ar.unit.head, lat.unit.head)
    if phonetic < 1.0:
        for reading, cost in _latin_readings(ar.unit, lat.unit):
            phonetic = max(phonetic, _alignment(ar.unit.head, reading, phonetic + cost) - cost)
    if phonetic > head_score + MISPARSE_MARGIN:
        # The spelling reads this name only as a whole token (Assaad for اسعد, not "saad" after an
        # article): what the dictionary knows about the head is about another name, so phonetics decide.
        return phonetic
    if ar.known and lat.known:
        overlap = _overlap(ar.candidates, lat.candidates)
        if usual_spelling(dictionary, lat.unit, ar.name_id):
            overlap = max(overlap, SAME_NAME_OVERLAP)  # a usual spelling of this very name (ذكي / Zaki)
        return _from_dictionary(phonetic, overlap)
    if lat.known:
        return _explained_elsewhere(ar.unit.head, lat, phonetic)
    return phonetic


def _latin_latin(a: UnitAnalysis, b: UnitAnalysis) -> float:
    phonetic = _latin_phonetic_similarity(a, b)
    if a.known and b.known:
        return _from_dictionary(phonetic, _overlap(a.candidates, b.candidates))
    if a.known or b.known:
        # Pivot through Arabic: align the unknown spelling against the names the known one stands for.
        known, other = (a, b) if a.known else (b, a)
        best = phonetic * PIVOT_PHONETIC_FACTOR
        for name_id, _ in known.candidates[:3]:
            best = max(best, _alignment(_id_head(name_id), other.unit.head, best))
        return best
    return phonetic


def _head_similarity(a: UnitAnalysis, b: UnitAnalysis, dictionary: NameDictionary) -> float:
    if not a.unit.head and not b.unit.head:
        return 1.0
    scripts = (a.unit.script, b.unit.script)
    if scripts == ("arabic", "arabic"):
        return _arabic_edit_similarity(a.unit.head, b.unit.head)
    if scripts == ("arabic", "latin"):
        return _arabic_latin(a, b, dictionary)
    if scripts == ("latin", "arabic"):
        return _arabic_latin(b, a, dictionary)
    return _latin_latin(a, b)


def unit_similarity(a: NameUnit, b: NameUnit, dictionary: NameDictionary | None = None) -> float:
    """Similarity in [0, 1] of two name units, either script on each side."""
    return _unit_similarity(a, b, dictionary or active_dictionary())


@lru_cache(maxsize=500_000)
def _unit_similarity(a: NameUnit, b: NameUnit, dictionary: NameDictionary) -> float:
    ua, ub = _analyse(a, dictionary), _analyse(b, dictionary)
    score = _head_similarity(ua, ub, dictionary)
    if (a.prefix, a.suffix) != (b.prefix, b.suffix):
        score *= STRUCTURE_MISMATCH_FACTOR
    return round(min(1.0, max(0.0, score)), 6)


def chain_similarity(a: tuple[NameUnit, ...], b: tuple[NameUnit, ...],
                     dictionary: NameDictionary | None = None) -> float:
    """Similarity of two chains: the given names count double; the other units are matched to each other
    regardless of position (parts are missing or shifted in real registries), best pairs first; the
    result never exceeds the given-name similarity by more than GIVEN_NAME_MARGIN."""
    dictionary = dictionary or active_dictionary()
    chain_a, chain_b = chain_from_units(a), chain_from_units(b)
    given = _unit_similarity(chain_a.given, chain_b.given, dictionary)
    rest_a, rest_b = list(a[1:]), list(b[1:])
    pairs = sorted(((_unit_similarity(x, y, dictionary), i, j)
                    for i, x in enumerate(rest_a) for j, y in enumerate(rest_b)), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    matched: list[float] = []
    for score, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matched.append(score)
    if not matched:
        # One side is a single name: only the given name is evidence, and weaker when the other has more.
        return given if len(a) == len(b) else given * 0.95
    average = (2.0 * given + sum(matched)) / (2.0 + len(matched))
    # Siblings share father, grandfather and family and differ only in the given name: a given name
    # that does not match keeps the chain from matching, however well the rest agrees.
    return min(average, given + GIVEN_NAME_MARGIN)


def name_similarity(a: str, b: str, *, dictionary: NameDictionary | None = None) -> float:
    """Similarity in [0, 1] of two names: two units, or two chains (a unit is a chain of one).

    Either side may be Arabic script or Latin letters. `dictionary` defaults to the active one (the
    shipped dictionary unless dictionary.using_dictionary set another for this context).
    Raises ValueError when a side has no Arabic or
    Latin letters (empty, only diacritics, only digits) or is longer than normalize.MAX_NAME_LENGTH.
    """
    units_a, units_b = split_units(a), split_units(b)
    if not units_a or not units_b:
        empty = a if not units_a else b
        raise ValueError(f"no Arabic or Latin letters in name {empty!r}")
    dictionary = dictionary or active_dictionary()
    if len(units_a) == 1 and len(units_b) == 1:
        return _unit_similarity(units_a[0], units_b[0], dictionary)
    return round(chain_similarity(units_a, units_b, dictionary), 6)
