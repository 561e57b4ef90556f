"""The linkage model: trained with Splink (unsupervised EM, u by random sampling), saved as plain data, and
scored either by Splink (batch) or by `LinkageModel.score` (real time) with the same parameters.

The model file holds the Splink settings with every m and u written out, the prior, and the term-frequency
table of given names, so a loaded model scores exactly as the saved one did.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import duckdb

from registry.matching.blocking import sql_rules
from registry.matching.comparisons import (
    CHAIN_AGREE_SQL,
    CHAIN_PRESENT_SQL,
    COMPARISONS,
    FREQUENCY_COMPARISONS,
    RULE_COMPARISONS,
    SET_AFTER_TRAINING,
    TRAINING_COMPARISONS,
    Comparison,
    CountedComparison,
    DerivedComparison,
    splink_comparison,
    twin_cap,
)
from registry.matching.encoding import token_text

# The thresholds on a pair's probability: the model's own, used alike by batch runs and lookups (the decision
# bands below). REVIEW_THRESHOLD: may be the same child, queued for the national unit, "possible match".
REVIEW_THRESHOLD = 0.5

# Version 8: the family's "only similar" levels (a typo in one part, index.ENCODING_VERSION 3); 7: rare
# spellings of known names encode as the names, and a Latin given name stands for every name it is a usual
# spelling of (index.ENCODING_VERSION 2), which moves the given name's levels and term frequencies; 6: the date
# of birth's level "same day and month, another year" (a mistyped year digit); 5: how common the father's and the
# family name are. A file of an older version is retrained by the next batch run.
FORMAT = "registry-linkage-model/8"
TF_COLUMNS = ("given_key", "father_skel", "family_skel", "mother_skel")
MIN_PROBABILITY = 1e-300  # Splink's clamp
# No disagreement is impossible for a true duplicate (a clerk can always err): m is never set below this.
MIN_M_PROBABILITY = 1e-3

# Batch blocking rules: registry.matching.blocking.RULES as Splink SQL (the real-time lookup uses the same
# rules as indexed lookups: registry.matching.index.LinkageIndex.candidates).
BLOCKING_RULES = sql_rules()
# Each comparison gets its parameters from a pass whose blocking does not involve it (BRIEF section 5).
# Pairs sharing a national ID are nearly all the same child, so they teach how true duplicates differ in name,
# family and date without twins in the way: blocking on the date of birth instead puts every twin pair in
# the "match" class and teaches EM that a different given name is weak evidence (twins were merged).
EM_PASSES = (
    "l.nid = r.nid",  # given name, family, date of birth, sex, governorate
    # date of birth, sex, national ID, governorate. The given name and the whole chain (three parts or more):
    # given name and family alone let pairs of unrelated same-name children of common families outnumber the
    # duplicates at a million records, and EM then learned that duplicates mostly differ in their date.
    "l.given_key = r.given_key AND l.chain_skels = r.chain_skels AND len(l.chain_skels) >= 3",
)
# Comparisons that keep one pass's m-probabilities, not the mean over passes (docs/matching.md, Training):
# - the date of birth and the governorate from the second pass: pairs sharing a national ID are a biased
#   sample of true duplicates for both (a clerk who copies the ID from papers copies the date and the place
#   too), so the first pass teaches that a duplicate nearly always has the same date and governorate, and the
#   mean over-rewards a same date or governorate (unrelated children with a common name and the same birthday
#   scored 0.6-0.9; the governorate's m added up to 1.16);
# - the family from the first pass: Splink trains it in the second pass too (it reads chain_keys, not the
#   skeletons that pass blocks on), on pairs whose chain always agrees, which halved its "one part agrees".
M_FROM_PASS = {"dob": 1, "family": 0, "governorate": 1}
# Where too few records carry a national ID, the first pass falls back to this one.
EM_FALLBACK_PASS = "l.dob_full = r.dob_full"
MIN_EM_PAIRS = 500
DETERMINISTIC_RULES = (
    "l.nid = r.nid",
    "l.given_key = r.given_key AND l.dob_full = r.dob_full AND l.family_skel = r.family_skel",
)

# ---- decisions: every scored pair ends as one of three (BRIEF section 7) ----------------------------------
# "same": the same child; merged automatically where the deployment allows it (the merge is recorded as
#   automatic, audited and reversible), "likely match" in a lookup. The threshold is chosen from measured
#   precision on generated truth (BRIEF section 7: at least 0.999): the lowest of the candidates that
#   `registry evaluate` measures (0.99, 0.995, 0.997, 0.998, 0.999) whose pairs at or above it are the same child
#   99.9 % of the time or more at 20k, 100k and 1M records, default, harder and held-out synth mixes
#   (docs/benchmarks.md, "Rare spellings": 0.99912 to 0.99972 at 0.997; 0.995 gave 0.99900 at 20,000. It was
#   0.998 until rare spellings of twins' names were known: 0.997 gave 0.99898 at a million then).
# "possible": the review queue holds this band and only this one, "possible match" in a lookup.
# "different": neither queued nor shown.
SAME_THRESHOLD = 0.997
POSSIBLE_THRESHOLD = REVIEW_THRESHOLD
MATCH_THRESHOLD = SAME_THRESHOLD  # the older name: batch clustering and a lookup's "likely match" are this band
DECISIONS = ("same", "possible", "different")


def decision_band(probability: float, *, same: float = SAME_THRESHOLD, possible: float = POSSIBLE_THRESHOLD) -> str:
    """"same", "possible" or "different" for a calibrated match probability."""
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"a probability is between 0 and 1, not {probability}")
    if probability >= same:
        return "same"
    if probability >= possible:
        return "possible"
    return "different"


def known_probability(probabilities: Iterable[float]) -> float:
    """The probability that a queried child is one of the registered children scored against it.

    Each candidate child's probability is a pairwise posterior (the query against that child alone). Once
    several registered children are candidates, "it is this one", "it is that one" and "it is none of them"
    are exclusive hypotheses: the posterior odds of each candidate add up (odds_known = sum of the odds), so
    the child is known with probability odds_known / (1 + odds_known). With one candidate this is its own
    probability. A child counts once (its best record), whatever records it has.
    """
    odds = 0.0
    for p in probabilities:
        if p >= 1.0:
            return 1.0
        odds += p / (1.0 - p)
    return odds / (1.0 + odds)


log = logging.getLogger("registry.matching")
SPLINK_LOG_LEVEL = logging.ERROR  # Splink narrates every EM iteration at INFO, and warns of levels a sample lacks
# Splink's predict pairs records by this integer key (given by registry.matching.dedupe.load_into_duckdb in the
# order of the record ids), not by the record id: its table of blocked pairs holds two keys for each of some 35
# million pairs at a million records, and 25-character record ids made it spill 4 GB to disk (docs/benchmarks.md).
ROW_KEY = "row_key"


@dataclass(frozen=True)
class FieldScore:
    comparison: str
    title: str
    level: int
    label: str
    weight: float  # match weight (log2 Bayes factor), term-frequency adjustment included
    tf_adjustment: float


@dataclass(frozen=True)
class PairScore:
    match_weight: float
    probability: float
    fields: tuple[FieldScore, ...]
    capped_by: str | None = None  # a rule that held the probability down (e.g. "possible twins")


def weight_from_probability(p: float) -> float:
    return math.log2(p / (1.0 - p))


def apply_rules(weight: float, labels: Mapping[str, str]) -> tuple[float, float, str | None]:
    """(match weight, probability, rule) after the registry's rules on top of Fellegi-Sunter."""
    return apply_cap(weight, twin_cap(labels))


