"""Real-time lookup latency against a registry deduplicated by dedupe_scale.py (default: 1,000,000 records).

    .venv/bin/python benchmarks/dedupe_scale.py --records 1000000      # once: builds and trains the registry
    .venv/bin/python benchmarks/lookup_latency.py --records 1000000 --queries 500

In process: `registry.services.lookups.find_matches` (candidates from indexed blocking keys, scored with the
trained model). Through HTTP: `POST /v1/lookups` on uvicorn over loopback, with a caseworker's token, auth,
policy, quota, audit and disclosure included, and the anti-timing floor (REGISTRY_LOOKUP_MIN_SECONDS) set to
0 so the figure is the work itself. Queries are generated records, half of them duplicates of registered
children written another way.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import reopen  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--no-answers", action="store_true", help="latency only (skip the answers by band)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "registry-bench-dedupe")
    args = ap.parse_args()
    home = args.work / f"home-{args.records}"
    data = args.work / f"children-{args.records}.csv"
    reg = reopen(home)
    from registry.store.tables.matching import LinkageEntry

    for index in LinkageEntry.__table__.indexes:  # a registry built before the current candidate keys
        index.create(reg.db.engine, checkfirst=True)
    from registry.identity import validate_identity
    from registry.services.lookups import find_matches

    rows = []
    with open(data, newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i % 97 == 0:
                rows.append(row)
            if len(rows) >= args.queries * 3:
                break
    random.Random(5).shuffle(rows)
    queries = []
    for row in rows:
        try:
            queries.append((row, validate_identity(row)))
        except Exception:
            continue
    queries = queries[: args.queries]
    find_matches(reg, queries[0][1], set())  # warm: model and dictionary loaded
    from registry.services.lookups import warm_up

    warm_up(reg)  # as the served app does at start-up
    inproc, cpu = [], []
    found = 0
    for _, identity in queries:
        t, c = time.perf_counter(), time.process_time()
        found += bool(find_matches(reg, identity, set()))
        inproc.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    print(f"in process: {len(inproc)} lookups, p50 {statistics.median(inproc):.1f} ms, "
          f"p95 {percentile(inproc, 95):.1f} ms, p99 {percentile(inproc, 99):.1f} ms, max {max(inproc):.1f} ms "
          f"({found} with a match; load average {os.getloadavg()[0]:.1f})", flush=True)
    # CPU time per lookup: the work itself, which a busy shared machine hides in the wall times.
    print(f"in process, CPU time: p50 {statistics.median(cpu):.1f} ms, p95 {percentile(cpu, 95):.1f} ms, "
          f"p99 {percentile(cpu, 99):.1f} ms, max {max(cpu):.1f} ms", flush=True)

    if not args.no_answers:
        answers(reg, queries, data)
    http = http_latencies(reg, queries)
    print(f"through HTTP: {len(http)} lookups, p50 {statistics.median(http):.1f} ms, "
          f"p95 {percentile(http, 95):.1f} ms, p99 {percentile(http, 99):.1f} ms, max {max(http):.1f} ms "
          f"(load average {os.getloadavg()[0]:.1f})", flush=True)


def answers(reg, queries, data: Path) -> None:
    """What the lookups answer, in the batch run's calibrated bands (likely = same child, possible = the review
    queue's), on the probability that the child is known (`services.lookups.known`; beside it, on the best
    candidate alone): an exact copy of a registered record (the query is the record itself), and the same child
    written another way (the query's own record left out, so only another registration of that child can
    answer, whether a batch run has merged it into the same child or not). Queries with the minimum fields a
    lookup asks for. Then how honest "known" is: every query with its own record left out, by band of the
    probability said, against whether another registration of the child exists."""
    from sqlalchemy import select

    from registry.consent.disclosure import answer_lookup, match_class
    from registry.matching import lookup as matching
    from registry.matching.evaluate import read_truth
    from registry.services.lookups import KNOWN_FLOOR, check_minimum_fields, known
    from registry.store.models import CaseRecord

    truth = read_truth(data.with_suffix(".truth.csv"))
    with reg.db.sessions() as s:
        record_of = {(i, ref): r for i, ref, r in s.execute(
            select(CaseRecord.institution, CaseRecord.source_ref, CaseRecord.record_id))}
    records_of: dict[str, set[str]] = {}
    for k, person in truth.person.items():
        if k in record_of:
            records_of.setdefault(person, set()).add(record_of[k])
    exact = {"likely-match": 0, "possible-match": 0, "no-match": 0}
    other, exact_best, other_best = dict(exact), dict(exact), dict(exact)
    said: list[tuple[float, bool]] = []
    for _, identity in queries:
        try:
            check_minimum_fields(identity)
        except Exception:
            continue
        key = (identity.institution, identity.source_ref)
        own, person = record_of.get(key), truth.person.get(key)
        if own is None or person is None:
            continue
        others = records_of.get(person, set()) - {own}
        for tally, best, left_out, wanted in ((exact, exact_best, set(), True), (other, other_best, {own}, others)):
            with reg.db.sessions() as s:
                matches = matching.find_matches(s, reg.index, reg.model(), identity, excluded_children=set(),
                                                threshold=KNOWN_FLOOR, exclude_records=left_out)
            if left_out:
                said.append((known(matches), bool(others)))
            if wanted:
                tally[answer_lookup(matches, {}, {}, known=known(matches)).outcome] += 1
                best[match_class(max((m.probability for m in matches), default=0.0))] += 1
    for label, tally, best in (("exact copy of a registered record", exact, exact_best),
                               ("the same child registered another way", other, other_best)):
        n = sum(tally.values()) or 1
        print(f"{label}: {sum(tally.values())} lookups; likely match {tally['likely-match'] / n:.3f}, "
              f"at least possible {1 - tally['no-match'] / n:.3f} (on the best candidate alone: "
              f"{best['likely-match'] / n:.3f}, {1 - best['no-match'] / n:.3f})", flush=True)
    bands = ((0.0, 0.05), (0.05, 0.5), (0.5, 0.9), (0.9, 0.999), (0.999, 1.01))
    for low, high in bands:
        inside = [(p, k) for p, k in said if low <= p < high]
        if inside:
            print(f"  known said {low}-{min(high, 1.0)}: {len(inside)} lookups, mean said "
                  f"{sum(p for p, _ in inside) / len(inside):.3f}, the child was known "
                  f"{sum(k for _, k in inside) / len(inside):.3f}", flush=True)


def http_latencies(reg, queries) -> list[float]:

    import httpx
    import uvicorn

    from registry.api import create_app
    from registry.services import accounts

    reg.settings = reg.settings.model_copy(update=dict(lookup_min_seconds=0.0,
                                                       lookup_quota_per_user_per_hour=10**9,
                                                       lookup_quota_per_agency_per_hour=10**9))
    token = caseworker_token(reg, accounts)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(create_app(reg), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    out = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as c:
        for row, _ in queries:
            body = {k: row[k] for k in ("given_name", "father_name", "grandfather_name", "family_name",
                                        "mother_given_name", "full_name", "sex", "date_of_birth", "governorate",
                                        "national_id") if row.get(k)}
            body["purpose"] = "registration"
            t = time.perf_counter()
            r = c.post("/v1/lookups", json=body)
            out.append((time.perf_counter() - t) * 1000)
            if r.status_code not in (200, 422):
                raise SystemExit(f"lookup failed: {r.status_code} {r.text[:300]}")
    server.should_exit = True
    thread.join(5)
    return out


def caseworker_token(reg, accounts) -> str:
    """A caseworker of a benchmark agency, and a token for it (created once per registry)."""
    from registry.errors import Conflict

    try:
        accounts.create_agency(reg, "bench-agency", "Benchmark agency", "SY-DI")
        accounts.create_user(reg, "bench-caseworker", "bench-agency", "caseworker", "a long benchmark password 1")
    except Conflict:
        pass
    return accounts.create_token(reg, "bench-caseworker").token


if __name__ == "__main__":
    main()
