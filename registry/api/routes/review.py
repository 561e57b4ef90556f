"""The national unit's review: the queue, one pair (identities only for deduplication review), decisions,
undo, and a child's lineage. Thin: each route calls one service function of registry.services.review."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from registry.api.contract import errors, idempotent
from registry.api.deps import current_actor, get_registry
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.services.review import decisions
from registry.services.review.lineage import lineage
from registry.services.review.queue import REVIEW_PURPOSE, get_pair, review_queue

router = APIRouter(tags=["review"])
# A pair id is a positive database integer: larger values are a 422 before any lookup (never an overflow).
PairId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The pair's id, as the queue shows it")]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["merge", "not-duplicate"]
    overrides: dict[str, str] = Field(default_factory=dict, description=(
        "Golden identity overrides: field -> the record id to take it from (merge only)"))
    survivor: str | None = Field(default=None, description="The pseudonym to keep (default: the older one)")


@router.get("/review/queue")
def queue(governorate: str | None = Query(None, description="ISO 3166-2 code of either record, e.g. SY-HL"),
          institution: str | None = Query(None, description="Institution code of either record"),
          source: Literal["batch", "registration"] | None = None,
          offset: int = Query(0, ge=0, le=10**9), limit: int = Query(20, ge=1, le=200),
          reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    """Open suspected duplicates as clusters, the most worthwhile decision first, each pair explained in words."""
    page = review_queue(reg, actor, governorate=governorate, institution=institution, source=source,
                        offset=offset, limit=limit)
    return {"total": page.total, "offset": page.offset, "limit": page.limit,
            "clusters": [c.as_dict() for c in page.clusters]}


@router.get("/review/pairs/{pair_id}", responses=errors(404))
def pair(pair_id: PairId, purpose: str | None = Query(None, description=(
             f"'{REVIEW_PURPOSE}' to see the two identities side by side")),
         reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    return get_pair(reg, actor, pair_id, purpose).as_dict()


@router.post("/review/pairs/{pair_id}/decision", responses=errors(404, 409))
def decide(pair_id: PairId, body: DecisionIn, request: Request, reg: Registry = Depends(get_registry),
           actor: Actor = Depends(current_actor)) -> Response:
    """Merge (reversibly) or not a duplicate (sticky). 409 when the pair was decided meanwhile.
    Idempotency-Key: a retry with the same key and body gets the first answer again."""

    def create() -> tuple[dict[str, Any], int, dict[str, str]]:
        return decisions.decide_pair(reg, actor, pair_id, body.decision, body.overrides, survivor=body.survivor), \
            200, {}

    return idempotent(request, reg, actor, body.model_dump(mode="json") | {"pair": pair_id}, 200, create)


@router.post("/review/merges/{merge_id}/undo", responses=errors(404, 409))
def undo(merge_id: str, reg: Registry = Depends(get_registry),
         actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    """Restore both children exactly; 409 naming the later merge to undo first when lineage requires it."""
    return decisions.undo_merge(reg, actor, merge_id).as_dict()


@router.get("/children/{child_id}/lineage")
def child_lineage(child_id: str, purpose: str = Query(REVIEW_PURPOSE, description="Declared purpose"),
                  reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> dict[str, Any]:
    """Every merge and undo that touched the child; an old pseudonym shows where it points now."""
    return lineage(reg, actor, child_id, purpose).as_dict()
