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

import functools
import itertools
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
    # Only where, for each group of columns, one of them is missing on one side at least: ("birth_year",) is
    # "one side has no date of birth" (the year-keyed rules cannot find such a pair); a pair whose sides have
    # every column of a group is left to the rules that compare those columns.
    lacking: tuple[tuple[str, ...], ...] = ()

    @property
    def mirrored(self) -> BlockingRule:
        return BlockingRule(tuple((b, a) for a, b in self.equal),
                            None if self.year_offset is None else -self.year_offset, self.mirror, self.lacking)

    @property
    def symmetric(self) -> bool:
        return not self.mirror or (set(self.mirrored.equal) == set(self.equal)
                                   and self.mirrored.year_offset == self.year_offset)

    def sql(self) -> str:
        parts = [f"l.{a} = r.{b}" for a, b in self.equal]
        if self.year_offset is not None:
            parts.append("l.birth_year = r.birth_year" + (f" + {self.year_offset}" if self.year_offset > 0 else
                                                          f" - {-self.year_offset}" if self.year_offset < 0 else ""))
        for group in self.lacking:
            parts.append("(" + " OR ".join(f"{side}.{c} IS NULL" for c in group for side in "lr") + ")")
        return " AND ".join(parts)

    def sql_variants(self) -> list[str]:
        """The rule as Splink SQL without an OR across the sides: for each group it lacks, one variant per side
        and column (`l.c IS NULL`, then `r.c IS NULL`), so DuckDB filters each side before the join instead of
        joining the whole block first (given + father with either side lacking a year and a family: 3 million
        pairs, but 599 million rows joined before the filter). Together the variants find exactly the rule's
        pairs; a variant that asks a side to lack one of its own equality keys is dropped (it finds nothing)."""
        keys = {f"l.{a}" for a, _ in self.equal} | {f"r.{b}" for _, b in self.equal}
        if self.year_offset is not None:
            keys |= {"l.birth_year", "r.birth_year"}
        base = BlockingRule(self.equal, self.year_offset, self.mirror).sql()
        choices = [[f"{side}.{c}" for side in "lr" for c in group if f"{side}.{c}" not in keys]
                   for group in self.lacking]
        return [" AND ".join([base, *(f"{col} IS NULL" for col in combo)])
                for combo in itertools.product(*choices)]

    def holds(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
        """The rule on two rows in Python (nulls never equal, as in SQL)."""
        for a, b in self.equal:
            if left.get(a) is None or left.get(a) != right.get(b):
                return False
        if self.year_offset is not None:
            ly, ry = left.get("birth_year"), right.get("birth_year")
            if ly is None or ry is None or ly != ry + self.year_offset:
                return False
        return all(any(left.get(c) is None or right.get(c) is None for c in group) for group in self.lacking)

    def condition(self, query: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """SQL condition (with its bound parameters) on the stored rows as the RIGHT side, for a query row on
        the left; None when the query lacks a value the rule needs. Plain SQL text: the lookup's hot path,
        where building SQLAlchemy expressions cost more than running the query. A parameter is named after the
        query's column (and the year's offset), so every rule shares it: a few parameters, not one per rule
        and column, and psycopg caches the query's conversion (it does not past 50 parameters)."""
        terms, params = [], {}
        for a, b in self.equal:
            if query.get(a) is None:
                return None
            terms.append(f"{b} = :q_{a}")
            params[f"q_{a}"] = query[a]
        if self.year_offset is not None:
            if query.get("birth_year") is None:
                return None
            name = f"q_year_{'m' if self.year_offset < 0 else 'p'}{abs(self.year_offset)}"
            terms.append(f"birth_year = :{name}")
            params[name] = int(query["birth_year"]) - self.year_offset
        # For each group the query has whole, the stored row must lack one of its columns: written as one
        # term per choice of lacking column (as `sql_variants`), so that each term is an index seek on its
        # NULL (given + father + year lacking a day and month: 3.6 times the returned rows were read and
        # dropped at a million records when the OR sat inside one term).
        choices = [[f"{c} IS NULL" for c in group] for group in self.lacking
                   if all(query.get(c) is not None for c in group)]
        base = " AND ".join(terms)
        if not choices:
            return "(" + base + ")", params
        return "(" + " OR ".join(f"({base} AND {' AND '.join(combo)})"
                                 for combo in itertools.product(*choices)) + ")", params


def _rule(*cols: str, year: int | None = None) -> BlockingRule:
    return BlockingRule(tuple((c, c) for c in cols), year)


def _with_year_slack(*cols: str) -> tuple[BlockingRule, ...]:
    """The same year, or a year apart either way (a year typo, an estimated age)."""
    return _rule(*cols, year=0), _rule(*cols, year=1)


RULES: tuple[BlockingRule, ...] = (
    _rule("nid"),
    *_with_year_slack("given_skel", "family_skel"),
    _rule("given_skel", "father_skel", "family_skel"),
    BlockingRule((("given_skel", "given_skel"), ("family_skel", "family_skel")), lacking=(("birth_year",),)),
    _rule("family_skel", "father_skel", year=0),
    # Given + father in the same year made 30 of the 65 million candidate pairs at a million records. A pair
    # whose sides both have a day and month and a family name is found by the month-day and family rules
    # unless the day or month and the family differ at once; of those, a day typo keeps the month (the next
    # rule). What the restriction lets go: 294 of 466,762 true pairs (0.06 %), for 19 million fewer pairs
    # (docs/benchmarks.md, "Blocking at a million: rules that need one side to lack a column").
    BlockingRule((("given_skel", "given_skel"), ("father_skel", "father_skel")), 0,
                 lacking=(("dob_md", "family_skel"),)),
    _rule("given_skel", "father_skel", "dob_ym", year=0),
    # Given + father with neither the year nor the family on one side at least (a thin record: given name
    # and father only, or no date and no family).
    BlockingRule((("given_skel", "given_skel"), ("father_skel", "father_skel")),
                 lacking=(("birth_year",), ("family_skel",))),
    # A year typo keeps the day and month: given + father or family with the same month and day, any year.
    _rule("dob_md", "given_skel", "father_skel"),
    _rule("dob_md", "given_skel", "family_skel"),
    # The given name written another way (its skeleton differs) and a year typo: the father and family agree.
    _rule("dob_md", "family_skel", "father_skel"),
    # Not the same with no date on one side, nor a year apart on year-only dates: at a million records they
    # found 0.2 % of true pairs but put 6,400 pairs in the review queue, 94 % of them siblings.
    _rule("dob_full", "family_skel"),
    _rule("dob_full", "father_skel"),
    _rule("dob_full", "given_skel"),
    # Day and month swapped (03/04 against 04/03), whatever else is missing but the given name.
    BlockingRule((("dob_swap", "dob_full"), ("given_skel", "given_skel")), mirror=False),
    # A shifted chain: one side's father's name written as the other's family name, the other's father
    # missing, in the same year or a year apart. (Without "the father missing", 18 million pairs at a million
    # records instead of 4, for 5 more true pairs found by these rules alone.)
    *(BlockingRule((("given_skel", "given_skel"), ("father_skel", "family_skel")), year, lacking=(("father_skel",),))
      for year in (0, 1, -1)),
    # The father's chain missing or written another way: the mother's names.
    _rule("given_skel", "mother_skel", "mother_family_skel"),
    # Issue 14, the true pairs none of the rules above found (benchmarks/blocking_pairs.py --misses, 100,000
    # default records: 1,123 of 46,840; docs/benchmarks.md). Each is kept narrow by the governorate, the
    # mother's name or "one side lacks": given + father where one side has no date is 45 million pairs at a
    # million records; with the mother's name, 0.9 million. Left out for what they cost every lookup (with
    # all eight rules tried, a lookup's p95 in process went from about 10 to 15-18 ms at a million records;
    # these two read the most rows a lookup): given + father + governorate where one side has no date (1.7
    # million pairs, 0.16 % of true pairs alone) and the shifted chain where one side has no date (2.4
    # million, 0.22 %). Family + father + governorate, the given name
    # differing, found 54 more true pairs of 46,840 at 100,000 records but scored 1,093 pairs at 0.5 or more,
    # 39 of them true, the rest brothers and sisters: left out too.
    # A shifted chain with the full date and another given name.
    BlockingRule((("dob_full", "dob_full"), ("father_skel", "family_skel")), lacking=(("father_skel",),)),
    # Given + father where one side has no date: with the mother's name.
    BlockingRule((("given_skel", "given_skel"), ("father_skel", "father_skel"), ("mother_skel", "mother_skel")),
                 lacking=(("birth_year",),)),
    # A year apart where one side has the year (and month) only, an estimated year mostly: with the
    # governorate or the mother's name.
    *(BlockingRule((("given_skel", "given_skel"), ("father_skel", "father_skel"), (c, c)), 1, lacking=(("dob_md",),))
      for c in ("governorate", "mother_skel")),
    # No father on one side and a day and month on one side only, the same year, or the same day and month
    # and another year (a year typo): given name and governorate.
    BlockingRule((("given_skel", "given_skel"), ("governorate", "governorate")), 0,
                 lacking=(("father_skel",), ("dob_md",))),
    BlockingRule((("dob_md", "dob_md"), ("given_skel", "given_skel"), ("governorate", "governorate")),
                 lacking=(("father_skel",),)),
)


@functools.cache
def oriented(rules: tuple[BlockingRule, ...] = RULES) -> tuple[BlockingRule, ...]:
    """Each rule, and its mirror when it is not symmetric: built once, not on every lookup."""
    return tuple(r for rule in rules for r in ((rule,) if rule.symmetric else (rule, rule.mirrored)))


def sql_rules(rules: tuple[BlockingRule, ...] = RULES) -> tuple[str, ...]:
    """Splink's blocking rules: each rule, and its mirror when it is not symmetric, as its SQL variants."""
    out: list[str] = []
    for r in oriented(rules):
        for sql in r.sql_variants():
            if sql not in out:
                out.append(sql)
    return tuple(out)


def conditions(query: Mapping[str, Any], rules: tuple[BlockingRule, ...] = RULES) -> tuple[str, dict[str, Any]]:
    """The real-time lookup's candidate condition for one query row: the query on either side of every rule,
    as one SQL disjunction and its parameters ("" when no rule applies). The SQL depends only on which of the
    rules' columns the query has: written once per such shape, its parameters read off the query."""
    columns = _query_columns(rules)
    sql, wanted = _shape_conditions(tuple(query.get(c) is not None for c in columns), rules)
    return sql, {name: query[col] if offset is None else int(query[col]) - offset
                 for name, (col, offset) in wanted.items()}


@functools.cache
def _query_columns(rules: tuple[BlockingRule, ...]) -> tuple[str, ...]:
    cols = {a for r in oriented(rules) for a, _ in r.equal} | {c for r in rules for g in r.lacking for c in g}
    if any(r.year_offset is not None for r in rules):
        cols.add("birth_year")
    return tuple(sorted(cols))


@functools.lru_cache(maxsize=4096)
def _shape_conditions(present: tuple[bool, ...], rules: tuple[BlockingRule, ...]) -> tuple[str, dict]:
    """(SQL, {parameter: (query column, the year's offset or None)}) for a query with exactly these columns
    present."""
    has = dict(zip(_query_columns(rules), present))
    stand_in = {c: 0 for c, here in has.items() if here}  # any value: only the shape and the names are kept
    terms, wanted = [], {}
    for r in oriented(rules):
        cond = r.condition(stand_in)
        if cond is None:
            continue
        terms.append(cond[0])
        for name in cond[1]:
            if name.startswith("q_year_"):
                wanted[name] = ("birth_year", r.year_offset)
            else:
                wanted[name] = (name[len("q_"):], None)
    return " OR ".join(terms), wanted


def blocked(left: Mapping[str, Any], right: Mapping[str, Any], rules: tuple[BlockingRule, ...] = RULES) -> bool:
    """Does any rule put the two rows in one block (either way round)?"""
    return any(r.holds(left, right) or r.holds(right, left) for r in rules)
