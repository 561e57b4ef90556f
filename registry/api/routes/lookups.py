""""Is this child already known?": POST /v1/lookups. The contract is in docs/access-control.md."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from registry.api.contract import errors
from registry.api.deps import bearer_token, get_registry
from registry.api.schemas import IdentityFields
from registry.services.context import Registry
from registry.services.lookups import MINIMUM_FIELDS_RULE, lookup_child_with_token

router = APIRouter(tags=["lookups"])


class LookupIn(IdentityFields):
    purpose: Literal["registration", "referral", "family-tracing", "deduplication-review"]


class ContactOut(BaseModel):
    agency: str
    agency_name: str
    focal_point_role: str


class LookupOut(BaseModel):
    outcome: Literal["no-match", "possible-match", "likely-match"]
    contacts: list[ContactOut]
    contact_national_unit: bool
    message: str


@router.post("/lookups", response_model=LookupOut, responses=errors(429, 503),
             description=f"Needs a declared purpose and {MINIMUM_FIELDS_RULE}. Answers a match class and contact "
             "points only: never a score, a record or a pseudonym.")
async def post_lookup(body: LookupIn, reg: Registry = Depends(get_registry),
                      token: str = Depends(bearer_token)) -> LookupOut:
    fields = body.model_dump(exclude={"purpose"}, exclude_none=True)
    # Asynchronous: the anti-timing floor's wait holds no worker thread (the lookup itself runs on one, and the
    # token is checked there too: the busiest route makes one thread hop, not two).
    return LookupOut.model_validate((await lookup_child_with_token(reg, token, body.purpose, fields)).to_dict())
