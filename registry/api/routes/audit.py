"""The DPO's view of the access log: events, anomaly flags, signed checkpoints and proofs.

Thin: each route calls one function of `registry.services.audit_review`, which asks the policy decision
point (audit-read: DPO only) and logs the reading. Events carry pseudonyms and codes only.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from registry import fhir
from registry.api.deps import current_actor, get_registry
from registry.audit.review import MAX_PAGE, event_filter
from registry.services import audit_review
from registry.services.actor import Actor
from registry.services.context import Registry

router = APIRouter(prefix="/audit", tags=["audit"])
MAX_INDEX = 2**63 - 1  # what the database's integers hold: anything larger is a 422, not a 500


@router.get("/events")
def events(
    request: Request,
    user: str | None = Query(None, max_length=128), agency: str | None = Query(None, max_length=128),
    child: str | None = Query(None, max_length=128, description="Child pseudonym"),
    action: str | None = Query(None, max_length=128), purpose: str | None = Query(None, max_length=128),
    outcome: str | None = Query(None, max_length=128),
    since: dt.datetime | None = Query(None, description="inclusive, UTC"),
    until: dt.datetime | None = Query(None, description="exclusive, UTC"),
    after: int = Query(-1, ge=-1, le=MAX_INDEX, description="leaf index of the last event of the previous page"),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    format: str = Query("json", pattern="^(json|csv|fhir)$"),
    reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor),
):
    filters = event_filter(user, agency, child, action, purpose, outcome, since, until)
    page = audit_review.events_page(reg, actor, filters, after=after, limit=limit, format=format)
    if page.format == "csv":
        return Response(page.body, media_type="text/csv")
    if page.format == "fhir":  # a searchset Bundle, paged by its links
        nxt = None if page.next_after is None else str(request.url.include_query_params(after=page.next_after))
        return JSONResponse(fhir.bundle(page.body, self_url=str(request.url), next_url=nxt),
                            media_type=fhir.MEDIA_TYPE)
    return page.body


@router.get("/flags")
def flags(since: dt.datetime | None = None, until: dt.datetime | None = None,
          reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> dict:
    return {"flags": audit_review.anomaly_flags(reg, actor, since, until)}


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> str:
    """The latest signed checkpoint note (tree size, root hash, time, Ed25519 signature)."""
    return audit_review.latest_checkpoint(reg, actor)


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(reg: Registry = Depends(get_registry), _actor: Actor = Depends(current_actor)) -> str:
    """The log's Ed25519 public key (base64): what a verifier needs, and all it needs."""
    return audit_review.public_key(reg)


@router.get("/proofs/inclusion")
def inclusion(index: int = Query(..., ge=0, le=MAX_INDEX), tree_size: int | None = Query(None, ge=1, le=MAX_INDEX),
              reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> dict:
    return audit_review.inclusion_proof(reg, actor, index, tree_size)


@router.get("/proofs/consistency")
def consistency(old_size: int = Query(..., ge=1, le=MAX_INDEX), new_size: int | None = Query(None, ge=1, le=MAX_INDEX),
                reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> dict:
    return audit_review.consistency_proof(reg, actor, old_size, new_size)
