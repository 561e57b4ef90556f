"""The national unit's pages: the queue, a pair side by side with its waterfall, decisions and undo, lineage.

Each route calls the one use case the API route calls (registry.services.review), which asks the policy
decision point and writes the audit events.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from registry.identity.governorates import GOVERNORATES
from registry.services.review import decisions
from registry.services.review.lineage import lineage
from registry.services.review.queue import REVIEW_PURPOSE, get_pair, review_queue
from registry.services.sessions import WebUser
from registry.web.explain_words import finding_words, side_words
from registry.web.i18n import Language
from registry.web.pages import PageRoute, Posted, posted, registry_of, render, signed_in
from registry.web.waterfall import draw
from registry.web.words import HELD, SOURCES, labeller

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 10
IDENTITY_ROWS = ("given_name", "father_name", "grandfather_name", "family_name", "mother_given_name",
                 "mother_family_name", "sex", "date_of_birth", "governorate", "place_of_birth", "national_id",
                 "institution", "source_ref")


def governorate_names(lang: Language) -> dict[str, str]:
    return {g.code: g.name_ar if lang.code == "ar" else g.name_en for g in GOVERNORATES}


@router.get("/review")
def queue_page(request: Request, governorate: str | None = None, institution: str | None = None,
               source: str | None = Query(None, pattern="^(batch|registration)?$"), page: int = Query(1, ge=1),
               user: WebUser = Depends(signed_in)) -> Response:
    filters = {"governorate": governorate or None, "institution": (institution or "").strip() or None,
               "source": source or None}
    result = review_queue(registry_of(request), user.actor, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                          **filters)
    lang = Language(user.language)
    pages = max(1, -(-result.total // PAGE_SIZE))
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "review_queue.html", result=result, filters=filters, page=page, pages=pages,
                  query=query, governorates=governorate_names(lang), source_name=labeller(SOURCES, lang.gettext),
                  held_reason=labeller(HELD, lang.gettext))


def _waterfall(explanation: dict, lang: Language):  # type: ignore[no-untyped-def]
    _ = lang.gettext
    fields = explanation["fields"]
    prior = explanation["match_weight"] - sum(f["weight"] for f in fields)
    steps = [(_(f["title"]), f["weight"]) for f in fields]
    final, prior_label = _("final match weight"), _("prior")
    words = [f"{prior_label} {lang.signed(prior)}"] + [f"{t} {lang.signed(w)}" for t, w in steps]
    description = "; ".join(words) + f"; {final} {lang.signed(explanation['match_weight'])}"
    return draw(prior, steps, (prior_label, final), lang.signed, lang.direction == "rtl", description)


@router.get("/review/pairs/{pair_id}")
def pair_page(request: Request, pair_id: int, user: WebUser = Depends(signed_in)) -> Response:
    view = get_pair(registry_of(request), user.actor, pair_id, REVIEW_PURPOSE)
    lang = Language(user.language)
    _ = lang.gettext
    explanation = view.explanation
    rows = []
    if explanation:
        for f in explanation["fields"]:
            rows.append({"title": _(f["title"]), "finding": finding_words(f["finding"], _), "weight": f["weight"],
                         "side": side_words(f["weight"], _)})
    return render(request, "review_pair.html", view=view, pair=view.pair, rows=rows,
                  waterfall=_waterfall(explanation, lang) if explanation else None, identity_rows=IDENTITY_ROWS,
                  governorates=governorate_names(lang), source_name=labeller(SOURCES, _))


@router.post("/review/pairs/{pair_id}/decision")
def decide(request: Request, pair_id: int, form: Posted = Depends(posted)) -> Response:
    choice = form.form.get("decision", "")
    result = decisions.decide_pair(registry_of(request), form.user.actor, pair_id, choice)
    return render(request, "_decided.html", decision=choice, result=result, pair_id=pair_id,
                  fragment=bool(request.headers.get("HX-Request")))


@router.post("/review/merges/{merge_id}/undo")
def undo(request: Request, merge_id: str, form: Posted = Depends(posted)) -> Response:
    result = decisions.undo_merge(registry_of(request), form.user.actor, merge_id)
    return render(request, "_decided.html", decision="undone", result=result.as_dict(),
                  pair_id=form.form.get("pair_id"), fragment=bool(request.headers.get("HX-Request")))


@router.post("/review/pairs/{pair_id}/undo-rejection")
def undo_rejection(request: Request, pair_id: int, form: Posted = Depends(posted)) -> Response:
    result = decisions.undo_rejection(registry_of(request), form.user.actor, pair_id)
    return render(request, "_decided.html", decision="reopened", result=result, pair_id=pair_id,
                  fragment=bool(request.headers.get("HX-Request")))


@router.get("/children/{child_id}/lineage")
def lineage_page(request: Request, child_id: str, user: WebUser = Depends(signed_in)) -> Response:
    found = lineage(registry_of(request), user.actor, child_id, REVIEW_PURPOSE)
    return render(request, "lineage.html", lineage=found)
