"""Accuracy against known truth: pairwise and cluster precision, recall and F1, with the breakdowns that
matter here (cross-script pairs; siblings and twins, the most frequent false merge).

Works on any clustering given as {(institution, source_ref): cluster_id}, so the registry's model and the
plain-Splink baseline are measured by the same code. The truth comes from `registry synth --truth`.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

from registry.names.text import script_of

Key = tuple[str, str]


@dataclass(frozen=True)
class Truth:
    person: dict[Key, str]
    family: dict[Key, str]
    twin: dict[Key, bool]
    script: dict[Key, str]  # script of the record's names: arabic / latin


def read_truth(truth_csv: Path, data_csv: Path | None = None) -> Truth:
    person, family, twin, script = {}, {}, {}, {}
    with open(truth_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("bad_row") in ("1", "True", "true"):
                continue
            k = (row["institution"], row["source_ref"])
            person[k], family[k], twin[k] = row["person_id"], row["family_id"], bool(row.get("twin_of"))
    if data_csv is not None:
        with open(data_csv, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                k = (row["institution"], row["source_ref"])
                names = " ".join(row.get(c) or "" for c in ("given_name", "family_name", "full_name"))
                script[k] = script_of(names)
    return Truth(person, family, twin, script)


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @classmethod
    def of(cls, correct: int, predicted: int, true: int) -> Scores:
        p = correct / predicted if predicted else 1.0
        r = correct / true if true else 1.0
        return cls(p, r, 2 * p * r / (p + r) if p + r else 0.0, true, predicted, correct)


@dataclass
class Evaluation:
    pairwise: Scores
    cluster: Scores
    cross_script_recall: float
    cross_script_pairs: int
    same_script_recall: float
    sibling_pairs: int
    sibling_merge_rate: float
    twin_pairs: int
    twin_merge_rate: float
    records: int

    def as_dict(self) -> dict:
        return asdict(self)


def _pairs(groups: Mapping[str, list[Key]]) -> int:
    return sum(len(v) * (len(v) - 1) // 2 for v in groups.values())


def evaluate(clusters: Mapping[Key, str], truth: Truth) -> Evaluation:
    keys = [k for k in clusters if k in truth.person]
    by_cluster: dict[str, list[Key]] = defaultdict(list)
    by_person: dict[str, list[Key]] = defaultdict(list)
    by_family: dict[str, list[Key]] = defaultdict(list)
    for k in keys:
        by_cluster[clusters[k]].append(k)
        by_person[truth.person[k]].append(k)
        by_family[truth.family[k]].append(k)
    both = Counter((clusters[k], truth.person[k]) for k in keys)
    correct = sum(n * (n - 1) // 2 for n in both.values())
    pairwise = Scores.of(correct, _pairs(by_cluster), _pairs(by_person))

    true_sets = {frozenset(v) for v in by_person.values()}
    found_sets = {frozenset(v) for v in by_cluster.values()}
    exact = len(true_sets & found_sets)
    cluster = Scores.of(exact, len(found_sets), len(true_sets))

    cross = cross_found = same = same_found = 0
    for members in by_person.values():
        for a, b in combinations(members, 2):
            found = clusters[a] == clusters[b]
            if truth.script.get(a) and truth.script.get(b) and truth.script[a] != truth.script[b]:
                cross += 1
                cross_found += found
            else:
                same += 1
                same_found += found
    sib = sib_merged = tw = tw_merged = 0
    for members in by_family.values():
        for a, b in combinations(members, 2):
            if truth.person[a] == truth.person[b]:
                continue
            merged = clusters[a] == clusters[b]
            sib += 1
            sib_merged += merged
            if truth.twin[a] and truth.twin[b]:
                tw += 1
                tw_merged += merged
    return Evaluation(pairwise, cluster, cross_found / cross if cross else 1.0, cross,
                      same_found / same if same else 1.0, sib, sib_merged / sib if sib else 0.0,
                      tw, tw_merged / tw if tw else 0.0, len(keys))


def threshold_sweep(pairs: list[tuple[Key, Key, float]], keys: list[Key], truth: Truth,
                    thresholds: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)) -> dict[float, Evaluation]:
    """Clusters at several thresholds from one run's scored pairs (a, b, probability), each evaluated."""
    out = {}
    for t in thresholds:
        parent: dict[Key, Key] = {}
        for a, b, p in pairs:
            if p >= t:
                ra, rb = _root(parent, a), _root(parent, b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        out[t] = evaluate({k: "|".join(_root(parent, k)) for k in keys}, truth)
    return out


def _root(parent: dict[Key, Key], x: Key) -> Key:
    while parent.get(x, x) != x:
        x = parent[x]
    return x


# ---- calibration: is a pair scored p the same child about p of the time? ----------------------------------
CALIBRATION_BANDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)
# Candidates for the same-child threshold: the brief asks for one whose measured precision (of every pair at
# or above it) is at least 0.999; these show how much precision and how many pairs each would give.
SAME_CHILD_CANDIDATES: tuple[float, ...] = (0.99, 0.995, 0.997, 0.998, 0.999)


