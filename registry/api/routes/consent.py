"""Consent records of a child: record, list (also as FHIR R5 Consent), withdraw."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from registry import fhir
from registry.api.contract import errors, idempotent
from registry.api.deps import current_actor, get_registry
from registry.consent import policy
from registry.services.actor import Actor
from registry.services.consents import ConsentView, consents_as_fhir, list_consents, record_consent, withdraw_consent
from registry.services.context import Registry

router = APIRouter(tags=["consent"])


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=2000)

    purpose: Literal["registration", "deduplication", "share", "referral"]
    recipient: str | None = Field(default=None, description="Agency code for share/referral; * = every agency")
    basis: Literal["consent", "legal-obligation", "vital-interests"] = "consent"
    grantor: Literal["caregiver", "guardian", "child"] | None = None
    child_assent: bool | None = None
    child_age_at_assent: int | None = None
    given_on: dt.date
    expires_on: dt.date | None = None
    evidence_ref: str | None = Field(default=None, description="Where the signed form is kept")
    justification: str | None = Field(default=None, description="Required for another legal basis than consent")


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_by: Literal["caregiver", "guardian", "child"]


_PURPOSE = Query(policy.CASE_MANAGEMENT, description="Declared purpose of this request")


@router.post("/children/{child_id}/consents", response_model=ConsentView, status_code=201,
             responses=errors(404, 409))
def post_consent(child_id: str, body: ConsentIn, request: Request, purpose: str = _PURPOSE,
                 reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> Response:
    """Record a consent or another legal basis.
    Idempotency-Key: a retry with the same key and body gets the first answer again."""

    def create() -> tuple[ConsentView, int, dict[str, str]]:
        view = record_consent(reg, actor, child_id, body.model_dump(), purpose)
        return view, 201, {"Location": f"/v1/children/{view.child_id}/consents"}

    return idempotent(request, reg, actor, body.model_dump(mode="json") | {"purpose_of_request": purpose}, 201,
                      create)


@router.get("/children/{child_id}/consents", response_model=list[ConsentView])
def get_consents(child_id: str, purpose: str = _PURPOSE, reg: Registry = Depends(get_registry),
                 actor: Actor = Depends(current_actor)) -> list[ConsentView]:
    return list_consents(reg, actor, child_id, purpose)


@router.get("/children/{child_id}/consents/fhir")
def get_consents_fhir(child_id: str, purpose: str = _PURPOSE, reg: Registry = Depends(get_registry),
                      actor: Actor = Depends(current_actor)) -> JSONResponse:
    """The child's consents as a FHIR R5 Bundle (searchset) of Consent resources."""
    return JSONResponse(consents_as_fhir(reg, actor, child_id, purpose), media_type=fhir.MEDIA_TYPE)


@router.post("/consents/{consent_id}/withdraw", response_model=ConsentView)
def post_withdraw(consent_id: str, body: WithdrawIn, purpose: str = _PURPOSE, reg: Registry = Depends(get_registry),
                  actor: Actor = Depends(current_actor)) -> ConsentView:
    return withdraw_consent(reg, actor, consent_id, body.withdrawn_by, purpose)
