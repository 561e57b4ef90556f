"""The linkage encoder: a validated identity in, keyed encodings out. Nothing in plain text but birth year,
sex and governorate (coarse values the model needs arithmetic or equality on).

Exactly what is encoded (every token = keyed BLAKE2b under the linkage key, truncated to 64 bits, in hex;
purpose strings separate the domains so a token of one kind never equals a token of another):
- names: per unit, `name.key` of its dictionary id (or its ASCII comparable form when the dictionary does not
  know it), `name.skel` of its consonant skeleton, and `name.gram` keyed bigrams of the skeleton as 31-bit integers
  (a keyed n-gram set, as in clkhash's hardening: an attacker without the key cannot build a dictionary);
- the chain (father, grandfather, family name): the set of its units' keys and skeletons, positions ignored;
- each of the father's, grandfather's, family, mother's and mother's family names on its own: `name.near` of
  its units' skeletons with one letter left out (31-bit integers), so that a typo in one part of the chain is
  seen as "only similar" rather than "different", and whether the dictionary knows every unit of it (two
  known names one letter apart, كريم and كمال, are two names, not a typo);
- date of birth: the full date, year-month, the day/month-swapped date and month-day, each a token;
- national ID: one token. Argon2 would not protect a 10^10 space; the secret key does.
Typo and date tolerance is built into the tokens because hashes have no edit distance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, fields
from functools import lru_cache

from registry.keys import KeyRing
from registry.matching.record import RecordFields
from registry.names.dictionary import active_dictionary
from registry.names.features import comparable_form, unit_keys, unit_neighbourhood, unit_ngrams
from registry.names.similarity import analyse_unit, usual_spelling
from registry.names.units import NameUnit, split_units

TOKEN_BYTES = 8


def token_number(token: str) -> int:
    """A keyed token (16 hex digits) as batch deduplication carries it: the same 64 bits as a signed integer,
    which DuckDB and Spark compare, join and hold in less memory than text. Exact both ways (`token_text`)."""
    n = int(token, 16)
    return n - (1 << 64) if n >= 1 << 63 else n


def token_text(number: int) -> str:
    """The stored form of a token that `token_number` made a number."""
    return format(number & 0xFFFF_FFFF_FFFF_FFFF, "016x")


@dataclass(frozen=True)
class LinkageRow:
    """One record's encodings: the row the model compares. Lists are sorted and duplicate-free."""

    record_id: str
    child_id: str
    birth_year: int | None
    sex: str | None
    governorate: str | None
    given_key: str | None
    given_skel: str | None
    given_known: bool
    given_ids: tuple[str, ...]  # every dictionary id the given name may be (a Latin spelling can be ambiguous)
    given_grams: tuple[int, ...]
    father_skel: str | None  # blocking, and which chain part an "only similar" part is
    grandfather_skel: str | None
    family_skel: str | None
    chain_keys: tuple[str, ...]
    chain_skels: tuple[str, ...]
    mother_key: str | None
    mother_skel: str | None
    mother_family_key: str | None
    mother_family_skel: str | None
    # Per part (father, grandfather, family, mother, mother's family): keyed one-letter-out skeletons, as the
    # index stores them (space-separated integers): a lookup reads them only for a pair whose one differing part
    # may be a typo, so they are not parsed for every candidate.
    father_near: str
    grandfather_near: str
    family_near: str
    mother_near: str
    mother_family_near: str
    parts_known: int  # bit i set: the dictionary knows every unit of part i (NEAR_PARTS order)
    dob_full: str | None
    dob_ym: str | None
    dob_swap: str | None
    dob_md: str | None
    dob_loose: bool  # the date is estimated or known only to the year (coarse, kept in clear)
    nid: str | None

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in _ROW_FIELDS}


_ROW_FIELDS = tuple(f.name for f in fields(LinkageRow))
# The parts compared one by one for a typo, in the order of LinkageRow.parts_known's bits.
NEAR_PARTS = ("father", "grandfather", "family", "mother", "mother_family")

# A spelling that stands for another name at least this often counts as that name too (Rana: رانا or رنا).
AMBIGUITY_SHARE = 0.15


