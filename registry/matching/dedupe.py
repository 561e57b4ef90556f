"""Batch deduplication's engine: encodings to DuckDB, train or reuse the model, predict, cluster.
Only keyed encodings and coarse values ever reach DuckDB. The use case around it (the run's record, the review
queue, the audit event) is `registry.services.dedupe`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from registry.matching.comparisons import RULE_COMPARISONS, level_sql, twin_cap
from registry.matching.encoding import token_number, token_text
from registry.matching.index import (
    ENTRY_SCHEMA,
    FIELD_SEPARATOR,
    NULL_MARK,
    NUMBER_LISTS,
    PACKED_SCHEMA,
    TOKEN_COLUMNS,
    TOKEN_LISTS,
)
from registry.matching.model import (
    MATCH_THRESHOLD,
    REVIEW_THRESHOLD,
    ROW_KEY,
    SPLINK_LOG_LEVEL,
    LinkageModel,
    model_file_current,
    train,
    weight_from_probability,
)

TRAINING_SAMPLE = 200_000  # records the model is trained on; EM on more adds time, not accuracy

_LISTS = {**{c: "INTEGER" for c in NUMBER_LISTS}, **{c: "BIGINT" for c in TOKEN_LISTS}}

Progress = Callable[[str], None]


def _select_list(col: str, kind: str) -> str:
    split = f"string_split({col}, ' ')"
    item = "CAST(x AS INTEGER)" if kind == "INTEGER" else _token_number_sql("x")
    return (f"CASE WHEN {col} IS NULL OR {col} = '' THEN CAST([] AS {kind}[]) "
            f"ELSE list_transform({split}, lambda x: {item}) END AS {col}")


def _token_number_sql(col: str) -> str:
    """encoding.token_number in DuckDB SQL: 16 hex digits to the same 64 bits as a signed integer. Predict at a
    million records took a fifth less time with the tokens as numbers than as text (docs/benchmarks.md)."""
    return (f"CASE WHEN {col} < '8' THEN CAST('0x' || {col} AS BIGINT) "
            f"ELSE CAST(CAST(CAST('0x' || {col} AS UBIGINT) AS HUGEINT) - {1 << 64} AS BIGINT) END")


def _selected(col: str) -> str:
    if col in _LISTS:
        return _select_list(col, _LISTS[col])
    return f"{_token_number_sql(col)} AS {col}" if col in TOKEN_COLUMNS else col


def tf_lookup(model: LinkageModel, col: str) -> pa.Table:
    """The model's term frequencies of a token column as DuckDB's table holds the column (numbers)."""
    freqs = model.tf[col]
    return pa.table({col: pa.array([token_number(k) for k in freqs], type=pa.int64()),
                     f"tf_{col}": pa.array(list(freqs.values()), type=pa.float64())})


def stored_form(row: dict) -> dict:
    """A row read back from DuckDB's table with its tokens as the linkage index stores them (for the real-time
    scorer, which compares stored entries and looks term frequencies up by token)."""
    out = dict(row)
    for col in TOKEN_COLUMNS:
        if out.get(col) is not None:
            out[col] = token_text(out[col])
    for col in TOKEN_LISTS:
        out[col] = tuple(token_text(v) for v in out.get(col) or ())
    return out


def load_into_duckdb(con: duckdb.DuckDBPyConnection, tables: Iterable[pa.Table], table: str = "linkage") -> int:
    """Create `table` in DuckDB from stored entries (`LinkageIndex.all_entries`): lists stored as text become
    DuckDB lists, and keyed tokens numbers (`encoding.token_number`; `stored_form` reads a row back). Each row
    also gets ROW_KEY, an integer in the order of the record ids, which Splink's predict pairs by (`predict_pairs`)."""
    con.execute(f"DROP TABLE IF EXISTS {table}")
    select_list = ", ".join(_selected(c) for c in ENTRY_SCHEMA.names)
    batches = (batch for arrow in tables for batch in arrow.to_batches())
    con.register("_entries", pa.RecordBatchReader.from_batches(PACKED_SCHEMA, batches))
    try:
        con.execute(f"CREATE TABLE {table} AS SELECT {select_list}, "
                    f"row_number() OVER (ORDER BY record_id) AS {ROW_KEY} FROM ({_unpacked()})")
    finally:
        con.unregister("_entries")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def _unpacked() -> str:
    """The packed entries of `_entries` (index.all_entries) as typed columns: booleans read from SQLite's 0 and 1
    as from PostgreSQL's true and false."""
    types = {pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN", pa.string(): "VARCHAR"}
    columns = ", ".join(f"CAST(nullif(f[{i}], '{NULL_MARK}') AS {types[field.type]}) AS {field.name}"
                        for i, field in enumerate(ENTRY_SCHEMA, start=1))
    return f"SELECT {columns} FROM (SELECT string_split(entry, '{FIELD_SEPARATOR}') AS f FROM _entries)"


def without_children(entries: pa.Table, children: set[str]) -> pa.Table:
    """The entries but those of `children` (out of matching: consent to deduplication withdrawn)."""
    if not children:
        return entries
    return entries.filter(pc.invert(pc.is_in(entries["child_id"], value_set=pa.array(sorted(children)))))


def duckdb_connection(work: Path) -> duckdb.DuckDBPyConnection:
    work.mkdir(parents=True, exist_ok=True)
    # In memory, not a database file: Splink's many intermediate tables were written to disk and read back
    # (predict at 100,000 records: 13-16 s in memory against 20-37 s on a file, docs/benchmarks.md), and no
    # copy of the index is left behind between runs.
    con = duckdb.connect(":memory:")
    # Bounded memory: DuckDB spills to its temp folder beyond this (keyed encodings only, as in memory).
    con.execute(f"SET temp_directory='{work / 'duckdb-tmp'}'")
    con.execute("SET memory_limit='3GB'")
    con.execute("SET preserve_insertion_order=false")
    return con


def training_sample(con: duckdb.DuckDBPyConnection, table: str, n: int) -> str:
    """The table EM runs on: `table` itself up to TRAINING_SAMPLE records, else a sample of whole family-name
    groups (by a hash of the cross-script family skeleton, else the given name's): duplicates share them, so the
    sample keeps its share of duplicate pairs, not its square."""
    if n <= TRAINING_SAMPLE:
        return table
    per_mille = max(1, -(-1000 * TRAINING_SAMPLE // n))
    group = "coalesce(CAST(family_skel AS VARCHAR), CAST(given_skel AS VARCHAR), record_id)"
    con.execute(f"CREATE OR REPLACE TABLE linkage_sample AS SELECT * FROM {table} "
                f"WHERE hash({group}) % 1000 < {per_mille}")
    return "linkage_sample"


def train_model(con: duckdb.DuckDBPyConnection, table: str = "linkage") -> LinkageModel:
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    model = train(con, table, em_table=training_sample(con, table, n))
    model.data["trained_on_records"] = min(n, TRAINING_SAMPLE)
    return model


def predict_pairs(con: duckdb.DuckDBPyConnection, model: LinkageModel, table: str = "linkage",
                  threshold: float = REVIEW_THRESHOLD):
    """Splink's predict with the model's parameters and its saved term frequencies. Returns the linker and
    the predictions (`Predictions`: the pairs by record id)."""
    from splink import DuckDBAPI, Linker

    api = DuckDBAPI(con)
    settings = model.splink_settings_for_predict()
    linker = Linker(api.register(table), settings, log_level=SPLINK_LOG_LEVEL)
    for col in model.tf:
        linker.table_management.register_term_frequency_lookup(api.register(tf_lookup(model, col)), col)
    con.execute(f"CREATE OR REPLACE TABLE _blocked_pairs AS {blocked_pairs_sql(settings, table)}")
    try:
        linker.table_management.register_blocked_pairs_for_predict(api.register("_blocked_pairs"))
        keyed = linker.inference.predict(threshold_match_probability=threshold)
    finally:
        con.execute("DROP TABLE IF EXISTS _blocked_pairs")
    return linker, Predictions(con, keyed.as_duckdbpyrelation(), table)


def prediction_rules(settings: dict) -> list[str]:
    """The blocking rules of Splink settings for predict, as SQL in the settings' dialect."""
    return [r["blocking_rule"] for r in settings["blocking_rules_to_generate_predictions"]]


def blocked_pairs_sql(settings: dict, table: str = "linkage") -> str:
    """The pairs Splink's predict scores, as Splink's own blocking finds them (each pair once, with the first rule
    that finds it as its match key), but found differently: every rule's join, then one GROUP BY. Splink instead
    joins each rule with NOT (every earlier rule) and so tests each pair against up to 48 rules: 24 s against
    7 s for the same 35 million pairs at a million records (docs/benchmarks.md)."""
    joins = " UNION ALL ".join(
        f"SELECT {n} AS match_key, l.{ROW_KEY} AS join_key_l, r.{ROW_KEY} AS join_key_r "
        f"FROM {table} AS l JOIN {table} AS r ON ({rule}) AND l.{ROW_KEY} < r.{ROW_KEY}"
        for n, rule in enumerate(prediction_rules(settings)))
    return (f"SELECT CAST(min(match_key) AS STRING) AS match_key, join_key_l, join_key_r "  # DuckDB's and Spark's
            f"FROM ({joins}) GROUP BY join_key_l, join_key_r")


@dataclass
class Predictions:
    """Splink's pairs, which it keys by ROW_KEY, read by record id: record_id_l, record_id_r, match_weight and
    match_probability (`guarded_pairs` reads them so; Spark's come the same way, registry.matching.spark)."""

    con: duckdb.DuckDBPyConnection
    keyed: duckdb.DuckDBPyRelation  # row_key_l, row_key_r, match_weight, match_probability
    table: str = "linkage"

    def as_duckdbpyrelation(self) -> duckdb.DuckDBPyRelation:
        ids = self.con.table(self.table).select(f"{ROW_KEY}, record_id")
        return (self.keyed.set_alias("p")
                .join(ids.set_alias("l"), f"l.{ROW_KEY} = p.{ROW_KEY}_l")
                .join(ids.set_alias("r"), f"r.{ROW_KEY} = p.{ROW_KEY}_r")
                .select("l.record_id AS record_id_l, r.record_id AS record_id_r, p.match_weight, "
                        "p.match_probability"))


# How many pairs of each combination of comparison levels the real-time scorer re-scores in a batch run.
CHECKED_PER_COMBINATION = 3


def _rule_table(con: duckdb.DuckDBPyConnection, model: LinkageModel) -> None:
    """`_caps`: the registry's rule (twin_cap) for every combination of the levels it reads, written out once
    from the Python rule itself, so batch and real time share one definition."""
    by_name = {c.name: c for c in model.comparisons}
    names = [n for n in RULE_COMPARISONS if n in by_name]
    rows: dict[str, list] = {f"lv_{n}": [] for n in names} | {"cap": [], "cap_weight": []}
    for combo in itertools.product(*(range(len(by_name[n].levels)) for n in names)):
        cap = twin_cap({n: by_name[n].levels[li].label for n, li in zip(names, combo)})
        if cap is None:
            continue
        for n, li in zip(names, combo):
            rows[f"lv_{n}"].append(li)
        rows["cap"].append(cap)
        rows["cap_weight"].append(weight_from_probability(cap))
    con.register("_caps", pa.table(rows))


def guarded_pairs(con: duckdb.DuckDBPyConnection, model: LinkageModel, predictions,
                  table: str = "linkage") -> list[tuple[str, str, float, float]]:
    """(record_l, record_r, probability, match_weight) of the pairs Splink scored at or above the review
    threshold, with the registry's rules (possible twins) applied exactly as in a lookup.

    In DuckDB, over every pair: each comparison's level from the same SQL conditions, the rule's cap for those
    levels (`_rule_table`), the probability from Splink's weight. In Python, as a check: up to
    CHECKED_PER_COMBINATION pairs of every combination of levels that occurred are re-scored by
    LinkageModel.score -- the real-time scorer -- whose levels, weight and probability must agree, or the run
    stops (the comparisons' SQL and Python forms have drifted)."""
    pred = predictions.as_duckdbpyrelation()
    con.register("_pred", pred)
    _rule_table(con, model)
    columns = [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
    sides = ", ".join(f"{side}.{c} AS {c}_{side}" for side in ("l", "r") for c in columns
                      if c not in ("record_id", ROW_KEY))
    levels = ", ".join(f"{level_sql(c)} AS lv_{c.name}" for c in model.comparisons)
    caps = [n for n in RULE_COMPARISONS if n in {c.name for c in model.comparisons}]
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _scored AS
            WITH pairs AS (
                SELECT p.record_id_l, p.record_id_r, p.match_weight, {sides}
                FROM _pred p JOIN {table} l ON l.record_id = p.record_id_l JOIN {table} r ON r.record_id = p.record_id_r
            ),
            compared AS (SELECT record_id_l, record_id_r, match_weight, {levels} FROM pairs),
            ruled AS (
                SELECT c.*, CASE WHEN match_weight < 1000 THEN pow(2, match_weight) / (1 + pow(2, match_weight))
                                 ELSE 1.0 END AS splink_probability, k.cap, k.cap_weight
                FROM compared c LEFT JOIN _caps k USING ({", ".join(f"lv_{n}" for n in caps)})
            )
            SELECT *, CASE WHEN cap IS NOT NULL AND splink_probability > cap THEN cap
                           ELSE splink_probability END AS probability,
                      CASE WHEN cap IS NOT NULL AND splink_probability > cap THEN cap_weight
                           ELSE match_weight END AS weight
            FROM ruled""")
        _check_against_real_time(con, model, table)
        return con.execute(f"SELECT record_id_l, record_id_r, probability, weight FROM _scored "
                           f"WHERE probability >= {REVIEW_THRESHOLD}").fetchall()
    finally:
        con.unregister("_pred")
        con.unregister("_caps")
        con.execute("DROP TABLE IF EXISTS _scored")


def _check_against_real_time(con: duckdb.DuckDBPyConnection, model: LinkageModel, table: str) -> None:
    """Re-score a few pairs of every combination of levels in `_scored` with the real-time scorer."""
    lv = [f"lv_{c.name}" for c in model.comparisons]
    sample = con.execute(f"""
        SELECT record_id_l, record_id_r, match_weight, probability, {", ".join(lv)} FROM (
            SELECT *, row_number() OVER (PARTITION BY {", ".join(lv)} ORDER BY hash(record_id_l, record_id_r)) AS k
            FROM _scored) WHERE k <= {CHECKED_PER_COMBINATION}""").fetchall()
    ids = list({i for row in sample for i in row[:2]})
    rel = con.execute(f"SELECT * FROM {table} WHERE record_id IN (SELECT unnest(?))", [ids])
    names = [d[0] for d in rel.description]
    rows = {row["record_id"]: stored_form(row) for row in (dict(zip(names, r)) for r in rel.fetchall())}
    prior = weight_from_probability(model.prior)
    for left, right, splink_weight, probability, *levels in sample:
        score = model.score(rows[left], rows[right])
        python_levels = [f.level for f in score.fields]
        python_weight = prior + sum(f.weight for f in score.fields)  # before the registry's rules
        if python_levels != levels or abs(python_weight - splink_weight) > 1e-6 \
                or abs(score.probability - probability) > 1e-9:
            raise RuntimeError(f"batch and real-time scores disagree for a pair ({splink_weight} vs "
                               f"{python_weight}, levels {levels} vs {python_levels}): the comparisons' SQL "
                               "and Python forms have drifted")


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


def score_batch(con: duckdb.DuckDBPyConnection, entries: Iterable[pa.Table], model_path: Path,
                retrain: bool = False, progress: Progress | None = None,
                predict: Callable[[duckdb.DuckDBPyConnection, LinkageModel], Any] | None = None) -> BatchScores:
    """Load the entries (Arrow tables of stored linkage rows), train (or reuse) the model at `model_path`, score
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
    say("applying the registry's rules and checking against the real-time scorer")
    pairs = guarded_pairs(con, model, predictions)
    say("clustering")
    assignments = cluster(con, [(a, b) for a, b, p, _ in pairs if p >= MATCH_THRESHOLD])
    return BatchScores(n, pairs, assignments, trained)
