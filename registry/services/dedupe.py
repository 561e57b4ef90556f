"""Batch deduplication, the administrator's use case: score the whole index with Splink, cluster, fill the
national unit's review queue, and audit the run. Also the export of the clusters found.

The engine is `registry.matching.dedupe`; the queue's bookkeeping is `registry.services.review.queue`.
"""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from registry.matching.dedupe import Progress, duckdb_connection, score_batch
from registry.services.access import excluded_from_matching, record_admin
from registry.services.actor import SYSTEM, Actor
from registry.services.context import Registry
from registry.services.review.queue import store_batch_pairs
from registry.store.db import utcnow
from registry.store.models import CaseRecord
from registry.store.tables.matching import ClusterAssignment, DedupeRun


@dataclass
class DedupeResult:
    run_id: str
    records: int
    pairs_scored: int
    suspected: int
    clusters: int
    trained: bool


def run_dedupe(reg: Registry, retrain: bool = False, progress: Progress | None = None,
               excluded_children: set[str] | None = None, actor: Actor = SYSTEM) -> DedupeResult:
    """One batch run over every record whose child may be matched; audited as `actor`'s 'dedupe'."""
    say = progress or (lambda _msg: None)
    run_id = "run-" + secrets.token_hex(6)
    con = duckdb_connection(reg.settings.work_dir)
    try:
        with reg.db.unit_of_work() as s:
            s.add(DedupeRun(run_id=run_id))
        with reg.db.sessions() as s:
            if excluded_children is None:  # consent to deduplication withdrawn: left out of matching
                excluded_children = excluded_from_matching(s)
            batches = (
                [r for r in batch if not excluded_children or r["child_id"] not in excluded_children]
                for batch in reg.index.all_entries(s)
            )
            found = score_batch(con, batches, reg.settings.model_path, retrain=retrain, progress=say)
        say("filling the review queue")
        with reg.db.unit_of_work() as s:
            suspected = store_batch_pairs(s, run_id, found.pairs, found.assignments)
        result = DedupeResult(run_id, found.records, len(found.pairs), suspected, found.clusters, found.trained)
        with reg.db.unit_of_work() as s:
            run = s.get(DedupeRun, run_id)
            assert run is not None  # written at the start of this run
            run.finished_at, run.records, run.pairs_scored = utcnow(), found.records, len(found.pairs)
            run.suspected, run.clusters = suspected, result.clusters
            record_admin(reg, "dedupe", session=s, actor=actor)
        return result
    finally:
        con.close()


def registry_clusters(reg: Registry) -> dict[tuple[str, str], str]:
    """{(institution, source_ref): cluster_id} from the latest batch run."""
    with reg.db.sessions() as s:
        return {(i, ref): c for i, ref, c in s.execute(
            select(CaseRecord.institution, CaseRecord.source_ref, ClusterAssignment.cluster_id)
            .join(ClusterAssignment, ClusterAssignment.record_id == CaseRecord.record_id))}


def export_clusters(reg: Registry, path: Path) -> int:
    """institution, source_ref, cluster_id, child_id for every record (erased ones excluded)."""
    with reg.db.sessions() as s, open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["institution", "source_ref", "cluster_id", "child_id"])
        n = 0
        for row in s.execute(
                select(CaseRecord.institution, CaseRecord.source_ref, ClusterAssignment.cluster_id,
                       CaseRecord.child_id)
                .outerjoin(ClusterAssignment, ClusterAssignment.record_id == CaseRecord.record_id)
                .where(CaseRecord.status == "active").order_by(CaseRecord.institution, CaseRecord.source_ref)):
            w.writerow(row)
            n += 1
    return n
