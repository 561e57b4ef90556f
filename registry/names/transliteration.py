"""Graded alignment of an Arabic-script name head against a Latin spelling of it.

An Arabic name writes consonants and long vowels; a Latin spelling adds short vowels and follows a
country's conventions. The alignment walks both strings: every Arabic letter must be realised by one of
its attested Latin renderings (ج: j, g, dj; ق: q, k, g; ة: a, ah, eh, ...), short vowels may be inserted
between letters (one vowel group at a time), and anything else is an edit. The cost is low for a true
spelling and grows when a long vowel is missing or invented: محمود needs a vowel for و, so "Mohamed"
does not fit it, and "Hassan" has no place for the ي of حسين. That is what keeps the names that share a
consonant skeleton apart when the dictionary does not know them.
"""

from __future__ import annotations

from functools import lru_cache

Option = tuple[str, float]

_VOWEL_OPTIONS: list[Option] = [("a", 0.0), ("u", 0.0), ("o", 0.0), ("i", 0.0), ("e", 0.0)]
_LONG_A: list[Option] = [("a", 0.0), ("aa", 0.0), ("e", 0.1), ("ah", 0.5), ("o", 0.5), ("i", 0.6)]
_INITIAL_A: list[Option] = [("a", 0.0), ("e", 0.0), ("i", 0.0), ("o", 0.0), ("u", 0.0), ("ou", 0.1), ("aa", 0.2),
                            ("ei", 0.3), ("ai", 0.3), ("y", 0.5)]
_WAW: list[Option] = [("u", 0.0), ("o", 0.0), ("ou", 0.0), ("oo", 0.0), ("w", 0.0), ("ow", 0.1), ("aw", 0.1),
                      ("au", 0.1), ("v", 0.3), ("uu", 0.1), ("ue", 0.3), ("oe", 0.3), ("ew", 0.3), ("ww", 0.1)]
_YA: list[Option] = [("i", 0.0), ("y", 0.0), ("ee", 0.0), ("ie", 0.1), ("ei", 0.0), ("ey", 0.0), ("ai", 0.1),
                     ("ay", 0.1), ("iy", 0.1), ("yy", 0.1), ("e", 0.15), ("ii", 0.1), ("j", 0.6)]
_AYN: list[Option] = [("", 0.0), ("a", 0.0), ("e", 0.0), ("i", 0.0), ("o", 0.0), ("u", 0.0), ("aa", 0.0),
                      ("ai", 0.1), ("ei", 0.2), ("ou", 0.1)]

_CONSONANTS: dict[str, list[Option]] = {
    "ب": [("b", 0.0), ("p", 0.3)],
    "ت": [("t", 0.0), ("th", 0.3)],
    "ث": [("th", 0.0), ("t", 0.1), ("s", 0.2), ("ts", 0.3)],
    "ج": [("j", 0.0), ("g", 0.0), ("gu", 0.1), ("dj", 0.0), ("dg", 0.2), ("dsh", 0.4), ("zh", 0.4), ("y", 0.6)],
    "ح": [("h", 0.0), ("kh", 0.6), ("", 0.6)],
    "خ": [("kh", 0.0), ("k", 0.3), ("h", 0.4), ("ch", 0.2), ("x", 0.3), ("j", 0.5)],
    "د": [("d", 0.0), ("t", 0.6)],
    "ذ": [("dh", 0.0), ("z", 0.0), ("d", 0.2), ("th", 0.2)],
    "ر": [("r", 0.0)],
    "ز": [("z", 0.0), ("s", 0.3)],
    "س": [("s", 0.0), ("c", 0.1)],
    "ش": [("sh", 0.0), ("ch", 0.0), ("sch", 0.1), ("s", 0.4), ("tch", 0.3)],
    "ص": [("s", 0.0), ("c", 0.1)],
    "ض": [("d", 0.0), ("dh", 0.0), ("z", 0.1)],
    "ط": [("t", 0.0), ("th", 0.3)],
    "ظ": [("z", 0.0), ("dh", 0.0), ("th", 0.2), ("d", 0.3)],
    "ع": _AYN,
    "ء": [("", 0.0), ("a", 0.1), ("e", 0.1)],
    "غ": [("gh", 0.0), ("g", 0.2), ("gu", 0.3), ("r", 0.6)],
    "ف": [("f", 0.0), ("ph", 0.1), ("v", 0.2)],
    "ق": [("q", 0.0), ("k", 0.0), ("g", 0.1), ("gu", 0.1), ("c", 0.3), ("ck", 0.2), ("qu", 0.3), ("", 0.7)],
    "ك": [("k", 0.0), ("c", 0.2), ("ck", 0.2), ("ch", 0.4), ("q", 0.3)],
    "ل": [("l", 0.0)],
    "م": [("m", 0.0)],
    "ن": [("n", 0.0)],
    "ه": [("h", 0.0), ("", 0.5)],
}
_FINAL_HA: list[Option] = [("a", 0.0), ("ah", 0.0), ("eh", 0.0), ("e", 0.0), ("h", 0.0), ("", 0.3), ("at", 0.2),
                           ("et", 0.3), ("ih", 0.4), ("i", 0.6), ("ha", 0.2), ("aa", 0.2)]
