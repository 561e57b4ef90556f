"""Cross-script comparable forms of a name unit: a Latin phonetic form and a consonant skeleton.

Both scripts are brought to one ASCII alphabet:
- phonetic form: Latin spellings with the country conventions folded (Egyptian g = Syrian j for ج,
  q/k/c for ق and ك, French ch/ou/dj, th/dh, ph/v, doubled letters, -ah/-eh endings); Arabic script
  romanised letter by letter into the same alphabet (long vowels kept, short vowels are not written).
- skeleton: the phonetic form reduced to consonant classes, vowels dropped except a marker "A" for a
  vowel-initial name (so Ahmed "Ahmd" and Hamed "hmd" stay apart), trailing h dropped (-ah/-eh/ة).
  The skeleton is deliberately coarse: محمد/محمود/محمدي share one, so it is a blocking key and a
  feature, never a match decision by itself (see similarity.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

from registry.names.units import NameUnit

# Arabic letter -> phonetic alphabet. و and ي depend on position (consonant initially), see arabic_phonetic.
_AR_PHON = {
    "ا": "a", "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "z", "ر": "r",
    "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f",
    "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "u", "ي": "i", "ء": "",
}

# Latin digraphs and letters -> phonetic alphabet, applied left to right, longest first.
_LAT_RULES: list[tuple[str, str]] = [
    ("sch", "sh"), ("tch", "sh"), ("ch", "sh"), ("sh", "sh"), ("kh", "kh"), ("gh", "gh"), ("th", "t"),
    ("dh", "z"), ("ph", "f"), ("dj", "j"), ("dg", "j"), ("ck", "k"), ("ou", "u"), ("oo", "u"), ("ee", "i"),
    ("ie", "i"), ("ei", "ai"), ("ey", "ai"), ("ay", "ai"), ("q", "k"), ("c", "k"), ("g", "j"), ("v", "f"),
    ("p", "b"), ("x", "ks"), ("o", "u"), ("e", "a"),
]
_LAT_RULE = re.compile("|".join(re.escape(src) for src, _ in _LAT_RULES))
_LAT_MAP = dict(_LAT_RULES)
_FRENCH_SOFT_C = re.compile(r"(?<![cs])c(?=[ei])")
_FRENCH_INITIAL_OU = re.compile(r"^ou(?=[aei])")
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = "aiu"
# Skeleton symbols for the phonetic digraphs, so each sound is one character.
_SKELETON_DIGRAPHS = (("sh", "S"), ("kh", "X"), ("gh", "G"))


@lru_cache(maxsize=200_000)
def latin_phonetic(word: str) -> str:
    """Phonetic form of a Latin head (a-z only): Gamal/Jamal -> jamal, Mohammed/Muhammad -> muhamad."""
    if not word:
        return ""
    text = word[0] + word[1:].replace("y", "i") if word[0] == "y" else word.replace("y", "i")
    text = _FRENCH_SOFT_C.sub("s", text)  # Yacine, Hacene, Larouci: French c before e/i is s
    text = _FRENCH_INITIAL_OU.sub("w", text)  # Oualid, Ouail, Ouahiba: French initial ou before a vowel is w
    text = _LAT_RULE.sub(lambda m: _LAT_MAP[m.group(0)], text)
    text = _DOUBLE.sub(r"\1", text)
    # Final -ah/-eh/-ih of ة (Fatmah, Fatmeh -> fatma); a lone final h after a vowel is not a consonant sign.
    if len(text) > 3 and text.endswith("h") and text[-2] in _VOWELS:
        text = text[:-1]
    return text


@lru_cache(maxsize=200_000)
def arabic_phonetic(word: str) -> str:
    """Romanisation of a folded Arabic head into the phonetic alphabet (long vowels only)."""
    out: list[str] = []
    last = len(word) - 1
    for i, ch in enumerate(word):
        if ch == "و" and (i == 0 or word[i - 1] == "ا"):
            out.append("w")
        elif ch == "ي" and (i == 0 or word[i - 1] == "ا"):
            out.append("y")
        elif ch == "ه" and i == last and i > 1:
            out.append("a")  # taa marbuta (folded to ه) or final ه: written -a/-ah/-eh in Latin
        elif ch in ("ع", "ء") and i == 0:
            out.append("a")
        else:
            out.append(_AR_PHON.get(ch, ""))
    return _DOUBLE.sub(r"\1", "".join(out))


@lru_cache(maxsize=200_000)
def phonetic_skeleton(phonetic: str) -> str:
    """Consonant skeleton of a phonetic form: 'A' marks a vowel-initial name, vowels and w/y dropped."""
    if not phonetic:
        return ""
    text = phonetic
    for src, dst in _SKELETON_DIGRAPHS:
        text = text.replace(src, dst)
    head = "A" if text[0] in _VOWELS else text[0]
    body = "".join(ch for ch in text[1:] if ch not in "aiuwy")
    skeleton = _DOUBLE.sub(r"\1", head + body)
    if len(skeleton) > 1 and skeleton.endswith("h"):
        skeleton = skeleton[:-1]  # final ة/ه and -ah/-eh: never a reliable consonant across scripts
    return skeleton


# Arabic letter -> skeleton symbol, straight from the letters (going through the phonetic string would
# read س+ه as "sh" in سهى). Vowel letters, ع and ء are handled by position in arabic_skeleton.
_AR_SKELETON = {
    "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "X", "د": "d", "ذ": "z", "ر": "r", "ز": "z",
    "س": "s", "ش": "S", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "غ": "G", "ف": "f", "ق": "k", "ك": "k",
    "ل": "l", "م": "m", "ن": "n", "ه": "h",
}


@lru_cache(maxsize=200_000)
def arabic_skeleton(word: str) -> str:
    """Consonant skeleton of a folded Arabic head, on the same symbols as phonetic_skeleton."""
    if not word:
        return ""
    first = word[0]
    initial = {"ا": "A", "ع": "A", "ء": "A", "و": "w", "ي": "y"}
    head = initial.get(first) or _AR_SKELETON.get(first, "")
    skeleton = _DOUBLE.sub(r"\1", head + "".join(_AR_SKELETON.get(ch, "") for ch in word[1:]))
    if len(skeleton) > 1 and skeleton.endswith("h"):
        skeleton = skeleton[:-1]
    return skeleton


def head_skeleton(unit: NameUnit) -> str:
    """Consonant skeleton of the unit's head, whatever its script."""
    if unit.script == "arabic":
        return arabic_skeleton(unit.head)
    return phonetic_skeleton(latin_phonetic(unit.head))


def head_phonetic(unit: NameUnit) -> str:
    """Phonetic form of the unit's head, whatever its script."""
    return arabic_phonetic(unit.head) if unit.script == "arabic" else latin_phonetic(unit.head)


def compose(prefix: str, head: str, suffix: str) -> str:
    """Prefix code, head form and suffix code joined with '-' (abd-rhmn, nr-din, abd-allah)."""
    return "-".join(part for part in (prefix, head, suffix) if part)


@lru_cache(maxsize=200_000)
def unit_skeleton(unit: NameUnit) -> str:
    """Cross-script skeleton of a unit: equal for عبد الرحمن, Abdel Rahman, Abdulrahman (abd-rhmn)."""
    return compose(unit.prefix, head_skeleton(unit), unit.suffix)
