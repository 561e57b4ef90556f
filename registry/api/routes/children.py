from fastapi import APIRouter, Depends, Response

from registry.api.deps import get_registry
from registry.api.schemas import ChildOut, IdentityIn, RegisteredOut
from registry.identity import validate_identity
from registry.services import registration
from registry.services.context import Registry

router = APIRouter(tags=["children"])


@router.post("/children", response_model=RegisteredOut, status_code=201)
def register_child(body: IdentityIn, response: Response, reg: Registry = Depends(get_registry)) -> RegisteredOut:
    identity = validate_identity(body.model_dump())
    result = registration.register_child(reg, identity)
    if result.outcome != "created":
        response.status_code = 200
    return RegisteredOut(child_id=result.child_id, outcome=result.outcome)


@router.get("/children/{child_id}", response_model=ChildOut)
def get_child(child_id: str, reg: Registry = Depends(get_registry)) -> ChildOut:
    view = registration.get_child(reg, child_id)
    return ChildOut(child_id=view.child_id, status=view.status, records=view.records)
