"""Concurrent load on `registry serve --workers N`, over loopback: throughput, latency, errors, and afterwards
what the database holds (no lost registration, no duplicate child, exact quotas, an unbroken audit log).

    .venv/bin/python benchmarks/load.py                                   # PostgreSQL, 2 workers, 80/20 mix
    .venv/bin/python benchmarks/load.py --sqlite --workers 1              # the embedded SQLite file
    .venv/bin/python benchmarks/load.py --mix full                        # + consents and review decisions
    .venv/bin/python benchmarks/load.py --quota 150                       # quotas exact across workers
    .venv/bin/python benchmarks/load.py --race-rounds 10                  # 50 clients register one record at once
    .venv/bin/python benchmarks/load.py --rate 200                        # 200 requests/s offered (open loop)

Setup (not timed): a fresh registry (a new schema on the PostgreSQL server, or a SQLite file), `--records`
generated children imported and deduplicated (the model trained), one agency per generated institution with
two caseworkers each, a national reviewer, API tokens. Then `registry serve` runs as a subprocess with the
anti-timing floor off (REGISTRY_LOOKUP_MIN_SECONDS=0) and the quotas out of reach (unless --quota), and
`--clients` clients (asyncio, one keep-alive connection each, a minimal HTTP/1.1 client so that the load
generator takes little of the cores it measures) send `--requests` requests: as fast as answers come (a
closed loop, the most the server carries), or with `--rate R` at R requests/s whatever comes back (an open
loop, as agencies' caseworkers send them; each latency counts from when the request was due). Every request
has a timeout (`--timeout`): a request that times out is a stall, reported as such.

Mixes: `basic` = 80 % lookups, 20 % registrations; `full` = 60 % lookups, 20 % registrations, 10 % consents,
10 % review decisions. One registration in ten is sent twice at once on purpose (the same body by two
clients). `--quota Q`: every lookup comes from one agency with a quota of Q an hour, so exactly Q are answered
and the rest get 429. `--deduplication-consents N`: N registered children get a consent to deduplication
before the run (one in ten withdrawn), as agencies record them. On PostgreSQL, pg_stat_activity is sampled
every 0.2 s during the run: what the server's connections were doing (idle, active, waiting on a lock, ...).

Errors are answers that are not 2xx and not an expected 4xx (429 with --quota, 409 for a pair decided twice),
plus dropped connections and timeouts.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import datetime as dt
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _common import fresh_registry, synth_csv  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORK = Path(tempfile.gettempdir()) / "registry-bench-load"
IDENTITY_FIELDS = ("given_name", "father_name", "grandfather_name", "family_name", "mother_given_name",
                   "mother_family_name", "sex", "date_of_birth", "governorate", "national_id")


@dataclass
class World:
    url: str
    home: Path
    tokens: dict[str, list[str]]  # agency -> caseworkers' tokens
    reviewer: str
    children_of: dict[str, list[str]]  # agency -> pseudonyms it holds
    open_pairs: list[int]
    lookups: list[dict]  # identity fields of registered records
    new_records: list[dict]  # identities not registered yet
    cleanup: list = field(default_factory=list)


@dataclass
class Answer:
    kind: str
    status: int | str  # HTTP status, or "timeout" / the exception's type
    seconds: float
    body: dict | None = None
    sent: dict | None = None


# ---- setup ---------------------------------------------------------------------------------------------------

def database(args) -> tuple[str, list]:
    if args.sqlite:
        return "", []
    import psycopg

    plain = args.database_url.replace("+psycopg", "")
    schema = f"load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    sep = "&" if "?" in args.database_url else "?"
    return f"{args.database_url}{sep}options=-csearch_path%3D{schema}", [drop]


def identity_of(row: dict) -> dict:
    return {k: row[k] for k in IDENTITY_FIELDS if row.get(k)}


def enough_for_a_lookup(fields: dict) -> bool:
    from registry.errors import InvalidInput
    from registry.identity import validate_identity
    from registry.services.lookups import check_minimum_fields

    try:
        check_minimum_fields(validate_identity({**fields, "institution": "any-agency", "source_ref": "lookup"}))
        return True
    except InvalidInput:
        return False


def build_world(args, home: Path) -> World:
    from sqlalchemy import select

    from registry.services.accounts import create_agency, create_token, create_user
    from registry.services.dedupe import run_dedupe
    from registry.services.importing import import_file
    from registry.store.models import CaseRecord
    from registry.store.tables.matching import SuspectedDuplicate

    url, cleanup = database(args)
    reg = fresh_registry(home, url or None)
    WORK.mkdir(parents=True, exist_ok=True)
    data = synth_csv(WORK / f"children-{args.records}.csv", args.records, seed=1)
    fresh = synth_csv(WORK / f"new-{args.records}.csv", max(2000, args.requests // 2), seed=77)
    t = time.perf_counter()
    import_file(reg, data, None)
    run_dedupe(reg)
    print(f"setup: {args.records} generated records imported and deduplicated in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    with reg.db.sessions() as s:
        held = collections.defaultdict(list)
        for institution, child in s.execute(select(CaseRecord.institution, CaseRecord.child_id)
                                            .where(CaseRecord.status == "active")):
            held[institution].append(child)
        open_pairs = list(s.scalars(select(SuspectedDuplicate.pair_id).where(SuspectedDuplicate.status == "open")))
    agencies = sorted(held, key=lambda a: -len(held[a]))[: args.agencies]
    tokens: dict[str, list[str]] = {}
    for n, code in enumerate(agencies):
        create_agency(reg, code, f"Agency {n}", "SY-DI")
        tokens[code] = []
        for k in range(2):
            create_user(reg, f"cw{n}x{k}", code, "caseworker", "a generated load password")
            tokens[code].append(create_token(reg, f"cw{n}x{k}").token)
    if args.deduplication_consents:
        consent_to_deduplication(reg, tokens, held, agencies, args.deduplication_consents)
    create_agency(reg, "national-unit", "National unit", "SY-DI")
    create_user(reg, "reviewer", "national-unit", "national_reviewer", "a generated load password")
    reviewer = create_token(reg, "reviewer").token
    with open(data, newline="", encoding="utf-8") as f:
        lookups = [identity_of(r) for r in csv.DictReader(f)]
    lookups = [q for q in lookups if enough_for_a_lookup(q)]  # so that a 422 would be a fault, not the query's
    with open(fresh, newline="", encoding="utf-8") as f:
        new_records = [identity_of(r) for r in csv.DictReader(f)]
    reg.close()
    return World(url or f"sqlite:///{home / 'registry.db'}", home, tokens, reviewer,
                 {a: held[a] for a in agencies}, open_pairs, lookups, new_records, cleanup)


def consent_to_deduplication(reg, tokens, held, agencies, n: int) -> None:
    """`n` held children given a consent to deduplication by a caseworker of their agency (as agencies record
    them), one in ten withdrawn: every lookup and registration asks which children are out of matching."""
    from registry.services.accounts import actor_for_token
    from registry.services.consents import record_consent, withdraw_consent

    body = {"purpose": "deduplication", "grantor": "caregiver", "given_on": "2025-01-10", "evidence_ref": "form/load"}
    pending = [(code, child) for code in agencies for child in held[code]][:n]
    actors = {code: actor_for_token(reg, tokens[code][0]) for code in agencies}
    for i, (code, child) in enumerate(pending):
        consent = record_consent(reg, actors[code], child, body)
        if i % 10 == 0:
            withdraw_consent(reg, actors[code], consent.consent_id, "caregiver")
    print(f"setup: {len(pending)} consents to deduplication recorded, {(len(pending) + 9) // 10} withdrawn",
          file=sys.stderr)


# ---- the server ----------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, world: World, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REGISTRY_HOME": str(world.home),
           "REGISTRY_DATABASE_URL": world.url, "REGISTRY_KEY_DIR": str(world.home / "keys"),
           "REGISTRY_LOOKUP_MIN_SECONDS": str(args.floor),
           "REGISTRY_LOOKUP_QUOTA_USER": str(10**9), "REGISTRY_LOOKUP_QUOTA_AGENCY": str(args.quota or 10**9)}
    if args.pool_size:
        env["REGISTRY_DB_POOL_SIZE"] = str(args.pool_size)
    command = [sys.executable, "-c", "import sys; from registry.cli import main; sys.argv[0] = 'registry'; main()",
               "serve", "--port", str(port), "--workers", str(args.workers)]
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    import httpx

    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: see {log_path}")
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError("the server did not get ready in 120 s")


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of a process and its children (the server's workers), from /proc."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [root_pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{root_pid}/task/{root_pid}/children").read_text().split()]
    except OSError:
        pass
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postgres_cpu_seconds() -> float:
    """CPU seconds of every postgres process on the machine (other clients of the server included)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


