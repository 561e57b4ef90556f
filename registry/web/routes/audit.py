"""The data protection officer's pages: events with filters, anomaly flags and their events, the log's signed
state with "verify now", exports (CSV, FHIR), and a dashboard.

Each page calls the use case the API route calls (registry.services.audit_review): the policy decision point
is asked for `audit-read` (DPO only; a refusal is logged), and every reading is itself logged. People and
agencies are shown by name (the accounts directories, which the DPO may read), never as bare ids.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from registry.audit.review import MAX_PAGE, EventFilter, StoredEvent
from registry.errors import FieldError, InvalidInput, NotFound
from registry.services import accounts, audit_review
from registry.services.context import Registry
from registry.services.sessions import WebUser
from registry.web.i18n import Language
from registry.web.pages import PageRoute, Posted, posted, registry_of, render, signed_in

router = APIRouter(route_class=PageRoute)
PAGE = 50
FILTERS = ("user", "agency", "child", "action", "purpose", "outcome", "since", "until")


def _time(field: str, value: str | None, errors: list[FieldError], _: Callable[[str], str]) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, _("must be a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM), in UTC")))
        return None


def names(reg: Registry, user: WebUser) -> tuple[dict[str, str], dict[str, str]]:
    """user id -> username, agency code -> agency name; asked after the audit-read gate (`_checkpoint`), so a
    caller who may not read the log is refused for that, and the refusal logged as such."""
    _checkpoint(reg, user)
    users = {u.user_id: u.username for u in accounts.user_directory(reg, user.actor)}
    return users, {a.code: a.name for a in accounts.agency_directory(reg, user.actor)}


def event_filter(values: dict[str, str], users: dict[str, str], _: Callable[[str], str]) -> EventFilter:
    """The filter the DPO typed: a user by name, times as dates or date-times (UTC)."""
    errors: list[FieldError] = []
    user_id = None
    if values.get("user"):
        user_id = next((uid for uid, name in users.items() if name == values["user"]), None)
        if user_id is None:
            errors.append(FieldError("user", _("no user has this username")))
    since, until = _time("since", values.get("since"), errors, _), _time("until", values.get("until"), errors, _)
    if since and until and since >= until:
        errors.append(FieldError("until", _("must be after the start")))
    if errors:
        raise InvalidInput(errors)
    return EventFilter(user_id=user_id, agency=values.get("agency") or None, child=values.get("child") or None,
                       action=values.get("action") or None, purpose=values.get("purpose") or None,
                       outcome=values.get("outcome") or None, since=since, until=until)


def _values(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FILTERS}


def _query(values: dict[str, str], keys=FILTERS) -> str:  # type: ignore[no-untyped-def]
    from urllib.parse import urlencode

    return urlencode({k: values[k] for k in keys if values.get(k)})


@router.get("/audit/events")
def events_page(request: Request, after: int = Query(-1, ge=-1), user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    values = _values(request)
    users, agencies = names(reg, user)
    try:
        filters = event_filter(values, users, Language(user.language).gettext)
    except InvalidInput as e:
        return render(request, "audit_events.html", 422, values=values, errors=e.errors, page=None, users=users,
                      agencies=agencies, query="")
    page = audit_review.query_events(reg, user.actor, filters, after=after, limit=PAGE)
    return render(request, "audit_events.html", values=values, errors=[], page=page, users=users,
                  agencies=agencies, query=_query(values))


@router.get("/audit/export")
def export(request: Request, format: str = Query("csv", pattern="^(csv|fhir)$"),
           user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    filters = event_filter(_values(request), names(reg, user)[0], Language(user.language).gettext)
    out = io.StringIO()
    audit_review.export_events(reg, user.actor, filters, out, format)
    media, name = (("text/csv", "audit-events.csv") if format == "csv"
                   else ("application/fhir+json", "audit-events.fhir.json"))
    return Response(out.getvalue(), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _flags(request: Request, user: WebUser) -> tuple[list[dict], dict[str, str], Registry]:
    reg = registry_of(request)
    values = _values(request)
    errors: list[FieldError] = []
    _ = Language(user.language).gettext
    since, until = _time("since", values.get("since"), errors, _), _time("until", values.get("until"), errors, _)
    if errors:
        raise InvalidInput(errors)
    return audit_review.anomaly_flags(reg, user.actor, since, until), values, reg


@router.get("/audit/flags")
def flags_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    found, values, reg = _flags(request, user)
    users, agencies = names(reg, user)
    return render(request, "audit_flags.html", flags=found, users=users, agencies=agencies,
                  query=_query(values, ("since", "until")), values=values)


@router.get("/audit/flags/{number}")
def flag_page(request: Request, number: int, user: WebUser = Depends(signed_in)) -> Response:
    found, _values_, reg = _flags(request, user)
    if not 0 <= number < len(found):
        raise NotFound("flag", str(number))
    flag = found[number]
    indexes = sorted(flag["events"])
    wanted = set(indexes[:MAX_PAGE])
    # One logged reading: the flag's own user, agency or child, from its first event on.
    filters = EventFilter(user_id=flag["user_id"], agency=flag["agency"], child=flag["child"])
    page = audit_review.query_events(reg, user.actor, filters, after=indexes[0] - 1,
                                     limit=min(MAX_PAGE, indexes[min(len(indexes), MAX_PAGE) - 1] - indexes[0] + 1))
    events: list[StoredEvent] = [e for e in page.events if e.index in wanted]
    users, agencies = names(reg, user)
    return render(request, "audit_flag.html", flag=flag, events=events, users=users, agencies=agencies,
                  more=len(indexes) - len(events))


@router.get("/audit/log")
def log_page(request: Request, user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    return render(request, "audit_log.html", checkpoint=_checkpoint(reg, user), report=None)


def _checkpoint(reg: Registry, user: WebUser) -> dict | None:
    """The latest signed checkpoint (the policy's audit-read gate first); None before the first one."""
    try:
        note = audit_review.latest_checkpoint(reg, user.actor)
    except NotFound:
        return None
    lines = note.splitlines()
    return {"note": note, "size": int(lines[1]), "at": dt.datetime.strptime(lines[3].split(" ", 1)[1],
                                                                            "%Y-%m-%dT%H:%M:%S.%fZ")}


@router.post("/audit/verify")
async def verify(request: Request, form: Posted = Depends(posted)) -> Response:
    reg = registry_of(request)
    checkpoint = await run_in_threadpool(_checkpoint, reg, form.user)  # the gate: DPO only, refusals logged
    report = await run_in_threadpool(audit_review.verify_stored_log, reg)
    return render(request, "audit_log.html", checkpoint=checkpoint, report=report)


@router.get("/audit")
def dashboard(request: Request, days: int = Query(14, ge=1, le=90), user: WebUser = Depends(signed_in)) -> Response:
    reg = registry_of(request)
    since = dt.datetime.combine(dt.date.today() - dt.timedelta(days=days - 1), dt.time())
    page = audit_review.query_events(reg, user.actor, EventFilter(since=since), after=-1, limit=MAX_PAGE)
    per_day: Counter[tuple[str, str]] = Counter()
    denials: Counter[str] = Counter()
    break_glass = 0
    for e in page.events:
        day = e.event.at.date().isoformat()
        per_day[(day, e.event.agency)] += 1
        if e.event.decision == "deny":
            denials[day] += 1
        break_glass += e.event.break_glass
    flags = audit_review.anomaly_flags(reg, user.actor, since, None)
    users, agencies = names(reg, user)
    days_list = [(since.date() + dt.timedelta(days=i)).isoformat() for i in range(days)]
    totals = [sum(n for (d, _), n in per_day.items() if d == day) for day in days_list]
    top = max([*totals, 1])
    bars = [(day, n, round(n / top * 100, 1), denials.get(day, 0)) for day, n in zip(days_list, totals)]
    return render(request, "audit_dashboard.html", per_day=per_day, denials=denials, break_glass=break_glass,
                  flags=flags, days=days_list, agencies=agencies, users=users, truncated=page.next_after is not None,
                  agencies_seen=sorted({a for _, a in per_day}), bars=bars)
