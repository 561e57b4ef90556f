"""The linkage encoder: a validated identity in, keyed encodings out. Nothing in plain text but birth year,
sex and governorate (coarse values the model needs arithmetic or equality on).

Exactly what is encoded (every token = keyed BLAKE2b under the linkage key, truncated to 64 bits, in hex;
purpose strings separate the domains so a token of one kind never equals a token of another):
- names: per unit, `name.key` of its dictionary id (or its ASCII comparable form when the dictionary does not
  know it), `name.skel` of its consonant skeleton, and `name.gram` keyed bigrams of the skeleton as 31-bit integers
  (a keyed n-gram set, as in clkhash's hardening: an attacker without the key cannot build a dictionary);
- the chain (father, grandfather, family name): the set of its units' keys and skeletons, positions ignored;
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
from registry.matching.record import BirthDate, RecordFields
from registry.names.features import comparable_form, unit_keys, unit_ngrams
from registry.names.similarity import analyse_unit
from registry.names.units import NameUnit, split_units

TOKEN_BYTES = 8


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
    father_skel: str | None  # blocking only
    family_skel: str | None  # blocking only
    chain_keys: tuple[str, ...]
    chain_skels: tuple[str, ...]
    mother_key: str | None
    mother_skel: str | None
    mother_family_key: str | None
    mother_family_skel: str | None
    dob_full: str | None
    dob_ym: str | None
    dob_swap: str | None
    dob_md: str | None
    dob_loose: bool  # the date is estimated or known only to the year (coarse, kept in clear)
    nid: str | None

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# A spelling that stands for another name at least this often counts as that name too (Hala: هالة or حلا).
AMBIGUITY_SHARE = 0.15


@lru_cache(maxsize=200_000)
def _unit_ids(unit: NameUnit) -> list[str]:
    """The dictionary ids a unit may stand for, most likely first (empty when the dictionary does not know it)."""
    a = analyse_unit(unit)
    return [name_id for name_id, share in a.candidates if share >= AMBIGUITY_SHARE] if a.known else []


@lru_cache(maxsize=200_000)
def _unit_parts(unit: NameUnit) -> tuple[str, str, bool, frozenset[str]]:
    """(key, skeleton, known, n-grams) of one unit, in plain text (encoded right after, never stored)."""
    keys = unit_keys(unit)
    known = "id" in keys
    key = f"id:{keys['id']}" if known else f"cf:{comparable_form(unit)}"
    return key, keys["skeleton"], known, frozenset(unit_ngrams(unit))


def _units(text: str | None) -> tuple[NameUnit, ...]:
    return split_units(text) if text else ()


class LinkageEncoder:
    def __init__(self, keys: KeyRing):
        self._keys = keys
        # Names and dates repeat a lot: their tokens are kept (in memory only) rather than re-hashed.
        self.token = lru_cache(maxsize=500_000)(self._token)  # type: ignore[method-assign]
        self.grams = lru_cache(maxsize=200_000)(self._grams)  # type: ignore[method-assign]

    def _token(self, purpose: str, value: str) -> str:
        return self._keys.linkage_digest(purpose, value, size=TOKEN_BYTES).hex()

    def _grams(self, ngrams: frozenset[str]) -> tuple[int, ...]:
        out = set()
        for gram in ngrams:
            digest = self._keys.linkage_digest("name.gram", gram, size=4)
            out.add(int.from_bytes(digest, "big") & 0x7FFFFFFF)
        return tuple(sorted(out))

    def _primary(self, text: str | None) -> tuple[str | None, str | None, bool, tuple[int, ...]]:
        units = _units(text)
        if not units:
            return None, None, False, ()
        key, skel, known, ngrams = _unit_parts(units[0])
        return self.token("name.key", key), self.token("name.skel", skel), known, self.grams(ngrams)

    def _ids(self, text: str | None, key: str | None) -> tuple[str, ...]:
        units = _units(text)
        ids = {self.token("name.key", f"id:{i}") for i in _unit_ids(units[0])} if units else set()
        if key:
            ids.add(key)
        return tuple(sorted(ids))

    def encode(self, record_id: str, child_id: str, identity: RecordFields) -> LinkageRow:
        given_key, given_skel, given_known, given_grams = self._primary(identity.given_name)
        chain_keys, chain_skels = set(), set()
        for text in (identity.father_name, identity.grandfather_name, identity.family_name):
            for unit in _units(text):
                key, skel, _, _ = _unit_parts(unit)
                chain_keys.add(self.token("name.key", key))
                chain_skels.add(self.token("name.skel", skel))
        mother_key, mother_skel, _, _ = self._primary(identity.mother_given_name)
        mother_family_key, mother_family_skel, _, _ = self._primary(identity.mother_family_name)
        _, father_skel, _, _ = self._primary(identity.father_name)
        family_units = _units(identity.family_name)
        family_skel = self.token("name.skel", _unit_parts(family_units[-1])[1]) if family_units else None
        full, ym, swap, md = self._dates(identity.date_of_birth)
        return LinkageRow(
            record_id=record_id,
            child_id=child_id,
            birth_year=identity.date_of_birth.year if identity.date_of_birth else None,
            sex=identity.sex,
            governorate=identity.governorate,
            given_key=given_key,
            given_skel=given_skel,
            given_known=given_known,
            given_ids=self._ids(identity.given_name, given_key),
            given_grams=given_grams,
            father_skel=father_skel,
            family_skel=family_skel,
            chain_keys=tuple(sorted(chain_keys)),
            chain_skels=tuple(sorted(chain_skels)),
            mother_key=mother_key,
            mother_skel=mother_skel,
            mother_family_key=mother_family_key,
            mother_family_skel=mother_family_skel,
            dob_full=full,
            dob_ym=ym,
            dob_swap=swap,
            dob_md=md,
            dob_loose=bool(identity.date_of_birth and (identity.date_of_birth.estimated
                                                       or identity.date_of_birth.month is None)),
            # Not cached: a national ID identifies one child, so it is not kept in memory after use.
            nid=self._token("nid", identity.national_id) if identity.national_id else None,
        )

    def _dates(self, dob: BirthDate | None) -> tuple[str | None, str | None, str | None, str | None]:
        if dob is None or dob.month is None:
            return None, None, None, None
        ym = self.token("dob.ym", f"{dob.year:04d}-{dob.month:02d}")
        if dob.day is None:
            return None, ym, None, None
        full = self.token("dob.full", f"{dob.year:04d}-{dob.month:02d}-{dob.day:02d}")
        swap = None
        if dob.day != dob.month and dob.day <= 12:
            try:
                dt.date(dob.year, dob.day, dob.month)
                swap = self.token("dob.full", f"{dob.year:04d}-{dob.day:02d}-{dob.month:02d}")
            except ValueError:
                swap = None
        md = self.token("dob.md", f"{dob.month:02d}-{dob.day:02d}")
        return full, ym, swap, md


def query_fingerprint(keys: KeyRing, identity: RecordFields) -> str:
    """A keyed fingerprint of a lookup's query for the audit log: equal queries give equal fingerprints,
    and nothing of the query can be read back from it."""
    canonical = "|".join(str(v or "") for k, v in sorted(identity.to_dict().items())
                         if k not in ("institution", "source_ref"))
    return "q:" + hashlib.blake2b(canonical.encode(), key=keys.linkage_key, digest_size=12,
                                  person=b"registry-query-1").hexdigest()
