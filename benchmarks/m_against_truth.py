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
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import deduplicated_registry, deduplicated_registry_arguments  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    deduplicated_registry_arguments(ap)
    args = ap.parse_args()
    from registry.matching.comparisons import SET_AFTER_TRAINING

    model, truth, key, rows = deduplicated_registry(args)
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
            print(f"| {comparison.name} | {comparison.levels[li].label} | {m:.3f} | {true:.3f} | "
                  f"{counts[(ci, li)]:,} |")


if __name__ == "__main__":
    main()
