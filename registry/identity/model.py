"""A child's identity as the registry receives it, and its validation.

Every field but the institution and the source reference is optional: partial data is normal. Validation
cleans what can be cleaned (Unicode, digits, date forms) and rejects the rest with the field and the reason,
all fields at once, so a clerk can fix a row in one go.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from registry.errors import FieldError, InvalidInput
from registry.identity.dates import PartialDate, parse_date_of_birth
from registry.identity.governorates import BY_CODE, find_governorate
from registry.identity.national_id import check_national_id, normalise_national_id
from registry.names.text import clean_text, script_of

NAME_FIELDS = (
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "mother_given_name",
    "mother_family_name",
)
CHAIN_FIELDS = NAME_FIELDS[:4]
MAX_NAME_LENGTH = 100
MAX_REF_LENGTH = 64

# Letters of either script, Arabic harakat and the few marks names carry (space, hyphen, apostrophe, dot).
# Explicit ranges, not \w: \w would let in '_' and look-alike letters of other scripts (Cyrillic 'а').
_LATIN = r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F\u1E00-\u1EFF\u0300-\u036F\u02BC\u02BE\u02BF"
_ARABIC = r"\u0621-\u063F\u0641-\u064A\u0671-\u06D3\u064B-\u0652\u0670\u0640"
_NAME_OK = re.compile(rf"^[{_LATIN}{_ARABIC} '\-.\u2019]+$")
_REF_OK = re.compile(r"^[\w\-./:#]+$")
_INSTITUTION_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{1,39}$")

_SEX = {
    "m": "M", "male": "M", "boy": "M", "ذكر": "M", "ذ": "M",
    "f": "F", "female": "F", "girl": "F", "أنثى": "F", "انثى": "F", "أنثي": "F", "انثي": "F", "ا": "F",
}


@dataclass(frozen=True)
class Identity:
    institution: str
    source_ref: str
    given_name: str | None = None
    father_name: str | None = None
    grandfather_name: str | None = None
    family_name: str | None = None
    mother_given_name: str | None = None
    mother_family_name: str | None = None
    sex: str | None = None
    date_of_birth: PartialDate | None = None
    governorate: str | None = None
    place_of_birth: str | None = None
    national_id: str | None = None

    @property
    def country(self) -> str | None:
        return BY_CODE[self.governorate].country if self.governorate else None

    def names(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in NAME_FIELDS if getattr(self, f)}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (dates as text). This is what the vault seals."""
        d = {name: getattr(self, name) for name in _IDENTITY_FIELDS}
        d["date_of_birth"] = self.date_of_birth.isoformat() if self.date_of_birth else None
        return d

    def canonical_json(self) -> str:
        """to_dict as canonical JSON (sorted keys, UTF-8 text): what is sealed and what the content digest keys."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Identity:
        """Inverse of to_dict for data that was already validated (the vault's plaintext)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("date_of_birth"):
            values["date_of_birth"] = parse_date_of_birth(values["date_of_birth"])
        return cls(**values)

    def with_changes(self, **changes: Any) -> Identity:
        return replace(self, **changes)


_IDENTITY_FIELDS = tuple(f.name for f in fields(Identity))


def _name(field: str, raw: Any, errors: list[FieldError]) -> str | None:
    text, reason = _checked_name(raw) if isinstance(raw, str) else _check_name(raw)
    if reason is not None:
        errors.append(FieldError(field, reason))
    return text


def _check_name(raw: Any) -> tuple[str | None, str | None]:
    """(the cleaned name or None, the reason it is refused or None)."""
    text = clean_text(raw)
    if not text:
        return None, None
    if len(text) > MAX_NAME_LENGTH:
        return None, f"longer than {MAX_NAME_LENGTH} characters"
    if any(ch.isdigit() for ch in text) or not _NAME_OK.match(text):
        return None, "may contain only Arabic or Latin letters, spaces, hyphens and apostrophes"
    script = script_of(text)
    if script == "mixed":
        return None, "mixes Arabic and Latin letters: give one script per field"
    if script == "none":
        return None, "has no letters (only marks or punctuation)"
    return text, None


# Names repeat a lot in an imported list: each distinct written name is cleaned and checked once (in memory).
_checked_name = lru_cache(maxsize=100_000)(_check_name)


def split_full_name(full_name: str) -> dict[str, str]:
    """Split a full name into the chain (given, father, grandfather, family) with the name matcher's rules
    (compound units such as عبد الله or Abdel Rahman stay whole), keeping each part as the clerk wrote it."""
    from registry.names import normalize_name, parse_chain  # names owns the compound-unit rules

    chain = parse_chain(full_name)
    tokens = full_name.split()
    flat = [normalize_name(t).replace(" ", "") for t in tokens]
    written: dict[int, str] = {}
    pos = 0
    for i, unit in enumerate(chain.units):
        target, taken, start = unit.text.replace(" ", ""), "", pos
        while pos < len(tokens) and len(taken) < len(target):
            taken += flat[pos]
            pos += 1
        if taken != target:  # the unit does not fall on the written tokens: keep the matcher's form
            written = {}
            break
        written[i] = " ".join(tokens[start:pos])
    out = {}
    for field, attr in zip(CHAIN_FIELDS, ("given", "father", "grandfather", "family")):
        unit = getattr(chain, attr)
        if unit is None:
            continue
        index = next((i for i, u in enumerate(chain.units) if u is unit), -1)
        out[field] = written.get(index) or (unit.text.title() if unit.script == "latin" else unit.text)
    return out


def validate_identity(raw: Mapping[str, Any], institution: str | None = None) -> Identity:
    """Clean and check one record; raise InvalidInput naming every bad field."""
    errors: list[FieldError] = []
    get = lambda k: raw.get(k)  # noqa: E731

    inst = clean_text(institution or get("institution"))
    if not inst:
        errors.append(FieldError("institution", "is required"))
    elif not _INSTITUTION_OK.match(inst):
        errors.append(FieldError("institution", "must be a code of 2-40 letters, digits, '-', '_' or '.'"))
    ref = clean_text(get("source_ref"))
    if not ref:
        errors.append(FieldError("source_ref", "is required"))
    elif len(ref) > MAX_REF_LENGTH or not _REF_OK.match(ref):
        errors.append(FieldError("source_ref", f"must be up to {MAX_REF_LENGTH} letters, digits or - . / : #"))

    names = {f: _name(f, get(f), errors) for f in NAME_FIELDS}
    full = clean_text(get("full_name"))
    # A full name beside separate parts adds nothing: the parts win.
    if full and not any(names[f] for f in CHAIN_FIELDS):
        checked = _name("full_name", full, errors)
        if checked:
            try:
                names.update(split_full_name(checked))
            except ValueError as e:
                errors.append(FieldError("full_name", str(e)))

    sex_raw = clean_text(get("sex")).lower()
    sex = None
    if sex_raw:
        sex = _SEX.get(sex_raw)
        if sex is None:
            errors.append(FieldError("sex", "must be M or F (male/female, ذكر/أنثى)"))

    dob = None
    try:
        dob = parse_date_of_birth(get("date_of_birth"))
    except ValueError as e:
        errors.append(FieldError("date_of_birth", str(e)))

    gov = None
    gov_raw = clean_text(get("governorate"))
    if gov_raw:
        found = find_governorate(gov_raw)
        if found is None:
            errors.append(FieldError("governorate", "unknown: use an ISO 3166-2 code (SY-DI, EG-C) or its name"))
        else:
            gov = found.code

    place = clean_text(get("place_of_birth")) or None
    if place and len(place) > MAX_NAME_LENGTH:
        errors.append(FieldError("place_of_birth", f"longer than {MAX_NAME_LENGTH} characters"))
        place = None

    nid = None
    nid_raw = clean_text(get("national_id"))
    if nid_raw:
        try:
            nid = normalise_national_id(nid_raw)
            country = BY_CODE[gov].country if gov else None
            for reason in check_national_id(nid, country, dob, sex, gov):
                errors.append(FieldError("national_id", reason))
        except ValueError as e:
            errors.append(FieldError("national_id", str(e)))

    if errors:
        raise InvalidInput(errors)
    return Identity(
        institution=inst,
        source_ref=ref,
        sex=sex,
        date_of_birth=dob,
        governorate=gov,
        place_of_birth=place,
        national_id=nid,
        **names,
    )
