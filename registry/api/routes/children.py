from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from registry.api.contract import errors, idempotent
from registry.api.deps import current_actor, get_registry
from registry.api.schemas import ChildOut, IdentityFields, IdentityIn, RegisteredOut
from registry.consent import policy
from registry.services.actor import Actor
from registry.services.children import (
    ShareReceipt,
    read_child_as,
    read_record_as,
    register_child_as,
    share_child,
    update_record_as,
)
from registry.services.context import Registry

router = APIRouter(tags=["children"])


@router.post("/children", response_model=RegisteredOut, status_code=201,
             responses={200: {"model": RegisteredOut, "description": "Known already: unchanged or updated"},
                        **errors(409)})
def register_child(body: IdentityIn, request: Request, reg: Registry = Depends(get_registry),
                   actor: Actor = Depends(current_actor)) -> Response:
    """Register a record for the caller's agency (the institution defaults to it; another agency's is refused).
    201 with Location for a new child; 200 when the record was known.
    Idempotency-Key: a retry with the same key and body gets the first answer again."""

    def create() -> tuple[RegisteredOut, int, dict[str, str]]:
        result = register_child_as(reg, actor, body.model_dump())
        status = 201 if result.outcome == "created" else 200
        return (RegisteredOut(child_id=result.child_id, outcome=result.outcome), status,
                {"Location": f"/v1/children/{result.child_id}"})

    return idempotent(request, reg, actor, body.model_dump(mode="json"), 201, create)


@router.get("/children/{child_id}", response_model=ChildOut, responses=errors(404))
def get_child(child_id: str, purpose: str = Query(policy.CASE_MANAGEMENT, description="Declared purpose"),
              reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> ChildOut:
    view = read_child_as(reg, actor, child_id, purpose)
    return ChildOut.model_validate({"child_id": view.child_id, "status": view.status, "records": view.records})


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str = Field(max_length=40, description="The agency to share the child with", examples=["eg-cairo-mss-1"])
    purpose: Literal["share", "referral"] = "share"


@router.post("/children/{child_id}/shares", response_model=ShareReceipt, status_code=201, responses=errors(404))
def share(child_id: str, body: ShareIn, reg: Registry = Depends(get_registry),
          actor: Actor = Depends(current_actor)) -> ShareReceipt:
    """Share a child of the caller's caseload with another agency, as the child's consent to share (or to
    refer) with that agency allows; 403 with the reason otherwise. Returns whom to pass the case to."""
    return share_child(reg, actor, child_id, body.recipient, body.purpose)


class RecordOut(BaseModel):
    child_id: str
    institution: str
    source_ref: str
    identity: dict[str, Any]


SourceRef = Annotated[str, Path(min_length=1, max_length=120, description="The agency's own case reference")]


@router.get("/records/{source_ref}", response_model=RecordOut, responses=errors(404))
def get_record(source_ref: SourceRef, response: Response, reg: Registry = Depends(get_registry),
               actor: Actor = Depends(current_actor)) -> RecordOut:
    """One of the caller's agency's own records, by its reference, with its version in ETag (for If-Match)."""
    view = read_record_as(reg, actor, source_ref)
    response.headers["ETag"] = view.etag
    return RecordOut(child_id=view.child_id, institution=view.institution, source_ref=view.source_ref,
                     identity=view.identity)


@router.put("/records/{source_ref}", response_model=RecordOut, responses=errors(404, 412, 428))
def put_record(source_ref: SourceRef, body: IdentityFields, response: Response,
               if_match: str | None = Header(None, description="The ETag read with GET /v1/records/{source_ref}"),
               reg: Registry = Depends(get_registry), actor: Actor = Depends(current_actor)) -> RecordOut:
    """Change a record's identity: the only way it changes over the API. Needs If-Match with the ETag it was
    read at (428 without, 412 when someone changed it since); the child keeps its pseudonym."""
    view = update_record_as(reg, actor, source_ref, body.model_dump(), if_match)
    response.headers["ETag"] = view.etag
    return RecordOut(child_id=view.child_id, institution=view.institution, source_ref=view.source_ref,
                     identity=view.identity)
