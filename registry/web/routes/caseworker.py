"""A caseworker's pages: "Is this child already known?" and registering a child.

The lookup page calls `lookup_child_async`, as `POST /v1/lookups` does, and shows exactly what the API answers: the
match class, the contact points it may disclose, or the advice to contact the national unit. Never a score,
a record or a pseudonym of another agency's child.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from registry.consent.policy import CASEWORKER_LOOKUP_PURPOSES, LOOKUP_PURPOSES
from registry.errors import Conflict, FieldError, InvalidInput
from registry.services.children import read_child_as, register_child_as
from registry.services.lookups import lookup_child_async
from registry.services.sessions import WebUser
from registry.web.i18n import Language
from registry.web.pages import PageRoute, Posted, posted, registry_of, render, signed_in
from registry.web.routes.review import governorate_names
from registry.web.words import LOOKUP_PURPOSES as PURPOSE_NAMES
from registry.web.words import OUTCOMES, labeller

router = APIRouter(route_class=PageRoute)
LOOKUP_FIELDS = ("given_name", "father_name", "grandfather_name", "family_name", "mother_given_name", "sex",
                 "date_of_birth", "governorate", "national_id")
REGISTER_FIELDS = ("source_ref", "given_name", "father_name", "grandfather_name", "family_name",
                   "mother_given_name", "mother_family_name", "sex", "date_of_birth", "governorate",
                   "place_of_birth", "national_id")


def _purposes(user: WebUser) -> tuple[str, ...]:
    return LOOKUP_PURPOSES if user.actor.role == "national_reviewer" else CASEWORKER_LOOKUP_PURPOSES


def _form_context(user: WebUser) -> dict:
    lang = Language(user.language)
    return {"governorates": governorate_names(lang), "purpose_name": labeller(PURPOSE_NAMES, lang.gettext)}


@router.get("/lookup")
def lookup_form(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    return render(request, "lookup.html", values={}, errors=[], answer=None, purposes=_purposes(user),
                  fields=LOOKUP_FIELDS, **_form_context(user))


@router.post("/lookup")
async def lookup(request: Request, form: Posted = Depends(posted)) -> Response:
    user = form.user
    values = {k: form.form.get(k, "").strip() for k in (*LOOKUP_FIELDS, "purpose")}
    context = {"values": values, "purposes": _purposes(user), "fields": LOOKUP_FIELDS, **_form_context(user)}
    _ = Language(user.language).gettext
    if not values["purpose"]:
        return render(request, "lookup.html", 422, errors=[FieldError("purpose", _(
            "Choose why you are asking: the purpose is recorded with the lookup"))], answer=None, **context)
    fields = {k: v for k, v in values.items() if v and k != "purpose"}
    try:
        answer = await lookup_child_async(registry_of(request), user.actor, values["purpose"], fields)
    except InvalidInput as e:
        return render(request, "lookup.html", 422, errors=e.errors, answer=None, **context)
    return render(request, "lookup.html", errors=[], answer=answer, outcome_words=labeller(OUTCOMES, _),
                  **context)


@router.get("/children/new")
def register_form(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    return render(request, "register.html", values={}, errors=[], result=None, fields=REGISTER_FIELDS,
                  **_form_context(user))


@router.post("/children/new")
def register(request: Request, form: Posted = Depends(posted)) -> Response:
    user = form.user
    values = {k: form.form.get(k, "").strip() for k in REGISTER_FIELDS}
    context = {"values": values, "fields": REGISTER_FIELDS, **_form_context(user)}
    try:
        result = register_child_as(registry_of(request), user.actor, {k: v for k, v in values.items() if v})
    except InvalidInput as e:
        return render(request, "register.html", 422, errors=e.errors, result=None, **context)
    except Conflict as e:  # the reference is registered with another identity: that is an update, not this form
        return render(request, "register.html", 409, errors=[FieldError(e.field or "source_ref", e.reason)],
                      result=None, **context)
    return render(request, "register.html", errors=[], result=result, **{**context, "values": {}})


@router.get("/children/{child_id}")
def child_page(request: Request, child_id: str, user: WebUser = Depends(signed_in)) -> Response:
    """A child as the caller may see it (GET /v1/children/{id}): an agency its own records only."""
    view = read_child_as(registry_of(request), user.actor, child_id)
    return render(request, "child.html", child=view, fields=REGISTER_FIELDS[1:], **_form_context(user))
