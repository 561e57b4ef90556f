"""Name units: the pieces of a name that are one name, compounds included, in either script.

A unit is what a person would call "one name": محمد, عبد الرحمن (Abdel Rahman, Abdulrahman), نور الدين
(Nour El-Din, Nureddin), ابو بكر (Abu Bakr), بن علي (Ben Ali), الحسن (El-Hassan). Each unit is parsed into a
structure (prefix, head, suffix) so that the many ways of writing a compound compare equal:

- prefix: "abd" (عبد / Abd, Abdel, Abdul...), "abu" (ابو / Abu, Abou), "ibn" (بن، ابن / ibn, bin, ben),
  "bint" (بنت / bint); joined Latin forms (Abdulrahman, Abderrahim, Aboubakr) are split by rule.
- head: the core name, with the article ال / al- / el- (and assimilated ar-, ad-, as-, ...) removed,
  except for names that merely begin with those letters (الياس Elias, الهام Ilham: see _WHOLE_*).
- suffix: "din" (الدين / ed-Din, eddine, uddin...) or "allah" (الله / Allah, ullah...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from registry.names.normalize import is_arabic_token, normalize_name

ARABIC_PREFIX_WORDS = {"abd": "عبد", "abu": "ابو", "ibn": "بن", "bint": "بنت"}
ARABIC_SUFFIX_WORDS = {"din": "الدين", "allah": "الله"}

_AR_PREFIX = {"عبد": "abd", "ابو": "abu", "ابي": "abu", "ابا": "abu", "بن": "ibn", "ابن": "ibn", "بنت": "bint"}
_AR_SUFFIX = {"الدين": "din", "الله": "allah"}

# Names whose first letters are ال but are not the article (checked against the shared name data: their
# Latin spellings never separate an article: Elias, Ilham, Alaa, Olfa, Albert).
_WHOLE_ARABIC = frozenset(
    ["الياس", "الهام", "الهامي", "الاء", "الفه", "الفت", "البرت", "الكسندر", "الفريد", "الان", "الين", "الينا", "اليسا", "اليسار", "اليسع", "الطاف", "الماس", "اليزابيث", "اليس", "الما", "الفي"]
)
_WHOLE_LATIN = frozenset(["elhami", "alhami", "ilhami", "elham", "alham", "ilham", "elias", "ilias", "alwan", "almas", "altaf", "alfred"])

# Clerks' abbreviations of Muhammad: absent from the variant data, so expanded by rule.
LATIN_ABBREVIATIONS = {"mhd": "muhammad", "mohd": "muhammad", "muhd": "muhammad", "mhmd": "muhammad",
                       "mohmd": "muhammad", "md": "muhammad", "mohd.": "muhammad"}

_LAT_ABD = re.compile(r"abd(?:[aeiou]{1,2}l)?")  # abd, abdel, abdul, abdoul, abdal, abdol
_LAT_ABU = re.compile(r"ab(?:u|ou|oo|o|i)l?")  # abu, abou, abo, abi, abul, aboul
_LAT_IBN = re.compile(r"ibn[ui]?l?|bin|ben|ibin")
_LAT_BINT = re.compile(r"binti?")
_LAT_ARTICLE = re.compile(r"[aeiuo]l")  # al, el, ul, il, ol
# ar-Rahman, ad-Din, as-Sayed, ash-Shami, an-Nasser, az-Zein, at-Tahir (and with e/i/u/o: es-Sayed, ir-Rahman)
_LAT_SUN_ARTICLE = re.compile(r"[aeiuo](?:sh|th|dh|[tdrzsn])")
_LAT_DIN = frozenset(["din", "deen", "dine", "eddin", "eddine", "eddeen", "uddin", "uddeen", "addin", "iddin", "aldin", "eldin", "aldeen", "eldeen"])
_LAT_ALLAH = frozenset(["allah", "alla", "ullah", "ulla", "ollah", "olla", "illah", "ellah", "lah", "llah"])
_LAT_ALLAH_TAIL = re.compile(r"[aeiou]{0,2}ll?[aeiou]h?|[aeiou]?llah?")
_LAT_DIN_TAIL = re.compile(r"(?P<head>[a-z]{2,}?)(?:[aeiou][ld]|[aeiou]{1,2}|(?<=[hr]))(?:d(?:i|ee|ea)ne?)")
_ABD_ARTICLE = re.compile(r"[ae]l(?=[a-z]{3,}$)")
# Alhassan, Elsayed; assimilated and joined: Ennaji, Errachidi, Ashsharif, Eththani (the doubled letter tells).
_LAT_JOINED_ARTICLE = re.compile(r"(?:a|e)l(?=[b-df-hj-km-np-tv-z])|(?:a|e)(?P<d>sh|th|dh)(?=(?P=d))"
                                 r"|(?:a|e)(?P<c>[tdrzsn])(?=(?P=c))")


@dataclass(frozen=True)
class NameUnit:
    """One name unit. `text` is the normalised surface; prefix/head/suffix its parsed structure."""

    text: str
    script: str  # "arabic" or "latin"
    prefix: str  # "", "abd", "abu", "ibn", "bint"
    head: str  # core name, article removed; "" only for عبد الله-like units (prefix + suffix)
    suffix: str  # "", "din", "allah"

    @property
    def key(self) -> str:
        """Structural key: equal for two spellings of a compound in the same script."""
        return f"{self.prefix}|{self.head}|{self.suffix}"


def _is_latin_article(token: str, following: str | None) -> bool:
    if following is None:
        return False
    if _LAT_ARTICLE.fullmatch(token):
        return True
    # Assimilated article only before the consonant it copies: "ar rahman", not "an" before anything.
    return bool(_LAT_SUN_ARTICLE.fullmatch(token)) and following.startswith(token[1:])


def _strip_arabic_article(word: str) -> str:
    if word.startswith("ال") and len(word) >= 4 and word not in _WHOLE_ARABIC:
        return word[2:]
    return word


def _strip_latin_joined_article(word: str) -> str:
    """Alhassan -> hassan, Elsayed -> sayed, Ennaji -> naji; Elias, Essam, Alwan stay whole."""
    if word in _WHOLE_LATIN:
        return word
    m = _LAT_JOINED_ARTICLE.match(word)
    if m and len(word) - m.end() >= 4:
        return word[m.end():]  # the lookahead leaves one copy of an assimilated consonant: errachidi -> rachidi
    return word


def _undouble(word: str) -> str:
    """Abderrahim: the head "rrahim" keeps one r (the doubling is the assimilated article)."""
    if len(word) > 3 and word[0] == word[1] and word[0] not in "aeiou":
        return word[1:]
    return word


def _split_arabic_joined(token: str) -> list[str]:
    """عبدالرحمن -> عبد الرحمن, نورالدين -> نور الدين, جادالله -> جاد الله."""
    if token.startswith("عبدال") and len(token) > 5:
        return ["عبد", token[3:]]
    for suffix in ("الدين", "الله"):
        if token.endswith(suffix) and len(token) > len(suffix) + 1:
            return [token[: -len(suffix)], suffix]
    return [token]


def _group_arabic(tokens: list[str]) -> list[list[str]]:
    expanded = [part for token in tokens for part in _split_arabic_joined(token)]
    groups: list[list[str]] = []
    i, n = 0, len(expanded)
    while i < n:
        token = expanded[i]
        if token == "العبد" and i + 1 < n:
            token = "عبد"  # العبد الله (Al-Abdullah): the family's article on a compound
        if (token in _AR_PREFIX or token == "ال") and i + 1 < n:
            group = [token, expanded[i + 1]]
            i += 2
        else:
            group = [token]
            i += 1
        while i < n and expanded[i] in _AR_SUFFIX and group[-1] not in _AR_SUFFIX:
            group.append(expanded[i])
            i += 1
        groups.append(group)
    return groups


def _latin_prefix(token: str) -> str:
    if _LAT_ABD.fullmatch(token):
        return "abd"
    if _LAT_ABU.fullmatch(token):
        return "abu"
    if _LAT_IBN.fullmatch(token):
        return "ibn"
    if _LAT_BINT.fullmatch(token):
        return "bint"
    return ""


def _group_latin(tokens: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    i, n = 0, len(tokens)

    def nxt(k: int) -> str | None:
        return tokens[k] if k < n else None

    while i < n:
        token = tokens[i]
        group = [token]
        i += 1
        if _latin_prefix(token) and i < n:
            if _is_latin_article(tokens[i], nxt(i + 1)):
                group.append(tokens[i])
                i += 1
            group.append(tokens[i])
            i += 1
        elif _is_latin_article(token, nxt(i)):
            group.append(tokens[i])
            i += 1
        # X + ed-Din / X + Allah, written as one or two more tokens.
        if i < n and (tokens[i] in _LAT_DIN or tokens[i] in _LAT_ALLAH):
            group.append(tokens[i])
            i += 1
        elif i + 1 < n and _is_latin_article(tokens[i], tokens[i + 1]) and tokens[i + 1] in _LAT_DIN:
            group.extend(tokens[i : i + 2])
            i += 2
        groups.append(group)
    return groups


def _arabic_unit(group: list[str]) -> NameUnit:
    words = list(group)
    prefix = suffix = ""
    if len(words) > 1 and words[0] in _AR_PREFIX:
        prefix = _AR_PREFIX[words.pop(0)]
    if len(words) > 1 and words[-1] in _AR_SUFFIX:
        suffix = _AR_SUFFIX[words.pop()]
    elif prefix == "abd" and words == ["الله"]:
        suffix, words = "allah", []
    if words and words[0] == "ال" and len(words) > 1:
        words.pop(0)
    head = "".join(_strip_arabic_article(w) for w in words[:1]) + "".join(words[1:])
    return NameUnit(" ".join(group), "arabic", prefix, head, suffix)


def _latin_unit(group: list[str]) -> NameUnit:
    words = list(group)
    prefix = suffix = ""
    if len(words) > 1 and _latin_prefix(words[0]):
        prefix = _latin_prefix(words.pop(0))
    if len(words) > 1 and words[-1] in _LAT_DIN:
        suffix = "din"
        words.pop()
    elif len(words) > 1 and words[-1] in _LAT_ALLAH:
        suffix = "allah"
        words.pop()
    elif prefix == "abd" and len(words) == 1 and words[0] in _LAT_ALLAH:
        suffix, words = "allah", []
    if suffix and len(words) > 1 and (_LAT_ARTICLE.fullmatch(words[-1]) or _LAT_SUN_ARTICLE.fullmatch(words[-1])):
        words.pop()  # the article of the suffix: Nour el Din, Nasr ad Din
    separated_article = len(words) > 1 and _is_latin_article(words[0], words[1])
    if separated_article:
        words.pop(0)  # separated article: al hassan, ar rahman
    head = "".join(words)
    if not prefix and not suffix and len(words) == 1 and separated_article:
        # El Esseily: the head keeps its own letters; Al-Abdullah: the rest may itself be a compound.
        joined = _split_latin_joined(head) if head.startswith(("abd", "abu", "abou")) else None
        if joined and joined[0]:
            prefix, head, suffix = joined
        else:
            head = _undouble(head)
    elif prefix == "abd" and not suffix and len(words) == 1 and _ABD_ARTICLE.match(head):
        head = head[2:]  # Abd Elhak, Abd Alaziz: after عبد the next word always carries the article
    elif not prefix and not suffix and len(words) == 1:
        prefix, head, suffix = _split_latin_joined(head)
    elif prefix == "abd" and head in _LAT_ALLAH:
        head, suffix = "", "allah"
    elif head:
        head = _undouble(_strip_latin_joined_article(head)) if len(words) == 1 else head
    head = LATIN_ABBREVIATIONS.get(head, head) if not prefix and not suffix else head
    return NameUnit(" ".join(group), "latin", prefix, head, suffix)


def _split_latin_joined(word: str) -> tuple[str, str, str]:
    """One Latin token that may be a whole compound: Abdulrahman, Abdallah, Aboubakr, Nureddin, Saifullah."""
    if word.startswith("abd") and len(word) > 5:
        rest = word[3:]
        if _LAT_ALLAH_TAIL.fullmatch(rest):
            return "abd", "", "allah"
        head = _undouble(re.sub(r"^[aeiou]{0,2}l?", "", rest, count=1))
        if len(head) >= 3:
            return "abd", head, ""
    m = re.fullmatch(r"(?:abu|abou|aboo)(?:l(?=[b-df-hj-np-tv-z]))?(?P<head>[b-df-hj-np-tv-z][a-z]{2,})", word)
    if m:
        return "abu", _strip_latin_joined_article(m.group("head")), ""
    m = re.fullmatch(r"(?:ben|bin|ibn)(?P<head>[b-df-hj-np-tv-z][a-z]{3,}|[aeiou][a-z]{2,})", word)
    if m:
        return "ibn", _undouble(m.group("head")), ""
    m = _LAT_DIN_TAIL.fullmatch(word)
    if m and len(m.group("head")) >= 2:  # Azeddine, Nordine, Salahdine
        return "", _strip_latin_joined_article(m.group("head")), "din"
    m = re.fullmatch(r"(?P<head>[a-z]{3,}?)(?:[aeiou]llah?|[aeiou]lah)", word)
    if m:
        return "", _strip_latin_joined_article(m.group("head")), "allah"
    return "", _undouble(_strip_latin_joined_article(word)), ""


@lru_cache(maxsize=200_000)
def split_units(name: str) -> tuple[NameUnit, ...]:
    """All name units of a name, in order. Empty tuple when the name has no Arabic or Latin letters.

    Consecutive tokens of the same script are grouped by that script's compound rules; a field that
    mixes scripts ("محمد Ali") yields units of both scripts.
    """
    tokens = normalize_name(name).split()
    units: list[NameUnit] = []
    run: list[str] = []
    for token in tokens + [""]:
        if run and (token == "" or is_arabic_token(token) != is_arabic_token(run[0])):
            if is_arabic_token(run[0]):
                units.extend(_arabic_unit(g) for g in _group_arabic(run))
            else:
                units.extend(_latin_unit(g) for g in _group_latin(run))
            run = []
        if token:
            run.append(token)
    return tuple(units)


def parse_unit(name: str) -> NameUnit:
    """The single unit of a one-unit name. ValueError when the name is empty or has several units."""
    units = split_units(name)
    if not units:
        raise ValueError(f"no Arabic or Latin letters in name {name!r}")
    if len(units) > 1:
        raise ValueError(f"{name!r} has {len(units)} name units, expected one")
    return units[0]
