"""Blocking: which pairs are compared at all. One list of rules drives both paths, so batch deduplication
(Splink's blocking rules, SQL) and the real-time lookup (indexed SQL lookups for one query row) find the same
candidates for the same pair (tested).

A rule is a set of column equalities between the two records, optionally with a birth-year offset
(`l.birth_year = r.birth_year + offset`). Columns may differ between the sides (the father's name written as
the family name), so a rule is not always symmetric: Splink keeps only pairs with the smaller id on the left,
so an asymmetric rule is also used mirrored (sides swapped, offset negated). Every rule was checked for its
pair count at a million records (docs/benchmarks.md, benchmarks/blocking_pairs.py); a cross-script skeleton
never blocks alone or with the year only (given skeleton + birth year: 588 million pairs at a million).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BlockingRule:
    equal: tuple[tuple[str, str], ...]  # (left column, right column) pairs that must be equal
    year_offset: int | None = None  # l.birth_year = r.birth_year + year_offset; None: the year is not used
    # False where the rule equals its own mirror by construction (a date equal to the other's swapped date
    # means the other's date equals this one's swapped date), so the mirror would find nothing new.
    mirror: bool = True
    # Only where one side has no date of birth at all (the year-keyed rules cannot find such a pair).
    year_missing: bool = False

    @property
    def mirrored(self) -> BlockingRule:
        return BlockingRule(tuple((b, a) for a, b in self.equal),
                            None if self.year_offset is None else -self.year_offset, self.mirror, self.year_missing)

    @property
    def symmetric(self) -> bool:
        return not self.mirror or (set(self.mirrored.equal) == set(self.equal)
                                   and self.mirrored.year_offset == self.year_offset)

    def sql(self) -> str:
        parts = [f"l.{a} = r.{b}" for a, b in self.equal]
        if self.year_offset is not None:
            parts.append("l.birth_year = r.birth_year" + (f" + {self.year_offset}" if self.year_offset > 0 else
                                                          f" - {-self.year_offset}" if self.year_offset < 0 else ""))
        if self.year_missing:
            parts.append("(l.birth_year IS NULL OR r.birth_year IS NULL)")
        return " AND ".join(parts)

    def holds(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
        """The rule on two rows in Python (nulls never equal, as in SQL)."""
        for a, b in self.equal:
            if left.get(a) is None or left.get(a) != right.get(b):
                return False
        if self.year_offset is not None:
            ly, ry = left.get("birth_year"), right.get("birth_year")
            if ly is None or ry is None or ly != ry + self.year_offset:
                return False
        return not (self.year_missing and left.get("birth_year") is not None
                    and right.get("birth_year") is not None)

    def condition(self, query: Mapping[str, Any], name: str) -> tuple[str, dict[str, Any]] | None:
        """SQL condition (with its bound parameters, named after `name`) on the stored rows as the RIGHT side,
        for a query row on the left; None when the query lacks a value the rule needs. Plain SQL text: the
        lookup's hot path, where building SQLAlchemy expressions cost more than running the query."""
        terms, params = [], {}
        for i, (a, b) in enumerate(self.equal):
            if query.get(a) is None:
                return None
            terms.append(f"{b} = :{name}_{i}")
            params[f"{name}_{i}"] = query[a]
        if self.year_offset is not None:
            if query.get("birth_year") is None:
                return None
            terms.append(f"birth_year = :{name}_year")
            params[f"{name}_year"] = int(query["birth_year"]) - self.year_offset
        if self.year_missing and query.get("birth_year") is not None:
            terms.append("birth_year IS NULL")
        return "(" + " AND ".join(terms) + ")", params


def _rule(*cols: str, year: int | None = None) -> BlockingRule:
    return BlockingRule(tuple((c, c) for c in cols), year)


def _with_year_slack(*cols: str) -> tuple[BlockingRule, ...]:
    """The same year, or a year apart either way (a year typo, an estimated age)."""
    return _rule(*cols, year=0), _rule(*cols, year=1)


RULES: tuple[BlockingRule, ...] = (
    _rule("nid"),
    *_with_year_slack("given_skel", "family_skel"),
    _rule("given_skel", "father_skel", "family_skel"),
    BlockingRule((("given_skel", "given_skel"), ("family_skel", "family_skel")), year_missing=True),
    _rule("family_skel", "father_skel", year=0),
    _rule("given_skel", "father_skel", year=0),
    # A year typo keeps the day and month: given + father or family with the same month and day, any year.
    _rule("dob_md", "given_skel", "father_skel"),
    _rule("dob_md", "given_skel", "family_skel"),
    _rule("dob_full", "family_skel"),
    _rule("dob_full", "father_skel"),
    _rule("dob_full", "given_skel"),
    # Day and month swapped (03/04 against 04/03), whatever else is missing but the given name.
    BlockingRule((("dob_swap", "dob_full"), ("given_skel", "given_skel")), mirror=False),
    # A shifted chain: one side's father's name written as the other's family name (the father missing),
    # in the same year or a year apart.
    *(BlockingRule((("given_skel", "given_skel"), ("father_skel", "family_skel")), year) for year in (0, 1, -1)),
    # The father's chain missing or written another way: the mother's names.
    _rule("given_skel", "mother_skel", "mother_family_skel"),
)


def sql_rules(rules: tuple[BlockingRule, ...] = RULES) -> tuple[str, ...]:
    """Splink's blocking rules: each rule, and its mirror when it is not symmetric."""
    out: list[str] = []
    for rule in rules:
        for r in (rule,) if rule.symmetric else (rule, rule.mirrored):
            if r.sql() not in out:
                out.append(r.sql())
    return tuple(out)


def conditions(query: Mapping[str, Any], rules: tuple[BlockingRule, ...] = RULES) -> tuple[str, dict[str, Any]]:
    """The real-time lookup's candidate condition for one query row: the query on either side of every rule,
    as one SQL disjunction and its parameters ("" when no rule applies)."""
    terms, params = [], {}
    for i, rule in enumerate(rules):
        for j, r in enumerate((rule,) if rule.symmetric else (rule, rule.mirrored)):
            cond = r.condition(query, f"r{i}_{j}")
            if cond is not None:
                terms.append(cond[0])
                params.update(cond[1])
    return " OR ".join(terms), params


def blocked(left: Mapping[str, Any], right: Mapping[str, Any], rules: tuple[BlockingRule, ...] = RULES) -> bool:
    """Does any rule put the two rows in one block (either way round)?"""
    return any(r.holds(left, right) or r.holds(right, left) for r in rules)