@lru_cache(maxsize=200_000)
def _unit_ids(unit: NameUnit) -> list[str]:
    """The dictionary ids a unit may stand for, most likely first (empty when the dictionary does not know it):
    those the spelling stands for at least AMBIGUITY_SHARE of the time, and those it is a usual spelling of
    (at least USUAL_SPELLING_SHARE of the name's own spellings, as `name_similarity` reads it). Hala is 73 %
    هالة and 13 % حلا, but it is how حلا is mostly written: without the second test Hala and حلا were two
    different known names, the given name's strongest evidence against, and the largest group of
    cross-script duplicates left under the same-child band at a million records."""
    a = analyse_unit(unit)
    if not a.known:
        return []
    ids = [name_id for name_id, share in a.candidates if share >= AMBIGUITY_SHARE]
    if unit.script == "latin":
        dictionary = active_dictionary()
        ids += [name_id for name_id, _ in a.candidates
                if name_id not in ids and usual_spelling(dictionary, unit, name_id)]
    return ids


@lru_cache(maxsize=200_000)
def _unit_parts(unit: NameUnit) -> tuple[str, str, bool, frozenset[str]]:
    """(key, skeleton, known, n-grams) of one unit, in plain text (encoded right after, never stored)."""
    keys = unit_keys(unit)
    known = "id" in keys
    key = f"id:{keys['id']}" if known else f"cf:{comparable_form(unit)}"
    return key, keys["skeleton"], known, frozenset(unit_ngrams(unit))


def _units(text: str | None) -> tuple[NameUnit, ...]:
    return split_units(text) if text else ()


NameParts = tuple[str | None, str | None, bool, tuple[int, ...]]  # key, skeleton, known, n-grams (encoded)
ChainParts = tuple[tuple[str, ...], tuple[str, ...], str | None, str | None]  # keys, skeletons, father, family
DateParts = tuple[str | None, str | None, str | None, str | None]  # full, year-month, swapped, month-day


