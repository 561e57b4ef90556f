"""What one audit event says, and the exact bytes of a log entry that the Merkle leaf hash covers.

An `AuditEvent` records who (user, role, agency), what (action, the children concerned by pseudonym, or the
keyed fingerprint of a lookup's query), when, why (declared purpose, consent or legal basis), the policy
decision and its reason code, and the outcome. It has no field for a name, a date of birth or an ID number,
and every field is a short ASCII token (`TOKEN`), so plaintext identity (Arabic or Latin names, dates with
spaces, free text) cannot be written into the log by mistake. A break-glass reason is a reason code, not text.

A log entry is the event plus its position: its leaf index and the leaf hash of the entry before it. Both are
inside the hashed bytes, so an entry moved to another index or relinked after an edit is caught at that entry.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass, field, fields

from registry.store.db import utcnow

ENTRY_VERSION = 1

# Short opaque tokens only: pseudonyms (CR-XXXX-XXXX-XXC), ids, codes, hex/base64 fingerprints.
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")

# Common actions (other tokens are allowed; the DPO rules look for these).
LOOKUP = "lookup"  # "is this child already known?"
READ = "read"
REGISTER = "register"
UPDATE = "update"
SHARE = "share"
MERGE = "merge"
EXPORT = "export"
BREAK_GLASS = "break-glass"
CONSENT_OVERRIDE = "consent-override"
AUDIT_READ = "audit-read"  # a DPO reading this log
AUDIT_EXPORT = "audit-export"  # a DPO exporting events or the whole log
# The log recording its own signed checkpoint (size and root in query_fingerprint: "cp-<size>-<root hex>"),
# so that a stored checkpoint deleted later is missed by the entries that follow it.
AUDIT_CHECKPOINT = "audit-checkpoint"
AUDIT_ACTIONS = frozenset({AUDIT_READ, AUDIT_EXPORT, AUDIT_CHECKPOINT})

OUTCOMES = frozenset({"success", "failure", "denied", "no-match", "possible-match", "likely-match"})
DECISIONS = frozenset({"permit", "deny"})


class InvalidEvent(ValueError):
    """An event that must not go into the log (an unknown outcome, a field that is not a token...)."""


def _check_token(name: str, value: str | None, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not TOKEN.fullmatch(value):
        raise InvalidEvent(
            f"{name} must be a short ASCII token (pseudonym, id, code or fingerprint), got {value!r}"
        )


def _utc_naive(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at


def format_time(at: dt.datetime) -> str:
    """UTC, always with microseconds and a Z: one spelling per instant, so the bytes are canonical."""
    return _utc_naive(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


# The id of the request being served (set by the HTTP face): every event recorded while serving it carries it,
# so the audit log and the server's log lines correlate without either holding what the other does.
CURRENT_REQUEST_ID: ContextVar[str | None] = ContextVar("registry_request_id", default=None)


@dataclass(frozen=True)
class AuditEvent:
    """One request that touched a child or the log, whatever its outcome. Field names follow FHIR AuditEvent."""

    action: str  # what was asked: lookup, read, register, share, merge, break-glass, audit-read ...
    outcome: str  # one of OUTCOMES
    user_id: str  # agent.who
    role: str  # agent.role
    agency: str  # the agent's organisation
    purpose: str  # declared purpose of use (authorization)
    legal_basis: str  # "consent:<consent id>", "legal-obligation", "vital-interests", or "none"
    decision: str  # the policy decision point's answer: permit or deny
    reason_code: str  # the policy decision's reason code
    children: tuple[str, ...] = ()  # pseudonyms of the children concerned (entity, role "subject")
    query_fingerprint: str | None = None  # keyed fingerprint of a lookup's query, never the query itself
    at: dt.datetime = field(default_factory=utcnow)  # when (stored in UTC)
    break_glass: bool = False  # a denial overridden in an emergency
    outside_caseload: bool = False  # set by the caller: the children are not in the user's agency caseload
    request_id: str | None = None  # correlates with the service's own logs
    source: str = "registry"  # which service recorded it

    def __post_init__(self) -> None:
        for name in (
            "action",
            "user_id",
            "role",
            "agency",
            "purpose",
            "legal_basis",
            "reason_code",
            "source",
        ):
            _check_token(name, getattr(self, name))
        _check_token("query_fingerprint", self.query_fingerprint, optional=True)
        _check_token("request_id", self.request_id, optional=True)
        if self.outcome not in OUTCOMES:
            raise InvalidEvent(f"outcome must be one of {sorted(OUTCOMES)}, got {self.outcome!r}")
        if self.decision not in DECISIONS:
            raise InvalidEvent(f"decision must be permit or deny, got {self.decision!r}")
        if isinstance(self.children, str):
            raise InvalidEvent("children is a list of pseudonyms, not one string")
        for child in self.children:
            _check_token("children[]", child)
        if not isinstance(self.break_glass, bool) or not isinstance(self.outside_caseload, bool):
            raise InvalidEvent("break_glass and outside_caseload are booleans")
        if not isinstance(self.at, dt.datetime):
            raise InvalidEvent("at must be a datetime")
        # Frozen, so normalise through object.__setattr__: one spelling of the same event.
        object.__setattr__(self, "children", tuple(sorted(set(self.children))))
        object.__setattr__(self, "at", _utc_naive(self.at))

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["children"] = list(self.children)
        out["at"] = format_time(self.at)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> AuditEvent:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidEvent(f"unknown fields {sorted(unknown)}")
        values = dict(data)
        values["children"] = tuple(values.get("children", ()))  # type: ignore[arg-type]
        values["at"] = parse_time(str(values["at"]))
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LogEntry:
    """An event at its place in the log: leaf `index`, after the entry whose leaf hash is `prev_hash`."""

    index: int
    prev_hash: bytes  # leaf hash of entry index-1; 32 zero bytes for the first entry
    event: AuditEvent


FIRST_PREV = bytes(32)


def entry_bytes(index: int, prev_hash: bytes, event: AuditEvent) -> bytes:
    """The canonical bytes of a log entry: exactly what the Merkle leaf hash covers.

    Compact JSON, keys sorted, ASCII only (so UTF-8 and ASCII agree), version "v", the leaf "index", the
    previous leaf hash "prev" in hex, and the event's fields.
    """
    if len(prev_hash) != 32:
        raise ValueError("prev_hash is a 32-byte leaf hash")
    body = event.to_dict()
    body.update({"v": ENTRY_VERSION, "index": index, "prev": prev_hash.hex()})
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def parse_entry(raw: bytes) -> LogEntry:
    """The entry in these bytes; ValueError (with the reason) unless they are exactly its canonical form."""
    try:
        body = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not a canonical JSON entry: {e}") from None
    if not isinstance(body, dict) or body.get("v") != ENTRY_VERSION:
        raise ValueError("not a version 1 entry")
    try:
        index = body.pop("index")
        prev = bytes.fromhex(body.pop("prev"))
        body.pop("v")
        event = AuditEvent.from_dict(body)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"malformed entry: {e}") from None
    if not isinstance(index, int):
        raise ValueError("index is not an integer")
    if entry_bytes(index, prev, event) != raw:
        raise ValueError("bytes are not in canonical form")
    return LogEntry(index=index, prev_hash=prev, event=event)
