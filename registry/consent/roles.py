"""The five roles and who is who. What each role may do is decided in one place: registry.consent.policy."""

from __future__ import annotations

CASEWORKER = "caseworker"
AGENCY_ADMIN = "agency_admin"
NATIONAL_REVIEWER = "national_reviewer"
DPO = "dpo"
SYSTEM_ADMIN = "system_admin"

ROLES = (CASEWORKER, AGENCY_ADMIN, NATIONAL_REVIEWER, DPO, SYSTEM_ADMIN)

# Roles that work a caseload: they see the children their agency holds a case for.
CASELOAD_ROLES = frozenset({CASEWORKER, AGENCY_ADMIN})