def apply_cap(weight: float, cap: float | None) -> tuple[float, float, str | None]:
    """(match weight, probability, rule) with the twin rule's cap for the pair's levels (None: no cap)."""
    probability = probability_from_weight(weight)
    if cap is not None and probability > cap:
        return weight_from_probability(cap), cap, "possible twins"
    return weight, probability, None


def probability_from_weight(weight: float) -> float:
    return 2.0**weight / (1.0 + 2.0**weight) if weight < 1000 else 1.0


class ModelFormatError(ValueError):
    """A model file of another format (an older version, or not a model): train a new one."""


class LinkageModel:
    def __init__(self, data: Mapping[str, Any]):
        if data.get("format") != FORMAT:
            raise ModelFormatError(f"not a linkage model file of this version (format {data.get('format')!r}, "
                                   f"expected {FORMAT}): run `registry dedupe --retrain`")
        self.data = dict(data)
        self.settings: dict = data["splink_settings"]
        self.tf: dict[str, dict[str, float]] = data.get("tf_tables", {})
        self.prior = float(self.settings["probability_two_random_records_match"])
        self._levels: list[list[dict]] = [c["comparison_levels"] for c in self.settings["comparisons"]]
        self._by_name = {c.name: c for c in COMPARISONS}
        self.comparisons: list[Comparison] = [self._by_name[c["output_column_name"]]
                                              for c in self.settings["comparisons"]]
        # Each comparison's columns of a row, as one hashable value (lists are tuples in stored rows).
        self._values = [operator.itemgetter(*c.columns) for c in self.comparisons]
        # Worked out once: a lookup scores thousands of candidate values against these.
        self._weights = [[self._level_weight(ci, li) for li in range(len(levels))]
                         for ci, levels in enumerate(self._levels)]
        self._tf_levels = [[self._tf_constants(level) for level in levels] for levels in self._levels]
        self._prior_weight = math.log2(self.prior / (1.0 - self.prior))
        # score_block: derived comparisons after the comparisons they read, and where each input is.
        position = {c.name: i for i, c in enumerate(self.comparisons)}
        self._inputs = {i: [position[x.name] for x in c.inputs] for i, c in enumerate(self.comparisons)
                        if isinstance(c, DerivedComparison) and all(x.name in position for x in c.inputs)}
        self._block_order = [i for i in range(len(self.comparisons)) if i not in self._inputs] + list(self._inputs)
        self._ruled = [i for i, c in enumerate(self.comparisons) if c.name in RULE_COMPARISONS]

    # ---- persistence --------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinkageModel:
        return cls(json.loads(Path(path).read_text()))

    # ---- scoring ------------------------------------------------------------------------------------------
    def level_weight(self, ci: int, li: int) -> float:
        return self._weights[ci][li]

    def _level_weight(self, ci: int, li: int) -> float:
        level = self._levels[ci][li]
        if level.get("is_null_level"):
            return 0.0
        m = max(level["m_probability"], MIN_PROBABILITY)
        u = max(level["u_probability"], MIN_PROBABILITY)
        return math.log2(m / u)

    def _tf_constants(self, level: Mapping) -> tuple[dict[str, float], str, float, float, float] | None:
        """(term frequencies, column, weight, log2 u, minimum u) of a term-frequency adjusted level, else None."""
        col = level.get("tf_adjustment_column")
        if not col or level.get("is_null_level") or level["sql_condition"] == "ELSE":
            return None
        return (self.tf.get(col, {}), col, level.get("tf_adjustment_weight", 1.0),
                math.log2(level["u_probability"]), level.get("tf_minimum_u_value", 0.0))

    def _tf_adjustment(self, ci: int, li: int, left: Mapping, right: Mapping) -> float:
        constants = self._tf_levels[ci][li]
        if constants is None:
            return 0.0
        table, col, weight, log2_u, minimum_u = constants
        tl, tr = table.get(left.get(col) or ""), table.get(right.get(col) or "")
        if tl is None and tr is None:
            return 0.0
        # Not both None (above): each of the two is a float.
        tf_u = max(cast(float, tl if tl is not None else tr), cast(float, tr if tr is not None else tl), minimum_u)
        return weight * (log2_u - math.log2(tf_u))

    def score(self, left: Mapping, right: Mapping) -> PairScore:
        """Score one pair of linkage rows exactly as Splink's predict would."""
        fields = []
        for ci, comparison in enumerate(self.comparisons):
            li = comparison.level_of(left, right)
            tf = self._tf_adjustment(ci, li, left, right)
            w = self.level_weight(ci, li) + tf
            fields.append(FieldScore(comparison.name, comparison.title, li, comparison.levels[li].label, w, tf))
        total = sum((f.weight for f in fields), self._prior_weight)  # score_block adds in the same order
        weight, probability, rule = apply_rules(total, {f.comparison: f.label for f in fields})
        return PairScore(weight, probability, tuple(fields), rule)

    def score_block(self, query: Mapping, candidates: Sequence[Mapping],
                    threshold: float = 0.0) -> list[tuple[int, PairScore]]:
        """(position, score) of each candidate scoring at or above `threshold` against one query row: the same
        numbers as `score`, for a whole candidate block at once, a comparison at a time. A comparison's weight
        depends only on the candidate's values of that comparison's columns, and candidates in one block share
        most of them (the same given name, father, year): each distinct combination is compared once per query;
        a comparison derived from others' levels (the given name inside an agreeing family) is read off theirs;
        the twin rule is asked once per combination of the levels it reads. Candidates are stored rows
        (`from_entry`)."""
        levels: list[list[int]] = [[] for _ in self.comparisons]
        weights: list[list[float]] = [[] for _ in self.comparisons]
        adjustments: list[list[float] | None] = [None for _ in self.comparisons]
        for ci in self._block_order:
            comparison = self.comparisons[ci]
            if isinstance(comparison, DerivedComparison):
                table: dict[tuple[int, ...], int] = {}
                for key in zip(*(levels[i] for i in self._inputs[ci])):
                    li = table.get(key)
                    if li is None:
                        li = table[key] = comparison.from_levels(*key)
                    levels[ci].append(li)
                level_weights = self._weights[ci]
                weights[ci] = [level_weights[li] for li in levels[ci]]
                continue
            memo: dict[Any, tuple[int, float, float]] = {}
            values, level_col, weight_col, tf_col = self._values[ci], levels[ci], weights[ci], []
            for cand in candidates:
                key = values(cand)
                hit = memo.get(key)
                if hit is None:
                    li = comparison.level_of(query, cand)
                    tf = self._tf_adjustment(ci, li, query, cand)
                    hit = memo[key] = (li, self.level_weight(ci, li) + tf, tf)
                level_col.append(hit[0])
                weight_col.append(hit[1])
                tf_col.append(hit[2])
            adjustments[ci] = tf_col
        prior = self._prior_weight
        totals = [sum(ws, prior) for ws in zip(*weights)]
        caps: dict[tuple[int, ...], float | None] = {}
        ruled = self._ruled
        out = []
        for pos, (total, rule_levels) in enumerate(zip(totals, zip(*(levels[i] for i in ruled)))):
            if rule_levels not in caps:
                caps[rule_levels] = twin_cap({self.comparisons[i].name: self.comparisons[i].levels[li].label
                                              for i, li in zip(ruled, rule_levels)})
            weight, probability, rule = apply_cap(total, caps[rule_levels])
            if probability < threshold:
                continue
            fields = []
            for ci, c in enumerate(self.comparisons):
                li, tfs = levels[ci][pos], adjustments[ci]
                fields.append(FieldScore(c.name, c.title, li, c.levels[li].label, weights[ci][pos],
                                         tfs[pos] if tfs is not None else 0.0))
            out.append((pos, PairScore(weight, probability, tuple(fields), rule)))
        return out

    def label_of_gamma(self, comparison: str, gamma: int) -> str:
        """The level label for Splink's comparison vector value (-1 null, then highest level first)."""
        c = self._by_name[comparison]
        if gamma == -1:
            return c.levels[0].label
        return c.levels[len(c.levels) - 1 - gamma].label

    def splink_settings_for_predict(self) -> dict:
        s = json.loads(json.dumps(self.settings))
        s["unique_id_column_name"] = ROW_KEY
        s["blocking_rules_to_generate_predictions"] = [{"blocking_rule": r, "sql_dialect": "duckdb"}
                                                       for r in BLOCKING_RULES]
        s["retain_matching_columns"] = False
        # Only the pairs and their weights: the registry's rules take each pair's levels from the same SQL
        # conditions (registry.matching.dedupe.guarded_pairs), so Splink need not carry its gamma, Bayes factor
        # and term-frequency columns through every blocking rule.
        s["retain_intermediate_calculation_columns"] = False
        return s


