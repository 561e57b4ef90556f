from fastapi import APIRouter, Depends

from registry.api.deps import get_registry
from registry.services.context import Registry
from registry.services.health import database_answers

router = APIRouter(tags=["health"])


@router.get("/health")
def health(reg: Registry = Depends(get_registry)) -> dict:
    database_answers(reg)
    return {"status": "ok"}