# ---- the requests --------------------------------------------------------------------------------------------

def plan(args, world: World) -> list[list[tuple]]:
    """The requests in the order they are handed out; an inner list is sent at once by as many clients."""
    rnd = random.Random(11)
    agencies = sorted(world.tokens)
    quota_agency = agencies[0]
    weights = {"basic": [("lookup", 80), ("register", 20)],
               "full": [("lookup", 60), ("register", 20), ("consent", 10), ("decide", 10)]}[args.mix]
    kinds = [k for k, w in weights for _ in range(w)]
    pairs = list(world.open_pairs)
    rnd.shuffle(pairs)
    consented = set()
    out: list[list[tuple]] = []
    n = 0
    while n < args.requests:
        kind = rnd.choice(kinds)
        agency = quota_agency if args.quota else rnd.choice(agencies)
        token = rnd.choice(world.tokens[agency])
        if kind == "lookup":
            body = {**rnd.choice(world.lookups), "purpose": "registration"}
            out.append([("lookup", "POST", "/v1/lookups", body, token)])
        elif kind == "register":
            body = {**world.new_records[n % len(world.new_records)], "source_ref": f"LOAD-{n}"}
            twice = rnd.random() < 0.1  # the same record from two clients at the same moment
            out.append([("register", "POST", "/v1/children", body, token)] * (2 if twice else 1))
        elif kind == "consent":
            children = [c for c in world.children_of[agency] if c not in consented]
            if not children:
                continue
            child = rnd.choice(children)
            consented.add(child)
            body = {"purpose": "share", "recipient": "*", "grantor": "caregiver", "evidence_ref": f"form/{n}",
                    "given_on": dt.date.today().isoformat()}
            out.append([("consent", "POST", f"/v1/children/{child}/consents", body, token)])
        else:
            if not pairs:
                continue
            body = {"decision": "not-duplicate"}
            out.append([("decide", "POST", f"/v1/review/pairs/{pairs.pop()}/decision", body, world.reviewer)])
        n += len(out[-1])
    return out


