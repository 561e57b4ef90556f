"""Batch deduplication's engine: encodings to DuckDB, train or reuse the model, predict, cluster.
Only keyed encodings and coarse values ever reach DuckDB. The use case around it (the run's record, the review
queue, the audit event) is `registry.services.dedupe`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from registry.matching.model import (
    MATCH_THRESHOLD,
    REVIEW_THRESHOLD,
    SPLINK_LOG_LEVEL,
    LinkageModel,
    model_file_current,
    train,
)
from registry.store.tables.matching import LinkageEntry

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
    if not created:  # an empty table of the same columns (nothing to pair)
        con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(f'NULL AS {c}' for c in _COLUMNS)} WHERE false")
    return n


def duckdb_connection(work: Path) -> duckdb.DuckDBPyConnection:
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work / "dedupe.duckdb"))
    # Bounded memory: DuckDB spills to its temp folder beyond this.
    con.execute(f"SET temp_directory='{work / 'duckdb-tmp'}'")
    con.execute("SET memory_limit='4GB'")
    con.execute("SET preserve_insertion_order=false")
    return con


def train_model(con: duckdb.DuckDBPyConnection, table: str = "linkage") -> LinkageModel:
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    em_table = table
    if n > TRAINING_SAMPLE:
        # EM runs on whole family-name groups (by a hash of the cross-script family skeleton, else the given
        # name's): duplicates share them, so the sample keeps its share of duplicate pairs, not its square.
        per_mille = max(1, -(-1000 * TRAINING_SAMPLE // n))
        con.execute(f"CREATE OR REPLACE TABLE linkage_sample AS SELECT * FROM {table} "
                    f"WHERE hash(coalesce(family_skel, given_skel, record_id)) % 1000 < {per_mille}")
        em_table = "linkage_sample"
    model = train(con, table, em_table=em_table)
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


@dataclass
class BatchScores:
    """What one batch run found: every pair at or above the review threshold, and each record's cluster."""

    records: int
    pairs: list[tuple[str, str, float, float]]  # (record_l, record_r, probability, match_weight)
    assignments: list[tuple[str, str]]  # (record_id, cluster_id)
    trained: bool

    @property
    def clusters(self) -> int:
        return len({c for _, c in self.assignments})


def score_batch(con: duckdb.DuckDBPyConnection, entries: Iterable[list[dict]], model_path: Path,
                retrain: bool = False, progress: Progress | None = None,
                predict: Callable[[duckdb.DuckDBPyConnection, LinkageModel], Any] | None = None) -> BatchScores:
    """Load the entries (batches of stored linkage rows), train (or reuse) the model at `model_path`, score
    the candidate pairs and cluster those at or above the match threshold. `predict` is another engine's
    Splink predict over the loaded table (registry.matching.spark.SparkEngine); by default DuckDB's."""
    say = progress or (lambda _msg: None)
    say("loading encodings")
    n = load_into_duckdb(con, entries)
    if n == 0:  # nothing registered (or every child out of matching): nothing to train on or to pair
        say("no records to deduplicate")
        return BatchScores(0, [], [], False)
    trained = False
    if not retrain and model_path.exists() and not model_file_current(model_path):
        retrain = True  # a model of an older format: its comparisons are not today's
    if retrain or not model_path.exists():
        say(f"training the model on {min(n, TRAINING_SAMPLE)} records")
        model = train_model(con)
        model.save(model_path)
        trained = True
    else:
        model = LinkageModel.load(model_path)
    say("scoring candidate pairs")
    predictions = predict(con, model) if predict else predict_pairs(con, model)[1]
    pairs = guarded_pairs(con, model, predictions)
    say("clustering")
    assignments = cluster(con, [(a, b) for a, b, p, _ in pairs if p >= MATCH_THRESHOLD])
    return BatchScores(n, pairs, assignments, trained)
