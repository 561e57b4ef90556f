"""How long one page of the review queue takes on a registry deduplicated by dedupe_scale.py.

    .venv/bin/python benchmarks/review_queue.py --records 1000000

The queue's clusters are stored when a batch run ends, so a page is: key any pairs queued since (registration),
count and page the clusters in SQL, then read that page's pairs. Explanations (one model score per pair) come
on top and are not timed here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import reopen  # noqa: E402

from registry.services.review.queue import _CLUSTER_KEY, _cluster_page, _clusters_by_key, _key_new_pairs, _pair_rows  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    reg = reopen(args.work / f"home-{args.records}")
    times = []
    for page in range(args.pages):
        started = time.perf_counter()
        with reg.db.unit_of_work() as s:
            _key_new_pairs(s)
            total, keys = _cluster_page(s, None, None, None, page * 20, 20)
            clusters = _clusters_by_key(_pair_rows(s, [_CLUSTER_KEY.in_(keys)]))
        times.append(time.perf_counter() - started)
    print(f"{total:,} clusters; a page of {len(clusters)} in a median of {statistics.median(times):.2f} s "
          f"over {args.pages} pages")


if __name__ == "__main__":
    main()
