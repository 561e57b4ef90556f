"""Each level of one comparison among the batch run's candidate pairs, against the generated truth: how many
candidate pairs fall in it, what share of them is the same child, and the weight the model gives it.

    .venv/bin/python benchmarks/dedupe_scale.py --records 100000     # once: builds and trains the registry
    .venv/bin/python benchmarks/level_shares.py --records 100000 --comparison family

Candidate pairs are those the blocking rules give predict (`dedupe.blocked_pairs_sql`), their levels the
model's SQL (`comparisons.level_sql`) over the linkage index loaded as a batch run loads it: keyed encodings
only, the truth joined by record afterwards.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from _common import deduplicated_registry_arguments, linkage_in_duckdb, trained_registry  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    deduplicated_registry_arguments(ap)
    ap.add_argument("--comparison", default="family")
    args = ap.parse_args()
    from registry.matching.comparisons import level_sql
    from registry.matching.dedupe import blocked_pairs_sql
    from registry.matching.model import ROW_KEY

    reg, model, truth, key = trained_registry(args)
    comparison = next((c for c in model.comparisons if c.name == args.comparison), None)
    if comparison is None:
        sys.exit(f"--comparison: one of {', '.join(c.name for c in model.comparisons)}")
    person = {record: truth.person.get(k) for record, k in key.items()}
    con = linkage_in_duckdb(reg)
    con.register("_person", pa.table({"record_id": list(person), "person": list(person.values())}))
    sides = ", ".join(f"{side}.{c} AS {c}_{side}" for side in ("l", "r") for c in comparison.columns)
    rows = con.execute(f"""
        WITH pairs AS (SELECT join_key_l, join_key_r FROM ({blocked_pairs_sql(model.splink_settings_for_predict())})),
        sided AS (
            SELECT {sides}, pl.person IS NOT NULL AND pl.person = pr.person AS same
            FROM pairs p JOIN linkage l ON l.{ROW_KEY} = p.join_key_l JOIN linkage r ON r.{ROW_KEY} = p.join_key_r
            JOIN _person pl ON pl.record_id = l.record_id JOIN _person pr ON pr.record_id = r.record_id)
        SELECT {level_sql(comparison)} AS level, count(*), avg(same::INTEGER) FROM sided
        GROUP BY level ORDER BY level""").fetchall()
    found = {level: (n, share) for level, n, share in rows}
    levels = next(c for c in model.settings["comparisons"] if c["output_column_name"] == comparison.name)
    print(f"{args.records:,} records ({args.mix} mix): {comparison.title}, {sum(n for n, _ in found.values()):,} "
          "candidate pairs")
    print("| level | candidate pairs | the same child | weight (bits) |")
    print("|---|---|---|---|")
    for li, level in enumerate(comparison.levels):
        n, share = found.get(li, (0, 0.0))
        spec = levels["comparison_levels"][li]
        m, u = spec.get("m_probability"), spec.get("u_probability")
        weight = f"{math.log2(m / u):+.1f}" if m and u else "-"
        print(f"| {level.label} | {n:,} | {share:.1%} | {weight} |")


if __name__ == "__main__":
    main()