# -اة (folded -اه): Najat, Hayat, Nadjet: the ة after a long a is read as its t.
_FINAL_HA_AFTER_ALEF: list[Option] = _FINAL_HA + [("t", 0.05)]
_FINAL_YA: list[Option] = _YA + [("a", 0.3)]  # ى (folded to ي) is -a: Mostafa
_FINAL_WAW: list[Option] = _WAW + [("", 0.4)]  # عمرو is Amr

# Inserted short-vowel groups (a Latin vowel with no Arabic letter): free for one vowel, dearer for a
# pair, which usually spells a long vowel that the Arabic does not have (Mahmoud against محمد).
_INSERTIONS: list[Option] = [("a", 0.02), ("e", 0.02), ("i", 0.02), ("o", 0.02), ("u", 0.02), ("ou", 0.35),
                             ("ei", 0.5), ("ai", 0.5), ("ay", 0.5), ("ey", 0.5), ("ie", 0.5), ("ee", 0.6),
                             ("oo", 0.6), ("aa", 0.6), ("ia", 0.6), ("ua", 0.6), ("y", 0.6), ("w", 0.7)]
_FINAL_INSERTION_EXTRA = 0.45  # a trailing vowel with no Arabic letter (Hosni against حسن)
_FINAL_E_EXTRA = 0.08  # ... except a French mute e (Arslane, Yacine, Noureddine)
EDIT_COST = 1.0  # one substituted, missing or extra letter
VOWEL_BEFORE_LONG_VOWEL_COST = 0.3
DOUBLE_COST = 0.02  # a doubled Latin consonant for one Arabic letter (shadda, unwritten in Arabic)
DOUBLE_AFTER_LONG_VOWEL_COST = 0.2


def _options(word: str, i: int) -> list[Option]:
    ch = word[i]
    last = i == len(word) - 1
    if ch == "ا":
        return _INITIAL_A if i == 0 else _LONG_A
    if ch == "و":
        return _FINAL_WAW if last and i > 0 else _WAW
    if ch == "ي":
        return _FINAL_YA if last and i > 0 else _YA
    if ch == "ه" and last and i > 0:
        return _FINAL_HA_AFTER_ALEF if word[i - 1] == "ا" else _FINAL_HA
    return _CONSONANTS.get(ch, [("", 0.5)])


_INSERTIONS_BY_FIRST: dict[str, tuple[Option, ...]] = {}
for _text, _cost in _INSERTIONS:
    _INSERTIONS_BY_FIRST[_text[0]] = _INSERTIONS_BY_FIRST.get(_text[0], ()) + ((_text, _cost),)


def _after_long_vowel(word: str, i: int) -> bool:
    """True when word[i] follows a long-vowel letter (ا, or و/ي read as a vowel, not as w/y after ا)."""
    if i == 0:
        return False
    previous = word[i - 1]
    if previous == "ا":
        return i - 1 > 0  # an initial ا is a hamza seat (Ahmed), not a long vowel
    return previous in "وي" and i - 1 > 0 and word[i - 2] != "ا"


LetterOptions = tuple[dict[str, tuple[Option, ...]], tuple[Option, ...]]


@lru_cache(maxsize=50_000)
def _indexed_options(word: str) -> tuple[LetterOptions, ...]:
    """Per letter: its non-empty options indexed by first Latin letter, and its empty options. The options
    of a letter depend only on the letter and its neighbours (start, end, the two letters before), so they
    are built once per such context (_letter_options), not once per name."""
    return tuple(_letter_options(*_context(word, i)) for i in range(len(word)))


def _context(word: str, i: int) -> tuple[str, str, bool]:
    """Up to two letters before word[i], the letter, and whether it is the last: all its options depend on."""
    return word[max(0, i - 2):i], word[i], i == len(word) - 1


@lru_cache(maxsize=5_000)
def _letter_options(before: str, letter: str, last: bool) -> LetterOptions:
    # A stand-in word with the same neighbourhood: _options and _after_long_vowel read no further back.
    word = before + letter
    i = len(word) - 1
    opts = _expanded_letter(word + ("" if last else "ـ"), i)
    by_first: dict[str, list[Option]] = {}
    for text, c in opts:
        if text:
            by_first.setdefault(text[0], []).append((text, c))
    empty = tuple((t, c) for t, c in opts if not t)
    return {k: tuple(v) for k, v in by_first.items()}, empty