def model_file_current(path: Path) -> bool:
    """Is the saved model file of this version (else it must be retrained)?"""
    try:
        return json.loads(Path(path).read_text()).get("format") == FORMAT
    except (OSError, ValueError):
        return False


def base_settings(comparisons: Sequence[Comparison] = COMPARISONS) -> dict:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "comparisons": [splink_comparison(c) for c in comparisons],
        "blocking_rules_to_generate_predictions": [{"blocking_rule": r, "sql_dialect": "duckdb"}
                                                   for r in BLOCKING_RULES],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "max_iterations": 20,
        "em_convergence": 0.001,
    }


def train(con: duckdb.DuckDBPyConnection, table: str, *, em_table: str | None = None, max_u_pairs: float = 2e6,
          seed: int = 42, recall: float = 0.7) -> LinkageModel:
    """Train on a DuckDB table of linkage rows (lists as DuckDB lists). Unsupervised: no labels.

    The prior, the u-probabilities and the term frequencies come from `table` (the whole registry); the EM
    passes may run on `em_table`, a sample of it that keeps the records of a family together (see
    registry.matching.dedupe.train_model): a sample of single records keeps only the square of its share of
    the duplicate pairs, so EM would see duplicates far rarer than in the registry and learn m-probabilities
    that leave the model under-confident, more so the larger the registry (measured: docs/matching.md).
    """
    from splink import DuckDBAPI, Linker

    api = DuckDBAPI(con)
    # Splink trains every comparison but the given name inside an agreeing family, set after it
    # (given_in_family_parameters).
    linker = Linker(api.register(table), base_settings(TRAINING_COMPARISONS), log_level=SPLINK_LOG_LEVEL)
    linker.training.estimate_probability_two_random_records_match(list(DETERMINISTIC_RULES), recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)
    _stratified_u(linker, con, table, seed=seed)
    if em_table is not None and em_table != table:
        # The same settings (prior and u now estimated) on the sample; EM keeps u fixed and the prior global.
        linker = Linker(api.register(em_table), linker.misc.save_model_to_json(), log_level=SPLINK_LOG_LEVEL)
    by_pass: list[dict[tuple[int, int], float]] = []
    for rule in EM_PASSES:
        if rule == EM_PASSES[0] and _pair_count(con, em_table or table, rule) < MIN_EM_PAIRS:
            rule = EM_FALLBACK_PASS
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
        by_pass.append(_latest_m(linker))
    _take_m_from_pass(linker, by_pass)
    return _model_from_linker(linker, con, table, given_in_family_parameters(con, em_table or table))


