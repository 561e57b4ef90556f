"""Normalisation of a personal name written in Arabic script, Latin letters, or both.

Owns the folding that makes two spellings of one name equal code-point by code-point before any
phonetic work: harakat, tatweel, alef and hamza forms, taa marbuta, alef maqsura (Arabic); case, accents,
apostrophes and hyphens (Latin). Invisible controls, Persian letters and compatibility forms are handled
first by registry.names.text.clean_text, which this module reuses.

Folding is done with explicit tables, not a library: some transliteration libraries map ى to ا or أ to ء,
which would merge names we must keep apart or split names we must merge.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from registry.names.text import clean_text

# A unit or chain longer than this is not a name; refusing it keeps every later step bounded in time.
MAX_NAME_LENGTH = 200

# Harakat, Quranic annotation marks, superscript alef and tatweel: never part of the spelling of a name.
_ARABIC_MARKS = re.compile("[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")

_ARABIC_FOLD = str.maketrans(
    {
        "\u0623": "\u0627",  # أ -> ا
        "\u0625": "\u0627",  # إ -> ا
        "\u0622": "\u0627",  # آ -> ا
        "\u0671": "\u0627",  # ٱ (wasla) -> ا
        "\u0672": "\u0627",  # ٲ -> ا
        "\u0673": "\u0627",  # ٳ -> ا
        "\u0624": "\u0648",  # ؤ -> و
        "\u0626": "\u064A",  # ئ -> ي
        "\u0649": "\u064A",  # ى -> ي (Egyptian على = علي)
        "\u0629": "\u0647",  # ة -> ه
        "\u06C0": "\u0647",  # ۀ -> ه
        "\u06D3": "\u064A",  # ۓ -> ي
    }
)

# Letters we keep: the basic Arabic letters (after folding) and ASCII a-z (after accent stripping).
_ARABIC_LETTERS = "\u0621\u0627-\u063A\u0641-\u064A"
_KEEP = re.compile(f"[{_ARABIC_LETTERS}a-z]+")
_ARABIC_RUN = re.compile(f"[{_ARABIC_LETTERS}]+")
_APOSTROPHES = re.compile("['\u2018\u2019\u02BC\u02BB\u02BF\u02BE\u0060\u00B4\u2032]")

# Latin letters that NFKD does not decompose into a base letter and a mark.
_LATIN_SPECIAL = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "ı": "i", "þ": "th", "ħ": "h"}
)


def fold_arabic(text: str) -> str:
    """Arabic folding only: marks removed, alef/hamza/taa marbuta/alef maqsura forms unified."""
    return _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)


def fold_latin(text: str) -> str:
    """Latin folding only: lower case, accents removed, apostrophes dropped (Dia'a -> diaa)."""
    text = _APOSTROPHES.sub("", text.lower()).translate(_LATIN_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=200_000)
def normalize_name(value: str | None) -> str:
    """Normalised name: space-separated tokens, each all Arabic letters or all ASCII a-z.

    Hyphens, dots, digits and other punctuation separate tokens; apostrophes and marks vanish; a token
    that mixes scripts ("محمدAli") is split where the script changes. Letters of other scripts are
    dropped. Returns "" when nothing is left. Raises ValueError for input longer than MAX_NAME_LENGTH.
    """
    text = clean_text(value)
    if len(text) > MAX_NAME_LENGTH:
        raise ValueError(f"name longer than {MAX_NAME_LENGTH} characters ({len(text)}): not a name")
    text = fold_latin(fold_arabic(text))
    tokens: list[str] = []
    for run in _KEEP.findall(text):
        # _KEEP joins Arabic and Latin letters in one run; split them so each token has one script.
        tokens.extend(m.group(0) for m in re.finditer(f"[{_ARABIC_LETTERS}]+|[a-z]+", run))
    return " ".join(tokens)


def is_arabic_token(token: str) -> bool:
    """True when a normalised token is in Arabic script."""
    return bool(_ARABIC_RUN.fullmatch(token))