@dataclass
class Band:
    low: float
    high: float
    pairs: int
    mean_probability: float  # what the model said, on average
    true_rate: float  # what the truth says: the share of the band's pairs that are the same child


@dataclass
class AtOrAbove:
    threshold: float
    pairs: int
    precision: float  # the share of the pairs scored at or above the threshold that are the same child
    true_pairs: int  # how many of the truth's pairs those are


@dataclass
class Calibration:
    bands: list[Band]
    ece: float  # expected calibration error: sum over bands of (share of pairs) * |said - true|
    pairs: int
    true_pairs_scored: int
    true_pairs_unscored: int  # true pairs the run did not score at or above the lowest band
    at_or_above: list[AtOrAbove] = field(default_factory=list)  # the same-child threshold's candidates

    def as_dict(self) -> dict:
        return asdict(self)


def calibration(pairs: list[tuple[Key, Key, float]], truth: Truth,
                edges: tuple[float, ...] = CALIBRATION_BANDS) -> Calibration:
    """Reliability table and expected calibration error of scored pairs (a, b, probability) against the truth.

    Only pairs with both records in the truth and a probability at or above the first edge count; the last
    band is closed ([0.999, 1.0]). ECE weighs each band's |mean probability - true rate| by its share of pairs.
    """
    sums: list[list[float]] = [[0, 0.0, 0] for _ in edges[:-1]]  # pairs, sum of p, true
    above = [[0, 0] for _ in SAME_CHILD_CANDIDATES]  # pairs, true
    scored_true: set[frozenset[Key]] = set()
    for a, b, p in pairs:
        if a not in truth.person or b not in truth.person or p < edges[0]:
            continue
        i = min(_band_of(p, edges), len(edges) - 2)
        same = truth.person[a] == truth.person[b]
        sums[i][0] += 1
        sums[i][1] += p
        sums[i][2] += same
        for j, t in enumerate(SAME_CHILD_CANDIDATES):
            if p >= t:
                above[j][0] += 1
                above[j][1] += same
        if same:
            scored_true.add(frozenset((a, b)))
    total = sum(int(s[0]) for s in sums)
    bands = [Band(edges[i], edges[i + 1], int(n), sp / n if n else 0.0, t / n if n else 0.0)
             for i, (n, sp, t) in enumerate(sums)]
    ece = sum(b.pairs / total * abs(b.mean_probability - b.true_rate) for b in bands) if total else 0.0
    by_person: dict[str, int] = Counter(truth.person.values())
    true_pairs = sum(n * (n - 1) // 2 for n in by_person.values())
    at_or_above = [AtOrAbove(t, n, k / n if n else 0.0, k) for t, (n, k) in zip(SAME_CHILD_CANDIDATES, above)]
    return Calibration(bands, ece, total, len(scored_true), true_pairs - len(scored_true), at_or_above)


def _band_of(p: float, edges: tuple[float, ...]) -> int:
    for i in range(len(edges) - 1):
        if p < edges[i + 1]:
            return i
    return len(edges) - 2


def run_pairs(session, run_id: str | None = None) -> list[tuple[Key, Key, float]]:
    """The pairs a batch run scored (the latest finished run by default), as (a, b, probability) with records
    named by (institution, source_ref) like the truth."""
    from sqlalchemy import select

    from registry.store.models import CaseRecord
    from registry.store.tables.matching import DedupeRun, SuspectedDuplicate

    if run_id is None:
        run_id = session.scalar(select(DedupeRun.run_id).where(DedupeRun.finished_at.is_not(None))
                                .order_by(DedupeRun.finished_at.desc()).limit(1))
        if run_id is None:
            return []
    key = {r: (i, ref) for r, i, ref in session.execute(
        select(CaseRecord.record_id, CaseRecord.institution, CaseRecord.source_ref))}
    return [(key[a], key[b], p) for a, b, p in session.execute(
        select(SuspectedDuplicate.record_a, SuspectedDuplicate.record_b, SuspectedDuplicate.probability)
        .where(SuspectedDuplicate.run_id == run_id)) if a in key and b in key]


def reliability_lines(c: Calibration) -> list[str]:
    """The reliability table as text lines (for the command line and the benchmarks)."""
    lines = [f"{'band':>13s} {'pairs':>9s} {'said':>7s} {'true':>7s}"]
    for b in c.bands:
        if b.pairs:
            lines.append(f"{b.low:.3f}-{b.high:.3f} {b.pairs:9d} {b.mean_probability:7.3f} {b.true_rate:7.3f}")
    lines.append(f"expected calibration error {c.ece:.4f} over {c.pairs} pairs; true pairs never scored >= "
                 f"{CALIBRATION_BANDS[0]}: {c.true_pairs_unscored} of "
                 f"{c.true_pairs_scored + c.true_pairs_unscored}")
    total_true = c.true_pairs_scored + c.true_pairs_unscored
    for a in c.at_or_above:
        lines.append(f"scored >= {a.threshold}: {a.pairs} pairs, precision {a.precision:.5f}, "
                     f"{a.true_pairs / total_true if total_true else 0.0:.4f} of the true pairs")
    return lines
