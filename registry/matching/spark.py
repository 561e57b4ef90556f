"""Batch deduplication's second engine: Splink's Spark backend (`splink.SparkAPI`), for where one machine is
outgrown (BRIEF section 5). The same model, the same comparisons and the same blocking rules as DuckDB.

What Spark sees: a Parquet export of the linkage index as DuckDB holds it for a run (keyed encodings, birth
year, sex, governorate, record and child pseudonyms), written under the run's work folder and removed
afterwards. No plaintext and no key ever reach Spark: the linkage key is needed only to encode, and encoding
happened at registration. The model is trained (when it must be) on DuckDB over a sample of at most
`dedupe.TRAINING_SAMPLE` records, as on the DuckDB engine; Spark predicts. The pairs come back to the driver
and go through the same guard (`dedupe.guarded_pairs`: the registry's rules in DuckDB SQL, a few pairs of
every combination of levels re-scored by the real-time scorer, stop if they disagree), clustering and review
queue as DuckDB's.

The comparisons' SQL is written for DuckDB (`registry.matching.comparisons`); `spark_sql` translates it,
including the list functions that sqlglot maps wrongly (DuckDB's `len` of a list is Spark's `size`, not
`length`), and refuses any function it does not know a Spark form for.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from registry.matching.dedupe import _LISTS, Predictions, blocked_pairs_sql, tf_lookup
from registry.matching.model import REVIEW_THRESHOLD, ROW_KEY, SPLINK_LOG_LEVEL, LinkageModel

ENGINES = ("duckdb", "spark")
DEFAULT_MASTER = "local[2]"
# List-valued columns of the linkage table, as Splink names them in a comparison (`col_l`, `col_r`).
LIST_COLUMNS = frozenset(f"{c}{side}" for c in _LISTS for side in ("", "_l", "_r"))
# DuckDB list functions and their Spark equivalents (same semantics: distinct elements, NULL in, NULL out).
_FUNCTIONS = {"list_intersect": "ARRAY_INTERSECT"}
# Functions whose meaning is the same in both dialects as sqlglot writes them. Any other function in a
# comparison or blocking rule is refused by name rather than trusted: sqlglot writes some DuckDB list and
# string functions as Spark text that fails or, worse, means something else (len -> length).
_SAME_IN_BOTH = (exp.And, exp.Or, exp.Case, exp.If, exp.Coalesce, exp.Least, exp.Greatest, exp.Nullif, exp.Abs,
                 exp.Cast, exp.Length, exp.ArraySize, exp.Anonymous,
                 # list_filter(l, lambda x: list_contains(r, x)), list_distinct: Spark's filter(l, x -> ...),
                 # array_contains and array_distinct (NULL lists give NULL, and a NULL test drops the element)
                 exp.ArrayFilter, exp.ArrayContains, exp.ArrayDistinct)
# DuckDB's list_has_any, which sqlglot would write as Spark's `a && b` (Spark has no such operator): Spark's
# arrays_overlap, the same for lists without NULL elements (the linkage lists have none; a NULL list gives NULL).
_OVERLAPS = "ARRAYS_OVERLAP"
# Functions whose result is a list (DuckDB's len of them is Spark's size).
_LIST_VALUED = (exp.ArrayFilter, exp.ArrayDistinct)
# Read by the Spark engine on its own session: size(NULL) is NULL as DuckDB's len(NULL) (Spark 3 says -1).
SESSION_SQL_CONF = {"spark.sql.legacy.sizeOfNull": "false", "spark.sql.session.timeZone": "UTC"}
# Only for a session this module starts on a local master; spark-submit's (or a cluster's) settings win.
LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",  # a local master listens on loopback only
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "8",  # Spark's 200 is for clusters: on two cores it is overhead
    # The family comparison's CASE outgrows Java's 64 KB method limit in whole-stage code generation; the failed
    # compile costs more than the code saves on one machine (2,500 records on 2 cores: 47 s against 91 s).
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.memory": "2g",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG}",
}
PREDICTION_COLUMNS = (f"{ROW_KEY}_l", f"{ROW_KEY}_r", "match_weight", "match_probability")


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing, or the Spark master cannot be reached; `field` names the setting."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


def unavailable() -> SparkUnavailable | None:
    """Why the Spark engine cannot run on this machine, or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return SparkUnavailable("engine", "spark needs pyspark: pip install -e '.[spark]'")
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and Path(java_home, "bin", "java").exists()):
        return SparkUnavailable("engine", "spark needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)")
    return None


# ---- the comparisons' SQL in Spark's dialect ----------------------------------------------------------------
def _is_list(node: exp.Expression) -> bool:
    if isinstance(node, exp.Column):
        return node.name in LIST_COLUMNS
    return isinstance(node, _LIST_VALUED) or (isinstance(node, exp.Anonymous) and node.name.lower() in _FUNCTIONS)