def plan_warmup(args, world: World) -> list[list[tuple]]:
    rnd = random.Random(3)
    agency = sorted(world.tokens)[-1]
    return [[("warm-up", "POST", "/v1/lookups", {**rnd.choice(world.lookups), "purpose": "registration"},
              world.tokens[agency][0])] for _ in range(args.warmup)]


class Connection:
    """One keep-alive HTTP/1.1 connection over loopback. The load generator shares the 2 cores it measures,
    and httpx spent about 3 ms of CPU a request (a third of what the server itself spends): this client writes
    the request and reads the answer by its Content-Length, nothing more."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict, token: str, timeout: float) -> tuple[int, bytes, str]:
        payload = json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode("latin-1")
        try:
            async with asyncio.timeout(timeout):
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.writer.write(head + payload)
                return await self._answer()
        except BaseException:
            self.close()  # a half-read answer would poison the next request on this connection
            raise

    async def _answer(self) -> tuple[int, bytes, str]:
        status = int((await self.reader.readuntil(b"\r\n")).split()[1])
        headers = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            chunks = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append((await self.reader.readexactly(size + 2))[:-2])
            await self.reader.readuntil(b"\r\n")
            body = b"".join(chunks)
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body, headers.get("content-type", "")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(port: int, clients: int, work: list[list[tuple]], timeout: float,
                rate: float = 0.0) -> tuple[list[Answer], float]:
    """Send the work from `clients` connections. Without a rate, a closed loop: each client sends its next
    request as soon as it has its answer (the most the server can carry). With a rate (requests/s), an open
    loop: request i is due at i / rate, whatever came back before, and its latency is counted from when it
    was due, so time spent waiting for a free client counts too (no coordinated omission)."""
    queue = collections.deque(enumerate(work))
    answers: list[Answer] = []
    started = time.perf_counter()

    async def send(c: Connection, item: tuple, due: float) -> None:
        kind, method, path, body, token = item
        try:
            status, raw, content_type = await c.request(method, path, body, token, timeout)
            data = json.loads(raw) if content_type.endswith("json") and raw else None
            answers.append(Answer(kind, status, time.perf_counter() - due, data, body))
        except TimeoutError:
            answers.append(Answer(kind, "timeout", time.perf_counter() - due, None, body))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            answers.append(Answer(kind, type(e).__name__, time.perf_counter() - due, None, body))

    async def client(i: int) -> None:
        c = Connection(port)
        try:
            while queue:
                n, group = queue.popleft()
                due = started + n / rate if rate else time.perf_counter()
                if rate and (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                if len(group) > 1:  # hand the twin to the next free client and send both at the same moment
                    gate = asyncio.Event()
                    queue.appendleft((n, [("twin", gate, group[1])]))
                    try:
                        await asyncio.wait_for(gate.wait(), 5)
                    except TimeoutError:
                        pass  # no other client free for 5 s: send it anyway
                    await send(c, group[0], due)
                elif group[0][0] == "twin":
                    _, gate, item = group[0]
                    gate.set()
                    await send(c, item, due)
                else:
                    await send(c, group[0], due)
        finally:
            c.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return answers, time.perf_counter() - started


# ---- watching PostgreSQL -------------------------------------------------------------------------------------

class ActivitySampler:
    """What the registry's connections are doing, sampled every 0.2 s (state and wait event)."""

    def __init__(self, url: str):
        self.url = url.split("?")[0].replace("+psycopg", "")
        self.samples: collections.Counter = collections.Counter()
        self.connections: list[int] = []
        self.longest_transaction = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.2):
                rows = conn.execute(
                    "SELECT state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-'), "
                    "coalesce(extract(epoch FROM now() - xact_start), 0) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'").fetchall()
                self.connections.append(len(rows))
                for state, kind, name, age in rows:
                    self.samples[(state, kind if state != "idle" else "-", name if state != "idle" else "-")] += 1
                    if state != "idle":
                        self.longest_transaction = max(self.longest_transaction, float(age))

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def report(self) -> str:
        total = sum(self.samples.values()) or 1
        lines = [f"pg_stat_activity: {max(self.connections, default=0)} connections at most; "
                 f"longest open transaction {self.longest_transaction:.2f} s; share of samples:"]
        for (state, kind, name), n in self.samples.most_common(8):
            lines.append(f"  {n / total:6.1%}  {state} {kind}/{name}")
        return "\n".join(lines)


