"""Accuracy against known truth: pairwise and cluster precision, recall and F1, with the breakdowns that
matter here (cross-script pairs; siblings and twins, the most frequent false merge).

Works on any clustering given as {(institution, source_ref): cluster_id}, so the registry's model and the
plain-Splink baseline are measured by the same code. The truth comes from `registry synth --truth`.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
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
                    thresholds: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95)) -> dict[float, Evaluation]:
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
