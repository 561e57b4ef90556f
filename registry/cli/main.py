"""The administrators' command line: `registry init | import | serve | keys rotate | erase | ...`.

Thin: each command opens the registry and calls the same service functions as the HTTP API.
Never prints a plaintext identity.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from registry.cli import accounts as accounts_cli
from registry.cli import consent as consent_cli
from registry.cli import review as review_cli
from registry.cli.audit import audit_app
from registry.cli.common import EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, console, err, fail, run
from registry.services.context import init_registry, open_registry

# Locals are never shown in tracebacks: they could hold a plaintext identity.
app = typer.Typer(help="Child case registry: administration.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
keys_app = typer.Typer(help="Key management.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
export_app = typer.Typer(help="Exports for administrators.", no_args_is_help=True)
index_app = typer.Typer(help="The linkage index of keyed encodings.", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(export_app, name="export")
config_app = typer.Typer(help="The registry's settings.", no_args_is_help=True)
app.add_typer(config_app, name="config")
accounts_cli.mount(app)  # agencies, users, tokens
consent_cli.mount(app)  # consents, break-glass
review_cli.mount(app)  # review: queue, decide, undo, lineage, labels
app.add_typer(audit_app, name="audit")  # verify, export, checkpoint, events, flags
# Splink narrates every EM iteration at INFO and warns of levels a small sample lacks; administrators see our
# progress lines and the measured figures instead.
logging.getLogger("splink").setLevel(logging.ERROR)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=False)


@app.command()
def init() -> None:
    """Create the registry home, its keys (once; mode 0600) and the database schema."""
    reg, created = init_registry()
    s = reg.settings
    console.print(f"registry ready: database {s.database_url.split('@')[-1]}")
    if created:
        console.print(f"new keys in {s.key_dir} (back them up apart from the database: without them nothing "
                      "in the vault can be read)")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="CSV (any encoding), XLSX, XLS or ODS case list"),
    institution: str = typer.Option(None, "--institution", "-i",
                                    help="The importing institution's code (default: the file's institution column)"),
    report: Path = typer.Option(None, help="Where to write the rejected-rows report (default: FILE.errors.csv)"),
    sheet: str = typer.Option(None, help="The sheet to read (default: the first sheet with a source_ref column)"),
) -> None:
    """Import an institution's case list; idempotent; bad rows go to a report, good rows go in.

    Exit codes: 0 every row imported; 2 some rows rejected (the others are in; see the report); 1 the import
    stopped: the file, or the file from some row on, cannot be read, or an internal error (rows before it are
    in, and listed in the report); 130 interrupted. The report (row, case reference, field, reason; never a
    value from the file) is written in every case."""
    from registry.services.importing import FileRejected, ImportReport, import_file

    reg = open_registry()
    report = report or file.with_suffix(file.suffix + ".errors.csv")
    total = _count_rows(file)
    code, message = 0, None
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"importing {file.name}", total=total)
            result = import_file(reg, file, institution, progress=lambda n: bar.advance(task, n), sheet=sheet)
    except (Exception, KeyboardInterrupt) as e:  # a terminal user gets the kind of error, never a traceback
        # What was done before it stopped (import_file sets it); an interrupt before the import began has none.
        result = getattr(e, "import_report", None) or ImportReport()
        if isinstance(e, FileRejected):
            code, message = EXIT_FAILED, str(e)
        elif isinstance(e, KeyboardInterrupt):
            code, message = EXIT_INTERRUPTED, "interrupted: every committed batch is whole; run the same command again"
        else:
            logging.getLogger("registry.import").error("import stopped: %s", type(e).__name__)
            code, message = EXIT_FAILED, f"{file.name}: the import stopped on an internal error ({type(e).__name__})"
    try:
        result.write(report)
    except OSError as e:
        err.print(f"[red]error:[/red] the report could not be written to {report} ({e.strerror})")
        code = code or EXIT_FAILED
    console.print(f"{result.rows} rows: {result.created} new, {result.updated} updated, "
                  f"{result.unchanged} unchanged, {result.rejected} rejected")
    if result.ignored_columns:
        console.print(f"ignored columns: {', '.join(result.ignored_columns)}", markup=False)
    if result.rejected or message:
        console.print(f"rejected rows and committed rows, with field and reason: {report}", markup=False)
    if message:
        err.print(f"error: {message}", markup=False, highlight=False)
        raise typer.Exit(code)
    if result.rejected:
        raise typer.Exit(EXIT_INPUT)


@app.command()
def synth(
    file: Path = typer.Argument(..., help="Where to write the generated case list (.csv or .xlsx)"),
    n: int = typer.Option(2000, "--records", "-n", help="How many records"),
    seed: int = typer.Option(0, help="Same seed, same data"),
    truth: Path = typer.Option(None, help="Where to write the known truth (person, family, twin)"),
    bad_row_rate: float = typer.Option(0.0, help="Share of rows made invalid on purpose"),
    mix: str = typer.Option("default", help="default, hard (harder noise) or held-out (for reporting only)"),
) -> None:
    """Generate realistic multi-institution records of fictional children, with known truth."""
    from registry.synth import SynthConfig, write_csv

    try:
        config = SynthConfig.mix(mix)
    except ValueError as e:
        fail(str(e))
    written = write_csv(file, n, seed, truth_path=truth, bad_row_rate=bad_row_rate, config=config)
    console.print(f"{written} generated records in {file}" + (f", truth in {truth}" if truth else ""))


@app.command()
def dedupe(
    retrain: bool = typer.Option(False, help="Train a new model even if one is saved"),
    engine: str = typer.Option(None, help="duckdb (embedded) or spark (Splink's Spark backend, docs/scale-out.md);"
                               " default REGISTRY_DEDUPE_ENGINE, else duckdb"),
) -> None:
    """Batch deduplication: train (or reuse) the model, score candidate pairs, merge the same-child pairs
    automatically (unless REGISTRY_AUTO_MERGE=false), queue the possible ones for review."""
    from registry.services.dedupe import DedupeBusy, run_dedupe

    reg = open_registry()
    try:
        with err.status("deduplicating") as status:
            result = run(run_dedupe, reg, retrain=retrain, progress=lambda msg: status.update(msg), engine=engine)
    except DedupeBusy as e:
        fail(f"{e}: wait for it to finish (a run that died releases its lock and is marked failed next time)")
    if result.marked_failed:
        console.print(f"{result.marked_failed} earlier run(s) that died were marked failed")
    console.print(f"{result.records} records, {result.pairs_scored} pairs scored possible or same child; "
                  f"{result.auto_merged} merged automatically (same child), {result.open_pairs} open in the review "
                  f"queue ({result.suspected} new), {result.clusters} clusters ({result.engine})"
                  + (" (model trained and saved)" if result.trained else ""))


@export_app.command("clusters")
def export_clusters(file: Path = typer.Argument(..., help="CSV to write")) -> None:
    """Write institution, source_ref, cluster_id, child_id for every record (clusters: the latest run's
    same-child decisions, i.e. its automatic merges)."""
    from registry.services.dedupe import export_clusters as write

    n = write(open_registry(), file)
    console.print(f"{n} records written to {file}")


@app.command()
def evaluate(
    truth: Path = typer.Option(None, exists=True, help="Known truth from `registry synth --truth`"),
    data: Path = typer.Option(None, exists=True, help="The generated file that was imported"),
    baseline: bool = typer.Option(True, help="Also run plain Splink on the raw names of the same data"),
    labels: bool = typer.Option(False, help="Measure the model against the national unit's decisions"),
) -> None:
    """Accuracy of deduplication: pairwise and cluster precision, recall, F1; cross-script, siblings, twins."""
    from registry.services.evaluation import evaluate_against_truth, evaluate_decisions

    reg = open_registry()
    if labels:
        console.print_json(data=evaluate_decisions(reg))
        return
    if truth is None:
        fail("give --truth (and --data) from `registry synth`, or --labels", 2)
    with err.status("measuring"):
        measured = evaluate_against_truth(reg, truth, data, baseline=baseline)
    rows = [(m.model, m.evaluation) for m in measured]
    t = Table("model", "pairwise P", "R", "F1", "cluster F1", "cross-script R", "sibling merges", "twin merges")
    for name, e in rows:
        t.add_row(name, f"{e.pairwise.precision:.3f}", f"{e.pairwise.recall:.3f}", f"{e.pairwise.f1:.3f}",
                  f"{e.cluster.f1:.3f}", f"{e.cross_script_recall:.3f}", f"{e.sibling_merge_rate:.4f}",
                  f"{e.twin_merge_rate:.3f}")
    console.print(t)
    from registry.matching.evaluate import reliability_lines

    cal = measured[0].calibration
    if cal is not None and cal.pairs:
        console.print("calibration of the latest run's scored pairs (said: mean probability; true: share that "
                      "are the same child)")
        for line in reliability_lines(cal):
            console.print(line, highlight=False)


@app.command()
def demo(
    records: int = typer.Option(3000, help="How many generated records"),
    seed: int = typer.Option(7, help="Same seed, same fictional children"),
) -> None:
    """A demo registry: generated children from Syrian and Egyptian agencies in both scripts, imported,
    deduplicated and measured; then what the national unit's queue looks like. All data is fictional."""
    from registry.services.demo import build_demo

    reg, created = init_registry()
    console.print(f"registry home: {reg.settings.home}" + (" (new keys created)" if created else ""))
    data = reg.settings.home / "demo" / "children.csv"
    with progress_bar() as bar:
        task = bar.add_task("importing", total=_count_rows(data) if data.exists() else records)
        with err.status("deduplicating (Splink on keyed encodings)") as status:
            demo_ = build_demo(reg, records, seed, import_progress=lambda n: bar.advance(task, n),
                               dedupe_progress=lambda msg: status.update(msg))
    if demo_.generated:
        console.print(f"generated {demo_.generated} records of fictional children: {demo_.data_path}")
    imp, e, result = demo_.imported, demo_.evaluation, demo_.dedupe
    console.print(f"import: {imp.created} new, {imp.unchanged} unchanged, {imp.rejected} rejected")
    t = Table("measure", "value", title="Deduplication against the known truth")
    for name, value in [
        ("records / children registered", f"{result.records} / {demo_.children}"),
        ("fictional children in truth / clusters found", f"{demo_.true_children} / {result.clusters}"),
        ("pairwise precision / recall / F1",
         f"{e.pairwise.precision:.3f} / {e.pairwise.recall:.3f} / {e.pairwise.f1:.3f}"),
        ("cross-script duplicates found", f"{e.cross_script_recall:.1%} of {e.cross_script_pairs} pairs"),
        ("sibling pairs wrongly merged", f"{e.sibling_merge_rate:.2%} of {e.sibling_pairs}"),
        ("twin pairs wrongly merged", f"{e.twin_merge_rate:.1%} of {e.twin_pairs}"),
        ("suspected duplicates for review", f"{demo_.queue_clusters} clusters"),
    ]:
        t.add_row(name, value)
    console.print(t)
    for ex in demo_.examples:
        console.print(f"[bold]{ex.a[0]}[/bold] ({ex.a[1]}) ~ [bold]{ex.b[0]}[/bold] ({ex.b[1]})")
        for words in ex.reasons:
            console.print(f"    {words}")
    t = Table("role", "username", "password (shown once)", title="Demo users for the web pages")
    for u in demo_.users:
        t.add_row(u.role, u.username, u.password)
    console.print(t)
    console.print("\nopen the pages: `registry serve`, then http://127.0.0.1:8000/ (Arabic; English from the "
                  "header); the API and its docs: http://127.0.0.1:8000/docs")
    console.print("also: `registry review --as reviewer`, `registry audit verify`")


