"""The correction "given name inside an agreeing family" against the generated truth, on a registry built by
dedupe_scale.py (docs/matching.md, docs/benchmarks.md).

    .venv/bin/python benchmarks/dedupe_scale.py --records 100000     # once: builds and trains the registry
    .venv/bin/python benchmarks/given_in_family.py --records 100000

For the pairs whose family agrees in two, three and four or more parts (none differing; every pair of records
sharing a father, grandfather or family key, blocks of at most 300 records), with the truth beside them: how
often a non-matching pair shares the given name ("1 in N"), the correction that implies (the given name's
weight inside the stratum, log2(P(same name | match) / P(same name | non-match)), less its registry-wide
weight) and the correction the registry measured without labels (the model's "given_in_family" levels).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import deduplicated_registry, deduplicated_registry_arguments  # noqa: E402

STRATA = {"four or more parts agree, none differ": 0, "three parts agree, none differ": 1,
          "two parts agree, none differ": None}  # -> the correction's level (None: not corrected)
MAX_BLOCK = 300


def main() -> None:
    ap = argparse.ArgumentParser()
    deduplicated_registry_arguments(ap)
    args = ap.parse_args()
    model, truth, key, rows = deduplicated_registry(args)
    blocks = defaultdict(set)
    for record, row in rows.items():
        for k in row["chain_keys"]:
            blocks[k].add(record)
    counts: Counter = Counter()  # (stratum, match, same given name)
    seen: set[tuple[str, str]] = set()
    names = [c.name for c in model.comparisons]
    gi, fi = names.index("given"), names.index("family")
    for members in blocks.values():
        if len(members) > MAX_BLOCK:
            continue
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                if (a, b) in seen:
                    continue
                seen.add((a, b))
                fields = model.score(rows[a], rows[b]).fields
                if fields[fi].label in STRATA:
                    match = truth.person.get(key[a]) == truth.person.get(key[b])
                    counts[(fields[fi].label, match, fields[gi].label == "same name")] += 1
    same_level = next(i for i, lv in enumerate(model.comparisons[gi].levels) if lv.label == "same name")
    registry_wide = model.level_weight(gi, same_level)
    ci = names.index("given_in_family")
    print(f"{args.records:,} records ({args.mix} mix); the same given name weighs {registry_wide:+.2f} bits "
          f"registry-wide; measured without labels: {model.data.get('given_in_family')}")
    print("| family agrees in | non-matching pairs | of them sharing the given name | implied by the truth "
          "| measured by the registry |")
    print("|---|---|---|---|---|")
    for stratum, level in STRATA.items():
        non = counts[(stratum, False, True)] + counts[(stratum, False, False)]
        matches = counts[(stratum, True, True)] + counts[(stratum, True, False)]
        if not non or not matches:
            continue
        shared = counts[(stratum, False, True)]
        m, u = counts[(stratum, True, True)] / matches, max(shared, 0.5) / non
        implied = math.log2(m / u) - registry_wide
        measured = f"{model.level_weight(ci, level):+.2f} bits" if level is not None else "not corrected"
        parts = stratum.split(",")[0].replace(" agree", "")
        print(f"| {parts} | {non:,} | {shared:,} (1 in {non / max(shared, 0.5):,.0f}) | {implied:+.2f} bits "
              f"| {measured} |")


if __name__ == "__main__":
    main()
