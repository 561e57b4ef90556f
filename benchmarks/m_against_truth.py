"""EM's m-probabilities against the generated truth, on a registry built by dedupe_scale.py (docs/matching.md,
"EM's m-probabilities against the truth"; docs/benchmarks.md).

    .venv/bin/python benchmarks/dedupe_scale.py --records 100000     # once: builds and trains the registry
    .venv/bin/python benchmarks/m_against_truth.py --records 100000

m is the chance of a comparison level among pairs of records of the same child. The truth's m counts every
pair of records the generator made for one child (null levels left out, as Splink leaves them out); the
model's m is what EM estimated without labels. The corrections set after training (m = u, or counted on the
registry) are not EM's and are left out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import bench_name, reopen  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    ap.add_argument("--mix", default="default", choices=("default", "hard", "held-out"))
    ap.add_argument("--min-gap", type=float, default=0.0,
                    help="print only the levels whose model m and true m differ by at least this factor")
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import select

    from registry.matching.comparisons import SET_AFTER_TRAINING
    from registry.matching.evaluate import read_truth
    from registry.matching.index import from_entry
    from registry.store.models import CaseRecord
    from registry.store.tables.matching import LinkageEntry

    name = bench_name(args.records, args.mix)
    data = args.work / f"children-{name}.csv"
    reg = reopen(args.work / f"home-{name}")
    model = reg.model()
    if model is None:
        sys.exit("no current model: run benchmarks/dedupe_scale.py with the same --records and --mix first")
    truth = read_truth(data.with_suffix(".truth.csv"), data)
    with reg.db.sessions() as s:
        key = {r: (i, ref) for r, i, ref in s.execute(
            select(CaseRecord.record_id, CaseRecord.institution, CaseRecord.source_ref))}
        rows = {e.record_id: from_entry(e) for e in s.scalars(select(LinkageEntry))}
    children = defaultdict(list)
    for record in rows:
        person = truth.person.get(key[record])
        if person is not None:
            children[person].append(record)
    counts: Counter = Counter()  # (comparison index, level index) over true pairs
    pairs = 0
    for records in children.values():
        for i, a in enumerate(records):
            for b in records[i + 1:]:
                pairs += 1
                for ci, f in enumerate(model.score(rows[a], rows[b]).fields):
                    counts[(ci, f.level)] += 1
    print(f"{args.records:,} records ({args.mix} mix), {pairs:,} pairs of records of the same child")
    print("| comparison | level | EM's m | true m | pairs |")
    print("|---|---|---|---|---|")
    for ci, comparison in enumerate(model.comparisons):
        if comparison.name in SET_AFTER_TRAINING:
            continue
        levels = model.settings["comparisons"][ci]["comparison_levels"]
        known = sum(n for (c, li), n in counts.items() if c == ci and not levels[li].get("is_null_level"))
        for li, level in enumerate(levels):
            if level.get("is_null_level") or not known:
                continue
            m, true = float(level["m_probability"]), counts[(ci, li)] / known
            if args.min_gap and max(m, true) < args.min_gap * max(min(m, true), 1e-9):
                continue
            print(f"| {comparison.name} | {comparison.levels[li].label} | {m:.3f} | {true:.3f} | "
                  f"{counts[(ci, li)]:,} |")


if __name__ == "__main__":
    main()