# ---- report and checks ---------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def expected(args, a: Answer) -> bool:
    if isinstance(a.status, int) and 200 <= a.status < 300:
        return True
    return (a.status == 429 and a.kind == "lookup" and bool(args.quota)) or (a.status == 409 and a.kind == "decide")


def report(args, answers: list[Answer], elapsed: float) -> list[str]:
    offered = (f"offered at {args.rate:.0f} requests/s (open loop: latency from when each was due)" if args.rate
               else "closed loop: each client sends its next request when it has its answer")
    lines = [f"{len(answers)} requests by {args.clients} clients in {elapsed:.1f} s: "
             f"{len(answers) / elapsed:.0f} requests/s; {offered}"]
    lines.append("| kind | n | p50 | p95 | p99 | max | statuses |")
    lines.append("|---|---|---|---|---|---|---|")
    for kind in sorted({a.kind for a in answers}):
        ms = [a.seconds * 1000 for a in answers if a.kind == kind]
        statuses = collections.Counter(str(a.status) for a in answers if a.kind == kind)
        lines.append(f"| {kind} | {len(ms)} | {percentile(ms, 50):.0f} ms | {percentile(ms, 95):.0f} ms | "
                     f"{percentile(ms, 99):.0f} ms | {max(ms):.0f} ms | "
                     f"{', '.join(f'{s}: {n}' for s, n in sorted(statuses.items()))} |")
    ms = [a.seconds * 1000 for a in answers]
    lines.append(f"| all | {len(ms)} | {percentile(ms, 50):.0f} ms | {percentile(ms, 95):.0f} ms | "
                 f"{percentile(ms, 99):.0f} ms | {max(ms):.0f} ms | |")
    errors = [a for a in answers if not expected(args, a)]
    stalls = [a for a in answers if a.status == "timeout"]
    lines.append(f"errors: {len(errors)} ({collections.Counter(str(a.status) for a in errors) or 'none'}); "
                 f"stalls (no answer within {args.timeout:.0f} s): {len(stalls)}")
    return lines


