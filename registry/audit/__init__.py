"""The tamper-evident access log (issue 6): record every request that touches a child, verify, review.

Services call `AuditLog(db, keys).record(AuditEvent(...))`, or `record(event, session=s)` inside their own
unit of work. Behind this face: `event` (what is recorded, canonical bytes), `merkle` (RFC 6962 hashing and
proofs), `checkpoint` (signed notes), `tables`, `log` (storage), `verify` (verifier and bundle), `witness`,
`review` (DPO queries, exports and anomaly flags), `fhir` (FHIR AuditEvent export), `cli`.
"""

from registry.audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from registry.audit.event import AuditEvent, InvalidEvent, LogEntry
from registry.audit.fhir import to_fhir_audit_event
from registry.audit.log import AuditLog, AuditLogError, verify_log
from registry.audit.review import (
    EventFilter,
    EventPage,
    Flag,
    Reader,
    StoredEvent,
    Thresholds,
    export_events,
    export_log,
    find_anomalies,
    flag_anomalies,
    query_events,
)
from registry.audit.verify import Problem, Report, read_trusted_checkpoint, verify_bundle
from registry.audit.witness import FileWitness, HttpWitness

__all__ = [
    "AuditEvent",
    "AuditLog",
    "AuditLogError",
    "Checkpoint",
    "CheckpointError",
    "EventFilter",
    "EventPage",
    "FileWitness",
    "Flag",
    "HttpWitness",
    "InvalidEvent",
    "LogEntry",
    "Problem",
    "Reader",
    "Report",
    "StoredEvent",
    "Thresholds",
    "export_events",
    "export_log",
    "find_anomalies",
    "flag_anomalies",
    "open_checkpoint",
    "query_events",
    "read_trusted_checkpoint",
    "to_fhir_audit_event",
    "verify_bundle",
    "verify_log",
]