def _count_rows(file: Path) -> int | None:
    if file.suffix.lower() != ".csv":
        return None
    with open(file, "rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (PostgreSQL for more than one)"),
    keep_alive: int = typer.Option(75, "--keep-alive", min=1, max=3600,
                                   help="Seconds an idle keep-alive connection stays open (above the proxy's)"),
    backlog: int = typer.Option(2048, min=64, max=65535, help="Connections waiting to be accepted"),
    json_logs: bool = typer.Option(True, help="One JSON object a log line (structlog)"),
) -> None:
    """Serve the web pages (/) and the HTTP API (/v1, OpenAPI at /docs), /health, /ready and /metrics.

    No access log of raw request lines (paths and query strings could hold a pseudonym or what a client typed):
    the API logs one line per request itself, with the route template, status, time and request id."""
    import os

    import uvicorn

    if json_logs:
        os.environ["REGISTRY_JSON_LOGS"] = "1"  # each worker configures its log when it builds the app
    # By import path: the command line face imports neither the API nor the pages (registry.site joins them),
    # and workers import it themselves.
    uvicorn.run("registry.site:create_site", factory=True, host=host, port=port, workers=workers,
                timeout_keep_alive=keep_alive, backlog=backlog, log_config=None, access_log=False,
                log_level="info")