def check_database(args, world: World, answers: list[Answer], warm: list[Answer]) -> list[str]:
    """What must hold afterwards, read from the database itself."""
    from sqlalchemy import func, select

    from registry.config import Settings
    from registry.consent import policy
    from registry.keys import load_keys
    from registry.services.context import open_registry
    from registry.store.models import CaseRecord, Child
    from registry.store.tables.audit import AuditEventRow
    from registry.store.tables.consent import LookupQuotaHit

    settings = Settings(home=world.home, database_url=world.url, key_dir=world.home / "keys")
    reg = open_registry(settings, load_keys(settings.key_dir))
    problems, lines = [], []
    registered = [a for a in answers if a.kind == "register" and a.status in (200, 201)]
    with reg.db.sessions() as s:
        stored = {(i, ref): c for i, ref, c in s.execute(
            select(CaseRecord.institution, CaseRecord.source_ref, CaseRecord.child_id)
            .where(CaseRecord.source_ref.like("LOAD-%")))}
        institution_of = {}
        for agency, tokens in world.tokens.items():
            for token in tokens:
                institution_of[token] = agency
        lost = [a for a in registered if a.status == 201 and a.body["child_id"] not in stored.values()]
        answered: dict[str, set[str]] = collections.defaultdict(set)
        for a in registered:
            answered[a.sent["source_ref"]].add(a.body["child_id"])
        two_children = [ref for ref, ids in answered.items() if len(ids) > 1]
        per_ref = collections.Counter(ref for _, ref in stored)
        duplicated = [ref for ref, n in per_ref.items() if n > 1]
        # A child merged into another (the set-up's automatic merges) or erased keeps no records, rightly.
        orphans = s.scalar(select(func.count()).select_from(Child).where(
            Child.status == "active",
            ~select(CaseRecord.record_id).where(CaseRecord.child_id == Child.child_id).exists())) or 0
        created = sum(a.status == 201 for a in registered)
        twice = len(registered) - len(answered)
        lines.append(f"registrations: {created} created (201), {len(registered) - created} known (200), "
                     f"{twice} of them the second of a pair sent at once; lost: {len(lost)}; references with "
                     f"two children: {len(two_children) + len(duplicated)}; children without a record: {orphans}")
        if lost or two_children or duplicated or orphans:
            problems.append("registrations")
        lookups_ok = sum(a.kind == "lookup" and a.status == 200 for a in answers)
        if args.quota:
            hits = s.scalar(select(func.count()).select_from(LookupQuotaHit).where(
                LookupQuotaHit.agency == sorted(world.tokens)[0])) or 0
            limited = sum(a.kind == "lookup" and a.status == 429 for a in answers)
            lines.append(f"quota {args.quota}/hour for one agency across {args.workers} workers: {lookups_ok} "
                         f"answered, {limited} refused (429), {hits} counted in the database")
            if lookups_ok != args.quota or hits != args.quota:
                problems.append("quota")
    if hasattr(reg.audit, "flush"):  # events committed inside transactions, not yet chained
        reg.audit.flush()
    with reg.db.sessions() as s:
        logged = s.scalar(select(func.count()).select_from(AuditEventRow).where(
            AuditEventRow.action == policy.LOOKUP, AuditEventRow.decision == "permit",
            AuditEventRow.user_id != "registry")) or 0
    verified = reg.audit.verify().ok
    answered = lookups_ok + sum(a.status == 200 for a in warm)
    unknown = sum(a.kind == "lookup" and a.status == "timeout" for a in answers)  # may have been answered late
    lines.append(f"audit log: {logged} permitted lookups logged for {answered} answered (warm-up included) and "
                 f"{unknown} timed out; chain verifies: {verified}")
    if not answered <= logged <= answered + unknown or not verified:
        problems.append("audit")
    reg.close()
    lines.append("checks: " + ("all hold" if not problems else "FAILED: " + ", ".join(problems)))
    return lines


