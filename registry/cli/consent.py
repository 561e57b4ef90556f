"""`registry consents ...` and `registry break-glass ...`: the same services as the API, as a named user.

The command line acts for a user (`--as USERNAME`, proven by REGISTRY_TOKEN or the password; see
`registry.cli.common`), so the policy decision point and the audit log see the same caller as over HTTP.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from registry.cli.common import AsUser, PasswordStdin, console, run, signed_in
from registry.consent.fhir import to_fhir_consent
from registry.services import breakglass, consents
from registry.services.context import open_registry

consents_app = typer.Typer(help="Consent and legal-basis records of a child.", no_args_is_help=True)
glass_app = typer.Typer(help="Break-glass overrides: open one; the DPO reviews them.", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(consents_app, name="consents")
    app.add_typer(glass_app, name="break-glass")


def _session(user: str | None, password_stdin: bool):  # type: ignore[no-untyped-def]
    reg = open_registry()
    return reg, signed_in(reg, user, password_stdin)


@consents_app.command("record")
def consents_record(
    child_id: str, purpose: str = typer.Option(..., help="registration | deduplication | share | referral"),
    given_on: str = typer.Option(..., help="YYYY-MM-DD"), grantor: str = typer.Option(None),
    recipient: str = typer.Option(None, help="Agency code for share/referral (* = every agency)"),
    basis: str = typer.Option("consent", help="consent | legal-obligation | vital-interests"),
    expires_on: str = typer.Option(None), evidence_ref: str = typer.Option(None),
    justification: str = typer.Option(None), child_assent: bool = typer.Option(None),
    child_age: int = typer.Option(None, help="The child's age when assent was asked"),
    user: AsUser = None, password_stdin: PasswordStdin = False,
) -> None:
    """Record a consent (or another legal basis) for a child."""
    reg, actor = _session(user, password_stdin)
    raw = dict(purpose=purpose, given_on=given_on, grantor=grantor, recipient=recipient, basis=basis,
               expires_on=expires_on, evidence_ref=evidence_ref, justification=justification,
               child_assent=child_assent, child_age_at_assent=child_age)
    view = run(consents.record_consent, reg, actor, child_id, raw)
    console.print(f"consent {view.consent_id} recorded ({view.purpose}, {view.status})")


@consents_app.command("list")
def consents_list(child_id: str, fhir: bool = typer.Option(False, help="As FHIR R5 Consent JSON"),
                  user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    reg, actor = _session(user, password_stdin)
    views = run(consents.list_consents, reg, actor, child_id)
    if fhir:
        print(json.dumps([to_fhir_consent(v) for v in views], ensure_ascii=False, indent=2))
        return
    t = Table("consent", "purpose", "recipient", "basis", "given", "expires", "status")
    for v in views:
        t.add_row(v.consent_id, v.purpose, v.recipient or "", v.basis, v.given_on, v.expires_on or "", v.status)
    console.print(t)


@consents_app.command("withdraw")
def consents_withdraw(consent_id: str, by: str = typer.Option(..., help="caregiver | guardian | child"),
                      user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """Withdraw a consent: effective at once."""
    reg, actor = _session(user, password_stdin)
    view = run(consents.withdraw_consent, reg, actor, consent_id, by)
    console.print(f"consent {view.consent_id} withdrawn at {view.withdrawn_at}")


@glass_app.command("open")
def glass_open(child_id: str, reason_code: str = typer.Option(..., help=" | ".join(breakglass.REASON_CODES)),
               reason: str = typer.Option(..., help="The written reason (kept for the DPO, not logged)"),
               user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """Open a time-limited emergency override on one child."""
    reg, actor = _session(user, password_stdin)
    g = run(breakglass.break_glass, reg, actor, child_id, reason_code, reason)
    console.print(f"break-glass {g.grant_id} on {g.child_id} until {g.expires_at} UTC; flagged for the DPO")


@glass_app.command("flagged")
def glass_flagged(user: AsUser = None, password_stdin: PasswordStdin = False,
                  json_out: bool = typer.Option(False, "--json")) -> None:
    """The grants a DPO has not reviewed yet."""
    reg, actor = _session(user, password_stdin)
    grants: list[breakglass.GrantView] = run(breakglass.flagged_grants, reg, actor)
    if json_out:
        print(json.dumps([asdict(g) for g in grants], ensure_ascii=False, indent=2))
        return
    t = Table("grant", "user", "role", "agency", "child", "reason code", "reason", "granted", "expires")
    for g in grants:
        t.add_row(g.grant_id, g.user_id, g.role, g.agency, g.child_id, g.reason_code, g.reason, g.granted_at,
                  g.expires_at)
    console.print(t)


@glass_app.command("review")
def glass_review(grant_id: str, user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    reg, actor = _session(user, password_stdin)
    g = run(breakglass.review_grant, reg, actor, grant_id)
    console.print(f"break-glass {g.grant_id} reviewed")


__all__ = ["consents_app", "glass_app", "mount"]