# The comparisons whose strongest levels a random sample of pairs meets only a few times, and the keys whose
# agreement nearly all of those pairs share: their u is estimated stratified on those keys (_stratified_u).
# The family's "three parts agree" is met outside the family name too (a chain without it on one side: the
# father, or the grandfather, and the mother's two names agreeing), hence the father and the mother as strata.
STRATIFIED_U = {"family": ("family_skel", "father_skel", "mother_skel"), "given": ("given_skel",)}
# Pairs drawn in each stratum (records sharing its key and no earlier one), and in the rest.
STRATUM_PAIRS = 2e6
OUTSIDE_PAIRS = 2e6
# Smaller registries keep Splink's estimate: their rare levels are less rare (u falls as the registry grows), and
# Splink's sample of two million pairs is a larger share of all their pairs, so it meets those levels often
# enough; the strata would cost a few seconds a training for nothing.
STRATIFY_FROM = 50_000


def _stratified_u(linker: Any, con: duckdb.DuckDBPyConnection, table: str, *, seed: int) -> None:
    """Re-estimate the u-probabilities of STRATIFIED_U's comparisons stratified: pairs of records that share
    the first key; pairs that share the second and not the first; the rest. Each stratum is sampled apart and
    weighted by its exact share of all pairs.

    Splink's random sample (two million pairs of some 2,000 records at a million) meets the family's "four or
    more parts agree" a handful of times and a given name's "same sound" a few hundred times, so their u, and
    the weights, moved by up to two bits between trainings (docs/benchmarks.md, "Where the spread comes
    from"). Nearly every pair at those levels shares the family or the given name's skeleton, a stratum whose
    size a GROUP BY counts exactly (a two-thousandth of all pairs at a million), and sampling inside it meets
    those levels hundreds of times more often. The quantity estimated is Splink's (u over all pairs, the few
    true duplicates among random pairs included), with less variance."""
    by_name = {c.name: c for c in TRAINING_COMPARISONS}
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if n < max(2, STRATIFY_FROM):
        return
    all_pairs = n * (n - 1) / 2
    for comparison in linker._settings_obj.comparisons:
        keys = STRATIFIED_U.get(comparison.output_column_name, ())
        if not keys:
            continue
        ours = by_name[comparison.output_column_name]
        strata: list[tuple[float, dict[int, float]]] = []  # (share of all pairs, level shares)
        earlier: list[str] = []
        for key in keys:
            # Pairs sharing this key and none before it (inclusion and exclusion over the earlier keys).
            size = sum((-1) ** len(others) * _pairs_sharing(con, table, [key, *others])
                       for r in range(len(earlier) + 1) for others in itertools.combinations(earlier, r))
            on = " AND ".join([f"l.{key} = r.{key}"] + [f"NOT coalesce(l.{k} = r.{k}, false)" for k in earlier])
            rate = min(1.0, (STRATUM_PAIRS / max(size, 1)) ** 0.5)
            strata.append((size / all_pairs, _level_shares(con, table, ours, on, rate=rate, seed=seed)))
            earlier.append(key)
        rest = " AND ".join(f"NOT coalesce(l.{k} = r.{k}, false)" for k in keys)
        rate = min(1.0, (2 * OUTSIDE_PAIRS) ** 0.5 / n)
        strata.append((1 - sum(share for share, _ in strata), _level_shares(con, table, ours, rest, rate=rate,
                                                                              seed=seed)))
        levels = [i for i, lv in enumerate(ours.levels) if not lv.is_null]
        u = {i: sum(share * shares.get(i, 0.0) for share, shares in strata) for i in levels}
        if sum(u.values()) <= 0:
            continue
        splink_levels = comparison.comparison_levels
        for i in levels:  # a level no sample met keeps Splink's estimate; all then add up to one again
            assert splink_levels[i].label_for_charts == ours.levels[i].label
            if u[i] <= 0:
                u[i] = float(splink_levels[i].u_probability)
        total = sum(u.values())
        for i in levels:
            # Splink sets u from its record of trained values after each training step: replaced there too.
            splink_levels[i]._trained_u_probabilities = [{"probability": u[i] / total, "m_or_u": "u",
                                                          "description": f"stratified on {', '.join(keys)}"}]
            splink_levels[i].u_probability = u[i] / total


