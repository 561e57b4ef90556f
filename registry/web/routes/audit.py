"""The data protection officer's pages: events with filters, anomaly flags and their events, the log's signed
state with "verify now", exports (CSV, FHIR), and a dashboard.

The gate is the API's: the policy decision point is asked for `audit-read` (DPO only; a refusal is logged),
and every reading goes through registry.audit.review, which logs it. People and agencies are shown by name.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from registry.accounts.service import Actor, list_agencies
from registry.accounts.tables import User
from registry.audit import review
from registry.consent import policy
from registry.consent.access import authorize
from registry.errors import FieldError, InvalidInput
from registry.services.context import Registry
from registry.web.i18n import Language
from registry.web.pages import PageRoute, Posted, posted, registry_of, render, signed_in
from registry.web.sessions import WebUser

router = APIRouter(route_class=PageRoute)
PURPOSE = "audit-review"
PAGE = 50
FILTERS = ("user", "agency", "child", "action", "purpose", "outcome", "since", "until")


def dpo_reader(reg: Registry, actor: Actor, audit: bool = False) -> review.Reader:
    """As the API's gate: the policy must permit audit-read (the reading itself is logged by the service;
    `audit=True` logs the permit here, for a check that reads no events)."""
    with reg.db.unit_of_work() as s:
        authorize(reg, s, actor, policy.AUDIT_READ, purpose=PURPOSE, audit=audit)
    return review.Reader(user_id=actor.user_id, role=actor.role, agency=actor.agency, purpose=PURPOSE)


def names(reg: Registry) -> tuple[dict[str, str], dict[str, str]]:
    """user id -> username, agency code -> name: the DPO reads people and agencies by name."""
    with reg.db.unit_of_work() as s:
        users = {u: n for u, n in s.execute(select(User.user_id, User.username))}
    return users, {a.code: a.name for a in list_agencies(reg)}


def _time(field: str, value: str | None, errors: list[FieldError], _: Callable[[str], str]) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, _("must be a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM), in UTC")))
        return None


def event_filter(reg: Registry, values: dict[str, str], _: Callable[[str], str]) -> review.EventFilter:
    """The filter the DPO typed: a user by name, times as dates or date-times (UTC)."""
    errors: list[FieldError] = []
    user_id = None
    if values.get("user"):
        with reg.db.unit_of_work() as s:
            user_id = s.scalar(select(User.user_id).where(User.username == values["user"]))
        if user_id is None:
            errors.append(FieldError("user", _("no user has this username")))
    since, until = _time("since", values.get("since"), errors, _), _time("until", values.get("until"), errors, _)
    if since and until and since >= until:
        errors.append(FieldError("until", _("must be after the start")))
    if errors:
        raise InvalidInput(errors)
    return review.EventFilter(user_id=user_id, agency=values.get("agency") or None,
                              child=values.get("child") or None, action=values.get("action") or None,
                              purpose=values.get("purpose") or None, outcome=values.get("outcome") or None,
                              since=since, until=until)


def _values(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FILTERS}


@router.get("/audit/events")
def events_page(request: Request, after: int = Query(-1, ge=-1), user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    reader = dpo_reader(reg, user.actor)
    values = _values(request)
    users, agencies = names(reg)
    try:
        filters = event_filter(reg, values, Language(user.language).gettext)
    except InvalidInput as e:
        return render(request, "audit_events.html", 422, values=values, errors=e.errors, page=None, users=users,
                      agencies=agencies, query="")
    page = review.query_events(reg.audit, reader, filters, after=after, limit=PAGE)
    query = "&".join(f"{k}={v}" for k, v in values.items() if v)
    return render(request, "audit_events.html", values=values, errors=[], page=page, users=users,
                  agencies=agencies, query=query)


@router.get("/audit/export")
def export(request: Request, format: str = Query("csv", pattern="^(csv|fhir)$"),
           user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    reader = dpo_reader(reg, user.actor)
    filters = event_filter(reg, _values(request), Language(user.language).gettext)
    out = io.StringIO()
    review.export_events(reg.audit, reader, filters, out, fmt=format)
    media, name = ("text/csv", "audit-events.csv") if format == "csv" else ("application/fhir+json",
                                                                            "audit-events.fhir.json")
    return Response(out.getvalue(), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _flags(request: Request, user: WebUser) -> tuple[list[review.Flag], dict[str, str], Registry]:
    reg = registry_of(request)
    reader = dpo_reader(reg, user.actor)
    errors: list[FieldError] = []
    values = _values(request)
    _ = Language(user.language).gettext
    since, until = _time("since", values.get("since"), errors, _), _time("until", values.get("until"), errors, _)
    if errors:
        raise InvalidInput(errors)
    return review.flag_anomalies(reg.audit, reader, since, until), values, reg


@router.get("/audit/flags")
def flags_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    found, values, reg = _flags(request, user)
    users, agencies = names(reg)
    query = "&".join(f"{k}={values[k]}" for k in ("since", "until") if values.get(k))
    return render(request, "audit_flags.html", flags=found, users=users, agencies=agencies, query=query,
                  values=values)


@router.get("/audit/flags/{number}")
def flag_page(request: Request, number: int, user: WebUser = Depends(signed_in)) -> Response:
    found, values, reg = _flags(request, user)
    if not 0 <= number < len(found):
        from registry.errors import NotFound

        raise NotFound("flag", str(number))
    flag = found[number]
    events = [review.StoredEvent(i, reg.audit.entry(i).event) for i in flag.indexes[:500]]
    users, agencies = names(reg)
    return render(request, "audit_flag.html", flag=flag, events=events, users=users, agencies=agencies,
                  more=len(flag.indexes) - len(events))


@router.get("/audit/log")
def log_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    dpo_reader(reg, user.actor)
    return render(request, "audit_log.html", checkpoint=reg.audit.latest_checkpoint(), size=reg.audit.size(),
                  report=None)


@router.post("/audit/verify")
async def verify(request: Request, form: Posted = Depends(posted)) -> Response:
    reg = registry_of(request)
    await run_in_threadpool(dpo_reader, reg, form.user.actor, True)
    report = await run_in_threadpool(reg.audit.verify)
    return render(request, "audit_log.html", checkpoint=reg.audit.latest_checkpoint(), size=reg.audit.size(),
                  report=report)


@router.get("/audit")
def dashboard(request: Request, days: int = Query(14, ge=1, le=90), user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    reader = dpo_reader(reg, user.actor)
    since = dt.datetime.combine(dt.date.today() - dt.timedelta(days=days - 1), dt.time())
    filters = review.EventFilter(since=since)
    page = review.query_events(reg.audit, reader, filters, after=-1, limit=review.MAX_PAGE)
    per_day: Counter[tuple[str, str]] = Counter()
    denials: Counter[str] = Counter()
    break_glass = 0
    for e in page.events:
        day = e.event.at.date().isoformat()
        per_day[(day, e.event.agency)] += 1
        if e.event.decision == "deny":
            denials[day] += 1
        break_glass += e.event.break_glass
    flags = review.flag_anomalies(reg.audit, reader, since, None)
    users, agencies = names(reg)
    days_list = [(since.date() + dt.timedelta(days=i)).isoformat() for i in range(days)]
    totals = [sum(n for (d, _), n in per_day.items() if d == day) for day in days_list]
    top = max(totals + [1])
    bars = [(day, n, round(n / top * 100, 1), denials.get(day, 0)) for day, n in zip(days_list, totals)]
    return render(request, "audit_dashboard.html", per_day=per_day, denials=denials, break_glass=break_glass,
                  flags=flags, days=days_list, agencies=agencies, users=users, truncated=page.next_after is not None,
                  agencies_seen=sorted({a for _, a in per_day}), bars=bars)
