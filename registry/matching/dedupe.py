"""Batch deduplication over the whole registry: encodings to DuckDB, train or reuse the model, predict,
cluster, and fill the review queue. Only keyed encodings and coarse values ever reach DuckDB.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import delete, select

from registry.matching.model import SPLINK_LOG_LEVEL, LinkageModel, model_file_current, train
from registry.matching.tables import ClusterAssignment, DedupeRun, LinkageEntry, SuspectedDuplicate
from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.models import CaseRecord

MATCH_THRESHOLD = 0.95  # same child: clustered together, and "likely match" in a lookup
REVIEW_THRESHOLD = 0.5  # may be the same child: queued for the national unit, "possible match"
TRAINING_SAMPLE = 200_000  # records the model is trained on; EM on more adds time, not accuracy

_COLUMNS = [c.name for c in LinkageEntry.__table__.columns if c.name != "encoding_version"]
_LISTS = {"given_grams": "INTEGER", "given_ids": "VARCHAR", "chain_keys": "VARCHAR", "chain_skels": "VARCHAR"}

Progress = Callable[[str], None]


def _select_list(col: str, kind: str) -> str:
    split = f"string_split({col}, ' ')"
    cast = f"list_transform({split}, lambda x: CAST(x AS INTEGER))" if kind == "INTEGER" else split
    return f"CASE WHEN {col} IS NULL OR {col} = '' THEN CAST([] AS {kind}[]) ELSE {cast} END AS {col}"


def load_into_duckdb(con: duckdb.DuckDBPyConnection, batches: Iterable[list[dict]], table: str = "linkage") -> int:
    """Create `table` in DuckDB from stored entries (lists stored as text become DuckDB lists)."""
    con.execute(f"DROP TABLE IF EXISTS {table}")
    created, n = False, 0
    for batch in batches:
        if not batch:
            continue
        arrow = pa.Table.from_pylist([{c: row.get(c) for c in _COLUMNS} for row in batch])
        con.register("_batch", arrow)
        select_list = ", ".join(_select_list(c, _LISTS[c]) if c in _LISTS else c for c in _COLUMNS)
        if created:
            con.execute(f"INSERT INTO {table} SELECT {select_list} FROM _batch")
        else:
            con.execute(f"CREATE TABLE {table} AS SELECT {select_list} FROM _batch")
            created = True
        con.unregister("_batch")
        n += len(batch)
    if not created:
        con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(_COLUMNS)} FROM (SELECT NULL AS x) WHERE false")
    return n


@dataclass
class DedupeResult:
    run_id: str
    records: int
    pairs_scored: int
    suspected: int
    clusters: int
    trained: bool


def duckdb_connection(reg: Registry) -> duckdb.DuckDBPyConnection:
    work = reg.settings.work_dir
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work / "dedupe.duckdb"))
    # Bounded memory: DuckDB spills to its temp folder beyond this.
    con.execute(f"SET temp_directory='{work / 'duckdb-tmp'}'")
    con.execute("SET memory_limit='4GB'")
    con.execute("SET preserve_insertion_order=false")
    return con


def train_model(reg: Registry, con: duckdb.DuckDBPyConnection, table: str = "linkage") -> LinkageModel:
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    source = table
    if n > TRAINING_SAMPLE:
        con.execute(f"CREATE OR REPLACE TABLE linkage_sample AS SELECT * FROM {table} "
                    f"USING SAMPLE reservoir({TRAINING_SAMPLE} ROWS) REPEATABLE (42)")
        source = "linkage_sample"
    model = train(con, source)
    model.data["trained_on_records"] = min(n, TRAINING_SAMPLE)
    return model


def predict_pairs(con: duckdb.DuckDBPyConnection, model: LinkageModel, table: str = "linkage",
                  threshold: float = REVIEW_THRESHOLD):
    """Splink's predict with the model's parameters and its saved term frequencies. Returns the linker and
    the predictions (a SplinkDataFrame)."""
    from splink import DuckDBAPI, Linker

    api = DuckDBAPI(con)
    linker = Linker(api.register(table), model.splink_settings_for_predict(), log_level=SPLINK_LOG_LEVEL)
    for col, freqs in model.tf.items():
        tf = pa.table({col: list(freqs.keys()), f"tf_{col}": list(freqs.values())})
        linker.table_management.register_term_frequency_lookup(api.register(tf), col)
    return linker, linker.inference.predict(threshold_match_probability=threshold)


def guarded_pairs(con: duckdb.DuckDBPyConnection, model: LinkageModel, predictions,
                  table: str = "linkage") -> list[tuple[str, str, float, float]]:
    """(record_l, record_r, probability, match_weight) of the pairs Splink scored at or above the review
    threshold, re-scored by LinkageModel.score -- the real-time scorer -- so the registry's rules (possible
    twins) apply exactly as in a lookup. Splink's own weight must agree with the Python one; it is checked."""
    pred = predictions.as_duckdbpyrelation()
    con.register("_pred", pred)
    try:
        rel = con.execute(f"SELECT * FROM {table} WHERE record_id IN "
                          "(SELECT record_id_l FROM _pred UNION SELECT record_id_r FROM _pred)")
        names = [d[0] for d in rel.description]
        rows = {r[0]: dict(zip(names, r)) for r in rel.fetchall()}
        scored = con.execute("SELECT record_id_l, record_id_r, match_weight FROM _pred").fetchall()
    finally:
        con.unregister("_pred")
    out = []
    for left, right, splink_weight in scored:
        score = model.score(rows[left], rows[right])
        if score.capped_by is None and abs(score.match_weight - splink_weight) > 1e-6:
            raise RuntimeError(f"batch and real-time scores disagree for a pair ({splink_weight} vs "
                               f"{score.match_weight}): the comparisons' SQL and Python forms have drifted")
        if score.probability >= REVIEW_THRESHOLD:
            out.append((left, right, score.probability, score.match_weight))
    return out


