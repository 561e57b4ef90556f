"""Consent records: validation by field, listing with state, withdrawal, FHIR R5 Consent export without loss,
and the matcher's exclusion list."""

from __future__ import annotations

import pytest

from registry.consent.fhir import from_fhir_consent, to_fhir_consent
from registry.services.access import child_may_be_matched, excluded_from_matching
from registry.services.consents import ConsentView


@pytest.fixture
def child(world):
    return world.register("cw_a", world.arabic[0], "HMS-0001")


def test_a_recorded_consent_is_listed_with_its_state(world, child):
    world.consent("cw_a", child, purpose="registration", grantor="guardian", child_assent=True,
                  child_age_at_assent=12)
    world.consent("cw_a", child, recipient="sy-aleppo-cp", given_on="2024-01-01", expires_on="2024-06-30")
    listed = world.get("cw_a", f"/v1/children/{child}/consents").json()
    assert [(c["purpose"], c["status"]) for c in listed] == [("registration", "active"), ("share", "expired")]
    assert listed[0]["child_assent"] is True and listed[0]["child_age_at_assent"] == 12


@pytest.mark.parametrize(("body", "fields"), [
    ({"purpose": "share", "grantor": "caregiver", "given_on": "2025-01-01", "evidence_ref": "f/1"}, {"recipient"}),
    ({"purpose": "share", "recipient": "no-such-agency", "grantor": "caregiver", "given_on": "2025-01-01",
      "evidence_ref": "f/1"}, {"recipient"}),
    ({"purpose": "registration", "given_on": "2025-01-01", "evidence_ref": "f/1"}, {"grantor"}),
    ({"purpose": "registration", "basis": "vital-interests", "given_on": "2025-01-01"}, {"justification"}),
    ({"purpose": "registration", "grantor": "caregiver", "given_on": "2999-01-01", "evidence_ref": "f/1",
      "child_assent": True}, {"given_on", "child_age_at_assent"}),
    ({"purpose": "registration", "grantor": "caregiver", "given_on": "2025-05-01", "expires_on": "2025-01-01"},
     {"expires_on", "evidence_ref"}),
])
def test_a_bad_consent_is_rejected_naming_every_field(world, child, body, fields):
    r = world.post("cw_a", f"/v1/children/{child}/consents", json=body)
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == fields


def test_another_legal_basis_is_recorded_with_its_written_justification(world, child):
    r = world.post("cw_a", f"/v1/children/{child}/consents", json={
        "purpose": "share", "recipient": "sy-aleppo-cp", "basis": "vital-interests", "given_on": "2025-03-01",
        "justification": "Urgent medical referral; caregiver unreachable after displacement"})
    assert r.status_code == 201, r.text
    assert world.get("cw_b", f"/v1/children/{child}").status_code == 200
    assert world.last_event("read", "cw_b").legal_basis == f"vital-interests:{r.json()['consent_id']}"


def test_a_consent_cannot_be_withdrawn_twice(world, child):
    consent_id = world.consent("cw_a", child, recipient="sy-aleppo-cp")["consent_id"]
    first = world.post("cw_a", f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "child"})
    assert first.status_code == 200 and first.json()["status"] == "withdrawn"
    assert first.json()["withdrawn_by"] == "child"
    again = world.post("cw_a", f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "child"})
    assert again.status_code == 409


def test_unknown_consent_is_404(world):
    r = world.post("cw_a", "/v1/consents/Cnothing/withdraw", json={"withdrawn_by": "child"})
    assert r.status_code == 404


def _view(**kw) -> ConsentView:
    base = dict(consent_id="C1a2b", child_id="CR-2345-6789-ABC", purpose="share", recipient="sy-aleppo-cp",
                basis="consent", grantor="caregiver", child_assent=True, child_age_at_assent=13,
                given_on="2025-01-10", expires_on="2026-01-09", evidence_ref="form/2025/0042", justification=None,
                recorded_agency="sy-homs-ngo", recorded_at="2025-01-10T09:30:00", withdrawn_at=None,
                withdrawn_by=None, status="active")
    return ConsentView(**(base | kw))


def test_fhir_consent_has_status_category_subject_date_grantor_decision_provision_actor_period():
    r = to_fhir_consent(_view())
    assert r["resourceType"] == "Consent" and r["status"] == "active" and r["decision"] == "permit"
    assert any(c["coding"][0]["code"] == "59284-0" for c in r["category"])
    assert r["subject"]["identifier"]["value"] == "CR-2345-6789-ABC"
    assert r["date"] == "2025-01-10"
    assert r["grantor"][0]["type"] == "RelatedPerson" and r["grantor"][0]["display"] == "caregiver"
    provision = r["provision"][0]
    assert provision["purpose"][0]["code"] == "share"
    assert provision["actor"][0]["reference"]["identifier"]["value"] == "sy-aleppo-cp"
    assert provision["actor"][0]["role"]["coding"][0]["code"] == "IRCP"
    assert r["period"] == {"start": "2025-01-10", "end": "2026-01-09"} == provision["period"]


@pytest.mark.parametrize("view", [
    _view(),
    _view(status="withdrawn", withdrawn_at="2025-06-01T10:00:00", withdrawn_by="child"),
    _view(purpose="deduplication", recipient=None, expires_on=None, child_assent=None, child_age_at_assent=None),
    _view(basis="legal-obligation", grantor=None, evidence_ref=None,
          justification="Court order 2025/118 requires registration with the national unit"),
    _view(grantor="child", status="expired"),
])
def test_fhir_export_loses_nothing(view):
    from fhir.resources.consent import Consent

    resource = to_fhir_consent(view)
    Consent.model_validate(resource)
    assert from_fhir_consent(resource) == view
    if view.status in ("withdrawn", "expired"):
        assert resource["status"] == "inactive"


