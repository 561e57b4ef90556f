"""`registry agencies | users | tokens`: the administrators' commands for accounts. Thin: calls
`registry.services.accounts`; acts as the system administrator at the machine.

Passwords come from a hidden prompt or from standard input (`--password-stdin`), never from an argument
(arguments end up in shell history and process lists). A new token is printed once and never again.
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from registry.cli.common import console, err, run
from registry.services import accounts as service
from registry.services.context import open_registry as _open

agencies_app = typer.Typer(help="Agencies (institutions) and their contact point.", no_args_is_help=True)
users_app = typer.Typer(help="Users: one agency and one role each.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: created (shown once), listed, revoked.", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(agencies_app, name="agencies")
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")


@agencies_app.command("add")
def agencies_add(
    code: str = typer.Argument(..., help="Institution code, as in the case lists (e.g. ngo-homs-1)"),
    name: str = typer.Option(..., help="The agency's name"),
    governorate: str = typer.Option(..., help="ISO 3166-2 code, e.g. SY-HL, EG-C"),
    focal_point_role: str = typer.Option("child protection focal point", help="Whom other agencies should ask for"),
) -> None:
    """Add an agency."""
    a = run(service.create_agency, _open(), code, name, governorate, focal_point_role)
    console.print(f"agency {a.code} added ({a.governorate})")


@agencies_app.command("list")
def agencies_list() -> None:
    t = Table("code", "name", "governorate", "focal point")
    for a in service.list_agencies(_open()):
        t.add_row(a.code, a.name, a.governorate, a.focal_point_role)
    console.print(t)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(...),
    agency: str = typer.Option(..., help="The user's agency code"),
    role: str = typer.Option(..., help="caseworker | agency_admin | national_reviewer | dpo | system_admin"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input"),
) -> None:
    """Add a user (the password is asked for, or read from standard input)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    actor = run(service.create_user, _open(), username, agency, role, password)
    console.print(f"user {username} ({actor.user_id}) added: {role} at {agency}")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: their tokens stop working at once."""
    run(service.set_active, _open(), username, False)
    console.print(f"user {username} disabled")


@tokens_app.command("create")
def tokens_create(username: str,
                  days: int = typer.Option(service.DEFAULT_TOKEN_DAYS, help="Days until it expires")) -> None:
    """Create an API token for a user. It is shown once: only its hash is stored."""
    issued = run(service.create_token, _open(), username, days)
    err.print(f"token {issued.token_id} for {username}, expires {issued.expires_at:%Y-%m-%d %H:%M} UTC; "
              "copy it now, it will not be shown again:")
    print(issued.token)  # alone on stdout, so it can be piped into a secret store


@tokens_app.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (T...): it stops working at once."""
    run(service.revoke_token, _open(), token_id)
    console.print(f"token {token_id} revoked")


@tokens_app.command("list")
def tokens_list(username: str) -> None:
    tokens = run(service.list_tokens, _open(), username)
    t = Table("token id", "created", "expires", "revoked")
    for tok in tokens:
        t.add_row(tok.token_id, f"{tok.created_at:%Y-%m-%d}", f"{tok.expires_at:%Y-%m-%d}",
                  f"{tok.revoked_at:%Y-%m-%d}" if tok.revoked_at else "")
    console.print(t)