@app.command()
def erase(child_id: str = typer.Argument(..., help="The child's registry id, e.g. CR-XXXX-XXXX-XXX")) -> None:
    """Erase a child (crypto-shredding): data keys destroyed, encodings removed, audit trail kept."""
    from registry.services.registration import erase_child

    n = run(erase_child, open_registry(), child_id)
    console.print(f"erased {child_id}: {n} record(s) shredded; nothing of its identity can be recovered")


@keys_app.command("rotate")
def keys_rotate(
    retire: bool = typer.Option(False, help="Delete old master key versions once nothing uses them"),
) -> None:
    """New vault master key version; re-wrap every data key under it, in batches, while serving."""
    from registry.services.keys import rotate_vault_key

    with progress_bar() as bar:
        task = bar.add_task("re-wrapping data keys", total=None)

        def started(version: int, todo: int) -> None:
            bar.update(task, description=f"re-wrapping data keys under master key v{version}", total=todo)

        r = rotate_vault_key(open_registry(), retire=retire, progress=lambda n: bar.advance(task, n),
                             on_new_version=started)
    console.print(f"master key v{r.version} current; {r.rewrapped} data keys re-wrapped; "
                  f"versions in use: {r.in_use or '{}'}")
    if retire:
        console.print(f"retired master key versions: {r.retired or 'none'}")


