"""How many candidate pairs each blocking rule makes, on a registry built by dedupe_scale.py.

    .venv/bin/python benchmarks/blocking_pairs.py --records 1000000

Counts sum(n*(n-1)/2) over the blocks of each rule (the pairs Splink would compare), without comparing them;
the rules in use are registry.matching.model.BLOCKING_RULES, the others are the tempting ones that explode.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _common import reopen  # noqa: E402

from registry.matching.dedupe import load_into_duckdb  # noqa: E402
from registry.matching.model import BLOCKING_RULES  # noqa: E402

TEMPTING = {
    "given skeleton + birth year": ["given_skel", "birth_year"],
    "given + father skeletons": ["given_skel", "father_skel"],
    "given + mother skeletons": ["given_skel", "mother_skel"],
    "family + father skeletons": ["family_skel", "father_skel"],
    "date of birth alone": ["dob_full"],
}


def columns_of(rule: str) -> list[str]:
    return sorted(set(re.findall(r"l\.(\w+) = r\.\1", rule)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    reg = reopen(args.work / f"home-{args.records}")
    con = duckdb.connect()
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    total = 0
    rows = [(r, columns_of(r), True) for r in BLOCKING_RULES] + [(n, c, False) for n, c in TEMPTING.items()]
    for name, cols, used in rows:
        where = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        n = con.execute(f"SELECT coalesce(sum(c * (c - 1) / 2), 0) FROM (SELECT count(*) AS c FROM linkage "
                        f"WHERE {where} GROUP BY {', '.join(cols)})").fetchall()[0][0]
        total += int(n) if used else 0
        print(f"{'used' if used else 'not used':9s} {int(n):>14,d}  {name if not used else ' + '.join(cols)}")
    print(f"total of the rules used (before de-duplication across rules): {total:,d}")


if __name__ == "__main__":
    main()
