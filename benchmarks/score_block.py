"""The real-time lookup's block scoring alone (`LinkageModel.score_block`), on a registry built by
dedupe_scale.py: the candidate blocks of the same queries as lookup_latency.py are fetched first, then scored
several times; CPU time per lookup, median of the passes.

    .venv/bin/python benchmarks/dedupe_scale.py --records 1000000      # once: builds and trains the registry
    .venv/bin/python benchmarks/score_block.py --records 1000000 --queries 500
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import reopen  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    from registry.identity import validate_identity

    reg = reopen(args.work / f"home-{args.records}")
    rows = []
    with open(args.work / f"children-{args.records}.csv", newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):  # the queries of lookup_latency.py
            if i % 97 == 0:
                rows.append(row)
            if len(rows) >= args.queries * 3:
                break
    random.Random(5).shuffle(rows)
    identities = []
    for row in rows:
        try:
            identities.append(validate_identity(row))
        except Exception:
            continue
    model = reg.model()
    blocks = []
    with reg.db.sessions() as s:
        for identity in identities[: args.queries]:
            encoded = reg.index.encoder.encode("query", "", identity)
            blocks.append((encoded.as_dict(), reg.index.candidates(s, encoded)))
    sizes = [len(b) for _, b in blocks]
    print(f"{len(blocks)} blocks: {sum(sizes):,} candidates, median {statistics.median(sizes)}, largest {max(sizes)}")
    gc.collect()
    passes = []
    for _ in range(args.passes):
        t = time.process_time()
        for query, block in blocks:
            model.score_block(query, block, 0.05)
        passes.append((time.process_time() - t) / len(blocks) * 1000)
    print(f"score_block: median {statistics.median(passes):.3f} ms a lookup (passes "
          f"{', '.join(f'{p:.3f}' for p in passes)})")
    reg.close()


if __name__ == "__main__":
    main()
