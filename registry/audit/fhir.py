"""An audit event as a FHIR R5 AuditEvent resource (JSON), for export to other systems.

Mapping (FHIR element <- event field):
- code <- action (registry code system); action <- C/R/U/E from the action; recorded, occurredDateTime <- at
- outcome.code <- audit-event-outcome 0 (success, including "no match"), 4 (denied), 8 (failure);
  outcome.detail <- the registry outcome, the policy decision and its reason code
- authorization <- declared purpose, legal basis, and v3-ActCode BTG when break-glass was used
- basedOn <- Consent/<id> when the legal basis is a consent
- agent <- the user (who.identifier, role, requestor) and the user's agency (type: organisation)
- entity <- each child by pseudonym (object-role 1 "Patient"), the query fingerprint (object-role 24 "Query",
  entity.query = the fingerprint's ASCII bytes, base64)
- source.observer <- the recording service; extension outside-caseload, request-id
No element carries plaintext identity: the event has none to give.
"""

from __future__ import annotations

import base64

from registry import fhir
from registry.audit.event import AuditEvent, format_time

CS = fhir.CODE_SYSTEM
OUTCOME_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-outcome"
ACTION_SYSTEM = "http://hl7.org/fhir/audit-event-action"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

_ACTION_CRUDE = {
    "register": "C",
    "read": "R",
    "share": "R",
    "export": "R",
    "audit-read": "R",
    "update": "U",
    "merge": "U",
    "delete": "D",
}
_OUTCOME_CODE = {"failure": ("8", "Serious failure"), "denied": ("4", "Minor failure")}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, object]:
    c: dict[str, object] = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def to_fhir_audit_event(event: AuditEvent, index: int | None = None) -> dict[str, object]:
    """The event as a FHIR R5 AuditEvent; `index` (the leaf index) becomes the resource id."""
    at = format_time(event.at)  # FHIR instant: UTC with "Z", to the microsecond
    code, display = _OUTCOME_CODE.get(event.outcome, ("0", "Success"))
    authorization = [
        {"coding": [_coding(f"{CS}/purpose-of-use", event.purpose)]},
        {"coding": [_coding(f"{CS}/legal-basis", event.legal_basis)]},
    ]
    if event.break_glass:
        authorization.append({"coding": [_coding(ACT_CODE, "BTG", "break the glass")]})
    resource: dict[str, object] = {
        "resourceType": "AuditEvent",
        "category": [{"coding": [_coding(f"{CS}/audit-category", "child-record-access")]}],
        "code": {"coding": [_coding(f"{CS}/audit-action", event.action)]},
        "action": _ACTION_CRUDE.get(event.action, "E"),
        "severity": "warning"
        if event.break_glass or event.outcome in ("denied", "failure")
        else "informational",
        "occurredDateTime": at,
        "recorded": at,
        "outcome": {
            "code": _coding(OUTCOME_SYSTEM, code, display),
            "detail": [
                {"coding": [_coding(f"{CS}/audit-outcome", event.outcome)]},
                {"coding": [_coding(f"{CS}/policy-decision", event.decision)]},
                {"coding": [_coding(f"{CS}/policy-reason", event.reason_code)]},
            ],
        },
        "authorization": authorization,
        "agent": [
            {
                "who": {"identifier": {"system": fhir.USER, "value": event.user_id}},
                "role": [{"coding": [_coding(f"{CS}/role", event.role)]}],
                "requestor": True,
            },
            {
                "type": {"coding": [_coding(f"{CS}/agent-type", "organisation")]},
                "who": {"identifier": {"system": fhir.AGENCY, "value": event.agency}},
                "requestor": False,
            },
        ],
        "source": {"observer": {"display": event.source}},
        "entity": [
            {
                "what": {"identifier": {"system": fhir.CHILD_PSEUDONYM, "value": child}},
                "role": {"coding": [_coding(OBJECT_ROLE, "1", "Patient")]},
            }
            for child in event.children
        ],
        "extension": [
            {"url": f"{fhir.STRUCTURE}/outside-caseload", "valueBoolean": event.outside_caseload}
        ],
    }
    if index is not None:
        resource["id"] = str(index)
    if event.legal_basis.startswith("consent:"):
        resource["basedOn"] = [{"reference": f"Consent/{event.legal_basis.removeprefix('consent:')}"}]
    entities: list[object] = resource["entity"]  # type: ignore[assignment]
    extensions: list[object] = resource["extension"]  # type: ignore[assignment]
    if event.query_fingerprint is not None:
        entities.append(
            {
                "role": {"coding": [_coding(OBJECT_ROLE, "24", "Query")]},
                "query": base64.b64encode(event.query_fingerprint.encode("ascii")).decode("ascii"),
            }
        )
    if event.request_id is not None:
        extensions.append(
            {"url": f"{fhir.STRUCTURE}/request-id", "valueString": event.request_id}
        )
    if not entities:
        del resource["entity"]
    return resource
