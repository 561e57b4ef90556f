"""The golden identity of a child with several records: one value per field, by stated rules (docs/review.md).

Pure functions over the records' opened identities; nothing is stored. The rules, field by field:
- names: Arabic script first (the registry's display script; the best Latin spelling is kept beside it),
  then the most complete value (the longest: "عبد الرحمن" over "عبد"), then the most recent record;
- date of birth: an exact date over a month or a year, a stated date over an estimated one, then the most recent;
- sex: the value most records give, then the most recent; records that disagree are flagged as a conflict;
- national ID: kept only when every record that has one agrees; otherwise left out and flagged;
- governorate and place of birth: the most recent record's (where the child was last seen).
A reviewer may override any field by naming the record to take it from.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.identity.model import NAME_FIELDS, Identity
from registry.names.text import script_of

GOLDEN_FIELDS = (*NAME_FIELDS, "sex", "date_of_birth", "governorate", "place_of_birth", "national_id")


@dataclass(frozen=True)
class SourceRecord:
    record_id: str
    recorded_at: dt.datetime  # when this identity was last submitted
    identity: Identity


@dataclass
class Golden:
    values: dict[str, str | None] = field(default_factory=dict)
    latin: dict[str, str] = field(default_factory=dict)  # the Latin spelling kept beside an Arabic name
    sources: dict[str, str] = field(default_factory=dict)  # field -> record id the value came from
    rules: dict[str, str] = field(default_factory=dict)  # field -> which rule chose it
    conflicts: list[str] = field(default_factory=list)  # fields whose records disagree in a way that matters

    def as_dict(self) -> dict[str, Any]:
        return {"values": self.values, "latin": self.latin, "sources": self.sources, "rules": self.rules,
                "conflicts": self.conflicts}


def _value(rec: SourceRecord, name: str) -> str | None:
    v = getattr(rec.identity, name)
    return v.isoformat() if name == "date_of_birth" and v is not None else v


def _best(candidates: Sequence[SourceRecord], key: Callable[[SourceRecord], Any]) -> SourceRecord:
    # Ties go to the most recent record, then the record id (deterministic).
    return max(candidates, key=lambda r: (key(r), r.recorded_at, r.record_id))


def _dob_rank(rec: SourceRecord) -> tuple[int, int]:
    d = rec.identity.date_of_birth
    assert d is not None
    return ({"day": 3, "month": 2, "year": 1}[d.precision], 0 if d.estimated else 1)


def _length_of(name: str) -> Callable[[SourceRecord], int]:
    """Rank by how complete the value of `name` is (longer is more complete)."""
    return lambda r: len(_value(r, name) or "")


def golden_identity(records: Sequence[SourceRecord], choices: Mapping[str, str] | None = None) -> Golden:
    """One value per field from `records`; `choices` (field -> record id) override the rules."""
    choices = choices or {}
    by_id = {r.record_id: r for r in records}
    g = Golden()
    for name in GOLDEN_FIELDS:
        have = [r for r in records if _value(r, name)]
        chosen = by_id.get(choices.get(name, ""))
        if chosen is not None and _value(chosen, name):
            pick, rule = chosen, "reviewer's choice"
        elif not have:
            g.values[name] = None
            continue
        elif name in NAME_FIELDS:
            arabic = [r for r in have if script_of(_value(r, name) or "") == "arabic"]
            pick = _best(arabic or have, _length_of(name))
            rule = "Arabic script, most complete, most recent" if arabic else "most complete, most recent"
        elif name == "date_of_birth":
            pick, rule = _best(have, _dob_rank), "exact over partial, stated over estimated, most recent"
        elif name == "sex":
            counts = Counter(_value(r, name) for r in have)
            pick, rule = _best(have, lambda r: counts[_value(r, "sex")]), "most records, most recent"  # noqa: B023
            if len(counts) > 1:
                g.conflicts.append(name)
        elif name == "national_id":
            if len({_value(r, name) for r in have}) > 1:
                g.values[name] = None  # an ID the records disagree on is no identifier
                g.conflicts.append(name)
                g.rules[name] = "left out: the records disagree"
                continue
            pick, rule = _best(have, lambda r: 0), "consistent across records"
        else:
            pick, rule = _best(have, lambda r: 0), "most recent"
        g.values[name], g.sources[name], g.rules[name] = _value(pick, name), pick.record_id, rule
        if name in NAME_FIELDS:
            latin = [r for r in have if script_of(_value(r, name) or "") == "latin" and r is not pick]
            if latin and script_of(_value(pick, name) or "") != "latin":
                g.latin[name] = _value(_best(latin, _length_of(name)), name) or ""
    return g
