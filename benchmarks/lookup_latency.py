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
        answers(reg, queries, data, find_matches)
    http = http_latencies(reg, queries)
    print(f"through HTTP: {len(http)} lookups, p50 {statistics.median(http):.1f} ms, "
          f"p95 {percentile(http, 95):.1f} ms, p99 {percentile(http, 99):.1f} ms, max {max(http):.1f} ms "
          f"(load average {os.getloadavg()[0]:.1f})", flush=True)


def answers(reg, queries, data: Path, find_matches) -> None:
    """What the lookups answer, by the model's bands: an exact copy of a registered record (the query is the
    record itself), and the same child written another way (the query's own child excluded, so only another
    registration of that child can answer). Queries with the minimum fields a lookup asks for."""
    from sqlalchemy import select

    from registry.matching.evaluate import read_truth
    from registry.matching.model import MATCH_THRESHOLD, REVIEW_THRESHOLD, SAME_THRESHOLD
    from registry.services.lookups import check_minimum_fields
    from registry.store.models import CaseRecord

    truth = read_truth(data.with_suffix(".truth.csv"))
    with reg.db.sessions() as s:
        child_of = {(i, ref): c for i, ref, c in s.execute(
            select(CaseRecord.institution, CaseRecord.source_ref, CaseRecord.child_id))}
    children_of: dict[str, set[str]] = {}
    for k, person in truth.person.items():
        if k in child_of:
            children_of.setdefault(person, set()).add(child_of[k])
    exact = {"same": 0, "likely": 0, "possible": 0, "none": 0}
    other = {"same": 0, "likely": 0, "possible": 0, "none": 0}
    for _, identity in queries:
        try:
            check_minimum_fields(identity)
        except Exception:
            continue
        key = (identity.institution, identity.source_ref)
        own, person = child_of.get(key), truth.person.get(key)
        if own is None or person is None:
            continue
        others = children_of.get(person, set()) - {own}
        for tally, excluded, wanted in ((exact, set(), {own}), (other, {own}, others)):
            if not wanted:
                continue
            matches = find_matches(reg, identity, excluded)
            best = max((m.probability for m in matches if m.child_id in wanted), default=0.0)
            band = ("same" if best >= SAME_THRESHOLD else "likely" if best >= MATCH_THRESHOLD
                    else "possible" if best >= REVIEW_THRESHOLD else "none")
            tally[band] += 1
    for label, tally in (("exact copy of a registered record", exact),
                         ("the same child registered another way", other)):
        n = sum(tally.values()) or 1
        print(f"{label}: {sum(tally.values())} lookups; >= {SAME_THRESHOLD} (same child) "
              f"{tally['same'] / n:.3f}, >= {MATCH_THRESHOLD} (likely) {(tally['same'] + tally['likely']) / n:.3f}, "
              f">= {REVIEW_THRESHOLD} (at least possible) {1 - tally['none'] / n:.3f}", flush=True)


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
