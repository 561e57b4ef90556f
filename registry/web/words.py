"""Names of fields, roles, outcomes and purposes as the pages show them (marked for the catalogues)."""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    return message


FIELD_LABELS = {
    "given_name": N_("Given name"), "father_name": N_("Father's name"), "grandfather_name": N_("Grandfather's name"),
    "family_name": N_("Family name"), "mother_given_name": N_("Mother's given name"),
    "mother_family_name": N_("Mother's family name"), "full_name": N_("Full name"), "sex": N_("Sex"),
    "date_of_birth": N_("Date of birth"), "governorate": N_("Governorate"), "place_of_birth": N_("Place of birth"),
    "national_id": N_("National ID number"), "institution": N_("Institution"),
    "source_ref": N_("Your local case reference"), "purpose": N_("Purpose"), "username": N_("Username"),
    "password": N_("Password"), "role": N_("Role"), "agency": N_("Agency"), "code": N_("Code"), "name": N_("Name"),
    "days": N_("Days"), "user": N_("User"), "child": N_("Child pseudonym"), "since": N_("From"),
    "until": N_("Until"), "offset": N_("Offset"), "limit": N_("Page size"), "action": N_("Action"),
    "outcome": N_("Outcome"), "focal_point_role": N_("Focal point role"), "pair_id": N_("Pair"),
    "csrf_token": N_("Security token"), "request": N_("Request"), "source": N_("Source"),
    "query": N_("What you know about the child"), "decision": N_("Decision"),
}
ROLE_NAMES = {
    "caseworker": N_("caseworker"), "agency_admin": N_("agency administrator"),
    "national_reviewer": N_("national unit reviewer"), "dpo": N_("data protection officer"),
    "system_admin": N_("system administrator"),
}
OUTCOMES = {
    "no-match": N_("No match: this child is not known to the registry."),
    "possible-match": N_("Possible match: this child may already be known."),
    "likely-match": N_("Likely match: this child is probably already known."),
}
LOOKUP_PURPOSES = {
    "registration": N_("registration"), "referral": N_("referral"), "family-tracing": N_("family tracing"),
    "deduplication-review": N_("deduplication review"),
}
SOURCES = {"batch": N_("batch deduplication"), "registration": N_("registration")}
# Why a same-child pair waits in the queue instead of being merged by the batch run (review.automatic).
HELD = {
    "not a duplicate": N_("Not merged automatically: a person said two of these records are different children"),
    "possible twins": N_("Not merged automatically: it would join records the twin rule keeps apart"),
    "consent": N_("Not merged automatically: consent to deduplication was withdrawn"),
}


def labeller(table: dict[str, str], _: Callable[[str], str]) -> Callable[[str], str]:
    return lambda key: _(table[key]) if key in table else key
