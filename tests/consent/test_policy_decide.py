"""The policy decision point as a pure function: every role through every action, with and without consent,
before and after withdrawal and expiry. One row per rule of the permission table in docs/access-control.md."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.consent.policy import AccessRequest, ConsentFact, Facts, decide, excluded_from_deduplication

TODAY = dt.date(2026, 3, 2)
A, B = "sy-homs-ngo", "sy-aleppo-cp"
CHILD = "CR-2345-6789-ABC"

AGENCY_OF = {"caseworker": A, "agency_admin": A, "national_reviewer": "national-unit", "dpo": "national-unit",
             "system_admin": "national-unit"}


def consent(purpose: str, recipient: str | None = None, state: str = "active") -> ConsentFact:
    return ConsentFact(
        consent_id="C" + purpose[:4] + state[:3], purpose=purpose, recipient=recipient, basis="consent",
        given_on=dt.date(2025, 1, 1), expires_on=dt.date(2025, 12, 31) if state == "expired" else None,
        withdrawn=state == "withdrawn",
    )


SHARE_TO_A = consent("share", A)
SHARE_TO_ALL = consent("share", "*")
SHARE_WITHDRAWN = consent("share", A, "withdrawn")
SHARE_EXPIRED = consent("share", A, "expired")
DEDUP_WITHDRAWN = consent("deduplication", state="withdrawn")
HELD_BY_A = frozenset({A})
HELD_BY_B = frozenset({B})

# role, action, purpose, holders, consents, break-glass, target agency -> expected reason code
CASES = [
    # reading a child's identity
    ("caseworker", "read", "case-management", HELD_BY_A, (), False, None, "permit.own-caseload"),
    ("agency_admin", "read", "case-management", HELD_BY_A, (), False, None, "permit.own-caseload"),
    ("caseworker", "read", "case-management", HELD_BY_B, (), False, None, "deny.not-in-caseload"),
    ("caseworker", "read", "case-management", HELD_BY_B, (SHARE_TO_A,), False, None, "permit.consent-to-share"),
    ("caseworker", "read", "case-management", HELD_BY_B, (SHARE_TO_ALL,), False, None, "permit.consent-to-share"),
    ("caseworker", "read", "case-management", HELD_BY_B, (SHARE_WITHDRAWN,), False, None, "deny.consent-withdrawn"),
    ("caseworker", "read", "case-management", HELD_BY_B, (SHARE_EXPIRED,), False, None, "deny.consent-expired"),
    ("caseworker", "read", "case-management", HELD_BY_B, (SHARE_WITHDRAWN, SHARE_TO_A), False, None,
     "permit.consent-to-share"),
    ("caseworker", "read", "case-management", HELD_BY_B, (consent("share", "eg-cairo-mss"),), False, None,
     "deny.not-in-caseload"),
    ("caseworker", "read", "case-management", HELD_BY_B, (), True, None, "permit.break-glass"),
    ("caseworker", "read", "case-management", HELD_BY_B, (SHARE_WITHDRAWN,), True, None, "permit.break-glass"),
    ("agency_admin", "read", "case-management", HELD_BY_B, (), True, None, "deny.not-in-caseload"),
    ("national_reviewer", "read", "deduplication-review", HELD_BY_B, (), False, None,
     "permit.deduplication-review"),
    ("national_reviewer", "read", "case-management", HELD_BY_B, (), False, None, "deny.purpose"),
    ("national_reviewer", "read", "deduplication-review", HELD_BY_B, (DEDUP_WITHDRAWN,), False, None,
     "deny.consent-withdrawn"),
    ("dpo", "read", "audit-review", HELD_BY_B, (), False, None, "deny.purpose"),
    ("dpo", "read", "complaint-investigation", HELD_BY_B, (), False, None, "permit.dpo-stated-purpose"),
    ("dpo", "read", "complaint-investigation", HELD_BY_B, (), True, None, "permit.dpo-stated-purpose"),
    ("system_admin", "read", "case-management", HELD_BY_B, (), False, None, "deny.role"),
    ("system_admin", "read", "case-management", HELD_BY_B, (), True, None, "deny.role"),
    # registering
    ("caseworker", "register", "registration", frozenset(), (), False, A, "permit.own-agency"),
    ("agency_admin", "register", "registration", frozenset(), (), False, A, "permit.own-agency"),
    ("caseworker", "register", "registration", frozenset(), (), False, B, "deny.other-agency"),
    ("national_reviewer", "register", "registration", frozenset(), (), False, "national-unit", "deny.role"),
    ("dpo", "register", "registration", frozenset(), (), False, "national-unit", "deny.role"),
    ("system_admin", "register", "registration", frozenset(), (), False, "national-unit", "deny.role"),
    # looking up
    ("caseworker", "lookup", "registration", frozenset(), (), False, None, "permit.lookup"),
    ("caseworker", "lookup", "deduplication-review", frozenset(), (), False, None, "deny.purpose"),
    ("caseworker", "lookup", "curiosity", frozenset(), (), False, None, "deny.purpose"),
    ("national_reviewer", "lookup", "deduplication-review", frozenset(), (), False, None, "permit.lookup"),
    ("dpo", "lookup", "registration", frozenset(), (), False, None, "deny.role"),
    ("system_admin", "lookup", "registration", frozenset(), (), False, None, "deny.role"),
    # what a lookup may disclose about a matched child
    ("caseworker", "disclose-contacts", "registration", HELD_BY_B, (), False, None, "deny.no-consent-to-share"),
    ("caseworker", "disclose-contacts", "registration", HELD_BY_B, (SHARE_TO_A,), False, None,
     "permit.consent-to-share"),
    ("caseworker", "disclose-contacts", "registration", HELD_BY_B, (SHARE_WITHDRAWN,), False, None,
     "deny.consent-withdrawn"),
    ("caseworker", "disclose-contacts", "registration", HELD_BY_B, (SHARE_EXPIRED,), False, None,
     "deny.consent-expired"),
    ("caseworker", "disclose-contacts", "registration", HELD_BY_A, (), False, None, "permit.own-caseload"),
    # sharing a record with another agency
    ("caseworker", "share", "case-management", HELD_BY_A, (consent("share", B),), False, B,
     "permit.consent-to-share"),
    ("caseworker", "share", "case-management", HELD_BY_A, (), False, B, "deny.no-consent-to-share"),
    ("caseworker", "share", "case-management", HELD_BY_A, (consent("share", B, "withdrawn"),), False, B,
     "deny.consent-withdrawn"),
    ("caseworker", "share", "referral", HELD_BY_A, (consent("referral", B),), False, B, "permit.consent-to-share"),
    ("caseworker", "share", "case-management", HELD_BY_B, (), False, "eg-cairo-mss", "deny.not-in-caseload"),
    ("caseworker", "share", "case-management", HELD_BY_B, (), True, "eg-cairo-mss", "deny.not-in-caseload"),
    ("dpo", "share", "case-management", HELD_BY_A, (), False, B, "deny.role"),
    # merging duplicates
    ("national_reviewer", "merge", "deduplication-review", HELD_BY_B, (), False, None,
     "permit.deduplication-review"),
    ("national_reviewer", "merge", "deduplication-review", HELD_BY_B, (DEDUP_WITHDRAWN,), False, None,
     "deny.consent-withdrawn"),
    ("caseworker", "merge", "deduplication-review", HELD_BY_A, (), False, None, "deny.role"),
    ("system_admin", "merge", "deduplication-review", HELD_BY_A, (), False, None, "deny.role"),
    # a batch run's automatic merge: the system only, and never across a withdrawn consent to deduplication
    ("system_admin", "merge", "automatic-deduplication", HELD_BY_A, (), False, None, "permit.automatic-merge"),
    ("system_admin", "merge", "automatic-deduplication", HELD_BY_A, (DEDUP_WITHDRAWN,), False, None,
     "deny.consent-withdrawn"),
    ("national_reviewer", "merge", "automatic-deduplication", HELD_BY_B, (), False, None, "deny.purpose"),
    ("caseworker", "merge", "automatic-deduplication", HELD_BY_A, (), False, None, "deny.role"),
    # audit data
    ("dpo", "export", "audit-review", frozenset(), (), False, None, "permit.dpo-audit"),
    ("system_admin", "export", "audit-review", frozenset(), (), False, None, "deny.role"),
    ("dpo", "audit-read", "audit-review", frozenset(), (), False, None, "permit.dpo-audit"),
    ("caseworker", "audit-read", "audit-review", frozenset(), (), False, None, "deny.role"),
    # consent records
    ("caseworker", "consent-record", "case-management", HELD_BY_A, (), False, None, "permit.own-caseload"),
    ("caseworker", "consent-record", "case-management", HELD_BY_B, (), False, None, "deny.not-in-caseload"),
    ("dpo", "consent-record", "audit-review", HELD_BY_B, (), False, None, "deny.role"),
    ("dpo", "consent-withdraw", "audit-review", HELD_BY_B, (), False, None, "permit.dpo-audit"),
    ("dpo", "consent-read", "audit-review", HELD_BY_B, (), False, None, "permit.dpo-audit"),
    ("national_reviewer", "consent-read", "deduplication-review", HELD_BY_B, (), False, None,
     "permit.deduplication-review"),
    ("system_admin", "consent-read", "case-management", HELD_BY_B, (), False, None, "deny.role"),
    # break-glass
    ("caseworker", "break-glass", "emergency", HELD_BY_B, (), False, None, "permit.break-glass-allowed"),
    ("national_reviewer", "break-glass", "emergency", HELD_BY_B, (), False, None, "permit.break-glass-allowed"),
    ("agency_admin", "break-glass", "emergency", HELD_BY_B, (), False, None, "deny.role"),
    ("dpo", "break-glass", "emergency", HELD_BY_B, (), False, None, "deny.role"),
    ("system_admin", "break-glass", "emergency", HELD_BY_B, (), False, None, "deny.role"),
    # administration
    ("system_admin", "admin", "case-management", frozenset(), (), False, "national-unit", "permit.system-admin"),
    ("agency_admin", "admin", "case-management", frozenset(), (), False, A, "permit.agency-admin"),
    ("agency_admin", "admin", "case-management", frozenset(), (), False, B, "deny.role"),
    ("caseworker", "admin", "case-management", frozenset(), (), False, A, "deny.role"),
    # nonsense
    ("caseworker", "teleport", "case-management", HELD_BY_A, (), False, None, "deny.unknown-action"),
]


@pytest.mark.parametrize(("role", "action", "purpose", "holders", "consents", "glass", "target", "expected"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[7]}-{i}" for i, c in enumerate(CASES)])
def test_each_role_and_action_gets_the_reason_code_of_the_permission_table(
        role, action, purpose, holders, consents, glass, target, expected):
    request = AccessRequest("U1", role, AGENCY_OF[role], action, purpose, CHILD, target)
    decision = decide(request, Facts(today=TODAY, holders=holders, consents=consents, break_glass=glass))
    assert decision.reason_code == expected
    assert decision.permit == expected.startswith("permit.")
    assert decision.break_glass == (expected == "permit.break-glass")


def test_a_permit_on_consent_names_that_consent_as_its_legal_basis():
    request = AccessRequest("U1", "caseworker", A, "read", "case-management", CHILD)
    decision = decide(request, Facts(today=TODAY, holders=HELD_BY_B, consents=(SHARE_TO_A,)))
    assert decision.legal_basis == f"consent:{SHARE_TO_A.consent_id}"


def test_another_legal_basis_is_named_as_such():
    vital = ConsentFact("Cvital", "share", A, "vital-interests", dt.date(2026, 1, 1))
    request = AccessRequest("U1", "caseworker", A, "read", "case-management", CHILD)
    decision = decide(request, Facts(today=TODAY, holders=HELD_BY_B, consents=(vital,)))
    assert decision.permit and decision.legal_basis == "vital-interests:Cvital"


def test_consent_expires_after_its_last_day_not_on_it():
    last_day = ConsentFact("Cx", "share", A, "consent", dt.date(2026, 1, 1), expires_on=TODAY)
    request = AccessRequest("U1", "caseworker", A, "read", "case-management", CHILD)
    assert decide(request, Facts(today=TODAY, holders=HELD_BY_B, consents=(last_day,))).permit
    next_day = Facts(today=TODAY + dt.timedelta(days=1), holders=HELD_BY_B, consents=(last_day,))
    assert decide(request, next_day).reason_code == "deny.consent-expired"


def test_an_unknown_child_is_denied_before_anything_else():
    request = AccessRequest("U1", "caseworker", A, "read", "case-management", CHILD)
    assert decide(request, Facts(today=TODAY, child_exists=False, break_glass=True)).reason_code == \
        "deny.unknown-child"


def test_quota_exceeded_denies_a_lookup_and_break_glass_cannot_lift_it():
    request = AccessRequest("U1", "caseworker", A, "lookup", "registration")
    assert decide(request, Facts(today=TODAY, quota_exceeded=True, break_glass=True)).reason_code == \
        "deny.quota-exceeded"


def test_withdrawn_or_expired_deduplication_consent_takes_the_child_out_of_matching():
    assert not excluded_from_deduplication(Facts(today=TODAY))
    assert excluded_from_deduplication(Facts(today=TODAY, consents=(DEDUP_WITHDRAWN,)))
    assert excluded_from_deduplication(Facts(today=TODAY, consents=(consent("deduplication", state="expired"),)))
    renewed = (DEDUP_WITHDRAWN, consent("deduplication"))
    assert not excluded_from_deduplication(Facts(today=TODAY, consents=renewed))
