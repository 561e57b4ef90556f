"""The yardstick: plain Splink with its standard name and date comparisons on the RAW plain-text names.

Used only by `registry evaluate` on generated data, to show what the registry's encodings, name matching and
family comparison add. It is handed the generated records, validated (plain text never leaves this process).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

MATCH_THRESHOLD = 0.95


def _rows(identities: Iterable[Any]) -> list[dict]:
    """Each record: an identity with its institution and source_ref (registry.identity.Identity)."""
    rows = []
    for i in identities:
        rows.append({
                "unique_id": f"{i.institution}\t{i.source_ref}",
                "given_name": (i.given_name or "").lower() or None,
                "father_name": (i.father_name or "").lower() or None,
                "family_name": (i.family_name or "").lower() or None,
                "mother_given_name": (i.mother_given_name or "").lower() or None,
                "dob": i.date_of_birth.isoformat().lstrip("~") if i.date_of_birth else None,
                "birth_year": str(i.date_of_birth.year) if i.date_of_birth else None,
                "sex": i.sex,
                "national_id": i.national_id,
            })
    return rows


def baseline_clusters(identities: Iterable[Any], work_dir: Path) -> dict[tuple[str, str], str]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, block_on

    work_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work_dir / "baseline.duckdb"))
    con.register("_rows", pa.Table.from_pylist(_rows(identities)))
    con.execute("CREATE OR REPLACE TABLE baseline_input AS SELECT * FROM _rows")
    api = DuckDBAPI(con)
    settings = {
        "link_type": "dedupe_only",
        "comparisons": [
            cl.NameComparison("given_name"),
            cl.NameComparison("father_name"),
            cl.NameComparison("family_name"),
            cl.NameComparison("mother_given_name"),
            cl.LevenshteinAtThresholds("dob", [1, 2]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("national_id"),
        ],
        "blocking_rules_to_generate_predictions": [
            block_on("given_name", "birth_year"),
            block_on("family_name", "father_name"),
            block_on("dob", "family_name"),
            block_on("national_id"),
        ],
    }
    linker = Linker(api.register("baseline_input"), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "dob"), block_on("national_id")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "family_name"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=MATCH_THRESHOLD)
    out = {}
    for uid, cid in clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall():
        inst, ref = uid.split("\t", 1)
        out[(inst, ref)] = str(cid)
    con.close()
    return out
