"""The DPO's view of the access log: events, anomaly flags, signed checkpoints and proofs.

Every route asks the policy decision point (audit-read: DPO only) and every reading is itself logged
(registry.audit.review records it). Events carry pseudonyms and codes only: no identity can leak here.
"""

from __future__ import annotations

import base64
import datetime as dt
import io

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from registry.accounts.service import Actor
from registry.api.deps import current_actor, get_registry
from registry.audit import AuditLogError, review
from registry.audit.fhir import to_fhir_audit_event
from registry.consent import policy
from registry.consent.access import authorize
from registry.errors import InvalidInput, NotFound
from registry.services.context import Registry

router = APIRouter(prefix="/audit", tags=["audit"])
PURPOSE = "audit-review"


def dpo(reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> review.Reader:
    """The caller, if the policy lets them read the log (the reading itself is logged by the service)."""
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.AUDIT_READ, purpose=PURPOSE, audit=False)
    return review.Reader(user_id=actor.user_id, role=actor.role, agency=actor.agency, purpose=PURPOSE)


def _filters(user: str | None, agency: str | None, child: str | None, action: str | None, purpose: str | None,
             outcome: str | None, since: dt.datetime | None, until: dt.datetime | None) -> review.EventFilter:
    if since and until and since >= until:
        raise InvalidInput.one("until", "must be after since")
    return review.EventFilter(user_id=user, agency=agency, child=child, action=action, purpose=purpose,
                              outcome=outcome, since=since, until=until)


@router.get("/events")
def events(
    user: str | None = None, agency: str | None = None, child: str | None = None, action: str | None = None,
    purpose: str | None = None, outcome: str | None = None,
    since: dt.datetime | None = Query(None, description="inclusive, UTC"),
    until: dt.datetime | None = Query(None, description="exclusive, UTC"),
    after: int = Query(-1, ge=-1, description="leaf index of the last event of the previous page"),
    limit: int = Query(100, ge=1, le=review.MAX_PAGE),
    format: str = Query("json", pattern="^(json|csv|fhir)$"),
    reg: Registry = Depends(get_registry), reader: review.Reader = Depends(dpo),
):
    filters = _filters(user, agency, child, action, purpose, outcome, since, until)
    page = review.query_events(reg.audit, reader, filters, after=after, limit=limit)
    if format == "csv":
        out = io.StringIO()
        review.write_csv(page.events, out)
        return Response(out.getvalue(), media_type="text/csv")
    if format == "fhir":
        return {"resourceType": "Bundle", "type": "collection",
                "entry": [{"resource": to_fhir_audit_event(e.event, e.index)} for e in page.events],
                "next_after": page.next_after}
    return {"events": [{"index": e.index, **e.event.to_dict()} for e in page.events], "next_after": page.next_after}


@router.get("/flags")
def flags(since: dt.datetime | None = None, until: dt.datetime | None = None,
          reg: Registry = Depends(get_registry), reader: review.Reader = Depends(dpo)) -> dict:
    found = review.flag_anomalies(reg.audit, reader, since, until)
    return {"flags": [{"rule": f.rule, "reason": f.reason, "events": list(f.indexes), "user_id": f.user_id,
                       "agency": f.agency, "child": f.child} for f in found]}


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(reg: Registry = Depends(get_registry), _reader: review.Reader = Depends(dpo)) -> str:
    """The latest signed checkpoint note (tree size, root hash, time, Ed25519 signature)."""
    latest = reg.audit.latest_checkpoint()
    if latest is None:
        raise NotFound("checkpoint")
    return latest.note


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(reg: Registry = Depends(get_registry), _actor: Actor = Depends(current_actor)) -> str:
    """The log's Ed25519 public key (base64): what a verifier needs, and all it needs."""
    return base64.b64encode(bytes(reg.keys.audit_verify_key())).decode() + "\n"


@router.get("/proofs/inclusion")
def inclusion(index: int = Query(..., ge=0), tree_size: int | None = Query(None, ge=1),
              reg: Registry = Depends(get_registry), _reader: review.Reader = Depends(dpo)) -> dict:
    try:
        path = reg.audit.inclusion_proof(index, tree_size)
    except (ValueError, AuditLogError) as e:
        raise InvalidInput.one("index", str(e)) from None
    return {"index": index, "tree_size": tree_size, "audit_path": [base64.b64encode(h).decode() for h in path]}


@router.get("/proofs/consistency")
def consistency(old_size: int = Query(..., ge=1), new_size: int | None = Query(None, ge=1),
                reg: Registry = Depends(get_registry), _reader: review.Reader = Depends(dpo)) -> dict:
    try:
        proof = reg.audit.consistency_proof(old_size, new_size)
    except (ValueError, AuditLogError) as e:
        raise InvalidInput.one("old_size", str(e)) from None
    return {"old_size": old_size, "new_size": new_size, "proof": [base64.b64encode(h).decode() for h in proof]}
