from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from registry import fhir
from registry.api.deps import get_registry
from registry.api.metrics import exposition
from registry.services.context import Registry
from registry.services.health import database_answers, operational_figures, readiness
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


@router.get("/ready")
def ready(reg: Registry = Depends(get_registry)) -> JSONResponse:
    """Ready to serve (503 otherwise, naming what is missing): the database answers with the code's schema and
    the keys are loaded. /health only says the process is alive."""
    r = readiness(reg)
    return JSONResponse({"ready": r.ready, "checks": r.checks}, status_code=200 if r.ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(reg: Registry = Depends(get_registry)) -> Response:
    body, media_type = exposition(operational_figures(reg))
    return Response(body, media_type=media_type)