def _pairs_sharing(con: duckdb.DuckDBPyConnection, table: str, keys: Sequence[str]) -> float:
    """How many pairs of records agree on every one of `keys` (none missing), counted exactly."""
    cols = ", ".join(keys)
    present = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    return float(con.execute(f"SELECT coalesce(sum(c * (c - 1) / 2), 0) FROM (SELECT count(*) AS c FROM {table} "
                             f"WHERE {present} GROUP BY {cols})").fetchall()[0][0])


def _level_shares(con: duckdb.DuckDBPyConnection, table: str, comparison: Comparison, on: str, *, rate: float,
                  seed: int) -> dict[int, float]:
    """{level index: share of the sampled pairs}: the pairs meeting `on` of a Bernoulli sample of records
    (`rate`, repeatable by `seed`)."""
    sides = ", ".join(f"{side}.{c} AS {c}_{side}" for side in ("l", "r") for c in comparison.columns)
    sample = (f"(SELECT * FROM {table} WHERE hash(record_id, {int(seed)}) % 1000000000 "
              f"< {int(rate * 1e9)})")
    pairs = f"SELECT {sides} FROM {sample} l JOIN {sample} r ON {on} AND l.record_id < r.record_id"
    shares: dict[int, float] = {}
    if isinstance(comparison, CountedComparison):
        # Parts that agree and differ counted once a pair, their levels found in Python (one CASE branch a
        # level would count them again for each).
        agree, differ, near = comparison.counts_sql
        # Only similar parts count where exactly one part differs (every level that reads them says so).
        rows = con.execute(f"SELECT a, d, CASE WHEN d = 1 THEN {near} ELSE 0 END AS n, count(*) FROM "
                           f"(SELECT {agree} AS a, {differ} AS d, * FROM ({pairs})) GROUP BY a, d, n").fetchall()
        for a, d, n, c in rows:
            level = next(i for i, holds in enumerate(comparison.on_counts) if holds(a, d, n))
            shares[level] = shares.get(level, 0) + c
    else:
        cases = " ".join(f"WHEN {lv.sql} THEN {i}" for i, lv in enumerate(comparison.levels) if lv.sql != "ELSE")
        rows = con.execute(f"SELECT CASE {cases} ELSE {len(comparison.levels) - 1} END AS level, count(*) "
                           f"FROM ({pairs}) GROUP BY level").fetchall()
        shares = {int(level): c for level, c in rows}
    total = sum(shares.values())
    return {level: c / total for level, c in shares.items()} if total else {}


