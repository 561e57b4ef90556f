"""How much the u estimate's random sample of pairs moves a trained model: the same registry and training sample,
trained once per seed, the u-probabilities of the strongest levels side by side.

    .venv/bin/python benchmarks/dedupe_scale.py --records 1000000                 # once: builds the registry
    .venv/bin/python benchmarks/training_spread.py --records 1000000               # 2 million pairs, as today
    .venv/bin/python benchmarks/training_spread.py --records 1000000 --max-u-pairs 2e7
    .venv/bin/python benchmarks/training_spread.py --records 1000000 --seeds 42 7 3 11 --stratify-from 1e12
        # Splink's sample alone (as before model._stratified_u); --stratify-from 0 stratifies any registry

Nothing is written to the registry: the index is loaded into a scratch DuckDB and trained as `train_model` does
(the same whole-family sample), with `model.train`'s seed and pair budget varied. Keyed encodings only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import bench_name, reopen  # noqa: E402

LEVELS = {"given": ("same name", "same sound"), "family": ("four or more parts agree, none differ",
                                                          "three parts agree, none differ"),
          "dob": ("same date",)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    ap.add_argument("--max-u-pairs", type=float, default=2e6)
    ap.add_argument("--mix", default="default", choices=("default", "hard", "held-out"))
    ap.add_argument("--stratify-from", type=float, help="model.STRATIFY_FROM for this run (records)")
    args = ap.parse_args()

    from registry.matching import dedupe, model
    from registry.matching.model import train

    if args.stratify_from is not None:
        model.STRATIFY_FROM = args.stratify_from
    reg = reopen(args.work / f"home-{bench_name(args.records, args.mix)}")
    con = dedupe.duckdb_connection(Path(tempfile.mkdtemp()))
    with reg.db.sessions() as s:
        n = dedupe.load_into_duckdb(con, reg.index.all_entries(s))
    sample = dedupe.training_sample(con, "linkage", n)
    stratified = "stratified" if n >= model.STRATIFY_FROM else "not stratified"
    print(f"{n:,} records, EM on {sample}, u from {args.max_u_pairs:,.0f} random pairs, {stratified}")
    for seed in args.seeds:
        started = time.perf_counter()
        trained = train(con, "linkage", em_table=sample, seed=seed, max_u_pairs=args.max_u_pairs)
        u = {(c["output_column_name"], lv.get("label_for_charts")): lv.get("u_probability")
             for c in trained.data["splink_settings"]["comparisons"] for lv in c["comparison_levels"]}
        shown = ", ".join(f"{name} {label!r} {u[(name, label)]:.2e}" for name, labels in LEVELS.items()
                          for label in labels if u.get((name, label)) is not None)
        print(f"seed {seed}: {time.perf_counter() - started:.1f} s; u: {shown}")


if __name__ == "__main__":
    main()
