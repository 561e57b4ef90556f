"""DPO review: queries with paging, exports, anomaly rules (each fires on its pattern, none on ordinary use)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from registry.audit.review import (
    EventFilter,
    Reader,
    StoredEvent,
    Thresholds,
    export_events,
    find_anomalies,
    flag_anomalies,
    query_events,
)

T0 = dt.datetime(2026, 3, 2, 6, 0)  # 09:00 in Damascus (UTC+3)
DPO = Reader("u-dpo-1")


def _seq(make_event, specs):
    """StoredEvents from (minutes after T0, overrides) pairs."""
    return [
        StoredEvent(i, make_event(at=T0 + dt.timedelta(minutes=m), **kw)) for i, (m, kw) in enumerate(specs)
    ]


def _ordinary_day(make_event):
    """Three caseworkers in two agencies doing normal work in office hours: a few lookups, reads, registrations."""
    specs = []
    for k in range(24):
        user = f"u-cw-{k % 3}"
        agency = "agency-a" if k % 3 < 2 else "agency-b"
        child = f"CR-CHLD-{k:04d}-X"
        m = 20 * k  # spread over 8 hours
        specs.append(
            (
                m,
                dict(
                    user_id=user,
                    agency=agency,
                    action="lookup",
                    outcome="no-match",
                    query_fingerprint=f"fp-{k}",
                ),
            )
        )
        specs.append(
            (
                m + 2,
                dict(
                    user_id=user,
                    agency=agency,
                    action="register",
                    outcome="success",
                    children=(child,),
                    query_fingerprint=None,
                ),
            )
        )
        specs.append(
            (
                m + 5,
                dict(
                    user_id=user,
                    agency=agency,
                    action="read",
                    outcome="success",
                    children=(child,),
                    query_fingerprint=None,
                ),
            )
        )
    return _seq(make_event, specs)


def test_ordinary_use_raises_no_flag(make_event):
    assert find_anomalies(_ordinary_day(make_event)) == []


def test_bulk_lookups_by_one_user_are_flagged(make_event):
    events = _ordinary_day(make_event)
    burst = [
        (200 + i, dict(user_id="u-scraper", outcome="likely-match", query_fingerprint=f"fp-b{i}"))
        for i in range(35)
    ]
    events += [StoredEvent(1000 + e.index, e.event) for e in _seq(make_event, burst)]
    flags = [f for f in find_anomalies(events) if f.rule == "bulk-lookups"]
    assert len(flags) == 1 and flags[0].user_id == "u-scraper"
    assert flags[0].indexes == tuple(range(1000, 1035))
    assert "35 lookups" in flags[0].reason
    # 29 in an hour is under the default threshold of 30
    fewer = [StoredEvent(1000 + e.index, e.event) for e in _seq(make_event, burst[:29])]
    assert not [f for f in find_anomalies(fewer) if f.rule == "bulk-lookups"]


def test_near_miss_lookups_are_flagged(make_event):
    misses = [
        (
            100 + 3 * i,
            dict(
                user_id="u-prober",
                outcome="no-match" if i % 2 else "possible-match",
                query_fingerprint=f"fp-near-{i}",
            ),
        )
        for i in range(12)
    ]
    flags = [f for f in find_anomalies(_seq(make_event, misses)) if f.rule == "near-miss-lookups"]
    assert len(flags) == 1 and flags[0].indexes == tuple(range(12)) and flags[0].user_id == "u-prober"
    # The same number of lookups spread over a day is ordinary.
    spread = [(60 * i, kw) for i, (_, kw) in enumerate(misses[:10])]
    assert not find_anomalies(_seq(make_event, spread))


def test_after_hours_access_is_flagged_in_the_configured_timezone(make_event):
    # 17:30 UTC = 20:30 in Damascus: after hours; 15:30 UTC = 18:30 Damascus: still working hours.
    events = _seq(make_event, [(11 * 60 + 30, dict(user_id="u-night")), (9 * 60 + 30, dict(user_id="u-day"))])
    flags = find_anomalies(events)
    assert [(f.rule, f.user_id, f.indexes) for f in flags] == [("after-hours", "u-night", (0,))]
    assert not find_anomalies(events, Thresholds(timezone="UTC", working_end=dt.time(20, 0)))
    # A rest day (Friday = 4): 2026-03-06 is a Friday.
    friday = [StoredEvent(0, make_event(at=dt.datetime(2026, 3, 6, 8, 0)))]
    assert not find_anomalies(friday)
    assert [f.rule for f in find_anomalies(friday, Thresholds(rest_days=frozenset({4})))] == ["after-hours"]


def test_access_outside_the_caseload_is_flagged(make_event):
    events = _seq(
        make_event,
        [
            (
                10,
                dict(action="read", outcome="success", children=("CR-AAAA-BBBB-CCD",), outside_caseload=True),
            ),
            (
                12,
                dict(
                    action="read",
                    outcome="denied",
                    decision="deny",
                    children=("CR-AAAA-BBBB-CCE",),
                    outside_caseload=True,
                ),
            ),
        ],
    )
    flags = find_anomalies(events)
    assert [(f.rule, f.indexes) for f in flags] == [("outside-caseload", (0,))]  # the denied one was stopped


def test_break_glass_and_consent_overrides_are_flagged(make_event):
    events = _seq(
        make_event,
        [
            (
                10,
                dict(
                    action="read",
                    outcome="success",
                    children=("CR-AAAA-BBBB-CCD",),
                    break_glass=True,
                    reason_code="emergency-medical",
                ),
            ),
            (
                20,
                dict(
                    action="consent-override",
                    outcome="success",
                    children=("CR-AAAA-BBBB-CCE",),
                    reason_code="vital-interests",
                ),
            ),
        ],
    )
    flags = find_anomalies(events)
    assert [(f.rule, f.indexes, f.child) for f in flags] == [
        ("break-glass", (0,), "CR-AAAA-BBBB-CCD"),
        ("break-glass", (1,), "CR-AAAA-BBBB-CCE"),
    ]


def test_one_child_looked_up_by_many_agencies_is_flagged(make_event):
    child = ("CR-HOTS-PT00-1X",)
    events = _seq(
        make_event,
        [
            (
                60 * 24 * d,
                dict(agency=f"agency-{d}", user_id=f"u-{d}", children=child, outcome="likely-match"),
            )
            for d in range(3)
        ],
    )
    flags = find_anomalies(events)
    assert [(f.rule, f.child, f.indexes) for f in flags] == [("many-agencies", child[0], (0, 1, 2))]
    two = events[:2] + [StoredEvent(9, make_event(agency="agency-0", children=child))]
    assert not find_anomalies(two)


# ---- against the stored log ------------------------------------------------------------------------------


@pytest.fixture
def stored(log, make_event):
    for e in _ordinary_day(make_event):
        log.record(e.event)
    return log


def test_queries_filter_and_page(stored):
    page1 = query_events(stored, DPO, EventFilter(user_id="u-cw-0", action="read"), limit=5)
    assert len(page1.events) == 5 and page1.next_after is not None
    assert all(e.event.user_id == "u-cw-0" and e.event.action == "read" for e in page1.events)
    page2 = query_events(
        stored, DPO, EventFilter(user_id="u-cw-0", action="read"), after=page1.next_after, limit=5
    )
    assert len(page2.events) == 3 and page2.next_after is None
    child = query_events(stored, DPO, EventFilter(child="CR-CHLD-0004-X"))
    assert [e.event.action for e in child.events] == ["register", "read"]
    since = T0 + dt.timedelta(hours=7)
    late = query_events(
        stored, DPO, EventFilter(agency="agency-b", since=since, until=since + dt.timedelta(hours=1))
    )
    assert late.events and all(e.event.agency == "agency-b" and e.event.at >= since for e in late.events)
    assert query_events(stored, DPO, EventFilter(outcome="denied")).events == []
    assert query_events(
        stored, DPO, EventFilter(purpose="deduplication", outcome="no-match"), limit=1000
    ).events


def test_reading_the_log_is_logged(stored):
    before = stored.size()
    query_events(stored, DPO, EventFilter(child="CR-CHLD-0004-X"))
    reading = stored.entry(before).event
    assert (reading.action, reading.user_id, reading.role, reading.children) == (
        "audit-read",
        "u-dpo-1",
        "dpo",
        ("CR-CHLD-0004-X",),
    )
    assert reading.query_fingerprint.startswith("filter-")
    flag_anomalies(stored, DPO)
    assert stored.entry(before + 1).event.action == "audit-read"
    export_events(stored, DPO, EventFilter(), io.StringIO(), "csv")
    assert stored.entry(before + 2).event.action == "audit-export"
    assert stored.verify().ok


def test_csv_and_json_exports(stored):
    out = io.StringIO()
    n = export_events(stored, DPO, EventFilter(action="register"), out, "csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (
        n == len(rows) == 24 and rows[0]["action"] == "register" and rows[0]["children"] == "CR-CHLD-0000-X"
    )
    out = io.StringIO()
    export_events(stored, DPO, EventFilter(action="register"), out, "json")
    data = json.loads(out.getvalue())
    assert len(data) == 24 and data[0]["index"] == 1
    out = io.StringIO()
    export_events(stored, DPO, EventFilter(action="register"), out, "fhir")
    bundle = json.loads(out.getvalue())
    assert (
        bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"]["resourceType"] == "AuditEvent"
    )


def test_flags_from_the_stored_log(stored, make_event):
    assert flag_anomalies(stored, DPO) == []
    index = stored.record(
        make_event(
            action="read",
            outcome="success",
            break_glass=True,
            children=("CR-CHLD-0001-X",),
            at=T0 + dt.timedelta(hours=2),
        )
    )
    flags = flag_anomalies(stored, DPO, since=T0, until=T0 + dt.timedelta(days=1))
    assert [(f.rule, f.indexes) for f in flags] == [("break-glass", (index,))]