def _latest_m(linker: Any) -> dict[tuple[int, int], float]:
    """{(comparison, level): m} as estimated by the EM pass that just ran (numbers only)."""
    out = {}
    for ci, comparison in enumerate(linker._settings_obj.comparisons):
        for li, level in enumerate(comparison.comparison_levels):
            trained = getattr(level, "_trained_m_probabilities", [])
            if not level.is_null_level and trained and isinstance(trained[-1]["probability"], (int, float)):
                out[(ci, li)] = float(trained[-1]["probability"])
    return out


def _take_m_from_pass(linker: Any, by_pass: list[dict[tuple[int, int], float]]) -> None:
    """Comparisons in M_FROM_PASS keep the m-probabilities of that pass only (not the mean over passes)."""
    names = [c.output_column_name for c in linker._settings_obj.comparisons]
    for name, pass_index in M_FROM_PASS.items():
        ci = names.index(name)
        estimates = by_pass[pass_index] if pass_index < len(by_pass) else {}
        levels = linker._settings_obj.comparisons[ci].comparison_levels
        if not any(key[0] == ci for key in estimates):
            continue
        for li, level in enumerate(levels):
            if not level.is_null_level:
                level.m_probability = estimates.get((ci, li), MIN_M_PROBABILITY)


def _pair_count(con: duckdb.DuckDBPyConnection, table: str, rule: str) -> int:
    sql = (f"SELECT count(*) FROM {table} l JOIN {table} r ON {rule} AND l.record_id < r.record_id")
    return int(con.execute(sql).fetchall()[0][0])


