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
    ap.add_argument("--misses", type=Path, default=None,
                    help="write the profile of the true pairs no rule blocks to this CSV (keep it out of the "
                         "repository: which columns each side has, and which are equal; no tokens, no names)")
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
        if args.misses:
            misses(con, args.misses)


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
    con.execute(f"CREATE OR REPLACE TABLE missed_pairs AS SELECT * FROM true_pair_rows WHERE NOT ({found})")
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


# The columns of a missed pair's profile: each one's state, E (both sides, equal), D (both, different), 1 (one
# side only), 0 (neither).
PROFILE_COLUMNS = ("given_skel", "given_key", "father_skel", "family_skel", "mother_skel", "mother_family_skel",
                   "birth_year", "dob_ym", "dob_md", "dob_full", "nid", "governorate", "sex")


def _state(c: str) -> str:
    return (f"CASE WHEN {c}_l IS NULL AND {c}_r IS NULL THEN '0' WHEN {c}_l IS NULL OR {c}_r IS NULL THEN '1' "
            f"WHEN {c}_l = {c}_r THEN 'E' ELSE 'D' END")


def misses(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The true pairs no rule blocks, as a profile (no tokens): each column's state (PROFILE_COLUMNS), the
    year gap, whether a side's father skeleton is the other's family skeleton, whether the given names share a
    dictionary id, the swapped date, the chain's parts on each side and how many skeletons they share; then a
    count by the states of given name, father, family, year and day and month."""
    states = ", ".join(f"{_state(c)} AS {c}" for c in PROFILE_COLUMNS)
    con.execute(f"""CREATE OR REPLACE TABLE miss_profile AS SELECT cross_script, {states},
        abs(birth_year_l - birth_year_r) AS year_gap,
        coalesce(father_skel_l = family_skel_r OR family_skel_l = father_skel_r, false) AS father_as_family,
        coalesce(father_skel_l = mother_skel_r OR mother_skel_l = father_skel_r, false) AS father_as_mother,
        len(list_intersect(given_ids_l, given_ids_r)) > 0 AS given_ids_shared,
        coalesce(dob_swap_l = dob_full_r OR dob_full_l = dob_swap_r, false) AS dob_swapped,
        len(chain_skels_l) AS chain_l, len(chain_skels_r) AS chain_r,
        len(list_intersect(chain_skels_l, chain_skels_r)) AS chain_shared,
        coalesce(list_contains(chain_skels_r, family_skel_l) OR list_contains(chain_skels_l, family_skel_r),
                 false) AS family_in_chain,
        coalesce(list_contains(chain_skels_r, father_skel_l) OR list_contains(chain_skels_l, father_skel_r),
                 false) AS father_in_chain
        FROM missed_pairs""")
    con.execute(f"COPY miss_profile TO '{path}' (HEADER, DELIMITER ',')")
    total = con.execute("SELECT count(*) FROM miss_profile").fetchall()[0][0]
    print(f"{total:,d} missed true pairs written to {path}; the commonest states "
          "(given, father, family, year, day and month; E equal, D different, 1 one side, 0 neither):")
    for row in con.execute("SELECT given_skel, father_skel, family_skel, birth_year, dob_md, count(*) AS n, "
                           "count(*) FILTER (cross_script) FROM miss_profile GROUP BY ALL ORDER BY n DESC "
                           "LIMIT 25").fetchall():
        print(f"  {' '.join(row[:5])}  {row[5]:>7,d} ({row[6]:,d} across scripts)")


if __name__ == "__main__":
    main()
