from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from registry import fhir
from registry.api.deps import get_registry
from registry.services.context import Registry
from registry.services.health import database_answers
from registry.services.interop import capability_statement

router = APIRouter(tags=["health"])


@router.get("/health")
def health(reg: Registry = Depends(get_registry)) -> dict:
    database_answers(reg)
    return {"status": "ok"}


@router.get("/metadata", tags=["fhir"])
def metadata(reg: Registry = Depends(get_registry)) -> JSONResponse:
    """The FHIR R5 CapabilityStatement: which FHIR resources this registry serves, and how."""
    return JSONResponse(capability_statement(reg), media_type=fhir.MEDIA_TYPE)
