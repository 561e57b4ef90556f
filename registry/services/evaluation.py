"""Measuring deduplication, the administrator's use case: the registry's clusters against a generated truth
(and plain Splink on the raw names of the same data, as a yardstick), or the model against the national
unit's decisions.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.errors import InvalidInput
from registry.identity.model import Identity, validate_identity
from registry.matching.baseline import baseline_clusters
from registry.matching.evaluate import Calibration, Evaluation, calibration, evaluate, read_truth, run_pairs
from registry.services.context import Registry
from registry.services.dedupe import registry_clusters
from registry.services.review.labels import evaluate_labels


@dataclass(frozen=True)
class Measured:
    model: str
    evaluation: Evaluation
    calibration: Calibration | None = None  # the registry's own scored pairs (the baseline has none)


def _generated_identities(data_csv: Path) -> list[Identity]:
    """The generated file's valid rows (the invalid ones, made so on purpose, are left out)."""
    out = []
    with open(data_csv, newline="", encoding="utf-8") as f:
        for raw in csv.DictReader(f):
            try:
                out.append(validate_identity(raw))
            except (InvalidInput, ValueError):
                continue
    return out


def evaluate_against_truth(reg: Registry, truth: Path, data: Path | None = None, baseline: bool = True,
                           on_baseline: Any = None) -> list[Measured]:
    """The registry's latest clusters scored against the truth, with the calibration of the latest run's scored
    pairs; then, with the data file, the baseline."""
    known = read_truth(truth, data)
    with reg.db.sessions() as s:
        pairs = run_pairs(s)
    rows = [Measured("registry (keyed encodings)", evaluate(registry_clusters(reg), known),
                     calibration(pairs, known))]
    if baseline and data is not None:
        if on_baseline is not None:
            on_baseline()
        clusters = baseline_clusters(_generated_identities(data), reg.settings.work_dir)
        rows.append(Measured("plain Splink on raw names", evaluate(clusters, known)))
    return rows


def evaluate_decisions(reg: Registry) -> dict[str, Any]:
    """The model's thresholds against the reviewers' decisions (counts only)."""
    return evaluate_labels(reg)
