"""What a data protection officer does with the log: query it, export events, and see anomaly flags.

Service functions (`query_events`, `flag_anomalies`, `export_events`, `export_log`) take a `Reader` and record
an `audit-read` (or `audit-export`) event for that reader before returning: reading the log is itself logged.
The rules are a pure function, `find_anomalies(events, thresholds)`, each flag naming its rule, its reason in
words, and the leaf indexes of the events behind it.

Caseload: the service that handles a request knows whether the children are in the user's agency caseload
(the policy decision point computes it anyway), so it sets `AuditEvent.outside_caseload`; the rule here only
reads that flag. The log itself never needs to know caseloads.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from registry.audit.event import (
    AUDIT_ACTIONS,
    AUDIT_EXPORT,
    AUDIT_READ,
    BREAK_GLASS,
    CONSENT_OVERRIDE,
    LOOKUP,
    AuditEvent,
    format_time,
    parse_entry,
)
from registry.audit.fhir import to_fhir_audit_event
from registry.audit.log import AuditLog
from registry.errors import InvalidInput
from registry.fhir import bundle as fhir_bundle
from registry.store.tables.audit import AuditEventChildRow, AuditEventRow

LOOKUP_ACTIONS = frozenset({LOOKUP, "search"})
NEAR_MISS_OUTCOMES = frozenset({"no-match", "possible-match"})
OVERRIDE_ACTIONS = frozenset({BREAK_GLASS, CONSENT_OVERRIDE})
MAX_PAGE = 1000


@dataclass(frozen=True)
class Reader:
    """Who is reading the log, as it goes into the log."""

    user_id: str
    role: str = "dpo"
    agency: str = "national-unit"
    purpose: str = "audit-review"
    legal_basis: str = "legal-obligation"  # data protection oversight


@dataclass(frozen=True)
class EventFilter:
    user_id: str | None = None
    agency: str | None = None
    child: str | None = None
    action: str | None = None
    purpose: str | None = None
    outcome: str | None = None
    since: dt.datetime | None = None  # inclusive, UTC
    until: dt.datetime | None = None  # exclusive, UTC

    def fingerprint(self) -> str:
        """A short hash of the filter, recorded as the reader's query fingerprint."""
        text = json.dumps(
            {k: (format_time(v) if isinstance(v, dt.datetime) else v) for k, v in self.__dict__.items()},
            sort_keys=True,
        )
        return "filter-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def event_filter(user: str | None = None, agency: str | None = None, child: str | None = None,
                 action: str | None = None, purpose: str | None = None, outcome: str | None = None,
                 since: dt.datetime | None = None, until: dt.datetime | None = None) -> EventFilter:
    from registry.audit.event import TOKEN
    from registry.errors import FieldError

    # Every value the log holds is a short ASCII token (pseudonym, id, code): anything else cannot match, and
    # is refused by field rather than carried into a query, a fingerprint or a log line.
    bad = [FieldError(name, "must be a pseudonym, id or code: 1-128 ASCII letters, digits or . _ : @ / + = -")
           for name, value in (("user", user), ("agency", agency), ("child", child), ("action", action),
                               ("purpose", purpose), ("outcome", outcome))
           if value is not None and not TOKEN.fullmatch(value)]
    if bad:
        raise InvalidInput(bad)
    if since and until and since >= until:
        raise InvalidInput.one("until", "must be after since")
    return EventFilter(user_id=user, agency=agency, child=child, action=action, purpose=purpose,
                              outcome=outcome, since=since, until=until)


@dataclass(frozen=True)
class StoredEvent:
    index: int
    event: AuditEvent


@dataclass(frozen=True)
class EventPage:
    events: list[StoredEvent]
    next_after: int | None  # pass as `after` for the next page; None when this is the last page


# ---- queries --------------------------------------------------------------------------------------------


