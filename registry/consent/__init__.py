"""Consent, access and minimum disclosure (issue 5).

Public face, one concept a module:
- `policy.decide(request, facts) -> Decision`: the one, pure policy decision point;
- `access.authorize(reg, session, actor, action, purpose=..., child_id=...)`: gathers the facts, decides,
  logs every decision to the audit log, raises `AccessDenied` on deny; `excluded_from_matching(session)` and
  `child_may_be_matched(session, child_id)` for the matcher;
- `records`: consent and legal-basis records (record, list, withdraw); `fhir.to_fhir_consent`;
- `children`: register and read a child on a user's behalf;
- `lookup` + `disclosure` + `quota`: "is this child already known?";
- `breakglass`: emergency overrides, flagged for the DPO.

This module imports nothing itself: the store imports `consent.tables` while it is being set up.
"""