def _to_spark(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this=_OVERLAPS, expressions=[node.this.transform(_to_spark),
                                                          node.expression.transform(_to_spark)])
    if isinstance(node, exp.Length) and _is_list(node.this):
        return exp.ArraySize(this=node.this.transform(_to_spark))  # a replaced node's children are not visited
    if isinstance(node, exp.Func) and not isinstance(node, _SAME_IN_BOTH):
        raise ValueError(f"the comparison SQL calls {node.sql_name()}(), which has no Spark form here "
                         "(add it to registry.matching.spark)")
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name not in _FUNCTIONS:
            raise ValueError(f"the comparison SQL calls {node.name}(), which has no Spark form here "
                             "(add it to registry.matching.spark._FUNCTIONS)")
        return exp.Anonymous(this=_FUNCTIONS[name], expressions=node.expressions)
    if isinstance(node, exp.Literal) and not node.is_string and "." in node.this:
        # Spark reads 2.0 as a decimal; DuckDB's arithmetic on it ends in double, as Python's does.
        return exp.Cast(this=node.copy(), to=exp.DataType.build("double"))
    return node


def spark_sql(duckdb_sql: str) -> str:
    """A comparison level's condition or a blocking rule, from DuckDB's dialect to Spark's."""
    if duckdb_sql.strip().upper() == "ELSE":
        return duckdb_sql
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    return tree.transform(_to_spark).sql(dialect="spark")


def spark_settings(model: LinkageModel) -> dict:
    """The model's Splink settings for predict, every SQL condition and blocking rule in Spark's dialect."""
    s = model.splink_settings_for_predict()
    for comparison in s["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = spark_sql(level["sql_condition"])
    s["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": spark_sql(r["blocking_rule"] if isinstance(r, dict) else r), "sql_dialect": "spark"}
        for r in s["blocking_rules_to_generate_predictions"]]
    return s


# ---- the session ----------------------------------------------------------------------------------------------
def spark_session(master: str | None = None) -> Any:
    """The process's Spark session: the one already running (spark-submit's, or an earlier run's), or a new one
    on `master` (REGISTRY_SPARK_MASTER; default local[2])."""
    reason = unavailable()
    if reason:
        raise reason
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        builder = SparkSession.builder.appName("registry-dedupe")
        under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this process: its --master
        if master or not under_submit:
            master = master or DEFAULT_MASTER
            builder = builder.master(master)
            if master.startswith("local"):
                for k, v in LOCAL_CONF.items():
                    builder = builder.config(k, v)
        try:
            active = builder.getOrCreate()
        except Exception as e:  # the JVM's message can be long; its type and first line say enough
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            raise SparkUnavailable("REGISTRY_SPARK_MASTER",
                                   f"no Spark session on {master or 'spark-submit master'}: {first}") from None
    for k, v in SESSION_SQL_CONF.items():
        active.conf.set(k, v)
    return active


# ---- predict ---------------------------------------------------------------------------------------------------
def export_parquet(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> Path:
    """DuckDB's linkage table as one Parquet file in `folder`: what Spark reads, the same columns DuckDB
    scores (keyed encodings and coarse values; lists stay lists)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.parquet"
    con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
    return path


@dataclass
class SparkPredictions:
    """Splink's predictions brought back from Spark, shaped like a SplinkDataFrame for `guarded_pairs`."""

    con: duckdb.DuckDBPyConnection
    table: pa.Table

    def as_duckdbpyrelation(self) -> duckdb.DuckDBPyRelation:
        return self.con.from_arrow(self.table)


@dataclass
class SparkEngine:
    """Splink's predict on Spark: `engine(con, model)` reads DuckDB's `linkage` table through a Parquet export
    in `work` and returns the pairs at or above the review threshold (with Splink's match weight)."""

    work: Path
    master: str | None = None
    table: str = "linkage"

    def __call__(self, con: duckdb.DuckDBPyConnection, model: LinkageModel) -> SparkPredictions:
        from splink import Linker, SparkAPI

        spark = spark_session(self.master)
        export = self.work / f"spark-{secrets.token_hex(6)}"
        view = f"registry_linkage_{export.name.replace('-', '_')}"
        try:
            path = export_parquet(con, self.table, export)
            api = SparkAPI(spark_session=spark, register_udfs_automatically=False, break_lineage_method="persist")
            settings = spark_settings(model)
            rows = spark.read.parquet(str(path))
            linker = Linker(api.register(rows), settings, log_level=SPLINK_LOG_LEVEL)
            for col in model.tf:
                tf = spark.createDataFrame(tf_lookup(model, col).to_pylist(), f"{col} bigint, tf_{col} double")
                linker.table_management.register_term_frequency_lookup(api.register(tf), col)
            # The blocked pairs as on DuckDB (dedupe.blocked_pairs_sql), not Splink's joins with NOT every
            # earlier rule.
            rows.createOrReplaceTempView(view)
            blocked = spark.sql(blocked_pairs_sql(settings, view))
            linker.table_management.register_blocked_pairs_for_predict(api.register(blocked))
            predictions = linker.inference.predict(threshold_match_probability=REVIEW_THRESHOLD)
            keyed = predictions.as_spark_dataframe().select(*PREDICTION_COLUMNS).toArrow()
            # By record id, as DuckDB's predictions are read (the linkage table maps the keys).
            return SparkPredictions(con, Predictions(con, con.from_arrow(keyed), self.table)
                                    .as_duckdbpyrelation().to_arrow_table())
        finally:
            spark.catalog.clearCache()  # Splink persisted its intermediate tables: released with the run
            spark.catalog.dropTempView(view)
            shutil.rmtree(export, ignore_errors=True)
