"""How many candidate pairs each blocking rule makes, on a registry built by dedupe_scale.py.

    .venv/bin/python benchmarks/blocking_pairs.py --records 1000000

Counts sum(n*(n-1)/2) over the blocks of each rule (the pairs Splink would compare), without comparing them;
the rules in use are registry.matching.model.BLOCKING_RULES, the others are the tempting ones that explode.
With the generated truth beside the registry (dedupe_scale.py writes it), it also measures blocking recall:
the share of true pairs (same child) that at least one rule in use puts in a block, overall and across scripts.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from _common import bench_name, reopen  # noqa: E402

from registry.matching.blocking import RULES, BlockingRule  # noqa: E402
from registry.matching.dedupe import load_into_duckdb  # noqa: E402
from registry.matching.model import BLOCKING_RULES  # noqa: E402

TEMPTING = {
    "given skeleton + birth year": ["given_skel", "birth_year"],
    "given + father skeletons": ["given_skel", "father_skel"],
    "given + mother skeletons": ["given_skel", "mother_skel"],
    "family + father skeletons": ["family_skel", "father_skel"],
    "date of birth alone": ["dob_full"],
}


def rule_pairs(con: duckdb.DuckDBPyConnection, rule: BlockingRule) -> int:
    """Pairs a rule (with its mirror) puts in blocks: sum of n(n-1)/2 over the blocks of a rule on the same
    columns, else the sum over keys of (rows with the key on the left) x (rows with it on the right)."""
    left = [a for a, _ in rule.equal] + (["birth_year"] if rule.year_offset is not None else [])
    right = [b for _, b in rule.equal] + (["birth_year"] if rule.year_offset is not None else [])
    # With groups of columns one side must lack (rule.lacking): inclusion-exclusion over the groups, where a
    # group fails for a pair when both sides have all its columns.
    subsets = [s for n in range(len(rule.lacking) + 1) for s in itertools.combinations(rule.lacking, n)]
    having = [" AND ".join(f"{c} IS NOT NULL" for c in sorted({c for g in sub for c in g})) or "true"
              for sub in subsets]
    counts = ", ".join(f"count(*) FILTER ({h}) AS n{i}" for i, h in enumerate(having))
    signs = [(-1) ** len(sub) for sub in subsets]
    if left == right and not rule.year_offset:
        where = " AND ".join(f"{c} IS NOT NULL" for c in left)
        total = " + ".join(f"{sign} * n{i} * (n{i} - 1) / 2" for i, sign in enumerate(signs))
        sql = (f"SELECT coalesce(sum({total}), 0) FROM (SELECT {counts} FROM linkage WHERE {where} "
               f"GROUP BY {', '.join(left)})")
        return int(con.execute(sql).fetchall()[0][0])
    off = rule.year_offset or 0
    lk = ", ".join(f"{c} AS k{i}" for i, c in enumerate(left))
    rk = ", ".join(f"{c}{' + ' + str(off) if c == 'birth_year' and off else ''} AS k{i}"
                   for i, c in enumerate(right))
    keys = ", ".join(f"k{i}" for i in range(len(left)))
    total = " + ".join(f"{sign} * a.n{i} * b.n{i}" for i, sign in enumerate(signs))
    sql = (f"SELECT coalesce(sum({total}), 0) FROM (SELECT {lk}, {counts} FROM linkage GROUP BY ALL) a "
           f"JOIN (SELECT {rk}, {counts} FROM linkage GROUP BY ALL) b USING ({keys})")
    n = int(con.execute(sql).fetchall()[0][0])
    return n // 2 if not rule.mirror else n  # a self-mirroring rule counts each pair both ways


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    ap.add_argument("--mix", default="default", choices=("default", "hard", "held-out"))
    args = ap.parse_args()
    name = bench_name(args.records, args.mix)
    reg = reopen(args.work / f"home-{name}")
    con = duckdb.connect()
    with reg.db.sessions() as s:
        load_into_duckdb(con, reg.index.all_entries(s))
    total = 0
    for rule in RULES:
        n = rule_pairs(con, rule)
        total += n
        print(f"used      {n:>14,d}  {rule.sql()}" + ("" if rule.symmetric else "  (and mirrored)"))
    for label, cols in TEMPTING.items():
        print(f"not used  {rule_pairs(con, BlockingRule(tuple((c, c) for c in cols))):>14,d}  {label}")
    print(f"total of the rules used (before de-duplication across rules): {total:,d}")
    data = args.work / f"children-{name}.csv"
    if data.with_suffix(".truth.csv").exists():
        recall(con, reg, data)


def recall(con: duckdb.DuckDBPyConnection, reg, data: Path) -> None:
    """Blocking recall on the generated truth: true pairs found by at least one rule, and by each rule."""
    import pyarrow as pa
    from sqlalchemy import select

    from registry.matching.evaluate import read_truth
    from registry.store.models import CaseRecord

    truth = read_truth(data.with_suffix(".truth.csv"), data)
    with reg.db.sessions() as s:
        rows = [(r, truth.person[(i, ref)], truth.script.get((i, ref), "")) for r, i, ref in s.execute(
            select(CaseRecord.record_id, CaseRecord.institution, CaseRecord.source_ref)) if (i, ref) in truth.person]
    con.register("_truth", pa.table({"record_id": [r[0] for r in rows], "person_id": [r[1] for r in rows],
                                     "script": [r[2] for r in rows]}))
    con.execute("CREATE OR REPLACE TABLE truth_pairs AS SELECT a.record_id AS id_l, b.record_id AS id_r, "
                "a.script <> b.script AS cross_script FROM _truth a JOIN _truth b "
                "ON a.person_id = b.person_id AND a.record_id < b.record_id")
    cols = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in
                     [d[0] for d in con.execute("DESCRIBE linkage").fetchall()])
    con.execute(f"CREATE OR REPLACE TABLE true_pair_rows AS SELECT t.cross_script, {cols} FROM truth_pairs t "
                "JOIN linkage l ON l.record_id = t.id_l JOIN linkage r ON r.record_id = t.id_r")
    conds = [re.sub(r"\b([lr])\.(\w+)", lambda m: f"{m.group(2)}_{m.group(1)}", rule) for rule in BLOCKING_RULES]
    found = " OR ".join(f"coalesce({c}, false)" for c in conds)
    n, hit, cross, cross_hit = con.execute(
        f"SELECT count(*), count(*) FILTER ({found}), count(*) FILTER (cross_script), "
        f"count(*) FILTER (cross_script AND ({found})) FROM true_pair_rows").fetchall()[0]
    print(f"blocking recall: {hit / n:.4f} of {n:,d} true pairs; across scripts {cross_hit / max(cross, 1):.4f} "
          f"of {cross:,d}")
    print("  found by the rule / by it alone:")
    for i, (rule, c) in enumerate(zip(BLOCKING_RULES, conds)):
        others = " OR ".join(f"coalesce({o}, false)" for j, o in enumerate(conds) if j != i)
        k, alone = con.execute(f"SELECT count(*) FILTER (coalesce({c}, false)), count(*) FILTER "
                               f"(coalesce({c}, false) AND NOT ({others})) FROM true_pair_rows").fetchall()[0]
        print(f"  {k / n:.4f} {alone / n:.4f}  {rule}")


if __name__ == "__main__":
    main()
