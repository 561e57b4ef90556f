"""How long building the review queue takes on a registry deduplicated by dedupe_scale.py.

    .venv/bin/python benchmarks/review_queue.py --records 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import reopen  # noqa: E402

from registry.review.queue import clusters_of, open_pairs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    reg = reopen(args.work / f"home-{args.records}")
    started = time.perf_counter()
    with reg.db.sessions() as s:
        pairs = open_pairs(s)
    read = time.perf_counter()
    clusters = clusters_of(pairs)
    done = time.perf_counter()
    print(f"{len(pairs):,} open pairs read in {read - started:.1f} s; "
          f"{len(clusters):,} clusters built in {done - read:.1f} s")


if __name__ == "__main__":
    main()
