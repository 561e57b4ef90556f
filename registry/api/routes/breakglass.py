"""Break-glass: open an emergency override on one child; the DPO lists and reviews them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from registry.api.contract import errors, idempotent
from registry.api.deps import current_actor, get_registry
from registry.services.actor import Actor
from registry.services.breakglass import GrantView, break_glass, flagged_grants, review_grant
from registry.services.context import Registry

router = APIRouter(tags=["break-glass"])


class BreakGlassIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=2000)

    reason_code: Literal["imminent-risk", "medical-emergency", "missing-child", "family-reunification", "other"]
    reason: str




@router.post("/children/{child_id}/break-glass", response_model=GrantView, status_code=201,
             responses=errors(404, 409))
def post_break_glass(child_id: str, body: BreakGlassIn, request: Request, reg: Registry = Depends(get_registry),
                     actor: Actor = Depends(current_actor)) -> Response:
    """Open a time-limited emergency override on one child (flagged for the DPO).
    Idempotency-Key: a retry with the same key and body gets the first answer again."""

    def create() -> tuple[GrantView, int, dict[str, str]]:
        grant = break_glass(reg, actor, child_id, body.reason_code, body.reason)
        return grant, 201, {"Location": f"/v1/break-glass/{grant.grant_id}"}

    return idempotent(request, reg, actor, body.model_dump(mode="json") | {"child": child_id}, 201, create)


@router.get("/break-glass", response_model=list[GrantView])
def get_flagged(include_reviewed: bool = False, reg: Registry = Depends(get_registry),
                actor: Actor = Depends(current_actor)) -> list[GrantView]:
    return flagged_grants(reg, actor, include_reviewed)


@router.post("/break-glass/{grant_id}/review", response_model=GrantView)
def post_review(grant_id: str, reg: Registry = Depends(get_registry),
                actor: Actor = Depends(current_actor)) -> GrantView:
    return review_grant(reg, actor, grant_id)
