"""The linkage model's comparisons, each level defined once in two forms that must agree:
SQL for Splink/DuckDB (batch) and a Python predicate for real-time scoring.

All columns are keyed encodings (registry.matching.encoding) or coarse clear values (birth year, sex,
governorate): no raw Arabic reaches DuckDB, whose string functions count bytes, not letters.

Family members share father, grandfather, family name and mother: scoring those as four comparisons lets
siblings outvote the given name and date of birth. So they form ONE comparison, `family`, with levels by how
many parts agree and disagree (BRIEF section 5). Positions are ignored within the father/grandfather/family
chain, so a shifted chain (the father's name written as the family name) still agrees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.matching.encoding import NEAR_PARTS

Row = Mapping[str, Any]
Pred = Callable[[Row, Row], bool]

# How alike two n-gram sets must be (Dice) for "similar spelling".
SIMILAR_SPELLING_DICE = 0.6


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    test: Pred
    is_null: bool = False
    tf_column: str | None = None
    # Human wording for explanations: "{label}" is enough for most.
    words: str = ""


@dataclass(frozen=True)
class Comparison:
    name: str
    title: str  # what a reviewer calls it
    levels: tuple[Level, ...]
    columns: tuple[str, ...] = field(default=())

    def level_of(self, left: Row, right: Row) -> int:
        """Index of the first level whose predicate holds (Splink's CASE WHEN order)."""
        for i, level in enumerate(self.levels):
            if level.test(left, right):
                return i
        return len(self.levels) - 1


# ---- helpers shared by SQL and Python ---------------------------------------------------------------------
def _dice_py(a, b) -> float:
    if not a or not b:
        return 0.0
    sa, sb = set(a), set(b)
    return 2.0 * len(sa & sb) / (len(sa) + len(sb))


def _dice_sql(col: str) -> str:
    return (f"(2.0 * len(list_intersect({col}_l, {col}_r)) / "
            f"nullif(len({col}_l) + len({col}_r), 0))")


def _null(col: str) -> tuple[str, Pred]:
    return f"{col}_l IS NULL OR {col}_r IS NULL", lambda l, r: l.get(col) is None or r.get(col) is None


def _eq(col: str) -> tuple[str, Pred]:
    return f"{col}_l = {col}_r", lambda l, r: l.get(col) is not None and l.get(col) == r.get(col)


# ---- given name -------------------------------------------------------------------------------------------
def name_comparison(prefix: str, title: str, tf: bool = True) -> Comparison:
    key, skel, known, grams = f"{prefix}_key", f"{prefix}_skel", f"{prefix}_known", f"{prefix}_grams"
    ids = f"{prefix}_ids"
    null_sql, null_py = _null(key)
    skel_sql, skel_py = _eq(skel)
    return Comparison(
        name=prefix,
        title=title,
        columns=(key, ids, skel, known, grams),
        levels=(
            Level("missing", null_sql, null_py, is_null=True),
            # The same name: one key, or spellings the dictionary attests for the same name.
            Level("same name", _any_shared(ids),
                  lambda l, r: bool(set(l.get(ids) or ()) & set(r.get(ids) or ())),
                  tf_column=key if tf else None),
            # Two different names that the dictionary knows (محمد/محمود, حسن/حسين): never the same,
            # however alike they sound.
            Level("different known names", f"{known}_l AND {known}_r",
                  lambda l, r: bool(l.get(known)) and bool(r.get(known))),
            Level("same sound", skel_sql, skel_py),
            Level("similar spelling", f"{_dice_sql(grams)} >= {SIMILAR_SPELLING_DICE}",
                  lambda l, r: _dice_py(l.get(grams), r.get(grams)) >= SIMILAR_SPELLING_DICE),
            Level("different", "ELSE", lambda l, r: True),
        ),
    )


# ---- family: father, grandfather, family name, mother, as one piece of evidence ---------------------------
def _family_counts_py(l: Row, r: Row) -> tuple[int, int, int]:
    """(parts that agree, parts present on both sides that disagree, of those how many are only similar)."""
    lk, rk = l.get("chain_keys") or [], r.get("chain_keys") or []
    ls, rs = l.get("chain_skels") or [], r.get("chain_skels") or []
    present = min(len(lk), len(rk))
    agree = max(len(set(lk) & set(rk)), len(set(ls) & set(rs)))
    agree = min(agree, present)
    for key, skel in (("mother_key", "mother_skel"), ("mother_family_key", "mother_family_skel")):
        if l.get(key) is not None and r.get(key) is not None:
            present += 1
            if l[key] == r[key] or l.get(skel) == r.get(skel):
                agree += 1
    differ = present - agree
    # Only similar parts are read where exactly one part differs (every level that reads them says so).
    return agree, differ, _near_py(l, r) if differ == 1 else 0


# A part that differs may be a typo of the other side's part (خالد/خاالد, Hassan/Hassam): then it is "only
# similar", a level of its own, measured by EM like any other. Each part is compared with the same part on the
# other side (a typo does not move a name along the chain), by its keyed one-letter-out skeletons
# (encoding.NEAR_PARTS), and only when it agrees with nothing on the other side and the dictionary does not know
# both names (كريم/كمال are one letter apart and two names). The part's own skeleton says whether it agrees:
# anywhere in the other side's chain for the father's chain, the same part for the mother's names.
# NEAR_PARTS in the order of parts_known's bits: the father's chain first, then the mother's two names.
_NEAR_CHAIN, _NEAR_MOTHER = NEAR_PARTS[:3], NEAR_PARTS[3:]
NEAR_COLUMNS = (*(f"{part}_skel" for part in _NEAR_CHAIN), "parts_known", *(f"{part}_near" for part in NEAR_PARTS))


def _tokens(value: Any) -> set[str]:
    """A part's one-letter-out skeletons as text tokens: stored (space-separated) or read from DuckDB (a list)."""
    if isinstance(value, str):
        return set(value.split())
    return {str(v) for v in value or ()}


def _near_py(l: Row, r: Row) -> int:
    both_known = (l.get("parts_known") or 0) & (r.get("parts_known") or 0)
    lcs, rcs = set(l.get("chain_skels") or ()), set(r.get("chain_skels") or ())
    near = 0
    for bit, part in enumerate(_NEAR_CHAIN):
        sl, sr = l.get(f"{part}_skel"), r.get(f"{part}_skel")
        if (sl is not None and sr is not None and sl not in rcs and sr not in lcs and not both_known >> bit & 1
                and _tokens(l.get(f"{part}_near")) & _tokens(r.get(f"{part}_near"))):
            near += 1
    for bit, part in enumerate(_NEAR_MOTHER, start=len(_NEAR_CHAIN)):
        kl, kr, sl, sr = l.get(f"{part}_key"), r.get(f"{part}_key"), l.get(f"{part}_skel"), r.get(f"{part}_skel")
        if (None not in (kl, kr, sl, sr) and kl != kr and sl != sr and not both_known >> bit & 1
                and _tokens(l.get(f"{part}_near")) & _tokens(r.get(f"{part}_near"))):
            near += 1
    return near


def _near_sql() -> str:
    # The cheap tests first: DuckDB evaluates list_has_any only for the parts that pass them (a third less time).
    terms = []
    for bit, part in enumerate(_NEAR_CHAIN):
        skel = f"{part}_skel"
        terms.append(f"(CASE WHEN {skel}_l IS NOT NULL AND {skel}_r IS NOT NULL AND "
                     f"NOT list_contains(chain_skels_r, {skel}_l) AND NOT list_contains(chain_skels_l, {skel}_r) AND "
                     f"(parts_known_l & parts_known_r & {1 << bit}) = 0 AND {_any_shared(f'{part}_near')} "
                     f"THEN 1 ELSE 0 END)")
    for bit, part in enumerate(_NEAR_MOTHER, start=len(_NEAR_CHAIN)):
        key, skel = f"{part}_key", f"{part}_skel"
        terms.append(f"(CASE WHEN {key}_l <> {key}_r AND {skel}_l <> {skel}_r AND "
                     f"(parts_known_l & parts_known_r & {1 << bit}) = 0 AND {_any_shared(f'{part}_near')} "
                     f"THEN 1 ELSE 0 END)")
    return "(" + " + ".join(terms) + ")"


FAMILY_COLUMNS = ("chain_keys", "chain_skels", "mother_key", "mother_skel", "mother_family_key",
                  "mother_family_skel", *NEAR_COLUMNS)


def _any_shared(col: str) -> str:
    """Do `col_l` and `col_r` share an element? list_has_any rather than a count of list_intersect: predict at a
    million records took 5 % less time (docs/benchmarks.md); Spark's form is arrays_overlap (matching/spark.py)."""
    return f"list_has_any({col}_l, {col}_r)"


def _shared(col: str) -> str:
    """How many distinct elements of `col_l` are also in `col_r` (0 when either is NULL). Written as a filter,
    not list_intersect: DuckDB evaluates it two to three times faster, and Spark has the same functions
    (matching/spark.py translates them)."""
    return f"coalesce(len(list_distinct(list_filter({col}_l, lambda x: list_contains({col}_r, x)))), 0)"


CHAIN_PRESENT_SQL = "least(coalesce(len(chain_keys_l), 0), coalesce(len(chain_keys_r), 0))"
CHAIN_AGREE_SQL = f"least(greatest({_shared('chain_keys')}, {_shared('chain_skels')}), {CHAIN_PRESENT_SQL})"


def _part_present(key: str) -> str:
    return f"(CASE WHEN {key}_l IS NOT NULL AND {key}_r IS NOT NULL THEN 1 ELSE 0 END)"


def _part_agree(key: str, skel: str) -> str:
    return (f"(CASE WHEN {key}_l IS NOT NULL AND {key}_r IS NOT NULL AND "
            f"({key}_l = {key}_r OR {skel}_l = {skel}_r) THEN 1 ELSE 0 END)")


# The mother's given and family names are parts of their own (not of the father's chain).
_MOTHER_PRESENT = f"({_part_present('mother_key')} + {_part_present('mother_family_key')})"
_MOTHER_AGREE = (f"({_part_agree('mother_key', 'mother_skel')} + "
                 f"{_part_agree('mother_family_key', 'mother_family_skel')})")
FAMILY_AGREE_SQL = f"({CHAIN_AGREE_SQL} + {_MOTHER_AGREE})"
FAMILY_DISAGREE_SQL = f"({CHAIN_PRESENT_SQL} + {_MOTHER_PRESENT} - {FAMILY_AGREE_SQL})"
FAMILY_NEAR_SQL = _near_sql()


def _fam(cond: Callable[[int, int, int], bool]) -> Pred:
    return lambda l, r: cond(*_family_counts_py(l, r))


@dataclass(frozen=True)
class CountedComparison(Comparison):
    """A comparison whose levels are conditions on (parts that agree, parts that differ, parts only similar):
    the counts are taken once per pair, not once per level tried (the lookup's hot path)."""

    on_counts: tuple[Callable[[int, int, int], bool], ...] = ()
    counts: Callable[[Row, Row], tuple[int, int, int]] = _family_counts_py
    counts_sql: tuple[str, str, str] = (FAMILY_AGREE_SQL, FAMILY_DISAGREE_SQL, FAMILY_NEAR_SQL)  # the same, in SQL

    def level_of(self, left: Row, right: Row) -> int:
        counts = self.counts(left, right)
        for i, holds in enumerate(self.on_counts):
            if holds(*counts):
                return i
        return len(self.levels) - 1


def family_comparison() -> Comparison:
    a, d, n = FAMILY_AGREE_SQL, FAMILY_DISAGREE_SQL, FAMILY_NEAR_SQL
    conditions: tuple[Callable[[int, int, int], bool], ...] = (
        lambda x, y, z: x + y == 0, lambda x, y, z: x >= 4 and y == 0, lambda x, y, z: x == 3 and y == 0,
        lambda x, y, z: x == 2 and y == 0, lambda x, y, z: x == 1 and y == 0,
        lambda x, y, z: x >= 2 and y == 1 and z >= 1, lambda x, y, z: x >= 2 and y == 1,
        lambda x, y, z: x == 1 and y == 1 and z >= 1, lambda x, y, z: x == 1 and y == 1,
        lambda x, y, z: x >= 1, lambda x, y, z: y == 1 and z >= 1, lambda x, y, z: y == 1,
        lambda x, y, z: True)
    c = conditions
    return CountedComparison(
        on_counts=conditions,
        name="family",
        title="family (father, grandfather, family name, mother's names)",
        columns=FAMILY_COLUMNS,
        levels=(
            Level("nothing to compare", f"{a} + {d} = 0", _fam(c[0]), is_null=True),
            Level("four or more parts agree, none differ", f"{a} >= 4 AND {d} = 0", _fam(c[1])),
            Level("three parts agree, none differ", f"{a} = 3 AND {d} = 0", _fam(c[2])),
            Level("two parts agree, none differ", f"{a} = 2 AND {d} = 0", _fam(c[3])),
            Level("one part agrees, none differ", f"{a} = 1 AND {d} = 0", _fam(c[4])),
            # A typo in one part: at 100,000 generated records 89 % of such candidate pairs are the same child,
            # against 9 % when the part that differs is not one typo from the other's (docs/matching.md).
            Level("most parts agree, one only similar", f"{d} = 1 AND {a} >= 2 AND {n} >= 1", _fam(c[5])),
            Level("most parts agree, one differs", f"{a} >= 2 AND {d} = 1", _fam(c[6])),
            Level("one part agrees, one only similar", f"{d} = 1 AND {a} = 1 AND {n} >= 1", _fam(c[7])),
            # One agreeing part (often a common name: محمد as a father) against one that differs is weak;
            # against two or more that differ it is nearly always two children (measured: 17 % against
            # under 1 % of candidate pairs the same child), so the two are separate levels.
            Level("one part agrees, one differs", f"{a} = 1 AND {d} = 1", _fam(c[8])),
            Level("some parts agree, several differ", f"{a} >= 1", _fam(c[9])),
            Level("the one part compared is only similar", f"{d} = 1 AND {n} >= 1", _fam(c[10])),
            # One part on each side and they differ (often a missing father on one side and a shifted chain on
            # the other): about half such candidate pairs are the same child, against under 4 % when two or
            # more parts differ.
            Level("the one part compared differs", f"{d} = 1", _fam(c[11])),
            Level("all parts differ", "ELSE", _fam(c[12])),
        ),
    )


# ---- the given name inside an agreeing family -----------------------------------------------------------
# Fellegi-Sunter multiplies the comparisons as if independent given match or non-match; the given name and the
# family are not. A pair whose family agrees is, when not the same child, a brother or sister (who never share
# a given name) or a child of another family with the same names (who shares it as often as any two
# children). So among non-matching pairs whose family agrees, the same given name occurs at q times its
# registry-wide rate, q being the share of other families among them, and the given name's evidence there is
# its usual (term-frequency adjusted) weight plus log2(1/q) (docs/matching.md). This comparison carries that
# correction; model.given_in_family_parameters estimates q from the registry itself, without labels.
NO_CORRECTION = "no correction"  # the level of every pair the correction does not apply to (not explained)
GIVEN_IN_FAMILY_LEVELS = ("same name, the family agrees in four parts or more",
                          "same name, the family agrees in three parts")


@dataclass(frozen=True)
class DerivedComparison(Comparison):
    """A comparison whose level follows from other comparisons' levels: taken from theirs, not compared again
    (the lookup's hot path scores each candidate's inputs once). The SQL levels say the same conditions."""

    inputs: tuple[Comparison, ...] = ()
    from_levels: Callable[..., int] = lambda *levels: 0

    def level_of(self, left: Row, right: Row) -> int:
        return self.from_levels(*(c.level_of(left, right) for c in self.inputs))


def _level_index(comparison: Comparison, label: str) -> int:
    return next(i for i, lv in enumerate(comparison.levels) if lv.label == label)


def given_in_family_comparison(given: Comparison, family: Comparison) -> Comparison:
    a, d = FAMILY_AGREE_SQL, FAMILY_DISAGREE_SQL
    same = _any_shared("given_ids")
    # The given comparison's "same name" is a shared dictionary id (`same` above: a record without a given name
    # has no ids), and the family's two levels are exactly "four or more parts agree" and "three", none differ.
    same_name = _level_index(given, "same name")
    four = _level_index(family, "four or more parts agree, none differ")
    three = _level_index(family, "three parts agree, none differ")

    def from_levels(given_level: int, family_level: int) -> int:
        if given_level != same_name:
            return 2
        return 0 if family_level == four else 1 if family_level == three else 2

    return DerivedComparison(
        name="given_in_family",
        title="given name inside an agreeing family",
        columns=("given_ids",) + FAMILY_COLUMNS,
        inputs=(given, family),
        from_levels=from_levels,
        levels=(
            Level(GIVEN_IN_FAMILY_LEVELS[0], f"{same} AND {a} >= 4 AND {d} = 0",
                  lambda l, r: from_levels(given.level_of(l, r), family.level_of(l, r)) == 0),
            Level(GIVEN_IN_FAMILY_LEVELS[1], f"{same} AND {a} = 3 AND {d} = 0",
                  lambda l, r: from_levels(given.level_of(l, r), family.level_of(l, r)) == 1),
            # Any other pair: no correction (m = u).
            Level(NO_CORRECTION, "ELSE", lambda l, r: True),
        ),
    )


# ---- how common the family's names are -------------------------------------------------------------------
# The family comparison counts the parts that agree, whatever the names: a father called محمد agrees with a
# tenth of the registry's fathers, a rare family name with a handful of records, and both counted alike. At a
# million records the difference is what separates a duplicate from another child with the same names. These
# corrections carry Splink's term-frequency adjustment for the father's and the family name (on their
# cross-script skeletons): log2(s / f), f the name's share of the registry and s the chance that two records
# share a name at all (the sum of f squared), so a rare name adds evidence and a common one takes it away,
# and across all names the correction averages out. m = u: no weight of their own
# (model.name_frequency_levels).
FREQUENCY_COMPARISONS = {"father_frequency": ("father_skel", "how common the father's name is"),
                         "family_frequency": ("family_skel", "how common the family name is"),
                         "mother_frequency": ("mother_skel", "how common the mother's name is")}


def name_frequency_comparison(name: str) -> Comparison:
    column, title = FREQUENCY_COMPARISONS[name]
    null_sql, null_py = _null(column)
    eq_sql, eq_py = _eq(column)
    return Comparison(
        name=name, title=title, columns=(column,),
        levels=(Level(NO_CORRECTION, null_sql, null_py, is_null=True),
                Level("the same name", eq_sql, eq_py, tf_column=column),
                Level(NO_CORRECTION, "ELSE", lambda l, r: True)),
    )


# ---- date of birth: partial, estimated, typos and swaps ----------------------------------------------------
def _year_gap(l: Row, r: Row) -> int | None:
    if l.get("birth_year") is None or r.get("birth_year") is None:
        return None
    return abs(int(l["birth_year"]) - int(r["birth_year"]))


def dob_comparison() -> Comparison:
    return Comparison(
        name="dob",
        title="date of birth",
        columns=("birth_year", "dob_full", "dob_ym", "dob_swap", "dob_md", "dob_loose"),
        levels=(
            Level("missing", "birth_year_l IS NULL OR birth_year_r IS NULL",
                  lambda l, r: _year_gap(l, r) is None, is_null=True),
            Level("same date", "dob_full_l = dob_full_r", _eq("dob_full")[1]),
            Level("day and month swapped", "dob_full_l = dob_swap_r OR dob_swap_l = dob_full_r",
                  lambda l, r: (l.get("dob_full") is not None and l.get("dob_full") == r.get("dob_swap"))
                  or (l.get("dob_swap") is not None and l.get("dob_swap") == r.get("dob_full"))),
            Level("same month, day unknown on one side", "dob_ym_l = dob_ym_r", _eq("dob_ym")[1]),
            Level("same day and month, year off by one",
                  "dob_md_l = dob_md_r AND abs(birth_year_l - birth_year_r) = 1",
                  lambda l, r: l.get("dob_md") is not None and l.get("dob_md") == r.get("dob_md")
                  and _year_gap(l, r) == 1),
            # A year-only (or estimated) date agrees with any date in that year as far as it goes.
            Level("same year, one side knows only the year",
                  "birth_year_l = birth_year_r AND (dob_ym_l IS NULL OR dob_ym_r IS NULL)",
                  lambda l, r: _year_gap(l, r) == 0 and (l.get("dob_ym") is None or r.get("dob_ym") is None)),
            Level("same year", "birth_year_l = birth_year_r", lambda l, r: _year_gap(l, r) == 0),
            # An estimated age ("about 8") is often a year out: not evidence against.
            Level("a year apart, one side estimated", "abs(birth_year_l - birth_year_r) = 1 AND "
                  "(dob_loose_l OR dob_loose_r)",
                  lambda l, r: _year_gap(l, r) == 1 and (bool(l.get("dob_loose")) or bool(r.get("dob_loose")))),
            Level("a year apart", "abs(birth_year_l - birth_year_r) = 1", lambda l, r: _year_gap(l, r) == 1),
            # A mistyped year digit (2014 for 2017) keeps the day and month. Counted as "different", the pair
            # lost about ten bits: 55 % of the generated pairs with a date digit typo stayed below the
            # same-child band (100,000 records), against 21 % of all true pairs.
            Level("same day and month, another year", "dob_md_l = dob_md_r", _eq("dob_md")[1]),
            Level("different", "ELSE", lambda l, r: True),
        ),
    )


def exact_comparison(col: str, title: str) -> Comparison:
    null_sql, null_py = _null(col)
    eq_sql, eq_py = _eq(col)
    return Comparison(
        name=col, title=title, columns=(col,),
        levels=(Level("missing", null_sql, null_py, is_null=True), Level("same", eq_sql, eq_py),
                Level("different", "ELSE", lambda l, r: True)),
    )


_GIVEN, _FAMILY = name_comparison("given", "given name"), family_comparison()
COMPARISONS: tuple[Comparison, ...] = (
    _GIVEN,
    _FAMILY,
    given_in_family_comparison(_GIVEN, _FAMILY),
    name_frequency_comparison("father_frequency"),
    name_frequency_comparison("family_frequency"),
    name_frequency_comparison("mother_frequency"),
    dob_comparison(),
    exact_comparison("sex", "sex"),
    exact_comparison("nid", "national ID"),
    exact_comparison("governorate", "governorate"),
)


# Set after training from the registry's own counts (model.given_in_family_parameters), not by Splink's EM.
SET_AFTER_TRAINING = ("given_in_family", *FREQUENCY_COMPARISONS)
TRAINING_COMPARISONS: tuple[Comparison, ...] = tuple(c for c in COMPARISONS if c.name not in SET_AFTER_TRAINING)


def level_sql(comparison: Comparison) -> str:
    """The level index of a pair for one comparison, as SQL over `x_l`/`x_r` columns (the CASE order Splink
    uses, from the same SQL conditions)."""
    whens = [f"WHEN {lv.sql} THEN {i}" for i, lv in enumerate(comparison.levels) if lv.sql != "ELSE"]
    return f"CASE {' '.join(whens)} ELSE {len(comparison.levels) - 1} END"


def splink_comparison(c: Comparison) -> dict:
    """The comparison as Splink settings (plain data)."""
    levels = []
    for lv in c.levels:
        d: dict[str, Any] = {"sql_condition": lv.sql, "label_for_charts": lv.label}
        if lv.is_null:
            d["is_null_level"] = True
        if lv.tf_column:
            d["tf_adjustment_column"] = lv.tf_column
            d["tf_adjustment_weight"] = 1.0
            # Exact-match detection would look for `col_l = col_r`; we say it plainly instead.
            d["disable_tf_exact_match_detection"] = True
        levels.append(d)
    return {"output_column_name": c.name, "comparison_description": c.title, "comparison_levels": levels}


# ---- possible twins ----------------------------------------------------------------------------------------
# Fellegi-Sunter scores family and date of birth against random pairs, among which twins are vanishingly
# rare; so "same parents, same birthday" outweighs a different given name, and twins come out as one child.
# The registry's rules on top of the model:
# - given names the dictionary knows as different names (حسن/حسين, Omar/Amr) are never merged automatically
#   (at most a reviewer's "possible match"), and with the family and the date agreeing they are twins or
#   siblings: kept out of the queue too;
# - names that merely look different (a typo, an unknown spelling) with family and date agreeing go to a
#   reviewer instead of being merged.
TWIN_FAMILY_LEVELS = {"four or more parts agree, none differ", "three parts agree, none differ",
                      "two parts agree, none differ", "one part agrees, none differ",
                      "most parts agree, one only similar", "most parts agree, one differs"}
TWIN_DOB_LEVELS = {"same date", "day and month swapped", "same month, day unknown on one side",
                   "same day and month, year off by one", "same year, one side knows only the year"}
REVIEW_CAP = 0.9  # below the match threshold: a reviewer decides
TWIN_CAP = 0.2  # below the review threshold: not even queued


RULE_COMPARISONS = ("given", "family", "dob", "nid")  # the comparisons twin_cap reads


def twin_cap(labels: Mapping[str, str]) -> float | None:
    """The highest probability a pair may have, given its level label per comparison; None when no cap.

    Twins share the family and the birthday but never a national ID. With the same ID on both sides, a given
    name that merely looks different is a clerk's typo, left to the model; two names the dictionary knows as
    different still go to a reviewer (a sibling's ID copied from the family's papers), but stay in the queue."""
    given = labels.get("given", "")
    twins_possible = (labels.get("family") in TWIN_FAMILY_LEVELS and labels.get("dob") in TWIN_DOB_LEVELS
                      and labels.get("nid") != "same")
    if given == "different known names":
        return TWIN_CAP if twins_possible else REVIEW_CAP
    if given == "different" and twins_possible:
        return REVIEW_CAP
    return None