def _model_from_linker(linker: Any, con: duckdb.DuckDBPyConnection, table: str,
                       given_in_family: Mapping[str, float]) -> LinkageModel:
    obj = linker._settings_obj
    # Written out from Splink's in-memory settings so that defaults and "level not observed" become numbers.
    trained = {c.output_column_name: c for c in obj.comparisons}
    tf_tables = {col: term_frequencies(con, table, col) for col in TF_COLUMNS}
    comparisons = []
    for ours in COMPARISONS:
        spec = splink_comparison(ours)
        if ours.name in FREQUENCY_COMPARISONS:
            name_frequency_levels(spec, tf_tables[FREQUENCY_COMPARISONS[ours.name][0]])
        elif ours.name in SET_AFTER_TRAINING:
            _given_in_family_levels(spec, given_in_family)
        else:
            for level, out in zip(trained[ours.name].comparison_levels, spec["comparison_levels"]):
                if not level.is_null_level:
                    out["m_probability"] = max(float(level.m_probability), MIN_M_PROBABILITY)
                    out["u_probability"] = float(level.u_probability)
        comparisons.append(spec)
    settings = base_settings()
    settings["comparisons"] = comparisons
    settings["probability_two_random_records_match"] = float(obj._probability_two_random_records_match)
    return LinkageModel({"format": FORMAT, "splink_settings": settings, "tf_tables": tf_tables,
                         "given_in_family": dict(given_in_family)})


# Pairs of records whose father and family name sound alike: where the share of other families is measured.
FAMILY_STRATUM_JOIN = "l.father_skel = r.father_skel AND l.family_skel = r.family_skel"
# Fewer such pairs than this and the share is not estimated (no correction).
MIN_FAMILY_PAIRS = 30