def cluster(con: duckdb.DuckDBPyConnection, edges: list[tuple[str, str]], table: str = "linkage") -> list:
    """Connected components over the match edges (union-find); every record gets a cluster, singletons too.
    The cluster id is the smallest record id in it, so it is stable for the same clustering."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    records = [r for (r,) in con.execute(f"SELECT record_id FROM {table}").fetchall()]
    return [(r, find(r)) for r in records]


def run_dedupe(reg: Registry, retrain: bool = False, progress: Progress | None = None,
               excluded_children: set[str] | None = None) -> DedupeResult:
    say = progress or (lambda _msg: None)
    run_id = "run-" + secrets.token_hex(6)
    con = duckdb_connection(reg)
    try:
        say("loading encodings")
        with reg.db.unit_of_work() as s:
            s.add(DedupeRun(run_id=run_id))
        with reg.db.sessions() as s:
            if excluded_children is None:  # consent to deduplication withdrawn: left out of matching
                excluded_children = reg.excluded_from_matching(s)
            batches = (
                [r for r in batch if not excluded_children or r["child_id"] not in excluded_children]
                for batch in reg.index.all_entries(s)
            )
            n = load_into_duckdb(con, batches)
        model_path: Path = reg.settings.model_path
        trained = False
        if not retrain and model_path.exists() and not model_file_current(model_path):
            retrain = True  # a model of an older format: its comparisons are not today's
        if retrain or not model_path.exists():
            say(f"training the model on {min(n, TRAINING_SAMPLE)} records")
            model = train_model(reg, con)
            model.save(model_path)
            trained = True
        else:
            model = LinkageModel.load(model_path)
        say("scoring candidate pairs")
        _, predictions = predict_pairs(con, model)
        pairs = guarded_pairs(con, model, predictions)
        say("clustering")
        assignments = cluster(con, [(a, b) for a, b, p, _ in pairs if p >= MATCH_THRESHOLD])
        say("filling the review queue")
        suspected = _store(reg, run_id, pairs, assignments)
        result = DedupeResult(run_id, n, len(pairs), suspected, len({c for _, c in assignments}), trained)
        with reg.db.unit_of_work() as s:
            run = s.get(DedupeRun, run_id)
            assert run is not None  # written at the start of this run
            run.finished_at, run.records, run.pairs_scored = utcnow(), n, len(pairs)
            run.suspected, run.clusters = suspected, result.clusters
        return result
    finally:
        con.close()


def _store(reg: Registry, run_id: str, pairs: list, assignments: list) -> int:
    """Cluster assignments replaced; new suspected pairs queued (rejected pairs stay rejected while their
    records are unchanged; pairs whose records already belong to one child are not queued); batch pairs this
    run did not find again become stale."""
    with reg.db.unit_of_work() as s:
        s.execute(delete(ClusterAssignment))
        s.bulk_insert_mappings(ClusterAssignment,  # type: ignore[arg-type]
                               [{"record_id": r, "cluster_id": str(c), "run_id": run_id} for r, c in assignments])
        records = {r.record_id: (r.child_id, r.content_digest) for r in
                   s.execute(select(CaseRecord.record_id, CaseRecord.child_id, CaseRecord.content_digest))}
        known = {(p.record_a, p.record_b): p for p in s.scalars(select(SuspectedDuplicate))}
        added = 0
        for left, right, prob, weight in pairs:
            a, b = sorted((left, right))
            if a not in records or b not in records or records[a][0] == records[b][0]:
                continue
            digests = (records[a][1], records[b][1])
            existing = known.get((a, b))
            if existing is not None:
                if existing.status == "rejected" and (existing.digest_a, existing.digest_b) == digests:
                    continue  # sticky: a reviewer said no, and neither record has changed
                if existing.status == "open":
                    existing.probability, existing.match_weight, existing.run_id = prob, weight, run_id
                    continue
                if existing.status in ("rejected", "stale"):
                    existing.status = "open"
                    existing.digest_a, existing.digest_b = digests
                    existing.probability, existing.match_weight, existing.run_id = prob, weight, run_id
                    added += 1
                continue
            pair = SuspectedDuplicate(record_a=a, record_b=b, probability=prob, match_weight=weight, status="open",
                                      source="batch", digest_a=digests[0], digest_b=digests[1], run_id=run_id)
            s.add(pair)
            known[(a, b)] = pair
            added += 1
        # An open pair an earlier run suggested but this one no longer scores (new model, changed record,
        # consent withdrawn) leaves the queue rather than wait there with an out-of-date probability.
        for pair in known.values():
            if pair.status == "open" and pair.source == "batch" and pair.run_id != run_id:
                pair.status = "stale"
        _store_queue_clusters([p for p in known.values() if p.status == "open"], records)
        return added


def _store_queue_clusters(pairs: list[SuspectedDuplicate], records: dict[str, tuple[str, str]]) -> None:
    """Each open pair's queue cluster: pairs connected through a child share a key (the smallest child id)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    ends = []
    for pair in pairs:
        if pair.record_a in records and pair.record_b in records:
            a, b = records[pair.record_a][0], records[pair.record_b][0]
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
            ends.append((pair, a))
    for pair, a in ends:
        key = "K" + root(a)
        if pair.cluster_key != key:
            pair.cluster_key = key


def registry_clusters(reg: Registry) -> dict[tuple[str, str], str]:
    """{(institution, source_ref): cluster_id} from the latest batch run."""
    with reg.db.sessions() as s:
        return {(i, ref): c for i, ref, c in s.execute(
            select(CaseRecord.institution, CaseRecord.source_ref, ClusterAssignment.cluster_id)
            .join(ClusterAssignment, ClusterAssignment.record_id == CaseRecord.record_id))}


def export_clusters(reg: Registry, path: Path) -> int:
    """institution, source_ref, cluster_id, child_id for every record (erased ones excluded)."""
    import csv

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