def _select(filters: EventFilter, after: int, limit: int):  # type: ignore[no-untyped-def]
    q = select(AuditEventRow.leaf_index, AuditEventRow.entry).where(AuditEventRow.leaf_index > after)
    for name in ("user_id", "agency", "action", "purpose", "outcome"):
        value = getattr(filters, name)
        if value is not None:
            q = q.where(getattr(AuditEventRow, name) == value)
    if filters.since is not None:
        q = q.where(AuditEventRow.at >= filters.since)
    if filters.until is not None:
        q = q.where(AuditEventRow.at < filters.until)
    if filters.child is not None:
        q = q.where(
            AuditEventRow.leaf_index.in_(
                select(AuditEventChildRow.leaf_index).where(AuditEventChildRow.child == filters.child)
            )
        )
    return q.order_by(AuditEventRow.leaf_index).limit(limit)


def _page(log: AuditLog, filters: EventFilter, after: int, limit: int) -> EventPage:
    limit = max(1, min(limit, MAX_PAGE))
    with log.db.unit_of_work() as s:
        rows = s.execute(_select(filters, after, limit + 1)).all()
    # The events come from the hashed entry bytes, not from the query columns.
    events = [StoredEvent(r.leaf_index, parse_entry(bytes(r.entry)).event) for r in rows[:limit]]
    return EventPage(events, events[-1].index if len(rows) > limit else None)


def iter_events(log: AuditLog, filters: EventFilter = EventFilter()) -> Iterator[StoredEvent]:
    """All matching events, page by page (not logged: for use inside the logged service functions)."""
    after = -1
    while True:
        page = _page(log, filters, after, MAX_PAGE)
        yield from page.events
        if page.next_after is None:
            return
        after = page.next_after


def _record_reading(log: AuditLog, reader: Reader, filters: EventFilter, action: str, found: bool) -> None:
    log.record(
        AuditEvent(
            action=action,
            outcome="success" if found else "no-match",
            user_id=reader.user_id,
            role=reader.role,
            agency=reader.agency,
            purpose=reader.purpose,
            legal_basis=reader.legal_basis,
            decision="permit",
            reason_code="dpo-review",
            children=(filters.child,) if filters.child else (),
            query_fingerprint=filters.fingerprint(),
        )
    )


def query_events(
    log: AuditLog, reader: Reader, filters: EventFilter = EventFilter(), *, after: int = -1, limit: int = 100
) -> EventPage:
    """One page of events matching `filters`, oldest first, after leaf index `after`; the reading is logged."""
    page = _page(log, filters, after, limit)
    _record_reading(log, reader, filters, AUDIT_READ, bool(page.events))
    return page


# ---- exports --------------------------------------------------------------------------------------------

CSV_FIELDS = [
    "index",
    "at",
    "user_id",
    "role",
    "agency",
    "action",
    "outcome",
    "purpose",
    "legal_basis",
    "decision",
    "reason_code",
    "children",
    "query_fingerprint",
    "break_glass",
    "outside_caseload",
    "request_id",
    "source",
]


