"""What every command shares: the consoles, the one error renderer, and the one rule for who acts.

Exit codes (documented in the README):
  0 done; 1 failed (a problem the message names); 2 bad input or usage (field: reason);
  3 denied by the access policy (the reason code); 4 not found; 5 conflict with the stored state;
  6 not signed in (wrong password, unknown or expired token); 130 interrupted.

Who acts: a command that acts for a user (consents, break-glass, review, the DPO's audit reading) takes
`--as USERNAME` and the user proves it, with their API token in REGISTRY_TOKEN or their password (a hidden
prompt, or `--password-stdin`). Every other command acts as the system administrator at the machine and is
audited as such (`registry.services.actor.SYSTEM`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from registry.errors import Conflict, InvalidInput, NotFound
from registry.services.access import AccessDenied
from registry.services.accounts import actor_for_token, login
from registry.services.actor import Actor, Unauthenticated
from registry.services.context import Registry

EXIT_FAILED, EXIT_INPUT, EXIT_DENIED, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_UNAUTHENTICATED = 1, 2, 3, 4, 5, 6
EXIT_INTERRUPTED = 130

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

AsUser = Annotated[str | None, typer.Option(
    "--as", "-u", envvar="REGISTRY_USER",
    help="Act as this user; prove it with REGISTRY_TOKEN (their API token) or their password")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input instead of a prompt")]


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def problem(e: Exception) -> tuple[str, int]:
    """The words and the exit code for an expected failure: field and reason, never internals."""
    if isinstance(e, AccessDenied):
        return f"denied: {e.decision.reason_code}", EXIT_DENIED
    if isinstance(e, InvalidInput):
        return "; ".join(f"{x.field}: {x.reason}" for x in e.errors), EXIT_INPUT
    if isinstance(e, NotFound):
        return f"not found: {e.what} {e.ident}".rstrip(), EXIT_NOT_FOUND
    if isinstance(e, Conflict):
        return f"conflict: {e.reason}", EXIT_CONFLICT
    if isinstance(e, Unauthenticated):
        return "not signed in: wrong username, password or token", EXIT_UNAUTHENTICATED
    raise e


def run(fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """Call a service function; render an expected failure as `error: ...` with its exit code."""
    try:
        return fn(*args, **kw)
    except (AccessDenied, InvalidInput, NotFound, Conflict, Unauthenticated) as e:
        message, code = problem(e)
        fail(message, code)


def signed_in(reg: Registry, username: str | None, password_stdin: bool = False) -> Actor:
    """The user a command acts for, proven by their token (REGISTRY_TOKEN) or their password."""
    token = os.environ.get("REGISTRY_TOKEN")
    if token:
        actor = run(actor_for_token, reg, token)
        if username and username != actor.username:
            fail(f"REGISTRY_TOKEN belongs to another user than {username}", EXIT_UNAUTHENTICATED)
        return actor
    if not username:
        fail("say who acts: --as USERNAME (with REGISTRY_TOKEN, or the password when asked)", EXIT_INPUT)
    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else typer.prompt(f"password for {username}", hide_input=True))
    return run(login, reg, username, password)