def test_consents_export_as_a_fhir_bundle_over_http(world, child):
    from fhir.resources import get_fhir_model_class

    from registry import fhir
    from registry.audit.event import AuditEvent
    from registry.audit.fhir import to_fhir_audit_event

    world.consent("cw_a", child, recipient="sy-aleppo-cp")
    r = world.get("cw_a", f"/v1/children/{child}/consents/fhir")
    assert r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    get_fhir_model_class("Bundle").model_validate(bundle)
    consent = bundle["entry"][0]["resource"]
    get_fhir_model_class("Consent").model_validate(consent)  # R5, with its time zones
    assert consent["subject"]["identifier"] == {"system": fhir.CHILD_PSEUDONYM, "value": child}
    recorded = next(e["valueDateTime"] for e in consent["extension"] if e["url"].endswith("consent-recorded-at"))
    assert recorded.endswith("Z")
    # One identifier system per concept: an agency is named alike in a Consent and in an AuditEvent.
    event = to_fhir_audit_event(AuditEvent(action="lookup", outcome="success", user_id="u1", role="caseworker",
                                           agency="sy-aleppo-cp", purpose="registration", legal_basis="none",
                                           decision="permit", reason_code="permit", children=(child,)))
    agency_in_event = event["agent"][1]["who"]["identifier"]["system"]
    assert consent["controller"][0]["identifier"]["system"] == agency_in_event == fhir.AGENCY


def test_matcher_exclusion_follows_deduplication_consent(world, child):
    other = world.register("cw_b", world.latin[0], "ALP-0001")
    consent_id = world.consent("cw_a", child, purpose="deduplication")["consent_id"]
    with world.reg.db.unit_of_work() as s:
        assert excluded_from_matching(s) == set() and child_may_be_matched(s, child)
    world.post("cw_a", f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "caregiver"})
    with world.reg.db.unit_of_work() as s:
        assert excluded_from_matching(s) == {child}
        assert not child_may_be_matched(s, child) and child_may_be_matched(s, other)


def test_the_matchers_exclusion_list_costs_a_few_statements_whatever_the_number_of_consents(world):
    """A batch run asks for it (and every lookup and registration did): it must not read the consents child by
    child (it did, three statements for each child with a consent to deduplication)."""
    rows = world.arabic[:10] + world.latin[:10]
    children = [world.register("cw_a", row, f"HMS-1{i:03d}") for i, row in enumerate(rows)]
    consents = [world.consent("cw_a", c, purpose="deduplication")["consent_id"] for c in children]
    for consent_id in consents[:3] + consents[10:12]:  # withdrawn: Arabic and Latin names alike
        world.post("cw_a", f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "caregiver"})
    ran_out = world.register("cw_a", world.arabic[10], "HMS-2000")  # its only consent to deduplication ended
    world.consent("cw_a", ran_out, purpose="deduplication", given_on="2024-01-01", expires_on="2024-06-30")
    # Renewed: the old consent ran out, a new one is in force.
    world.consent("cw_a", children[5], purpose="deduplication", given_on="2024-01-01", expires_on="2024-06-30")
    withdrawn = set(children[:3] + children[10:12])
    with world.reg.db.unit_of_work() as s:
        excluded, statements = world.statements(lambda: excluded_from_matching(s))
        assert excluded == withdrawn | {ran_out}
        assert excluded == {c for c in children + [ran_out] if not child_may_be_matched(s, c)}
    assert statements <= 4  # the ended consents, the children, their merged pseudonyms, their consents
    for consent_id in consents[3:5]:  # more consents withdrawn: the same statements
        world.post("cw_a", f"/v1/consents/{consent_id}/withdraw", json={"withdrawn_by": "caregiver"})
    with world.reg.db.unit_of_work() as s:
        excluded, more = world.statements(lambda: excluded_from_matching(s))
    assert excluded == withdrawn | {ran_out} | set(children[3:5]) and more == statements


def test_a_merged_child_is_out_of_matching_with_every_pseudonym_unless_one_consent_is_in_force(world):
    from sqlalchemy import update

    from registry.store.models import Child

    survivor = world.register("cw_a", world.arabic[0], "HMS-3001")
    absorbed = world.register("cw_b", world.latin[0], "ALP-3001")
    earlier = world.register("cw_b", world.latin[1], "ALP-3002")
    with world.reg.db.unit_of_work() as s:  # earlier -> absorbed -> survivor: one child, three pseudonyms
        s.execute(update(Child).where(Child.child_id == absorbed).values(status="merged", merged_into=survivor))
        s.execute(update(Child).where(Child.child_id == earlier).values(status="merged", merged_into=absorbed))
    ended = world.consent("cw_b", earlier, purpose="deduplication")["consent_id"]
    world.post("cw_b", f"/v1/consents/{ended}/withdraw", json={"withdrawn_by": "caregiver"})
    with world.reg.db.unit_of_work() as s:
        assert excluded_from_matching(s) == {survivor, absorbed, earlier}
        assert not child_may_be_matched(s, survivor)
    world.consent("cw_a", survivor, purpose="deduplication")  # in force on another pseudonym of the child
    with world.reg.db.unit_of_work() as s:
        assert excluded_from_matching(s) == set() and child_may_be_matched(s, survivor)
