""""Is this child already known?": purpose, minimum fields, quota, matching, minimum disclosure, audit.

    answer = lookup_child(reg, actor, "registration", {"given_name": ..., "family_name": ..., ...})

Steps: the policy decides whether this role may look up for this purpose; the query must carry the minimum
fields (`MINIMUM_FIELDS_RULE`); one quota slot is taken (429 beyond it); the matcher finds candidates, and the
answer's class is the probability that the child is one of them (`known`: several children sharing the query's
data add up) in the batch run's calibrated bands (likely = same child, possible = the review queue's); for
each candidate that is itself at least a possible match the policy decides whether its contact points may be
disclosed to the asker (consent to share); `disclosure.answer_lookup` builds the answer; every decision goes
to the audit log, the lookup itself with a keyed fingerprint of the query (never the query). The whole call is
padded to `MIN_SECONDS`, so the time taken does not tell a match from no match.
"""

from __future__ import annotations

import atexit
import gc
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import bindparam, select

from registry.consent import disclosure, policy
from registry.consent.disclosure import Contact, LookupAnswer
from registry.consent.quota import take_lookup_slot
from registry.errors import InvalidInput
from registry.identity import Identity, validate_identity
from registry.matching import lookup as matching
from registry.matching.model import known_probability
from registry.names.dictionary import load_dictionary
from registry.services.access import (
    AccessDenied,
    QuotaExceeded,
    authorize,
    check_children,
    checked_event,
    decision_event,
    may_be_matched,
)
from registry.services.accounts import actor_for_token
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.tables.accounts import Agency

MIN_SECONDS = 0.25  # every lookup takes at least this long, match or not (settings may change it)
LOOKUP_SOURCE_REF = "lookup"  # placeholder: a lookup has no local reference
MINIMUM_FIELDS_RULE = ("a national ID number, or a given name with a family name or father's name and at least "
                       "the year of birth")


class MatchingUnavailable(RuntimeError):
    """The matcher is not installed or not trained: answering "no match" would be a false reassurance."""


# Candidates below the possible band still count towards "is this child known?" (several children sharing the
# query's data add up), down to this probability; below it a candidate adds nothing that changes an answer.
KNOWN_FLOOR = 0.05


@dataclass(frozen=True)
class Candidate:
    """A registered child the asked-about child may be, and the agencies holding its case."""

    child_id: str
    probability: float
    institutions: list[str]


def find_matches(reg: Registry, identity: Identity, excluded_children: set[str],
                 threshold: float = KNOWN_FLOOR) -> list[Any]:
    """The matcher's candidates: objects with child_id and probability, best first."""
    try:
        with reg.db.reads() as s:
            return list(matching.find_matches(s, reg.index, reg.model(), identity,
                                              excluded_children=excluded_children, threshold=threshold))
    except matching.ModelNotTrained as e:
        raise MatchingUnavailable(str(e)) from e


def known(matches: list[Any]) -> float:
    """The probability that the queried child is one of the registered candidates (each child once)."""
    return known_probability(m.probability for m in matches)


# Built once: building a statement per lookup cost more than running it.
_agencies = Agency.__table__.c
_CONTACTS = select(_agencies.code, _agencies.name, _agencies.focal_point_role).where(
    _agencies.code.in_(bindparam("codes", expanding=True)), _agencies.active.is_(True))


def check_minimum_fields(identity: Identity) -> None:
    """Refuse a query too thin to identify one child: it would enumerate many (or fish for one)."""
    if identity.national_id:
        return
    if identity.given_name and (identity.family_name or identity.father_name) and identity.date_of_birth:
        return
    raise InvalidInput.one("query", f"too few fields for a lookup: give {MINIMUM_FIELDS_RULE}")


def query_fingerprint(reg: Registry, identity: Identity) -> str:
    """Keyed fingerprint of the query: lets the DPO see repeated searches without seeing the search."""
    fields = {k: v for k, v in identity.to_dict().items() if k not in ("institution", "source_ref")}
    return reg.keys.content_digest("lookup|" + json.dumps(fields, ensure_ascii=False, sort_keys=True))


def lookup_floor(reg: Registry) -> float:
    """Seconds every lookup answer takes at least (the settings', else MIN_SECONDS)."""
    floor = reg.settings.lookup_min_seconds
    return MIN_SECONDS if floor is None else floor


def lookup_child(reg: Registry, actor: Actor, purpose: str, raw: Mapping[str, Any],
                 min_seconds: float | None = None) -> LookupAnswer:
    started = time.monotonic()
    try:
        return _lookup(reg, actor, purpose, raw)
    finally:
        pad = (lookup_floor(reg) if min_seconds is None else min_seconds) - (time.monotonic() - started)
        if pad > 0:
            time.sleep(pad)


async def lookup_child_async(reg: Registry, actor: Actor, purpose: str, raw: Mapping[str, Any]) -> LookupAnswer:
    """`lookup_child` for the server: the lookup runs on a worker thread, and the wait up to the floor is an
    asynchronous sleep, so it holds neither a thread nor a database connection while it waits."""
    return await _padded(reg, _lookup, reg, actor, purpose, raw)


