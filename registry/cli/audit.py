"""`registry audit ...`: verify, export, checkpoint, events, flags. Thin: each command calls a service function.

Reading the log (events, flags, export) is the DPO's: those commands act as a signed-in user (`--as`, see
`registry.cli.common`) and the policy decides. `verify` and `checkpoint` are the administrator's; `verify
--bundle` needs only the bundle and the public key file.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from registry.audit.review import Thresholds, event_filter
from registry.audit.verify import Report, read_trusted_checkpoint, verify_bundle
from registry.audit.witness import FileWitness, HttpWitness, Witness
from registry.cli.common import AsUser, PasswordStdin, console, err, run, signed_in
from registry.services import audit_review
from registry.services.context import open_registry

audit_app = typer.Typer(
    help="The tamper-evident access log: verify, export, checkpoint, review.", no_args_is_help=True
)


def _time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _show_report(report: Report) -> None:
    if report.ok:
        console.print(f"[green]{report.summary()}[/green]")
        console.print(report.exposure(), markup=False, highlight=False)
        return
    err.print(f"[bold red]{report.summary()}[/bold red]")
    err.print(report.exposure(), markup=False, highlight=False)
    table = Table("where", "what is wrong", show_lines=False)
    for problem in report.problems:
        table.add_row(problem.where(), problem.what)
    err.print(table)
    if report.truncated_problems:
        err.print("(more problems not shown)")




WitnessOpt = Annotated[
    list[Path] | None, typer.Option("--witness", help="A file witness (JSON lines of published checkpoints).")
]
WitnessUrlOpt = Annotated[list[str] | None, typer.Option("--witness-url", help="An HTTP witness URL.")]


def _witnesses(files: list[Path] | None, urls: list[str] | None) -> tuple[Witness, ...]:
    return tuple([FileWitness(p) for p in files or []] + [HttpWitness(u) for u in urls or []])


@audit_app.command()
def verify(
    bundle: Annotated[
        Path | None, typer.Option(help="Verify this exported bundle instead (no database).")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The audit public key file (audit-signing.pub).")
    ] = None,
    trusted: Annotated[
        Path | None, typer.Option(help="A checkpoint kept outside: note file or witness file.")
    ] = None,
    witness: WitnessOpt = None,
    witness_url: WitnessUrlOpt = None,
) -> None:
    """Check the log against its signed checkpoints and every witness (configured or given); exit 1 naming the
    first entry or checkpoint that does not fit. Says how many entries lie after the last witnessed checkpoint."""
    from registry.audit.log import read_witnesses
    from registry.keys import load_audit_public_key

    trusted_note = read_trusted_checkpoint(trusted) if trusted else None
    given = _witnesses(witness, witness_url)
    if bundle is not None:
        if public_key is None:
            err.print(
                "--bundle needs --public-key (the audit-signing.pub you trust, not one from the bundle)"
            )
            raise typer.Exit(2)
        held, unreadable = read_witnesses(given)
        report = verify_bundle(bundle, load_audit_public_key(public_key), trusted_checkpoint=trusted_note,
                               witnessed=held)
        for problem in unreadable:
            report.add(problem)
    else:
        from registry.keys import load_audit_public_key

        key = load_audit_public_key(public_key) if public_key else None
        report = audit_review.verify_stored_log(open_registry(), key, trusted_note, given)
    _show_report(report)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command()
def export(file: Path, user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """Write the whole log, its checkpoints and the public key to one bundle file (JSON lines)."""
    reg = open_registry()
    size = run(audit_review.export_log, reg, signed_in(reg, user, password_stdin), file)
    console.print(
        f"Exported {size} entries to {file}. Verify with: registry audit verify --bundle {file} "
        "--public-key audit-signing.pub"
    )


@audit_app.command()
def checkpoint(witness: WitnessOpt = None, witness_url: WitnessUrlOpt = None) -> None:
    """Sign a checkpoint of the log now and publish it to the configured and given witnesses.
    Exit 1 when a witness could not be reached (the checkpoint is stored all the same)."""
    done = audit_review.make_checkpoint(open_registry(), _witnesses(witness, witness_url))
    cp = done.checkpoint
    published = done.witnesses - len(done.failures)
    console.print(f"Checkpoint at size {cp.size}, published to {published} of {done.witnesses} witness(es):")
    console.print(cp.note, markup=False, highlight=False)
    if done.failures:
        for failure in done.failures:
            err.print(failure, markup=False, highlight=False)
        raise typer.Exit(1)


@audit_app.command("witness-serve")
def witness_serve(
    file: Annotated[Path, typer.Option(help="Where the witness keeps the notes it receives (JSON lines).")],
    public_key: Annotated[Path | None, typer.Option(help="Only keep notes signed by this audit key.")] = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8099,
) -> None:
    """Run a small HTTP witness (run it on another machine): POST keeps a note, GET answers the largest."""
    import uvicorn

    from registry.audit.witness import witness_app
    from registry.keys import load_audit_public_key

    key = load_audit_public_key(public_key) if public_key else None
    uvicorn.run(witness_app(file, key), host=host, port=port, log_level="warning")


@audit_app.command()
def events(
    user: Annotated[str | None, typer.Option(help="User id")] = None,
    agency: Annotated[str | None, typer.Option()] = None,
    child: Annotated[str | None, typer.Option(help="Child pseudonym")] = None,
    action: Annotated[str | None, typer.Option()] = None,
    purpose: Annotated[str | None, typer.Option()] = None,
    outcome: Annotated[str | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option(help="ISO date/time, UTC unless an offset is given")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date/time (exclusive)")] = None,
    after: Annotated[int, typer.Option(help="Show events after this leaf index (paging)")] = -1,
    limit: Annotated[int, typer.Option(help="Page size for the table")] = 50,
    format: Annotated[str, typer.Option("--format", help="table, csv, json or fhir")] = "table",
    output: Annotated[
        Path | None, typer.Option(help="Write csv/json here instead of standard output")
    ] = None,
    user_name: AsUser = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """List events by user, agency, child, action, purpose, outcome and time (the reading is logged)."""
    filters = run(event_filter, user, agency, child, action, purpose, outcome, _time(since),
                  _time(until))
    reg = open_registry()
    actor = signed_in(reg, user_name, password_stdin)
    if format != "table":
        if output is None:
            run(audit_review.export_events, reg, actor, filters, sys.stdout, format)
        else:
            with output.open("w", encoding="utf-8", newline="") as f:
                n = run(audit_review.export_events, reg, actor, filters, f, format)
            console.print(f"Wrote {n} events to {output}")
        return
    page = run(audit_review.query_events, reg, actor, filters, after=after, limit=limit)
    table = Table("#", "at (UTC)", "user", "agency", "action", "outcome", "purpose", "decision", "children")
    for e in page.events:
        ev = e.event
        table.add_row(
            str(e.index),
            f"{ev.at:%Y-%m-%d %H:%M:%S}",
            ev.user_id,
            ev.agency,
            ev.action,
            ev.outcome,
            ev.purpose,
            f"{ev.decision}/{ev.reason_code}",
            " ".join(ev.children),
        )
    console.print(table)
    if page.next_after is not None:
        console.print(f"More: --after {page.next_after}")


@audit_app.command()
def flags(
    since: Annotated[str | None, typer.Option(help="ISO date/time, UTC unless an offset is given")] = None,
    until: Annotated[str | None, typer.Option()] = None,
    timezone: Annotated[str, typer.Option(help="Working hours are in this time zone")] = "Asia/Damascus",
    start: Annotated[str, typer.Option(help="Working day starts (HH:MM)")] = "07:00",
    end: Annotated[str, typer.Option(help="Working day ends (HH:MM)")] = "19:00",
    user: AsUser = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Anomalies for the DPO: bulk and near-miss lookups, after hours, outside caseload, break-glass, many agencies."""
    thresholds = Thresholds(
        timezone=timezone, working_start=dt.time.fromisoformat(start), working_end=dt.time.fromisoformat(end)
    )
    reg = open_registry()
    found = run(audit_review.anomaly_flags, reg, signed_in(reg, user, password_stdin), _time(since), _time(until),
                thresholds)
    if not found:
        console.print("[green]No anomalies.[/green]")
        return
    table = Table("rule", "reason", "events (leaf indexes)")
    for flag in found:
        shown = ", ".join(map(str, flag["events"][:12])) + (" ..." if len(flag["events"]) > 12 else "")
        table.add_row(flag["rule"], flag["reason"], shown)
    console.print(table)