def write_csv(events: Iterable[StoredEvent], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    n = 0
    for item in events:
        row = item.event.to_dict()
        row["children"] = " ".join(item.event.children)
        writer.writerow({"index": item.index, **row})
        n += 1
    return n


def write_json(events: Iterable[StoredEvent], out: TextIO, fhir: bool = False) -> int:
    """A JSON array of events (index + fields), or with `fhir` a FHIR Bundle (type collection) of AuditEvents."""
    items = list(events)
    if fhir:
        doc: object = fhir_bundle([to_fhir_audit_event(e.event, e.index) for e in items], kind="collection")
    else:
        doc = [{"index": e.index, **e.event.to_dict()} for e in items]
    json.dump(doc, out, indent=1, sort_keys=True)
    out.write("\n")
    return len(items)


def export_events(log: AuditLog, reader: Reader, filters: EventFilter, out: TextIO, fmt: str = "csv") -> int:
    """Write all matching events as csv, json or fhir; the export is logged (even if writing fails)."""
    if fmt not in ("csv", "json", "fhir"):
        raise ValueError(f"unknown format {fmt!r}: csv, json or fhir")
    n = 0
    try:
        events = iter_events(log, filters)
        n = write_csv(events, out) if fmt == "csv" else write_json(events, out, fhir=fmt == "fhir")
        return n
    finally:
        _record_reading(log, reader, filters, AUDIT_EXPORT, n > 0)


def export_log(log: AuditLog, reader: Reader, path: Path) -> int:
    """Export the whole log as a verifiable bundle; the export is logged first, so it is in the bundle."""
    _record_reading(log, reader, EventFilter(), AUDIT_EXPORT, True)
    log.checkpoint()
    return log.export_bundle(path)


# ---- anomaly flags --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    bulk_lookups: int = 30  # lookups by one user ...
    bulk_window: dt.timedelta = dt.timedelta(hours=1)  # ... within this window
    near_miss_lookups: int = 10  # no-match / possible-match lookups by one user ...
    near_miss_window: dt.timedelta = dt.timedelta(hours=1)  # ... within this window
    working_start: dt.time = dt.time(7, 0)
    working_end: dt.time = dt.time(19, 0)
    timezone: str = "Asia/Damascus"
    rest_days: frozenset[int] = field(
        default_factory=frozenset
    )  # weekday numbers (Friday = 4) counted as after hours
    agencies_per_child: int = 3  # distinct agencies looking up or reading one child ...
    agencies_window: dt.timedelta = dt.timedelta(days=30)  # ... within this window


@dataclass(frozen=True)
class Flag:
    rule: str  # bulk-lookups, near-miss-lookups, after-hours, outside-caseload, break-glass, many-agencies
    reason: str
    indexes: tuple[int, ...]
    user_id: str | None = None
    agency: str | None = None
    child: str | None = None


def _windows(items: list[StoredEvent], n: int, window: dt.timedelta) -> list[list[StoredEvent]]:
    """Runs of events (sorted by time) that lie in some window of `window` holding at least `n` of them."""
    marked = [False] * len(items)
    start = 0
    for end in range(len(items)):
        while items[end].event.at - items[start].event.at > window:
            start += 1
        if end - start + 1 >= n:
            for k in range(start, end + 1):
                marked[k] = True
    return _marked_runs(items, marked)


def _marked_runs(items: list[StoredEvent], marked: list[bool]) -> list[list[StoredEvent]]:
    """Consecutive marked events as runs (each run is one flag)."""
    runs: list[list[StoredEvent]] = []
    for k, item in enumerate(items):
        if marked[k]:
            if k > 0 and marked[k - 1]:
                runs[-1].append(item)
            else:
                runs.append([item])
    return runs


def _by(items: Iterable[StoredEvent], key) -> dict[str, list[StoredEvent]]:  # type: ignore[no-untyped-def]
    groups: dict[str, list[StoredEvent]] = defaultdict(list)
    for item in items:
        groups[key(item.event)].append(item)
    return groups


def _span(run: list[StoredEvent]) -> str:
    return f"{format_time(run[0].event.at)[:16]}Z to {format_time(run[-1].event.at)[:16]}Z"


def find_anomalies(events: Iterable[StoredEvent], thresholds: Thresholds = Thresholds()) -> list[Flag]:
    """The anomaly flags for these events. Pure: no database, no logging.

    The log's own reading and export (audit-read, audit-export) are left out: the rules are about children.
    """
    t = thresholds
    items = sorted(
        (e for e in events if e.event.action not in AUDIT_ACTIONS), key=lambda e: (e.event.at, e.index)
    )
    flags: list[Flag] = []
    lookups = [e for e in items if e.event.action in LOOKUP_ACTIONS]

    for user, group in _by(lookups, lambda e: e.user_id).items():
        for run in _windows(group, t.bulk_lookups, t.bulk_window):
            flags.append(
                Flag(
                    "bulk-lookups",
                    f"{len(run)} lookups by {user} ({_span(run)}); threshold "
                    f"{t.bulk_lookups} per {t.bulk_window}",
                    tuple(e.index for e in run),
                    user_id=user,
                    agency=run[0].event.agency,
                )
            )
        misses = [e for e in group if e.event.outcome in NEAR_MISS_OUTCOMES]
        for run in _windows(misses, t.near_miss_lookups, t.near_miss_window):
            flags.append(
                Flag(
                    "near-miss-lookups",
                    f"{len(run)} lookups by {user} found no match or only a "
                    f"possible match ({_span(run)}); threshold {t.near_miss_lookups} per "
                    f"{t.near_miss_window}: searching by trial and error?",
                    tuple(e.index for e in run),
                    user_id=user,
                    agency=run[0].event.agency,
                )
            )

    zone = ZoneInfo(t.timezone)
    after_hours: dict[tuple[str, dt.date], list[StoredEvent]] = defaultdict(list)
    for e in items:
        local = e.event.at.replace(tzinfo=dt.UTC).astimezone(zone)
        if local.weekday() in t.rest_days or not (t.working_start <= local.time() < t.working_end):
            after_hours[(e.event.user_id, local.date())].append(e)
    for (user, day), group in after_hours.items():
        flags.append(
            Flag(
                "after-hours",
                f"{len(group)} requests by {user} on {day} outside working hours "
                f"{t.working_start:%H:%M}-{t.working_end:%H:%M} {t.timezone}",
                tuple(e.index for e in group),
                user_id=user,
                agency=group[0].event.agency,
            )
        )

    outside = [e for e in items if e.event.outside_caseload and e.event.decision == "permit"]
    for user, group in _by(outside, lambda e: e.user_id).items():
        flags.append(
            Flag(
                "outside-caseload",
                f"{len(group)} permitted requests by {user} for children outside "
                f"the caseload of {group[0].event.agency}",
                tuple(e.index for e in group),
                user_id=user,
                agency=group[0].event.agency,
            )
        )

    for e in items:
        if e.event.break_glass or e.event.action in OVERRIDE_ACTIONS:
            flags.append(
                Flag(
                    "break-glass",
                    f"{e.event.action} by {e.event.user_id} ({e.event.agency}) at "
                    f"{format_time(e.event.at)[:16]}Z, reason code {e.event.reason_code}: "
                    "an override of a denial or of consent",
                    (e.index,),
                    user_id=e.event.user_id,
                    agency=e.event.agency,
                    child=e.event.children[0] if e.event.children else None,
                )
            )

    per_child: dict[str, list[StoredEvent]] = defaultdict(list)
    for e in items:
        if e.event.action in LOOKUP_ACTIONS | {"read"}:
            for child in e.event.children:
                per_child[child].append(e)
    for child, group in per_child.items():
        for run in _distinct_agency_windows(group, t.agencies_per_child, t.agencies_window):
            agencies = sorted({e.event.agency for e in run})
            flags.append(
                Flag(
                    "many-agencies",
                    f"child {child} looked up by {len(agencies)} agencies "
                    f"({', '.join(agencies)}) within {t.agencies_window}",
                    tuple(e.index for e in run),
                    child=child,
                )
            )
    return flags


def _distinct_agency_windows(
    items: list[StoredEvent], n: int, window: dt.timedelta
) -> list[list[StoredEvent]]:
    marked = [False] * len(items)
    counts: Counter[str] = Counter()
    start = 0
    for end, item in enumerate(items):
        counts[item.event.agency] += 1
        while item.event.at - items[start].event.at > window:
            counts[items[start].event.agency] -= 1
            if not counts[items[start].event.agency]:
                del counts[items[start].event.agency]
            start += 1
        if len(counts) >= n:
            for k in range(start, end + 1):
                marked[k] = True
    return _marked_runs(items, marked)


def flag_anomalies(
    log: AuditLog,
    reader: Reader,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    thresholds: Thresholds = Thresholds(),
) -> list[Flag]:
    """The anomaly flags for events in [since, until); the review is logged."""
    filters = EventFilter(since=since, until=until)
    flags = find_anomalies(iter_events(log, filters), thresholds)
    _record_reading(log, reader, filters, AUDIT_READ, bool(flags))
    return flags
