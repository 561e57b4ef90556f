"""The policy decision point: ONE pure function decides every read, lookup, share, merge, export and register.

`decide(request, facts) -> Decision` takes who asks for what (user, role, agency, action, purpose, child) and
the facts about the child (which agencies hold a case for it, its consent records, any break-glass grant) and
answers permit or deny with a reason code and the legal basis. No database, no clock, no side effects: the
caller (`registry.services.access`) gathers the facts, records the decision in the audit log and enforces it.
The full permission table is in docs/access-control.md; a test walks every row of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry.consent.roles import AGENCY_ADMIN, CASELOAD_ROLES, CASEWORKER, DPO, NATIONAL_REVIEWER, SYSTEM_ADMIN

# ---- actions ------------------------------------------------------------------------------------------------
READ = "read"  # a child's identity and case pointers
REGISTER = "register"
LOOKUP = "lookup"  # "is this child already known?"
DISCLOSE_CONTACTS = "disclose-contacts"  # tell a lookup's asker which agencies hold the child
SHARE = "share"  # a holding agency passes the child's identity to another agency
MERGE = "merge"
EXPORT = "export"  # export of audit data
AUDIT_READ = "audit-read"
CONSENT_RECORD = "consent-record"
CONSENT_READ = "consent-read"
CONSENT_WITHDRAW = "consent-withdraw"
BREAK_GLASS = "break-glass"  # ask for an emergency override on one child
BREAK_GLASS_REVIEW = "break-glass-review"
ADMIN = "admin"  # manage agencies, users and tokens
USERS_READ = "users-read"  # the directory of users (names, roles, agencies), e.g. to read the audit log

ACTIONS = frozenset({READ, REGISTER, LOOKUP, DISCLOSE_CONTACTS, SHARE, MERGE, EXPORT, AUDIT_READ, CONSENT_RECORD,
                     CONSENT_READ, CONSENT_WITHDRAW, BREAK_GLASS, BREAK_GLASS_REVIEW, ADMIN, USERS_READ})

# ---- purposes -----------------------------------------------------------------------------------------------
CASE_MANAGEMENT = "case-management"
DEDUPLICATION_REVIEW = "deduplication-review"
# A batch run's automatic merge of a same-child pair: asked by the system, never by a person.
AUTOMATIC_DEDUPLICATION = "automatic-deduplication"
LOOKUP_PURPOSES = ("registration", "referral", "family-tracing", DEDUPLICATION_REVIEW)
CASEWORKER_LOOKUP_PURPOSES = ("registration", "referral", "family-tracing")
DPO_PURPOSES = ("complaint-investigation", "subject-access-request", "audit-review")
DPO_IDENTITY_PURPOSES = ("complaint-investigation", "subject-access-request")  # may open an identity
ADMINISTRATION = "administration"  # agencies, users and tokens
PURPOSES = frozenset({CASE_MANAGEMENT, "emergency", ADMINISTRATION, AUTOMATIC_DEDUPLICATION, *LOOKUP_PURPOSES,
                      *DPO_PURPOSES})

# ---- consent purposes and bases -----------------------------------------------------------------------------
CONSENT_PURPOSES = ("registration", "deduplication", "share", "referral")
BASES = ("consent", "legal-obligation", "vital-interests")
ANY_AGENCY = "*"  # a share consent naming every agency of the registry

BREAK_GLASS_ROLES = frozenset({CASEWORKER, NATIONAL_REVIEWER})
# Denials that break-glass may lift: never a role's limits, an unknown child or a quota.
_OVERRIDABLE_ACTIONS = frozenset({READ, CONSENT_READ, DISCLOSE_CONTACTS})
_NOT_OVERRIDABLE = frozenset({"deny.role", "deny.unknown-child", "deny.unknown-action", "deny.quota-exceeded"})

AGENCY_MANDATE = "agency-mandate"  # the agency's own case: its child-protection mandate is the basis


@dataclass(frozen=True)
class AccessRequest:
    user_id: str
    role: str
    agency: str
    action: str
    purpose: str
    child_id: str | None = None
    target_agency: str | None = None  # register: the record's institution; share: the recipient; admin: whose


@dataclass(frozen=True)
class ConsentFact:
    consent_id: str
    purpose: str
    recipient: str | None
    basis: str
    given_on: dt.date
    expires_on: dt.date | None = None
    withdrawn: bool = False

    def state(self, today: dt.date) -> str:
        """active | withdrawn | expired | pending (given in the future)."""
        if self.withdrawn:
            return "withdrawn"
        if self.expires_on is not None and today > self.expires_on:
            return "expired"
        if today < self.given_on:
            return "pending"
        return "active"

    @property
    def legal_basis(self) -> str:
        return f"consent:{self.consent_id}" if self.basis == "consent" else f"{self.basis}:{self.consent_id}"


@dataclass(frozen=True)
class Facts:
    today: dt.date
    child_exists: bool = True
    holders: frozenset[str] = frozenset()  # agencies holding an active case for the child
    consents: tuple[ConsentFact, ...] = ()
    break_glass: bool = False  # an unexpired grant for this user and this child
    quota_exceeded: bool = False


@dataclass(frozen=True)
class Decision:
    permit: bool
    reason_code: str
    legal_basis: str = "none"
    break_glass: bool = False


def permit(reason: str, legal_basis: str = "none") -> Decision:
    return Decision(True, "permit." + reason, legal_basis)


def deny(reason: str) -> Decision:
    return Decision(False, "deny." + reason)


def consent_state(facts: Facts, purpose: str, recipient: str | None = None) -> tuple[str, ConsentFact | None]:
    """The best state of the child's consents for a purpose (and recipient): active wins, then withdrawn,
    then expired; "none" when there is no record at all."""
    found = [c for c in facts.consents if c.purpose == purpose
             and (recipient is None or c.recipient in (recipient, ANY_AGENCY))]
    states = {c.state(facts.today): c for c in found}
    for state in ("active", "withdrawn", "expired"):
        if state in states:
            return state, states[state]
    return "none", None


def excluded_from_deduplication(facts: Facts) -> bool:
    """A child whose consent to deduplication was withdrawn (or ran out) is out of matching for others.

    No deduplication record at all means the registration covers it (docs/access-control.md, "consent").
    """
    state, _ = consent_state(facts, "deduplication")
    return state in ("withdrawn", "expired")


def _consent_denial(state: str, missing: str) -> Decision:
    if state == "withdrawn":
        return deny("consent-withdrawn")
    if state == "expired":
        return deny("consent-expired")
    return deny(missing)


def _own_case_basis(facts: Facts) -> str:
    state, c = consent_state(facts, "registration")
    return c.legal_basis if state == "active" and c else AGENCY_MANDATE


def _dedup_review(request: AccessRequest, facts: Facts) -> Decision:
    if request.purpose != DEDUPLICATION_REVIEW:
        return deny("purpose")
    state, c = consent_state(facts, "deduplication")
    if state in ("withdrawn", "expired"):
        return _consent_denial(state, "no-consent")
    return permit("deduplication-review", c.legal_basis if c else _own_case_basis(facts))


def _automatic_merge(facts: Facts) -> Decision:
    """The system merges a same-child pair of a batch run: only while deduplication is allowed for the child."""
    state, c = consent_state(facts, "deduplication")
    if state in ("withdrawn", "expired"):
        return _consent_denial(state, "no-consent")
    return permit("automatic-merge", c.legal_basis if c else _own_case_basis(facts))


def _read(request: AccessRequest, facts: Facts) -> Decision:
    role = request.role
    if role == SYSTEM_ADMIN:
        return deny("role")  # administers, never reads identities
    if role == DPO:
        if request.purpose in DPO_IDENTITY_PURPOSES:
            return permit("dpo-stated-purpose", "legal-obligation")
        return deny("purpose")
    if role == NATIONAL_REVIEWER:
        return _dedup_review(request, facts)
    if role in CASELOAD_ROLES:
        if request.agency in facts.holders:
            return permit("own-caseload", _own_case_basis(facts))
        state, c = consent_state(facts, "share", request.agency)
        if state == "active" and c:
            return permit("consent-to-share", c.legal_basis)
        return _consent_denial(state, "not-in-caseload")
    return deny("role")


def _disclose_contacts(request: AccessRequest, facts: Facts) -> Decision:
    if request.role not in CASELOAD_ROLES and request.role != NATIONAL_REVIEWER:
        return deny("role")
    if request.agency in facts.holders:
        return permit("own-caseload", _own_case_basis(facts))
    if request.role == NATIONAL_REVIEWER:
        return _dedup_review(request, facts)  # the national unit is every agency's contact point
    state, c = consent_state(facts, "share", request.agency)
    if state == "active" and c:
        return permit("consent-to-share", c.legal_basis)
    return _consent_denial(state, "no-consent-to-share")


def _share(request: AccessRequest, facts: Facts) -> Decision:
    if request.role not in CASELOAD_ROLES:
        return deny("role")
    if request.agency not in facts.holders:
        return deny("not-in-caseload")
    if not request.target_agency:
        return deny("no-recipient")
    purpose = "referral" if request.purpose == "referral" else "share"
    state, c = consent_state(facts, purpose, request.target_agency)
    if state == "active" and c:
        return permit("consent-to-share", c.legal_basis)
    return _consent_denial(state, "no-consent-to-share")


def _decide(request: AccessRequest, facts: Facts) -> Decision:
    action, role = request.action, request.role
    if action not in ACTIONS:
        return deny("unknown-action")
    if request.child_id is not None and not facts.child_exists:
        return deny("unknown-child")

    if action == REGISTER:
        if role not in CASELOAD_ROLES:
            return deny("role")
        if request.target_agency != request.agency:
            return deny("other-agency")
        return permit("own-agency", AGENCY_MANDATE)
    if action == READ:
        return _read(request, facts)
    if action == LOOKUP:
        if role not in CASELOAD_ROLES and role != NATIONAL_REVIEWER:
            return deny("role")
        allowed = LOOKUP_PURPOSES if role == NATIONAL_REVIEWER else CASEWORKER_LOOKUP_PURPOSES
        if request.purpose not in allowed:
            return deny("purpose")
        if facts.quota_exceeded:
            return deny("quota-exceeded")
        return permit("lookup", AGENCY_MANDATE)
    if action == DISCLOSE_CONTACTS:
        return _disclose_contacts(request, facts)
    if action == SHARE:
        return _share(request, facts)
    if action == MERGE:
        if role == SYSTEM_ADMIN and request.purpose == AUTOMATIC_DEDUPLICATION:
            return _automatic_merge(facts)
        if role != NATIONAL_REVIEWER:
            return deny("role")
        return _dedup_review(request, facts)
    if action in (EXPORT, AUDIT_READ, BREAK_GLASS_REVIEW):
        return permit("dpo-audit", "legal-obligation") if role == DPO else deny("role")
    if action in (CONSENT_RECORD, CONSENT_WITHDRAW, CONSENT_READ):
        if role in CASELOAD_ROLES:
            return permit("own-caseload", _own_case_basis(facts)) if request.agency in facts.holders \
                else deny("not-in-caseload")
        if role == DPO and action != CONSENT_RECORD:
            return permit("dpo-audit", "legal-obligation")  # consents are audit data; withdrawals reach the DPO
        if role == NATIONAL_REVIEWER and action == CONSENT_READ:
            return _dedup_review(request, facts)
        return deny("role")
    if action == BREAK_GLASS:
        return permit("break-glass-allowed", "vital-interests") if role in BREAK_GLASS_ROLES else deny("role")
    if action == ADMIN:
        if role == SYSTEM_ADMIN:
            return permit("system-admin")
        if role == AGENCY_ADMIN and request.target_agency == request.agency:
            return permit("agency-admin")
        return deny("role")
    if action == USERS_READ:
        if role in (SYSTEM_ADMIN, DPO):
            return permit("system-admin" if role == SYSTEM_ADMIN else "dpo-audit", "legal-obligation")
        if role == AGENCY_ADMIN and request.target_agency == request.agency:
            return permit("agency-admin")
        return deny("role")
    return deny("unknown-action")  # pragma: no cover - every action is handled above


def decide(request: AccessRequest, facts: Facts) -> Decision:
    """Permit or deny, with the reason code and legal basis. A live break-glass grant lifts some denials."""
    decision = _decide(request, facts)
    if (not decision.permit and facts.break_glass and request.role in BREAK_GLASS_ROLES
            and request.action in _OVERRIDABLE_ACTIONS and decision.reason_code not in _NOT_OVERRIDABLE):
        return Decision(True, "permit.break-glass", "vital-interests", break_glass=True)
    return decision
