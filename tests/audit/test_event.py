"""What an event may hold: pseudonyms, fingerprints and codes only; canonical bytes; FHIR export."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import secrets

import pytest

from registry.audit.event import AuditEvent, InvalidEvent, entry_bytes, parse_entry
from registry.audit.fhir import to_fhir_audit_event
from registry.audit.log import AuditLog
from registry.audit.review import EventFilter, Reader, export_events, query_events

GIVEN_AR = [
    "محمد",
    "أحمد",
    "علي",
    "حسن",
    "فاطمة",
    "مريم",
    "زينب",
    "عمر",
    "يوسف",
    "نور",
    "ليلى",
    "خالد",
    "سارة",
    "رهف",
]
GIVEN_LAT = [
    "Mohammad",
    "Ahmad",
    "Ali",
    "Hassan",
    "Fatima",
    "Maryam",
    "Zeinab",
    "Omar",
    "Youssef",
    "Nour",
    "Layla",
    "Khaled",
    "Sara",
    "Rahaf",
]
FAMILY_AR = ["الحلبي", "الشامي", "المصري", "الخطيب", "النجار", "الحمصي", "العلي", "السيد"]
FAMILY_LAT = ["Al-Halabi", "Al-Shami", "El-Masry", "Al-Khatib", "Al-Najjar", "Al-Homsi", "Al-Ali", "El-Sayed"]
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def _pseudonym(rng: random.Random) -> str:
    body = "".join(rng.choice(ALPHABET) for _ in range(11))
    return f"CR-{body[:4]}-{body[4:8]}-{body[8:]}"


def _children(n: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        g, f = rng.randrange(len(GIVEN_AR)), rng.randrange(len(FAMILY_AR))
        dob = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(4000))
        out.append(
            {
                "name_ar": f"{GIVEN_AR[g]} {FAMILY_AR[f]}",
                "given_lat": GIVEN_LAT[g],
                "family_lat": FAMILY_LAT[f],
                "dob": dob.isoformat(),
                "dob_dmy": dob.strftime("%d/%m/%Y"),
                "national_id": "".join(rng.choice("0123456789") for _ in range(11)),
                "pseudonym": _pseudonym(rng),
            }
        )
    return out


def test_the_event_type_has_no_field_for_identity():
    names = {f.name for f in dataclasses.fields(AuditEvent)}
    for forbidden in (
        "name",
        "given_name",
        "family_name",
        "full_name",
        "dob",
        "date_of_birth",
        "birth_date",
        "national_id",
        "query",
        "query_text",
        "note",
        "free_text",
    ):
        assert forbidden not in names


@pytest.mark.parametrize(
    "field,value",
    [
        ("children", ("محمد الحلبي",)),
        ("children", ("Mohammad Al-Halabi",)),  # a space: not a pseudonym
        ("query_fingerprint", "Fatima 2014-03-02"),
        ("reason_code", "called by the mother of أحمد"),
        ("user_id", ""),
        ("purpose", "x" * 200),
    ],
)
def test_plaintext_is_refused_at_the_door(make_event, field, value):
    with pytest.raises(InvalidEvent):
        make_event(**{field: value})


def test_outcome_and_decision_are_closed_lists(make_event):
    with pytest.raises(InvalidEvent):
        make_event(outcome="found-him")
    with pytest.raises(InvalidEvent):
        make_event(decision="maybe")


def test_entry_bytes_are_canonical_and_round_trip(make_event):
    e = make_event(children=("CR-BBBB-2222-33C", "CR-AAAA-2222-33C", "CR-AAAA-2222-33C"))
    raw = entry_bytes(5, b"\x07" * 32, e)
    assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode("ascii")
    assert b'"children":["CR-AAAA-2222-33C","CR-BBBB-2222-33C"]' in raw  # sorted, deduplicated
    entry = parse_entry(raw)
    assert (entry.index, entry.prev_hash, entry.event) == (5, b"\x07" * 32, e)
    spaced = raw.replace(b'","', b'", "', 1)
    with pytest.raises(ValueError, match="canonical"):
        parse_entry(spaced)


def test_fhir_audit_event_export(make_event):
    e = make_event(
        children=("CR-AAAA-2222-33C",),
        legal_basis="consent:c-77",
        break_glass=True,
        outcome="denied",
        decision="deny",
        reason_code="no-consent-for-purpose",
    )
    r = to_fhir_audit_event(e, index=12)
    assert r["resourceType"] == "AuditEvent" and r["id"] == "12"
    assert r["action"] == "E" and r["recorded"] == "2026-03-02T09:00:00.000000Z"
    assert r["outcome"]["code"]["code"] == "4"
    assert {"reference": "Consent/c-77"} in r["basedOn"]
    assert any(c["coding"][0]["code"] == "BTG" for c in r["authorization"])
    assert r["agent"][0]["who"]["identifier"]["value"] == "u-caseworker-1"
    assert r["entity"][0]["what"]["identifier"]["value"] == "CR-AAAA-2222-33C"
    assert r["entity"][1]["role"]["coding"][0]["code"] == "24"  # R5: a CodeableConcept


def test_no_plaintext_identity_reaches_the_stored_log(sqlite_db, keys, tmp_path):
    """A realistic day of lookups and reads for generated children: no name, date of birth or ID anywhere."""
    log = AuditLog(sqlite_db, keys, checkpoint_every=25)
    children = _children(60)
    rng = random.Random(3)
    t0 = dt.datetime(2026, 3, 2, 6, 0)
    for i, child in enumerate(children):
        # What a lookup service does: fingerprint the query with the keyed linkage key, log the fingerprint.
        query = f"{child['name_ar']}|{child['given_lat']} {child['family_lat']}|{child['dob']}"
        fingerprint = keys.content_digest(query)
        found = rng.random() < 0.5
        log.record(
            AuditEvent(
                action="lookup",
                outcome="likely-match" if found else "no-match",
                user_id=f"u-{i % 5}",
                role="caseworker",
                agency=f"agency-{i % 3}",
                purpose="deduplication",
                legal_basis="consent:c-1",
                decision="permit",
                reason_code="consent-valid",
                query_fingerprint=fingerprint,
                children=(child["pseudonym"],) if found else (),
                at=t0 + dt.timedelta(minutes=7 * i),
                request_id=secrets.token_hex(8),
            )
        )
        if found:
            log.record(
                AuditEvent(
                    action="read",
                    outcome="success",
                    user_id=f"u-{i % 5}",
                    role="caseworker",
                    agency=f"agency-{i % 3}",
                    purpose="case-management",
                    legal_basis="consent:c-1",
                    decision="permit",
                    reason_code="in-caseload",
                    children=(child["pseudonym"],),
                    at=t0 + dt.timedelta(minutes=7 * i + 1),
                )
            )
    log.checkpoint()
    reader = Reader("u-dpo")
    query_events(log, reader, EventFilter(child=children[0]["pseudonym"]))
    bundle = tmp_path / "bundle.jsonl"
    log.export_bundle(bundle)
    csv_path = tmp_path / "events.csv"
    with csv_path.open("w") as f:
        export_events(log, reader, EventFilter(), f, "fhir")
    sqlite_db.dispose()  # flush the WAL into the file we scan

    blobs = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert "audit.db" in blobs and "bundle.jsonl" in blobs
    for child in children:
        needles = [
            child["name_ar"],
            child["name_ar"].split()[0],
            child["family_lat"],
            child["dob"],
            child["dob_dmy"],
            child["national_id"],
        ]
        for needle in needles:
            for form in {needle, needle.lower(), needle.upper()}:
                raw = form.encode("utf-8")
                for name, blob in blobs.items():
                    assert raw not in blob, f"{needle!r} found in {name}"
        # Latin given names are ordinary words (Ali, Nour...); check them as JSON string values instead.
        assert f'"{child["given_lat"]}'.encode() not in blobs["bundle.jsonl"]
    # The pseudonyms of the children found are there: that is what the log is for.
    assert any(c["pseudonym"].encode() in blobs["bundle.jsonl"] for c in children)
