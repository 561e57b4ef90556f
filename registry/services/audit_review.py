"""The data protection officer's review of the access log: events, exports, anomaly flags, checkpoints, proofs,
verification. Every reading passes the policy decision point (audit-read) and is itself logged
(`registry.audit.review` records it). Events carry pseudonyms and codes only.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from registry.audit import AuditLogError, review
from registry.audit.fhir import to_fhir_audit_event
from registry.audit.log import verify_log
from registry.audit.verify import Report
from registry.audit.witness import Witness
from registry.consent import policy
from registry.errors import InvalidInput, NotFound
from registry.services.access import authorize
from registry.services.actor import Actor
from registry.services.context import Registry

PURPOSE = "audit-review"
FORMATS = ("json", "csv", "fhir")


def _reader(reg: Registry, actor: Actor) -> review.Reader:
    """The caller, if the policy lets them read the log (the reading itself is logged by audit.review)."""
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.AUDIT_READ, purpose=PURPOSE, audit=False)
    return review.Reader(user_id=actor.user_id, role=actor.role, agency=actor.agency, purpose=PURPOSE)


@dataclass(frozen=True)
class EventsPage:
    """One page of events, in the format asked for: `body` is a dict (json, fhir) or CSV text."""

    format: str
    body: Any  # json: {"events", "next_after"}; csv: text; fhir: a list of AuditEvent resources
    next_after: int | None


def query_events(reg: Registry, actor: Actor, filters: review.EventFilter, *, after: int = -1,
                 limit: int = 100) -> review.EventPage:
    """One page of events as stored (for a face that lays them out itself)."""
    return review.query_events(reg.audit, _reader(reg, actor), filters, after=after, limit=limit)


def events_page(reg: Registry, actor: Actor, filters: review.EventFilter, *, after: int = -1,
                limit: int = 100, format: str = "json") -> EventsPage:
    if format not in FORMATS:
        raise InvalidInput.one("format", f"must be one of {', '.join(FORMATS)}")
    page = query_events(reg, actor, filters, after=after, limit=limit)
    if format == "csv":
        out = io.StringIO()
        review.write_csv(page.events, out)
        return EventsPage(format, out.getvalue(), page.next_after)
    if format == "fhir":
        return EventsPage(format, [to_fhir_audit_event(e.event, e.index) for e in page.events], page.next_after)
    return EventsPage(format, {"events": [{"index": e.index, **e.event.to_dict()} for e in page.events],
                               "next_after": page.next_after}, page.next_after)


def export_events(reg: Registry, actor: Actor, filters: review.EventFilter, out: TextIO, format: str) -> int:
    """Every matching event to `out` (csv, jsonl or fhir); the export is logged as one reading."""
    return review.export_events(reg.audit, _reader(reg, actor), filters, out, format)


def export_log(reg: Registry, actor: Actor, path: Path) -> int:
    """The whole log as a verifiable bundle (entries, checkpoints, public key)."""
    return review.export_log(reg.audit, _reader(reg, actor), path)


def anomaly_flags(reg: Registry, actor: Actor, since: dt.datetime | None = None, until: dt.datetime | None = None,
                  thresholds: review.Thresholds | None = None) -> list[dict[str, Any]]:
    found = review.flag_anomalies(reg.audit, _reader(reg, actor), since, until,
                                  *((thresholds,) if thresholds else ()))
    return [{"rule": f.rule, "reason": f.reason, "events": list(f.indexes), "user_id": f.user_id,
             "agency": f.agency, "child": f.child} for f in found]


def latest_checkpoint(reg: Registry, actor: Actor) -> str:
    """The latest signed checkpoint note (tree size, root hash, time, Ed25519 signature)."""
    _reader(reg, actor)
    latest = reg.audit.latest_checkpoint()
    if latest is None:
        raise NotFound("checkpoint")
    return latest.note


def public_key(reg: Registry) -> str:
    """The log's Ed25519 public key (base64): what a verifier needs, and all it needs."""
    return base64.b64encode(bytes(reg.keys.audit_verify_key())).decode() + "\n"


def inclusion_proof(reg: Registry, actor: Actor, index: int, tree_size: int | None) -> dict[str, Any]:
    _reader(reg, actor)
    try:
        path = reg.audit.inclusion_proof(index, tree_size)
    except (ValueError, AuditLogError) as e:
        raise InvalidInput.one("index", str(e)) from None
    return {"index": index, "tree_size": tree_size, "audit_path": [base64.b64encode(h).decode() for h in path]}


def consistency_proof(reg: Registry, actor: Actor, old_size: int, new_size: int | None) -> dict[str, Any]:
    _reader(reg, actor)
    try:
        proof = reg.audit.consistency_proof(old_size, new_size)
    except (ValueError, AuditLogError) as e:
        raise InvalidInput.one("old_size", str(e)) from None
    return {"old_size": old_size, "new_size": new_size, "proof": [base64.b64encode(h).decode() for h in proof]}


def _with(reg: Registry, witnesses: Sequence[Witness]) -> tuple[Witness, ...]:
    """The configured witnesses and those given for this call."""
    return tuple(reg.audit.witnesses) + tuple(w for w in witnesses if w not in reg.audit.witnesses)


@dataclass(frozen=True)
class Published:
    checkpoint: Any  # registry.audit.checkpoint.Checkpoint
    witnesses: int
    failures: list[str]  # one line per witness that could not be reached (the checkpoint is stored anyway)


def make_checkpoint(reg: Registry, witnesses: Sequence[Witness] = ()) -> Published:
    """Sign a checkpoint of the log as it stands and publish it to the configured and given witnesses
    (administrator's task)."""
    reg.audit.witnesses = _with(reg, witnesses)
    cp = reg.audit.checkpoint()
    return Published(cp, len(reg.audit.witnesses), list(reg.audit.publish_failures))


def verify_stored_log(reg: Registry, public_key: Any = None, trusted_note: str | None = None,
                      witnesses: Sequence[Witness] = ()) -> Report:
    """Check the stored log against its checkpoints (with the registry's audit public key or the one given),
    against the checkpoints every configured or given witness holds, and against a note kept outside."""
    key = public_key or reg.keys.audit_verify_key()
    return verify_log(reg.audit.db, key, origin=reg.audit.origin, trusted_checkpoint=trusted_note,
                      witnesses=_with(reg, witnesses))


__all__ = ["FORMATS", "EventsPage", "anomaly_flags", "consistency_proof", "events_page",
           "export_events", "export_log", "inclusion_proof", "latest_checkpoint", "make_checkpoint",
           "public_key", "query_events", "verify_stored_log"]