def _expanded_letter(word: str, i: int) -> tuple[Option, ...]:
    """The options of word[i] plus doubled consonants (shadda is not written: Mohammed). A doubled
    consonant right after a long vowel costs more: Arabic names hardly ever have a long vowel before a
    shadda, so "Ammar" does not read عامر (it reads عمّار); s is exempt (French ss: Youssef, Moussa)."""
    opts = list(_options(word, i))
    extra = DOUBLE_AFTER_LONG_VOWEL_COST if _after_long_vowel(word, i) else DOUBLE_COST
    opts += [(o + o, c + (DOUBLE_COST if o == "s" else extra)) for o, c in opts
             if len(o) == 1 and o not in "aeiou"]
    return tuple(opts)


def alignment_cost(arabic: str, latin: str, limit: float = float("inf")) -> float:
    """Minimum cost of reading `latin` (a-z) as a spelling of `arabic` (folded Arabic letters).

    With a `limit`, work stops on readings that already cost that much: the result is exact below the
    limit and some value >= limit otherwise (costs only grow along a reading)."""
    if not arabic or not latin:
        return EDIT_COST * max(len(arabic), len(latin))
    return _dp_cost(arabic, latin, limit)


@lru_cache(maxsize=200_000)
def _dp_cost(arabic: str, latin: str, limit: float = float("inf")) -> float:
    n, m = len(arabic), len(latin)
    options = _indexed_options(arabic)
    inf = float("inf")
    width = m + 1
    # plain[i*width+j]: arabic[:i] aligned with latin[:j], last step consumed an Arabic letter (or start);
    # vowel[...]: same, last step inserted a vowel group (two insertions in a row are not allowed).
    plain = [inf] * ((n + 1) * width)
    vowel = [inf] * ((n + 1) * width)
    plain[0] = 0.0
    long_vowel = [i > 0 and ch in "اوي" for i, ch in enumerate(arabic)]
    for i in range(n + 1):
        row = i * width
        nxt = row + width
        by_first, empty = options[i] if i < n else ({}, ())
        alive = False
        for j in range(m + 1):
            here_plain = plain[row + j]
            here_vowel = vowel[row + j]
            here = here_plain if here_plain < here_vowel else here_vowel
            if here >= limit:
                continue
            alive = True
            if i < n:
                for _text, c in empty:
                    if here + c < plain[nxt + j]:
                        plain[nxt + j] = here + c
                start = here
                if j < m and long_vowel[i] and latin[j] in "aeiou":
                    # A short vowel right before a long vowel's own vowel: Saoudi has no place in سودي.
                    from_vowel = here_vowel + VOWEL_BEFORE_LONG_VOWEL_COST
                    start = here_plain if here_plain < from_vowel else from_vowel
                for text, c in by_first.get(latin[j], ()) if j < m else ():
                    if latin.startswith(text, j):
                        k = nxt + j + len(text)
                        if start + c < plain[k]:
                            plain[k] = start + c
                # Edits: Arabic letter missing in the Latin, or replaced by another letter.
                if here + EDIT_COST < plain[nxt + j]:
                    plain[nxt + j] = here + EDIT_COST
                if j < m and here + EDIT_COST < plain[nxt + j + 1]:
                    plain[nxt + j + 1] = here + EDIT_COST
            if j < m:
                if here_plain < inf and i > 0 and latin[j] in "aeiouyw":
                    extra = 0.0
                    if i == n:
                        extra = _FINAL_E_EXTRA if (j == m - 1 and latin[j] == "e") else _FINAL_INSERTION_EXTRA
                    for text, c in _INSERTIONS_BY_FIRST.get(latin[j], ()):
                        if latin.startswith(text, j):
                            k = row + j + len(text)
                            if here_plain + c + extra < vowel[k]:
                                vowel[k] = here_plain + c + extra
                if here + EDIT_COST < plain[row + j + 1]:
                    plain[row + j + 1] = here + EDIT_COST
        if not alive:
            return limit  # every reading of arabic[:i] already costs the limit
    last = n * width + m
    return min(plain[last], vowel[last])


def alignment_similarity(arabic: str, latin: str) -> float:
    """Alignment cost as a similarity in [0, 1]: 1 for a perfect spelling, about 0.6 after one edit."""
    return bounded_alignment_similarity(arabic, latin, 0.0)


def bounded_alignment_similarity(arabic: str, latin: str, floor: float) -> float:
    """alignment_similarity when it is at least `floor`, else some value below `floor`: readings are
    abandoned as soon as they cannot reach it (a score of 0 needs no exact cost either)."""
    scale = 1.5 + 0.25 * len(arabic)
    limit = scale * (1.0 - floor) if floor > 0 else scale
    cost = alignment_cost(arabic, latin, limit=limit)
    if cost >= limit:
        return min(floor, max(0.0, 1.0 - cost / scale))  # never above the floor by a rounding error
    return max(0.0, 1.0 - cost / scale)
