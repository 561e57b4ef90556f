"""Consent and minimum disclosure: the pure rules, no database and no other wing.

- `policy.decide(request, facts) -> Decision`: the one policy decision point, on plain facts;
- `roles`: the five roles the policy speaks of;
- `records`: what a consent or legal-basis record is, and its validation; `fhir`: a consent as FHIR R5;
- `disclosure`: what a lookup's answer may say (match class, whom to contact);
- `quota`: the lookup quota's sliding window.

Enforcement (gathering the facts, logging each decision, raising on deny) is a use case:
`registry.services.access`.
"""
