"""FHIR R5 identifier and code systems, one per concept, shared by every resource the registry writes
(AuditEvent, Consent, their Bundles, the CapabilityStatement). FHIR JSON is served as `application/fhir+json`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

MEDIA_TYPE = "application/fhir+json"
FHIR_VERSION = "5.0.0"

BASE = "https://registry.local/fhir"
# Identifier systems: one for each thing the registry names.
CHILD_PSEUDONYM = f"{BASE}/sid/child-pseudonym"
AGENCY = f"{BASE}/sid/agency"
USER = f"{BASE}/sid/user"
CONSENT_EVIDENCE = f"{BASE}/sid/consent-evidence"
# Code systems and extensions are named below these.
CODE_SYSTEM = f"{BASE}/CodeSystem"
STRUCTURE = f"{BASE}/StructureDefinition"


def instant(value: dt.datetime | str) -> str:
    """A FHIR dateTime/instant with its time zone: the registry keeps naive UTC, so UTC is said ("Z")."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def bundle(entries: list[dict[str, Any]], *, kind: str = "searchset", next_url: str | None = None,
           self_url: str | None = None) -> dict[str, Any]:
    """A Bundle of resources; paging by Bundle links (relation "self" and "next")."""
    links = [{"relation": rel, "url": url} for rel, url in (("self", self_url), ("next", next_url)) if url]
    out: dict[str, Any] = {"resourceType": "Bundle", "type": kind}
    if links:
        out["link"] = links
    out["entry"] = [{"resource": r, **({"search": {"mode": "match"}} if kind == "searchset" else {})}
                    for r in entries]
    return out


def capability_statement(software_version: str, date: str) -> dict[str, Any]:
    """What the registry serves as FHIR: AuditEvent (the DPO's export) and Consent (a child's consents), both
    read as searchset Bundles, JSON only."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "child-case-registry", "version": software_version},
        "implementation": {"description": "Child case registry: pseudonymised identities, consent-bound access"},
        "fhirVersion": FHIR_VERSION,
        "format": [MEDIA_TYPE, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Bearer token (API token) on every request; the access policy applies.",
            "security": {"service": [{"coding": [{
                "system": "http://hl7.org/fhir/restful-security-service", "code": "OAuth",
                "display": "OAuth"}]}],
                "description": "Bearer API tokens issued by the registry"},
            "resource": [
                {"type": "AuditEvent", "interaction": [{"code": "search-type"}],
                 "documentation": "GET /v1/audit/events?format=fhir (data protection officers only); paged by "
                                  "Bundle.link next"},
                {"type": "Consent", "interaction": [{"code": "search-type"}],
                 "documentation": "GET /v1/children/{child_id}/consents/fhir"},
            ],
        }],
    }
