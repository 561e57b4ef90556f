"""Batch deduplication, the administrator's use case: score the whole index with Splink, decide every scored
pair (same child: merged automatically; possible: the review queue; different: nothing;
registry.services.review.automatic), and audit the run. Also the export of the clusters found.

The engine is `registry.matching.dedupe` (DuckDB, embedded) or `registry.matching.spark` (Splink's Spark
backend, docs/scale-out.md), chosen per run or by REGISTRY_DEDUPE_ENGINE; both hand back the same pairs and
clusters, which go through the same queue bookkeeping, `registry.services.review.queue`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import CursorResult, select, text, update

from registry.errors import Conflict, InvalidInput
from registry.matching.dedupe import Progress, duckdb_connection, score_batch, without_children
from registry.matching.spark import ENGINES, SparkEngine, SparkUnavailable, spark_session
from registry.services.access import excluded_from_matching, record_admin
from registry.services.actor import SYSTEM, Actor
from registry.services.context import Registry
from registry.services.review.automatic import mark_held, merge_automatically, plan_same_child
from registry.services.review.queue import finish_batch_queue, store_batch_pairs
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
    engine: str = "duckdb"
    marked_failed: int = 0  # earlier runs found unfinished (they died) and marked failed by this one
    auto_merged: int = 0  # same-child pairs merged automatically by this run
    open_pairs: int = 0  # the review queue after the run


class DedupeBusy(RuntimeError):
    """Another dedupe run is in progress (it holds the dedupe lock)."""


# The advisory lock of dedupe runs on PostgreSQL: one per schema, i.e. per registry sharing a server.
_PG_LOCK = "hashtext('registry-dedupe'), hashtext(current_schema())"


@contextlib.contextmanager
def dedupe_lock(reg: Registry) -> Iterator[None]:
    """Held for a whole run, so that one run at a time writes clusters, and so that a run that finds a
    "running" row while holding it knows that run died. Released by the operating system or the database
    server when the holder dies, even by kill -9: a file lock (SQLite: the database is on this machine) or a
    session advisory lock (PostgreSQL: any machine)."""
    if reg.db.dialect == "postgresql":
        with reg.db.engine.connect() as conn:
            if not conn.execute(text(f"SELECT pg_try_advisory_lock({_PG_LOCK})")).scalar():
                raise DedupeBusy("another dedupe run is in progress")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({_PG_LOCK})"))
                conn.commit()
        return
    import fcntl

    from registry.files import private_dir

    path = private_dir(reg.settings.work_dir) / "dedupe.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DedupeBusy("another dedupe run is in progress") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def mark_dead_runs(reg: Registry) -> int:
    """Mark failed every run still "running". Only call while holding `dedupe_lock`: then none is alive."""
    with reg.db.unit_of_work() as s:
        return cast(CursorResult, s.execute(update(DedupeRun).where(DedupeRun.status == "running")
                                            .values(status="failed", finished_at=utcnow()))).rowcount or 0


def choose_engine(reg: Registry, engine: str | None = None) -> SparkEngine | None:
    """The run's predict engine: None for DuckDB's own, a SparkEngine (its session started, so that a missing
    Java or an unreachable master is said before anything is written) for Spark. `engine` overrides the
    setting (REGISTRY_DEDUPE_ENGINE); a rejection names whichever said it."""
    field, name = ("engine", engine) if engine is not None else ("REGISTRY_DEDUPE_ENGINE", reg.settings.dedupe_engine)
    if name not in ENGINES:
        raise InvalidInput.one(field, f"unknown engine {name!r}: one of {', '.join(ENGINES)}")
    if name == "duckdb":
        return None
    try:
        spark_session(reg.settings.spark_master)
    except SparkUnavailable as e:
        raise InvalidInput.one(e.field, e.reason) from None
    return SparkEngine(reg.settings.spark_exchange_dir or reg.settings.work_dir, reg.settings.spark_master)


def run_dedupe(reg: Registry, retrain: bool = False, progress: Progress | None = None,
               excluded_children: set[str] | None = None, actor: Actor = SYSTEM,
               engine: str | None = None) -> DedupeResult:
    """One batch run over every record whose child may be matched, on `engine` (duckdb or spark; default the
    setting REGISTRY_DEDUPE_ENGINE, else duckdb), under the dedupe lock (DedupeBusy if another is in
    progress); audited as `actor`'s 'dedupe'. Runs that died before are marked failed first; this run is
    marked failed if it stops on an error. Refused (Conflict on "index") while the linkage index holds entries
    an earlier name analysis wrote: a name written one way must not encode two ways in one run."""
    say = progress or (lambda _msg: None)
    with reg.db.sessions() as s:
        outdated = reg.index.outdated(s)
    if outdated:
        raise Conflict(f"{outdated} records of the linkage index were encoded by an earlier version of the registry: "
                       "run `registry index rebuild`, then deduplicate", field="index")
    predict = choose_engine(reg, engine)
    with dedupe_lock(reg):
        dead = mark_dead_runs(reg)
        if dead:
            say(f"marked {dead} earlier run(s) that did not finish as failed")
        run_id = "run-" + secrets.token_hex(6)
        with reg.db.unit_of_work() as s:
            s.add(DedupeRun(run_id=run_id, status="running"))
        try:
            result = _run(reg, run_id, retrain, say, excluded_children, actor, predict)
        except BaseException:
            with reg.db.unit_of_work() as s:
                s.execute(update(DedupeRun).where(DedupeRun.run_id == run_id)
                          .values(status="failed", finished_at=utcnow()))
            raise
        return dataclasses.replace(result, marked_failed=dead)


def _run(reg: Registry, run_id: str, retrain: bool, say: Progress, excluded_children: set[str] | None,
         actor: Actor, predict: SparkEngine | None) -> DedupeResult:
    con = duckdb_connection(reg.settings.work_dir)
    try:
        with reg.db.sessions() as s:
            if excluded_children is None:  # consent to deduplication withdrawn: left out of matching
                excluded_children = excluded_from_matching(s)
            batches = (without_children(t, excluded_children) for t in reg.index.all_entries(s))
            found = score_batch(con, batches, reg.settings.model_path, retrain=retrain, progress=say,
                                predict=predict)
        say("deciding: same child, possible, different")
        # On the batch's own connection (a large page cache on SQLite): hundreds of thousands of pairs and a
        # million cluster assignments are written, and linkage rows read, at random places of large indexes.
        with reg.db.bulk_writing() as unit_of_work:
            with unit_of_work() as s:
                stored = store_batch_pairs(s, run_id, found.pairs)
            with unit_of_work() as s:
                plan = plan_same_child(s, reg.model(), stored.same_child)
        merged = 0
        refused: dict[int, str] = {}
        if reg.settings.auto_merge:
            say(f"merging {len(plan.merges)} same-child pairs automatically")
            merged, refused = merge_automatically(reg, run_id, plan.merges)
        say("filling the review queue")
        with reg.db.bulk_writing() as unit_of_work, unit_of_work() as s:
            mark_held(s, {**plan.held, **refused})
            open_pairs = finish_batch_queue(s, run_id, plan.clusters)
        clusters = len(set(plan.clusters.values()))
        result = DedupeResult(run_id, found.records, len(found.pairs), stored.added, clusters, found.trained,
                              engine="spark" if predict else "duckdb", auto_merged=merged, open_pairs=open_pairs)
        with reg.db.unit_of_work() as s:
            run = s.get(DedupeRun, run_id)
            assert run is not None  # written at the start of this run
            run.finished_at, run.records, run.pairs_scored = utcnow(), found.records, len(found.pairs)
            run.suspected, run.clusters, run.status = stored.added, clusters, "finished"
            run.auto_merged = merged
            record_admin(reg, "dedupe", session=s, actor=actor)
        return result
    finally:
        con.close()


def registry_clusters(reg: Registry) -> dict[tuple[str, str], str]:
    """{(institution, source_ref): cluster_id} from the latest batch run: its same-child decisions (the
    children as its automatic merges left them; with automatic merging off, as they would have)."""
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