class LinkageEncoder:
    def __init__(self, keys: KeyRing):
        self._keys = keys
        # Names and dates repeat a lot (an import of 100,000 rows holds a few thousand distinct names): their
        # encodings are kept, in memory only, per distinct written name, chain and date rather than re-analysed
        # and re-hashed. National IDs are never kept (see encode).
        self.token = lru_cache(maxsize=500_000)(self._token)  # type: ignore[method-assign]
        self.grams = lru_cache(maxsize=200_000)(self._grams)  # type: ignore[method-assign]
        self.name = lru_cache(maxsize=200_000)(self._name)  # type: ignore[method-assign]
        self.given_ids = lru_cache(maxsize=100_000)(self._given_ids)  # type: ignore[method-assign]
        self.written = lru_cache(maxsize=200_000)(self._written)  # type: ignore[method-assign]
        self.chain = lru_cache(maxsize=200_000)(self._chain)  # type: ignore[method-assign]
        self.near = lru_cache(maxsize=200_000)(self._near)  # type: ignore[method-assign]
        self.dates = lru_cache(maxsize=100_000)(self._dates)  # type: ignore[method-assign]

    def _token(self, purpose: str, value: str) -> str:
        return self._keys.linkage_digest(purpose, value, size=TOKEN_BYTES).hex()

    def _grams(self, ngrams: frozenset[str], purpose: str = "name.gram") -> tuple[int, ...]:
        out = set()
        for gram in ngrams:
            digest = self._keys.linkage_digest(purpose, gram, size=4)
            out.add(int.from_bytes(digest, "big") & 0x7FFFFFFF)
        return tuple(sorted(out))

    def _near(self, text: str | None) -> tuple[str, bool]:
        """One written part, for typos: its units' one-letter-out skeletons (keyed, space-separated), and whether
        the dictionary knows every unit."""
        units = _units(text)
        neighbourhood: set[str] = set()
        for unit in units:
            neighbourhood |= unit_neighbourhood(unit)
        tokens = " ".join(str(n) for n in self.grams(frozenset(neighbourhood), "name.near"))
        return tokens, bool(units) and all(_unit_parts(u)[2] for u in units)

    def _name(self, text: str | None) -> NameParts:
        """The first unit of a written name, encoded (the given name, the father's, the mother's)."""
        units = _units(text)
        if not units:
            return None, None, False, ()
        key, skel, known, ngrams = _unit_parts(units[0])
        return self.token("name.key", key), self.token("name.skel", skel), known, self.grams(ngrams)

    def _given_ids(self, text: str | None) -> tuple[str, ...]:
        units = _units(text)
        ids = {self.token("name.key", f"id:{i}") for i in _unit_ids(units[0])} if units else set()
        key = self.name(text)[0]
        if key:
            ids.add(key)
        return tuple(sorted(ids))

    def _written(self, text: str | None) -> tuple[frozenset[str], frozenset[str], str | None]:
        """One written name of the chain, encoded: its units' keys and skeletons, and its last unit's skeleton."""
        keys, skels, last = set(), set(), None
        for unit in _units(text):
            key, skel, _, _ = _unit_parts(unit)
            keys.add(self.token("name.key", key))
            last = self.token("name.skel", skel)
            skels.add(last)
        return frozenset(keys), frozenset(skels), last

    def _chain(self, father: str | None, grandfather: str | None, family: str | None) -> ChainParts:
        # Each written name is encoded once (`written`): a whole chain rarely repeats, its names do.
        father_w, grandfather_w, family_w = self.written(father), self.written(grandfather), self.written(family)
        chain_keys = father_w[0] | grandfather_w[0] | family_w[0]
        chain_skels = father_w[1] | grandfather_w[1] | family_w[1]
        return tuple(sorted(chain_keys)), tuple(sorted(chain_skels)), self.name(father)[1], family_w[2]

    def encode(self, record_id: str, child_id: str, identity: RecordFields) -> LinkageRow:
        given_key, given_skel, given_known, given_grams = self.name(identity.given_name)
        chain_keys, chain_skels, father_skel, family_skel = self.chain(
            identity.father_name, identity.grandfather_name, identity.family_name)
        mother_key, mother_skel, _, _ = self.name(identity.mother_given_name)
        mother_family_key, mother_family_skel, _, _ = self.name(identity.mother_family_name)
        parts = (identity.father_name, identity.grandfather_name, identity.family_name,
                 identity.mother_given_name, identity.mother_family_name)
        near = [self.near(text) for text in parts]
        dob = identity.date_of_birth
        full, ym, swap, md = self.dates(dob.year, dob.month, dob.day) if dob else (None, None, None, None)
        return LinkageRow(
            record_id=record_id,
            child_id=child_id,
            birth_year=dob.year if dob else None,
            sex=identity.sex,
            governorate=identity.governorate,
            given_key=given_key,
            given_skel=given_skel,
            given_known=given_known,
            given_ids=self.given_ids(identity.given_name),
            given_grams=given_grams,
            father_skel=father_skel,
            grandfather_skel=self.name(identity.grandfather_name)[1],
            family_skel=family_skel,
            chain_keys=chain_keys,
            chain_skels=chain_skels,
            mother_key=mother_key,
            mother_skel=mother_skel,
            mother_family_key=mother_family_key,
            mother_family_skel=mother_family_skel,
            father_near=near[0][0],
            grandfather_near=near[1][0],
            family_near=near[2][0],
            mother_near=near[3][0],
            mother_family_near=near[4][0],
            parts_known=sum(1 << i for i, (_, known) in enumerate(near) if known),
            dob_full=full,
            dob_ym=ym,
            dob_swap=swap,
            dob_md=md,
            dob_loose=bool(dob and (dob.estimated or dob.month is None)),
            # Not cached: a national ID identifies one child, so it is not kept in memory after use.
            nid=self._token("nid", identity.national_id) if identity.national_id else None,
        )

    def _dates(self, year: int, month: int | None, day: int | None) -> DateParts:
        if month is None:
            return None, None, None, None
        ym = self.token("dob.ym", f"{year:04d}-{month:02d}")
        if day is None:
            return None, ym, None, None
        full = self.token("dob.full", f"{year:04d}-{month:02d}-{day:02d}")
        swap = None
        if day != month and day <= 12:
            try:
                dt.date(year, day, month)
                swap = self.token("dob.full", f"{year:04d}-{day:02d}-{month:02d}")
            except ValueError:
                swap = None
        md = self.token("dob.md", f"{month:02d}-{day:02d}")
        return full, ym, swap, md


def query_fingerprint(keys: KeyRing, identity: RecordFields) -> str:
    """A keyed fingerprint of a lookup's query for the audit log: equal queries give equal fingerprints,
    and nothing of the query can be read back from it."""
    canonical = "|".join(str(v or "") for k, v in sorted(identity.to_dict().items())
                         if k not in ("institution", "source_ref"))
    return "q:" + hashlib.blake2b(canonical.encode(), key=keys.linkage_key, digest_size=12,
                                  person=b"registry-query-1").hexdigest()