def given_in_family_parameters(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, float]:
    """q, the share of other families among the non-matching pairs whose family agrees, in three parts and in
    four or more (comparisons.given_in_family_comparison), measured on the registry without labels.

    Three parts (father, grandfather and family name): the pairs of `table` whose three chain parts are all
    present and all agree, whose given names are two different names the dictionary knows (so not the same
    child: duplicates nearly always share the given name) and whose mothers' given names are both known.
    Brothers and sisters share a mother; children of another family with the same names almost never do: the
    share of those pairs whose mothers differ is q for three parts. It counts a clerk's misspelt mother as
    another family, which makes q larger and the correction smaller: the safe side.
    Four parts or more (the mother agrees too): another family gets there only when its mother's name also
    collides, with the registry's collision rate c of mothers' names: q4 = q c / (q c + 1 - q)."""
    columns = [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
    sides = ", ".join(f"{side}.{c} AS {c}_{side}" for side in ("l", "r") for c in columns
                      if c not in ("record_id", ROW_KEY))
    differ, pairs = con.execute(f"""
        SELECT count(*) FILTER (WHERE NOT (mother_key_l = mother_key_r OR
                                           coalesce(mother_skel_l = mother_skel_r, false))),
               count(*)
        FROM (SELECT {sides} FROM {table} l JOIN {table} r ON {FAMILY_STRATUM_JOIN} AND l.record_id < r.record_id)
        WHERE {CHAIN_AGREE_SQL} = 3 AND {CHAIN_PRESENT_SQL} = 3
          AND given_known_l AND given_known_r AND NOT len(list_intersect(given_ids_l, given_ids_r)) > 0
          AND mother_key_l IS NOT NULL AND mother_key_r IS NOT NULL""").fetchall()[0]
    collision = con.execute(f"""
        SELECT coalesce(sum(f * f), 1.0) FROM (
            SELECT count(*) * 1.0 / sum(count(*)) OVER () AS f FROM {table}
            WHERE mother_key IS NOT NULL GROUP BY mother_key)""").fetchall()[0][0]
    if pairs < MIN_FAMILY_PAIRS:
        return {"other_families_share_3": 1.0, "other_families_share_4": 1.0, "pairs": int(pairs)}
    q3 = min(1.0, (differ + 0.5) / (pairs + 1.0))
    q4 = q3 * collision / (q3 * collision + 1.0 - q3)
    return {"other_families_share_3": q3, "other_families_share_4": q4, "pairs": int(pairs),
            "mothers_names_collide": float(collision)}


def _given_in_family_levels(spec: dict, parameters: Mapping[str, float]) -> None:
    """The correction's m and u in its Splink spec: weight log2(1/q) for each level (m / u = 1 / q), none
    otherwise."""
    shares = (parameters["other_families_share_4"], parameters["other_families_share_3"], 1.0)
    for level, q in zip(spec["comparison_levels"], shares):
        level["m_probability"] = 1.0 / 3.0
        level["u_probability"] = q / 3.0


def name_frequency_levels(spec: dict, frequencies: Mapping[str, float]) -> None:
    """A name-frequency correction's m and u in its Splink spec (comparisons.name_frequency_comparison): no
    weight of its own (m = u); on "the same name", u is the chance that two records share a name at all, so
    that Splink's term-frequency adjustment, log2(u / f), is the whole of it."""
    shared = sum(f * f for f in frequencies.values()) or 1.0
    for level in spec["comparison_levels"]:
        if not level.get("is_null_level"):
            level["m_probability"] = level["u_probability"] = shared if "tf_adjustment_column" in level else 1.0


def term_frequencies(con: duckdb.DuckDBPyConnection, table: str, col: str) -> dict[str, float]:
    """Relative frequency of each value among non-null values (Splink's definition), by token as the linkage
    index stores it (DuckDB's table holds the tokens as numbers: registry.matching.dedupe.load_into_duckdb)."""
    rows = con.execute(
        f"SELECT {col}, count(*) * 1.0 / sum(count(*)) OVER () FROM {table} WHERE {col} IS NOT NULL GROUP BY {col}"
    ).fetchall()
    return {token_text(v): float(f) for v, f in rows}
