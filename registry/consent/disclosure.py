"""What a lookup may tell the asker: the minimum-disclosure contract, as a pure function.

The answer is one of three match classes, plus contact points (agency code, agency name and a focal-point
ROLE) for the matched children whose consent to share allows it, and otherwise the advice to contact the
national unit. Never a score, never record content, never a local reference, never another agency's
child's pseudonym. Every answer has the same keys whatever the outcome (see `LookupAnswer.to_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

# The batch run's calibrated decision bands (registry.matching.model.SAME_THRESHOLD and POSSIBLE_THRESHOLD; a
# test keeps them equal): "likely match" is the same-child band, "possible match" the review queue's band.
LIKELY = 0.997  # probability at or above which a match is "likely-match"
POSSIBLE = 0.5  # at or above which it is "possible-match"; below, the match is not mentioned at all

NO_MATCH, POSSIBLE_MATCH, LIKELY_MATCH = "no-match", "possible-match", "likely-match"

MESSAGES = {
    NO_MATCH: "No child matching these details is known to the registry.",
    POSSIBLE_MATCH: "A child with similar details may already be known.",
    LIKELY_MATCH: "This child is most likely already known.",
}
NATIONAL_UNIT_ADVICE = "Contact the national case-management unit, which can put you in touch with the agency."


class MatchLike(Protocol):
    child_id: str
    probability: float
    institutions: list[str]


@dataclass(frozen=True)
class Contact:
    agency: str
    agency_name: str
    focal_point_role: str


@dataclass(frozen=True)
class LookupAnswer:
    outcome: str
    contacts: tuple[Contact, ...]
    contact_national_unit: bool
    message: str

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "contacts": [{"agency": c.agency, "agency_name": c.agency_name, "focal_point_role": c.focal_point_role}
                         for c in self.contacts],
            "contact_national_unit": self.contact_national_unit,
            "message": self.message,
        }


def match_class(probability: float) -> str:
    if probability >= LIKELY:
        return LIKELY_MATCH
    if probability >= POSSIBLE:
        return POSSIBLE_MATCH
    return NO_MATCH


def relevant_matches(matches: Sequence[MatchLike]) -> list[MatchLike]:
    return [m for m in matches if m.probability >= POSSIBLE]


def answer_lookup(matches: Sequence[MatchLike], may_disclose: Mapping[str, bool],
                  agencies: Mapping[str, Contact], known: float | None = None) -> LookupAnswer:
    """The answer for these matches, given per child whether its contact points may be disclosed to the asker.

    `may_disclose[child_id]` comes from the policy decision point (consent to share, or the asker's own case).
    `known` is the probability that the child is one of the candidates at all (several children sharing the
    query's data add up: registry.matching.model.known_probability); without it, the best candidate's. Contact
    points are only ever those of a candidate that is itself at least a possible match: a child known only
    through several weak candidates is "contact the national unit".
    """
    relevant = relevant_matches(matches)
    best = max((m.probability for m in relevant), default=0.0)
    outcome = match_class(max(best, known) if known is not None else best)
    if outcome == NO_MATCH:
        return LookupAnswer(NO_MATCH, (), False, MESSAGES[NO_MATCH])
    contacts: dict[str, Contact] = {}
    hidden = False
    for m in relevant:
        if not may_disclose.get(m.child_id, False):
            hidden = True
            continue
        for code in m.institutions:
            if code in agencies:
                contacts[code] = agencies[code]
            else:
                hidden = True  # a holder without a registered contact point: the national unit knows it
    national = hidden or not contacts
    message = MESSAGES[outcome] + (" " + NATIONAL_UNIT_ADVICE if national else "")
    return LookupAnswer(outcome, tuple(contacts[c] for c in sorted(contacts)), national, message)
