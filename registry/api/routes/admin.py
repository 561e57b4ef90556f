"""Who am I: the caller's user id, role and agency, as the token says."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from registry.api.deps import current_actor
from registry.services.actor import Actor

router = APIRouter(tags=["accounts"])


class MeOut(BaseModel):
    user_id: str
    username: str
    role: str
    agency: str


@router.get("/me", response_model=MeOut)
def me(actor: Actor = Depends(current_actor)) -> MeOut:
    return MeOut(user_id=actor.user_id, username=actor.username, role=actor.role, agency=actor.agency)
