"""Spark as the batch engine (docs/scale-out.md): on local[2], the same pairs with the same probabilities as
DuckDB, the same clusters and review queue through the same service, and only keyed encodings handed over.

One Spark session serves the module. Where pyspark or Java is missing the Spark tests skip with the reason,
except under REGISTRY_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from registry.cli import app
from registry.config import load_settings
from registry.identity import validate_identity
from registry.matching.comparisons import COMPARISONS
from registry.matching.dedupe import duckdb_connection, guarded_pairs, load_into_duckdb, predict_pairs, score_batch
from registry.matching.model import BLOCKING_RULES, LinkageModel
from registry.matching.spark import (
    SparkEngine,
    SparkPredictions,
    export_parquet,
    spark_session,
    spark_sql,
    unavailable,
)
from registry.services.context import init_registry, open_registry
from registry.services.dedupe import run_dedupe
from registry.services.registration import register_records
from registry.store.tables.matching import ClusterAssignment, DedupeRun, SuspectedDuplicate
from registry.synth import generate

RECORDS = 1500


def _require_spark() -> None:
    reason = unavailable()
    if reason:
        if os.environ.get("REGISTRY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}, and REGISTRY_REQUIRE_POSTGRES=1 (CI) forbids skipping")
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def spark():
    _require_spark()
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def duckdb_run(tmp_path_factory, registry_factory):
    """A generated registry deduplicated on DuckDB (which trains and saves the model); its queue and clusters."""
    home = tmp_path_factory.mktemp("spark")
    reg = registry_factory(home / "home", f"sqlite:///{home / 'registry.db'}")
    valid = [validate_identity(r.row) for r in generate(RECORDS, seed=23).records if not r.bad_row]
    with reg.db.unit_of_work() as s:
        register_records(reg, s, [(i, None) for i in valid])
    result = run_dedupe(reg, engine="duckdb")
    yield reg, valid, result, _stored(reg)
    reg.close()


def _stored(reg):
    with reg.db.sessions() as s:
        queue = {(p.record_a, p.record_b): (p.status, p.probability, p.match_weight)
                 for p in s.scalars(select(SuspectedDuplicate))}
        clusters = {a.record_id: a.cluster_id for a in s.scalars(select(ClusterAssignment))}
    return queue, clusters


def _linkage(reg, work):
    con = duckdb_connection(work)
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    return con


# ---- the dialect, without Spark -------------------------------------------------------------------------------
def test_every_comparison_level_and_blocking_rule_has_a_spark_form():
    for c in COMPARISONS:
        for level in c.levels:
            out = spark_sql(level.sql)
            assert "LIST_" not in out.upper() and "LEN(" not in out.upper().replace("NULLIF", "")
    # DuckDB's len() of a list is Spark's size(), not length(); 2.0 is a double, not a decimal, in both.
    dice = spark_sql(next(lv for lv in COMPARISONS[0].levels if lv.label == "similar spelling").sql)
    assert "SIZE(ARRAY_INTERSECT(given_grams_l, given_grams_r))" in dice and "LENGTH" not in dice
    assert "CAST(2.0 AS DOUBLE)" in dice
    assert spark_sql("len(given_key_l) > 3") == "LENGTH(given_key_l) > 3"  # a string keeps its length
    # The family's shared parts: DuckDB's list filter with a lambda is Spark's filter with an arrow.
    family = spark_sql(next(c for c in COMPARISONS if c.name == "family").levels[1].sql)
    assert "SIZE(ARRAY_DISTINCT(FILTER(chain_keys_l, x -> ARRAY_CONTAINS(chain_keys_r, x))))" in family
    for rule in BLOCKING_RULES:
        assert spark_sql(rule)


def test_a_duckdb_function_without_a_spark_form_is_refused_by_name():
    with pytest.raises(ValueError, match=r"calls registry_udf\(\), which has no Spark form"):
        spark_sql("registry_udf(chain_keys_l, chain_keys_r) > 1")
    with pytest.raises(ValueError, match=r"calls ARRAY_SORT\(\), which has no Spark form"):
        spark_sql("list_sort(chain_keys_l) = chain_keys_r")


def test_list_has_any_is_sparks_arrays_overlap():
    """sqlglot would write DuckDB's list_has_any as Spark's `a && b`, which Spark does not have."""
    assert spark_sql("list_has_any(given_ids_l, given_ids_r)") == "ARRAYS_OVERLAP(given_ids_l, given_ids_r)"
    assert spark_sql("NOT list_has_any(list_distinct(given_ids_l), given_ids_r)") == \
        "NOT ARRAYS_OVERLAP(ARRAY_DISTINCT(given_ids_l), given_ids_r)"
    same_name = next(lv for lv in COMPARISONS[0].levels if lv.label == "same name")
    assert spark_sql(same_name.sql) == "ARRAYS_OVERLAP(given_ids_l, given_ids_r)"


def test_the_guard_checks_what_spark_returns(duckdb_run, tmp_path):
    """Splink's weight from Spark goes through the real-time scorer's check: a wrong one stops the run."""
    reg, _, _, _ = duckdb_run
    con = _linkage(reg, tmp_path)
    model = LinkageModel.load(reg.settings.model_path)
    right = predict_pairs(con, model)[1].as_duckdbpyrelation().to_arrow_table()
    table = right.select(["record_id_l", "record_id_r", "match_weight", "match_probability"])
    assert len(guarded_pairs(con, model, SparkPredictions(con, table))) > 100
    weights = table.column("match_weight").to_pylist()
    wrong = table.set_column(2, "match_weight", pa.array([w + 0.01 for w in weights]))
    with pytest.raises(RuntimeError, match="batch and real-time scores disagree"):
        guarded_pairs(con, model, SparkPredictions(con, wrong))


def test_the_parquet_export_holds_the_linkage_columns_only_and_no_plaintext(duckdb_run, tmp_path):
    reg, valid, _, _ = duckdb_run
    con = _linkage(reg, tmp_path / "work")
    path = export_parquet(con, "linkage", tmp_path / "export")
    exported = pq.read_table(path)
    assert exported.column_names == [d[0] for d in con.execute("SELECT * FROM linkage LIMIT 0").description]
    assert exported.num_rows == len(valid)
    text = " ".join(str(v) for name in exported.column_names if name not in ("record_id", "child_id")
                    for v in exported.column(name).to_pylist())
    checked = 0
    for identity in valid[:300]:
        for value in (identity.given_name, identity.family_name, identity.father_name, identity.national_id):
            if value and len(value) >= 4 and not all(ch in "0123456789abcdef" for ch in value.lower()):
                assert value not in text and value.lower() not in text
                checked += 1
    assert checked > 300


# ---- Spark on local[2] ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_spark_and_duckdb_give_the_same_pairs_probabilities_and_clusters(spark, duckdb_run, tmp_path):
    reg, _, _, _ = duckdb_run
    con = _linkage(reg, tmp_path / "work")
    model = LinkageModel.load(reg.settings.model_path)
    by_duckdb = predict_pairs(con, model)[1].as_duckdbpyrelation().to_arrow_table()
    spark_predictions = SparkEngine(tmp_path / "work")(con, model)
    by_spark = spark_predictions.table

    def splink(table: pa.Table) -> dict:
        rows = zip(*(table.column(c).to_pylist() for c in ("record_id_l", "record_id_r", "match_probability",
                                                            "match_weight")))
        return {tuple(sorted((a, b))): (p, w) for a, b, p, w in rows}

    d, s = splink(by_duckdb), splink(by_spark)
    assert len(d) > 300 and set(d) == set(s)
    assert max(abs(d[k][0] - s[k][0]) for k in d) < 1e-6
    assert max(abs(d[k][1] - s[k][1]) for k in d) < 1e-6
    assert not list((tmp_path / "work").glob("spark-*")), "the Parquet export outlived the run"

    # The whole batch path (the guard, the twin rule, clustering) on both engines' predictions (Spark's
    # from above: one Spark predict per test is enough, and a cold one takes tens of seconds).
    def batch(predict):
        with reg.db.sessions() as session:
            return score_batch(con, reg.index.all_entries(session), reg.settings.model_path, predict=predict)

    on_duckdb, on_spark = batch(None), batch(lambda _con, _model: spark_predictions)
    assert {(a, b): p for a, b, p, _ in on_duckdb.pairs}.keys() == {(a, b): p for a, b, p, _ in on_spark.pairs}.keys()
    assert max(abs(x[2] - y[2]) for x, y in zip(sorted(on_duckdb.pairs), sorted(on_spark.pairs))) < 1e-6
    assert sorted(on_duckdb.assignments) == sorted(on_spark.assignments)
    assert on_spark.clusters < on_spark.records  # duplicates were clustered, not every record alone
    con.close()


@pytest.mark.slow
def test_the_engine_setting_runs_dedupe_on_spark_into_the_same_queue_and_clusters(spark, duckdb_run):
    """`registry dedupe` with REGISTRY_DEDUPE_ENGINE=spark: the service's run on Spark leaves the review queue and
    the clusters exactly as the DuckDB run left them."""
    reg, _, first, (queue, clusters) = duckdb_run
    env = {"REGISTRY_HOME": str(reg.settings.home), "REGISTRY_DATABASE_URL": reg.settings.database_url,
           "REGISTRY_KEY_DIR": str(reg.settings.key_dir), "REGISTRY_DEDUPE_ENGINE": "spark",
           "REGISTRY_SPARK_MASTER": "local[2]"}
    out = CliRunner().invoke(app, ["dedupe"], env=env)
    assert out.exit_code == 0, out.output
    # The DuckDB run merged the same-child pairs already: nothing more to merge, nothing new to queue.
    assert (f"{first.records} records, {first.pairs_scored} pairs scored possible or same child; 0 merged "
            f"automatically (same child), {first.open_pairs} open in the review queue (0 new), {first.clusters} "
            f"clusters (spark)") in " ".join(out.output.split())
    again, clusters_again = _stored(reg)
    assert clusters_again == clusters
    assert {k: v[0] for k, v in again.items()} == {k: v[0] for k, v in queue.items()}  # none went stale
    assert all(abs(again[k][1] - queue[k][1]) < 1e-6 for k in queue)
    assert not list(reg.settings.work_dir.glob("spark-*")), "the Parquet export outlived the run"


# ---- the command line -----------------------------------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_HOME", str(tmp_path / "home"))
    for name in ("REGISTRY_DATABASE_URL", "REGISTRY_KEY_DIR", "REGISTRY_VAULT_MASTER_KEYS",
                 "REGISTRY_DEDUPE_ENGINE", "REGISTRY_SPARK_MASTER"):
        monkeypatch.delenv(name, raising=False)
    reg, _ = init_registry(load_settings())
    reg.close()
    return tmp_path / "home"


def test_an_unknown_engine_is_refused_with_the_field_and_reason(home, monkeypatch):
    out = CliRunner().invoke(app, ["dedupe", "--engine", "nonsense"])
    assert out.exit_code == 2
    assert "engine: unknown engine 'nonsense': one of duckdb, spark" in out.output
    assert "Traceback" not in out.output
    # The setting is checked with every other setting, by the `registry` command itself.
    env = {**os.environ, "REGISTRY_DEDUPE_ENGINE": "sparkle"}
    done = subprocess.run([str(Path(sys.executable).parent / "registry"), "dedupe"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "settings: REGISTRY_DEDUPE_ENGINE: input should be 'duckdb' or 'spark'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_spark_without_java_is_refused_before_anything_is_written(home, monkeypatch):
    """No `java` on PATH and no JAVA_HOME: the run is refused with the field and the reason; no run is recorded."""
    monkeypatch.setenv("PATH", str(home))  # a folder without java
    monkeypatch.delenv("JAVA_HOME", raising=False)
    out = CliRunner().invoke(app, ["dedupe", "--engine", "spark"])
    assert out.exit_code == 2, out.output
    assert "engine: spark needs" in out.output  # pyspark, where it is missing too; else Java 17
    assert "Traceback" not in out.output
    reg = open_registry(load_settings())
    with reg.db.sessions() as s:
        assert s.scalars(select(DedupeRun)).first() is None
    reg.close()
