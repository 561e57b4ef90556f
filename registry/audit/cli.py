"""`registry audit ...`: verify, export, checkpoint, events, flags. Thin: each command calls a service function.

The database and keys come from the settings (REGISTRY_HOME etc.), except `verify --bundle`, which needs
only the bundle and the public key file.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from registry.audit.log import AuditLog
from registry.audit.review import (
    EventFilter,
    Reader,
    Thresholds,
    export_events,
    export_log,
    flag_anomalies,
    query_events,
)
from registry.audit.verify import Report, read_trusted_checkpoint, verify_bundle
from registry.audit.witness import FileWitness, HttpWitness, Witness

audit_app = typer.Typer(
    help="The tamper-evident access log: verify, export, checkpoint, review.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


def _open_log(witnesses: tuple[Witness, ...] = ()) -> AuditLog:
    """The log with the configured witnesses (REGISTRY_AUDIT_WITNESS_FILES / _URLS) and those given here."""
    from registry.config import load_settings
    from registry.keys import load_keys
    from registry.services.context import audit_log_for
    from registry.store.db import Database

    settings = load_settings()
    log = audit_log_for(settings, Database(settings.database_url), load_keys(settings.key_dir))
    log.witnesses = tuple(log.witnesses) + tuple(w for w in witnesses if w not in log.witnesses)
    return log


def _reader(reader: str | None) -> Reader:
    name = reader or os.environ.get("REGISTRY_USER") or f"cli-{getpass.getuser()}"
    return Reader(user_id=re.sub(r"[^A-Za-z0-9._:@/+=-]", "-", name)[:128])


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


ReaderOpt = Annotated[str | None, typer.Option("--reader", help="Your user id, recorded as the reader.")]


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

    trusted_note = read_trusted_checkpoint(trusted) if trusted else None
    given = _witnesses(witness, witness_url)
    if bundle is not None:
        if public_key is None:
            err.print(
                "--bundle needs --public-key (the audit-signing.pub you trust, not one from the bundle)"
            )
            raise typer.Exit(2)
        from registry.keys import load_audit_public_key

        held, unreadable = read_witnesses(given)
        report = verify_bundle(bundle, load_audit_public_key(public_key), trusted_checkpoint=trusted_note,
                               witnessed=held)
        for problem in unreadable:
            report.add(problem)
    else:
        from registry.audit.log import verify_log
        from registry.keys import load_audit_public_key

        log = _open_log(given)
        key = load_audit_public_key(public_key) if public_key else log.keys.audit_verify_key()
        report = verify_log(log.db, key, origin=log.origin, trusted_checkpoint=trusted_note,
                            witnesses=log.witnesses)
    _show_report(report)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command()
def export(file: Path, reader: ReaderOpt = None) -> None:
    """Write the whole log, its checkpoints and the public key to one bundle file (JSON lines)."""
    size = export_log(_open_log(), _reader(reader), file)
    console.print(
        f"Exported {size} entries to {file}. Verify with: registry audit verify --bundle {file} "
        "--public-key audit-signing.pub"
    )


@audit_app.command()
def checkpoint(witness: WitnessOpt = None, witness_url: WitnessUrlOpt = None) -> None:
    """Sign a checkpoint of the log now and publish it to the configured and given witnesses.
    Exit 1 when a witness could not be reached (the checkpoint is stored all the same)."""
    log = _open_log(_witnesses(witness, witness_url))
    cp = log.checkpoint()
    published = len(log.witnesses) - len(log.publish_failures)
    console.print(f"Checkpoint at size {cp.size}, published to {published} of {len(log.witnesses)} witness(es):")
    console.print(cp.note, markup=False, highlight=False)
    if log.publish_failures:
        for failure in log.publish_failures:
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
    reader: ReaderOpt = None,
) -> None:
    """List events by user, agency, child, action, purpose, outcome and time (the reading is logged)."""
    filters = EventFilter(
        user_id=user,
        agency=agency,
        child=child,
        action=action,
        purpose=purpose,
        outcome=outcome,
        since=_time(since),
        until=_time(until),
    )
    log = _open_log()
    if format != "table":
        if output is None:
            export_events(log, _reader(reader), filters, sys.stdout, format)
        else:
            with output.open("w", encoding="utf-8", newline="") as f:
                n = export_events(log, _reader(reader), filters, f, format)
            console.print(f"Wrote {n} events to {output}")
        return
    page = query_events(log, _reader(reader), filters, after=after, limit=limit)
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
    reader: ReaderOpt = None,
) -> None:
    """Anomalies for the DPO: bulk and near-miss lookups, after hours, outside caseload, break-glass, many agencies."""
    thresholds = Thresholds(
        timezone=timezone, working_start=dt.time.fromisoformat(start), working_end=dt.time.fromisoformat(end)
    )
    found = flag_anomalies(_open_log(), _reader(reader), _time(since), _time(until), thresholds)
    if not found:
        console.print("[green]No anomalies.[/green]")
        return
    table = Table("rule", "reason", "events (leaf indexes)")
    for flag in found:
        shown = ", ".join(map(str, flag.indexes[:12])) + (" ..." if len(flag.indexes) > 12 else "")
        table.add_row(flag.rule, flag.reason, shown)
    console.print(table)