@keys_app.command("rotate-linkage")
def keys_rotate_linkage() -> None:
    """New linkage key: every encoding is rebuilt from the vault under it, and the model retrained."""
    from registry.services.keys import live_records, rotate_linkage_key

    reg = open_registry()
    with progress_bar() as bar:
        task = bar.add_task("re-encoding under the new linkage key", total=live_records(reg))
        n = rotate_linkage_key(reg, progress=lambda k: bar.advance(task, k))
    console.print(f"linkage key replaced; {n} records re-encoded; run `registry dedupe` to retrain the model")


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Re-encode every record from the vault (after a change of encoding). Safe to run again."""
    from registry.services.keys import live_records, reindex

    reg = open_registry()
    with progress_bar() as bar:
        task = bar.add_task("re-encoding the linkage index", total=live_records(reg))
        n = reindex(reg, progress=lambda k: bar.advance(task, k))
    console.print(f"{n} records re-encoded")


@app.command()
def backup(folder: Path = typer.Argument(..., help="A new, empty folder for this backup")) -> None:
    """Back up the database (online: the registry keeps serving) and the saved model, with a manifest.
    The keys are NOT in it: back them up apart with `registry keys backup`."""
    from registry.services.backup import backup as make_backup

    done = run(make_backup, open_registry(), folder)
    console.print(f"backup in {done.folder}: {', '.join(done.files)}; audit log of {done.audit_entries} entries. "
                  "Keys not included (`registry keys backup DIR`, kept apart).", markup=False)


@app.command()
def restore(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="A folder from `registry backup`"),
            keys: Path = typer.Option(None, exists=True, file_okay=False,
                                      help="A folder made by `registry keys backup`, restored first")) -> None:
    """Restore a backup into a fresh home (REGISTRY_HOME / REGISTRY_DATABASE_URL), never over a registry; then
    check it: the audit log verifies and a sample of the vault opens."""
    from registry.config import load_settings
    from registry.services.backup import restore_registry

    manifest, check = run(restore_registry, load_settings(), folder, keys)
    console.print(f"restored the backup of {manifest['made_at']} ({manifest['audit_entries']} audit entries)")
    console.print(f"audit log: {check.audit_summary}; vault: {check.vault_opened} of {check.vault_sampled} "
                  "sampled records open with these keys", markup=False)
    if not check.audit_ok or check.vault_opened < check.vault_sampled:
        fail("the restored registry does not check out (see above)")


@keys_app.command("backup")
def keys_backup(folder: Path = typer.Argument(..., help="A new, empty folder, apart from the data backups")) -> None:
    """Copy the keys (vault master keys, linkage key, audit signing key) into their own backup folder."""
    from registry.services.backup import backup_keys

    names = run(backup_keys, open_registry(), folder)
    console.print(f"keys backed up to {folder}: {', '.join(names)}. Keep this apart from the data backups.")


@config_app.command("show")
def config_show() -> None:
    """Every setting, where it is read from, and its value now (passwords in URLs masked; keys are never
    settings: they come from the key folder or REGISTRY_VAULT_MASTER_KEYS etc., shown only as set or not)."""
    import os

    from registry.config import config_file, describe, load_settings

    settings = load_settings()
    t = Table("variable", "value", "meaning", title="settings (environment over the file over defaults)")
    for name, value, meaning in describe(settings):
        t.add_row(name, value, meaning)
    for name in ("REGISTRY_VAULT_MASTER_KEYS", "REGISTRY_LINKAGE_KEY", "REGISTRY_AUDIT_SIGNING_KEY"):
        t.add_row(name, "set (hidden)" if os.environ.get(name) else f"not set: from {settings.key_dir}", "a key")
    console.print(t)
    console.print(f"configuration file: {config_file() or 'none (REGISTRY_CONFIG or HOME/registry.toml)'}",
                  markup=False)


@keys_app.command("status")
def keys_status() -> None:
    """Which master key versions exist and how many records each wraps."""
    from registry.services.keys import key_versions_in_use

    reg = open_registry()
    in_use = key_versions_in_use(reg)
    t = Table("version", "current", "data keys")
    for v in sorted(reg.keys.vault_keys):
        t.add_row(str(v), "yes" if v == reg.keys.vault_current else "", str(in_use.get(v, 0)))
    console.print(t)


def main() -> None:
    """The `registry` command. An unexpected failure is named by its type only: a traceback could show a
    plaintext identity or a key path, so none reaches the terminal (exit 1)."""
    from registry.config import SettingsError

    try:
        app()
    except SettingsError as e:  # a setting names itself and its problem
        err.print(f"[red]error:[/red] settings: {e}", highlight=False)
        raise SystemExit(EXIT_INPUT) from None
    except Exception as e:  # the expected ones are rendered by cli.common.run with their own exit codes
        err.print(f"[red]error:[/red] unexpected {type(e).__name__}; nothing was changed beyond the last "
                  "committed step. Run again, or report the command and this line.")
        raise SystemExit(EXIT_FAILED) from None


if __name__ == "__main__":  # pragma: no cover
    main()
