"""Consent records as FHIR R5 Consent resources, and back, without loss.

Mapping (R5 element <- registry field):
  id <- consent_id; status <- active | inactive (withdrawn or expired; see the withdrawal extension)
  category <- LOINC 59284-0 "Patient Consent" plus the registry's purpose code
  subject <- the child's registry pseudonym (Patient identifier), never a name
  date <- given_on; period <- given_on .. expires_on
  grantor <- caregiver / guardian (RelatedPerson) or the child (Patient), by relationship, never a name
  controller <- the agency that recorded it; sourceReference <- evidence_ref
  regulatoryBasis <- legal-obligation / vital-interests with the justification as text
  decision <- permit (a consent record always permits; withdrawal makes it inactive)
  provision[0].purpose <- purpose; provision[0].actor <- the recipient agency (role IRCP) for share/referral
  extensions: child assent (+ age), withdrawal (date, by whom), recorded-at.
"""

from __future__ import annotations

from typing import Any

from registry import fhir
from registry.consent.records import ConsentView

PSEUDONYM_SYSTEM = fhir.CHILD_PSEUDONYM
AGENCY_SYSTEM = fhir.AGENCY
EVIDENCE_SYSTEM = fhir.CONSENT_EVIDENCE
PURPOSE_SYSTEM = f"{fhir.CODE_SYSTEM}/consent-purpose"
BASIS_SYSTEM = f"{fhir.CODE_SYSTEM}/legal-basis"
GRANTOR_SYSTEM = f"{fhir.CODE_SYSTEM}/grantor-relationship"
EXT_ASSENT = f"{fhir.STRUCTURE}/child-assent"
EXT_WITHDRAWAL = f"{fhir.STRUCTURE}/consent-withdrawal"
EXT_RECORDED = f"{fhir.STRUCTURE}/consent-recorded-at"
EXT_STATE = f"{fhir.STRUCTURE}/consent-state"
LOINC_CONSENT = {"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}
RECIPIENT_ROLE = {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP",
                  "display": "information recipient"}


def _local(instant: str) -> str:
    """The registry's own form of a FHIR instant it wrote: naive UTC, to the second."""
    return instant.removesuffix("Z")


def _agency_ref(code: str) -> dict[str, Any]:
    return {"type": "Organization", "identifier": {"system": AGENCY_SYSTEM, "value": code}}


def to_fhir_consent(consent: ConsentView) -> dict[str, Any]:
    c = consent
    provision: dict[str, Any] = {"purpose": [{"system": PURPOSE_SYSTEM, "code": c.purpose}]}
    if c.recipient:
        provision["actor"] = [{"role": {"coding": [RECIPIENT_ROLE]}, "reference": _agency_ref(c.recipient)}]
    period = {"start": c.given_on, **({"end": c.expires_on} if c.expires_on else {})}
    provision["period"] = period
    extensions: list[dict[str, Any]] = [{"url": EXT_RECORDED, "valueDateTime": fhir.instant(c.recorded_at)},
                                        {"url": EXT_STATE, "valueCode": c.status}]
    if c.child_assent is not None:
        extensions.append({"url": EXT_ASSENT, "extension": [
            {"url": "assent", "valueBoolean": c.child_assent},
            *([{"url": "ageYears", "valueInteger": c.child_age_at_assent}] if c.child_age_at_assent is not None
              else []),
        ]})
    if c.withdrawn_at:
        extensions.append({"url": EXT_WITHDRAWAL, "extension": [
            {"url": "date", "valueDateTime": fhir.instant(c.withdrawn_at)},
            {"url": "by", "valueCode": c.withdrawn_by},
        ]})
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": c.consent_id,
        "extension": extensions,
        "status": "active" if c.status in ("active", "pending") else "inactive",
        "category": [{"coding": [LOINC_CONSENT]}, {"coding": [{"system": PURPOSE_SYSTEM, "code": c.purpose}]}],
        "subject": {"type": "Patient", "identifier": {"system": PSEUDONYM_SYSTEM, "value": c.child_id}},
        "date": c.given_on,
        "period": period,
        "controller": [_agency_ref(c.recorded_agency)],
        "decision": "permit",
        "provision": [provision],
    }
    if c.grantor:
        resource["grantor"] = [{
            "type": "Patient" if c.grantor == "child" else "RelatedPerson",
            "identifier": {"system": GRANTOR_SYSTEM, "value": c.grantor},
            "display": c.grantor,
        }]
    if c.evidence_ref:
        resource["sourceReference"] = [{"identifier": {"system": EVIDENCE_SYSTEM, "value": c.evidence_ref}}]
    resource["regulatoryBasis"] = [{"coding": [{"system": BASIS_SYSTEM, "code": c.basis}],
                                    **({"text": c.justification} if c.justification else {})}]
    return resource


def from_fhir_consent(resource: dict[str, Any]) -> ConsentView:
    """The inverse of `to_fhir_consent` (for resources it wrote): proves the export loses nothing."""
    ext = {e["url"]: e for e in resource.get("extension", [])}
    sub = lambda url: {x["url"]: x for x in ext.get(url, {}).get("extension", [])}  # noqa: E731
    assent, withdrawal = sub(EXT_ASSENT), sub(EXT_WITHDRAWAL)
    provision = resource["provision"][0]
    actors = provision.get("actor", [])
    basis = resource["regulatoryBasis"][0]
    grantor = resource.get("grantor", [{}])[0].get("identifier", {}).get("value")
    return ConsentView(
        consent_id=resource["id"],
        child_id=resource["subject"]["identifier"]["value"],
        purpose=provision["purpose"][0]["code"],
        recipient=actors[0]["reference"]["identifier"]["value"] if actors else None,
        basis=basis["coding"][0]["code"],
        grantor=grantor,
        child_assent=assent["assent"]["valueBoolean"] if "assent" in assent else None,
        child_age_at_assent=assent["ageYears"]["valueInteger"] if "ageYears" in assent else None,
        given_on=resource["period"]["start"],
        expires_on=resource["period"].get("end"),
        evidence_ref=resource["sourceReference"][0]["identifier"]["value"] if "sourceReference" in resource
        else None,
        justification=basis.get("text"),
        recorded_agency=resource["controller"][0]["identifier"]["value"],
        recorded_at=_local(ext[EXT_RECORDED]["valueDateTime"]),
        withdrawn_at=_local(withdrawal["date"]["valueDateTime"]) if withdrawal else None,
        withdrawn_by=withdrawal["by"]["valueCode"] if withdrawal else None,
        status=ext[EXT_STATE]["valueCode"],
    )