def race_rounds(args, world: World, port: int) -> list[str]:
    """`--clients` clients register one record at the same moment, `--race-rounds` times (the recorded stall)."""
    import httpx

    agency = sorted(world.tokens)[0]
    token = world.tokens[agency][0]
    stalls, wrong, times = 0, 0, []
    for r in range(args.race_rounds):
        body = {**world.new_records[-1 - r], "source_ref": f"RACE-{r}"}
        barrier = threading.Barrier(args.clients)
        answers: list = [None] * args.clients

        def client(i: int, body=body, barrier=barrier, answers=answers) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=args.timeout,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                barrier.wait()
                t = time.perf_counter()
                try:
                    answers[i] = (c.post("/v1/children", json=body).status_code, time.perf_counter() - t)
                except httpx.TimeoutException:
                    answers[i] = ("timeout", time.perf_counter() - t)
                except httpx.HTTPError as e:
                    answers[i] = (type(e).__name__, time.perf_counter() - t)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = collections.Counter(a[0] for a in answers)
        stalls += codes.get("timeout", 0)
        wrong += int(codes.get(201, 0) != 1 or codes.get(200, 0) != args.clients - 1)
        times += [a[1] for a in answers]
        print(f"race round {r}: {dict(codes)}, slowest {max(a[1] for a in answers):.2f} s", file=sys.stderr)
    return [f"races: {args.race_rounds} rounds of {args.clients} clients registering one record at once: "
            f"{stalls} requests stalled, {wrong} rounds without exactly one 201, "
            f"median {statistics.median(times):.2f} s, slowest {max(times):.2f} s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=PG_URL, help="PostgreSQL server (a fresh schema is made in it)")
    ap.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    ap.add_argument("--records", type=int, default=3000, help="generated children registered before the run")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--agencies", type=int, default=8)
    ap.add_argument("--mix", choices=("basic", "full"), default="basic")
    ap.add_argument("--quota", type=int, default=0, help="one agency's lookup quota an hour (0: out of reach)")
    ap.add_argument("--floor", type=float, default=0.0, help="REGISTRY_LOOKUP_MIN_SECONDS (anti-timing floor)")
    ap.add_argument("--pool-size", type=int, default=0, help="REGISTRY_DB_POOL_SIZE (0: the default)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds a client waits for an answer")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="requests/s offered, an open loop (0: a closed loop, each client as fast as answers come)")
    ap.add_argument("--deduplication-consents", type=int, default=0,
                    help="this many registered children given a consent to deduplication first, one in ten withdrawn")
    ap.add_argument("--race-rounds", type=int, default=0, help="then this many rounds of one record at once")
    ap.add_argument("--warmup", type=int, default=100, help="lookups sent first, not timed")
    ap.add_argument("--keep", action="store_true", help="keep the registry (home and schema) afterwards")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="registry-load-"))
    world = build_world(args, home)
    port = free_port()
    server_log = home / "server.log"
    server = start_server(args, world, port, server_log)
    try:
        work = plan(args, world)
        warm: list[Answer] = []
        if args.warmup:  # a server that has answered a few requests, as it is in service (not timed)
            warm, _ = asyncio.run(drive(port, args.clients, plan_warmup(args, world), args.timeout))
        sampler = ActivitySampler(world.url) if world.url.startswith("postgresql") else None
        if sampler:
            sampler.__enter__()
        cpu_before, pg_before, own_before = cpu_seconds(server.pid), postgres_cpu_seconds(), time.process_time()
        answers, elapsed = asyncio.run(drive(port, args.clients, work, args.timeout, args.rate))
        server_cpu = cpu_seconds(server.pid) - cpu_before
        pg_cpu = postgres_cpu_seconds() - pg_before
        own_cpu = time.process_time() - own_before
        if sampler:
            sampler.__exit__()
        extra = race_rounds(args, world, port) if args.race_rounds else []
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    backend = "SQLite file" if args.sqlite else "PostgreSQL"
    print(f"\n{backend}, `registry serve --workers {args.workers}`, {args.records} children registered before, "
          f"mix {args.mix}, floor {args.floor} s, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    for line in report(args, answers, elapsed):
        print(line)
    print(f"CPU per request: server workers {server_cpu / len(answers) * 1000:.1f} ms, PostgreSQL processes "
          f"{pg_cpu / len(answers) * 1000:.1f} ms (all of the machine's: other clients included), "
          f"load generator {own_cpu / len(answers) * 1000:.1f} ms (with the pg_stat_activity sampler)")
    if sampler:
        print(sampler.report())
    for line in extra:
        print(line)
    for line in check_database(args, world, answers, warm):
        print(line)
    if not args.keep:
        for step in world.cleanup:
            step()
        shutil.rmtree(home, ignore_errors=True)
    else:
        print(f"kept: {home} {world.url}")
    print(json.dumps({"requests_per_s": round(len(answers) / elapsed, 1)}))


if __name__ == "__main__":
    main()