async def lookup_child_with_token(reg: Registry, token: str, purpose: str, raw: Mapping[str, Any]) -> LookupAnswer:
    """`lookup_child_async` for an API caller known by its bearer token: the token is checked on the lookup's
    own worker thread (Unauthenticated if unknown, expired or revoked), a thread hop a request saved."""
    return await _padded(reg, _lookup_with_token, reg, token, purpose, raw)


def _lookup_with_token(reg: Registry, token: str, purpose: str, raw: Mapping[str, Any]) -> LookupAnswer:
    return _lookup(reg, actor_for_token(reg, token), purpose, raw)


async def _padded(reg: Registry, lookup: Any, *args: Any) -> LookupAnswer:
    """`lookup(*args)` on a worker thread, the answer held back until the registry's floor has passed."""
    started = time.monotonic()
    try:
        return await anyio.to_thread.run_sync(lookup, *args)
    finally:
        pad = lookup_floor(reg) - (time.monotonic() - started)
        if pad > 0:
            await anyio.sleep(pad)


def _lookup(reg: Registry, actor: Actor, purpose: str, raw: Mapping[str, Any]) -> LookupAnswer:
    with reg.db.unit_of_work() as s:
        decision = authorize(reg, s, actor, policy.LOOKUP, purpose=purpose, audit=False)  # role and purpose
    fields = {k: v for k, v in raw.items() if k not in ("institution", "source_ref", "purpose")}
    identity = validate_identity({**fields, "institution": actor.agency, "source_ref": LOOKUP_SOURCE_REF})
    check_minimum_fields(identity)
    fingerprint = query_fingerprint(reg, identity)

    settings = reg.settings
    with reg.db.unit_of_work() as s:
        retry_after = take_lookup_slot(s, actor.user_id, actor.agency, settings.lookup_quota_per_user_per_hour,
                                       settings.lookup_quota_per_agency_per_hour, utcnow())
    if retry_after is not None:
        try:
            with reg.db.unit_of_work() as s:
                authorize(reg, s, actor, policy.LOOKUP, purpose=purpose, quota_exceeded=True)
        except AccessDenied as e:
            raise QuotaExceeded(e.decision, retry_after) from None

    candidates = find_matches(reg, identity, set())
    with reg.db.reads() as s:
        # A child out of deduplication (its consent withdrawn or run out) is out of lookups too, except for an
        # agency that holds its case: decided here for the candidates alone, with their disclosure (the whole
        # registry's list of such children would cost every lookup a read of every ended consent).
        checks = check_children(s, actor, policy.DISCLOSE_CONTACTS, purpose=purpose,
                                child_ids=[m.child_id for m in candidates])
        # Which agencies hold each candidate: read with the facts of its disclosure decision.
        candidates = [Candidate(m.child_id, m.probability, sorted(checks[m.child_id].holders)) for m in candidates]
        candidates = [m for m in candidates
                      if actor.agency in m.institutions or may_be_matched(checks[m.child_id])]
        matches = disclosure.relevant_matches(candidates)
        checks = {m.child_id: checks[m.child_id] for m in matches}
        codes = {code for m in matches for code in m.institutions}
        agencies = {code: Contact(code, name, role) for code, name, role in
                    (s.connection().execute(_CONTACTS, {"codes": sorted(codes)}) if codes else ())}
    answer = disclosure.answer_lookup(matches, {c: k.decision.permit for c, k in checks.items()}, agencies,
                                      known=known(candidates))

    # Each disclosure decision, permitted or not, then the lookup itself: one append, one commit for all.
    events = [checked_event(actor, checked) for checked in checks.values()]
    children = tuple(sorted({k.children[0] for k in checks.values() if k.children}))
    outside = any(k.outside_caseload for k in checks.values())
    request = policy.AccessRequest(actor.user_id, actor.role, actor.agency, policy.LOOKUP, purpose)
    events.append(decision_event(actor, request, decision, outcome=answer.outcome, children=children,
                                 query_fingerprint=fingerprint, outside_caseload=outside))
    reg.audit.record_many(events)
    return answer


def warm_up(reg: Registry) -> None:
    """Before a server takes lookups: load what every lookup needs once (the model, the name dictionary), then
    move everything loaded so far out of the garbage collector's reach (gc.freeze). A full collection scans
    every live object; with the dictionary and the model loaded that took about 60 ms, in the middle of
    whichever lookup triggered it (the longest lookup at 100,000 records: 67 ms with, 14 ms without). Left to
    the first requests, every request thread that arrives at once loads its own copy, and the whole worker
    stalls for seconds (measured: p95 of 21 s in the first half minute after a start, benchmarks/load.py)."""
    reg.model()
    load_dictionary()
    global _frozen
    if not _frozen:  # once per process: a full collection walks the whole heap (seconds in a test run's process)
        gc.collect()
        gc.freeze()
        atexit.register(gc.unfreeze)  # collected as usual at exit (native extensions report leaks otherwise)
        _frozen = True


_frozen = False
