from fastapi import APIRouter, Depends
from sqlalchemy import text

from registry.api.deps import get_registry
from registry.services.context import Registry

router = APIRouter(tags=["health"])


@router.get("/health")
def health(reg: Registry = Depends(get_registry)) -> dict:
    with reg.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}
