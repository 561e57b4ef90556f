"""The administrators' command line: `registry init | import | serve | keys rotate | erase | ...`.

Thin: each command opens the registry and calls the same service functions as the HTTP API.
Never prints a plaintext identity.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from registry.accounts import cli as accounts_cli
from registry.audit.cli import audit_app
from registry.consent import cli as consent_cli
from registry.review import cli as review_cli
from registry.services.context import init_registry, open_registry

# Locals are never shown in tracebacks: they could hold a plaintext identity.
app = typer.Typer(help="Child case registry: administration.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False)
keys_app = typer.Typer(help="Key management.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
export_app = typer.Typer(help="Exports for administrators.", no_args_is_help=True)
index_app = typer.Typer(help="The linkage index of keyed encodings.", no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(export_app, name="export")
accounts_cli.mount(app)  # agencies, users, tokens
consent_cli.mount(app)  # consents, break-glass
review_cli.mount(app)  # review: queue, decide, undo, lineage, labels
app.add_typer(audit_app, name="audit")  # verify, export, checkpoint, events, flags
console = Console()
# Splink narrates every EM iteration at INFO; administrators see our progress lines instead.
logging.getLogger("splink").setLevel(logging.WARNING)
err = Console(stderr=True)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=False)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


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
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX case list"),
    institution: str = typer.Option(None, "--institution", "-i",
                                    help="The importing institution's code (default: the file's institution column)"),
    report: Path = typer.Option(None, help="Where to write the rejected-rows report (default: FILE.errors.csv)"),
) -> None:
    """Import an institution's case list; idempotent; bad rows go to a report, good rows go in."""
    from registry.services.importing import FileRejected, import_file

    reg = open_registry()
    report = report or file.with_suffix(file.suffix + ".errors.csv")
    total = _count_rows(file)
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"importing {file.name}", total=total)
            result = import_file(reg, file, institution, progress=lambda n: bar.advance(task, n))
    except FileRejected as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted: every committed batch is whole; run the same command again to finish", 130)
    result.write(report)
    console.print(f"{result.rows} rows: {result.created} new, {result.updated} updated, "
                  f"{result.unchanged} unchanged, {result.rejected} rejected")
    if result.ignored_columns:
        console.print(f"ignored columns: {', '.join(result.ignored_columns)}")
    if result.rejected:
        console.print(f"rejected rows, with field and reason: {report}")


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
def dedupe(retrain: bool = typer.Option(False, help="Train a new model even if one is saved")) -> None:
    """Batch deduplication: train (or reuse) the model, score candidate pairs, cluster, fill the review queue."""
    from registry.matching.dedupe import run_dedupe

    reg = open_registry()
    with err.status("deduplicating") as status:
        result = run_dedupe(reg, retrain=retrain, progress=lambda msg: status.update(msg))
    reg.record_admin("dedupe")
    console.print(f"{result.records} records, {result.pairs_scored} pairs at or above review threshold, "
                  f"{result.clusters} clusters; {result.suspected} new pairs for review"
                  + (" (model trained and saved)" if result.trained else ""))


@export_app.command("clusters")
def export_clusters(file: Path = typer.Argument(..., help="CSV to write")) -> None:
    """Write institution, source_ref, cluster_id, child_id for every record (latest deduplication run)."""
    from registry.matching.dedupe import export_clusters as write

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
    reg = open_registry()
    if labels:
        from registry.review.labels import evaluate_labels

        console.print_json(data=evaluate_labels(reg))
        return
    if truth is None:
        fail("give --truth (and --data) from `registry synth`, or --labels")
    from registry.matching.dedupe import registry_clusters
    from registry.matching.evaluate import evaluate as score
    from registry.matching.evaluate import read_truth

    known = read_truth(truth, data)
    rows = [("registry (keyed encodings)", score(registry_clusters(reg), known))]
    if baseline and data is not None:
        from registry.matching.baseline import baseline_clusters

        with err.status("running the plain-Splink baseline on raw names"):
            rows.append(("plain Splink on raw names", score(baseline_clusters(data, reg.settings.work_dir), known)))
    t = Table("model", "pairwise P", "R", "F1", "cluster F1", "cross-script R", "sibling merges", "twin merges")
    for name, e in rows:
        t.add_row(name, f"{e.pairwise.precision:.3f}", f"{e.pairwise.recall:.3f}", f"{e.pairwise.f1:.3f}",
                  f"{e.cluster.f1:.3f}", f"{e.cross_script_recall:.3f}", f"{e.sibling_merge_rate:.4f}",
                  f"{e.twin_merge_rate:.3f}")
    console.print(t)
    from registry.matching.evaluate import calibration, reliability_lines, run_pairs

    with reg.db.sessions() as s:
        pairs = run_pairs(s)
    if pairs:
        console.print("calibration of the latest run's scored pairs (said: mean probability; true: share that "
                      "are the same child)")
        for line in reliability_lines(calibration(pairs, known)):
            console.print(line, highlight=False)


@app.command()
def demo(
    records: int = typer.Option(3000, help="How many generated records"),
    seed: int = typer.Option(7, help="Same seed, same fictional children"),
) -> None:
    """A demo registry: generated children from Syrian and Egyptian agencies in both scripts, imported,
    deduplicated and measured; then what the national unit's queue looks like. All data is fictional."""
    from sqlalchemy import func, select

    from registry.matching.dedupe import registry_clusters, run_dedupe
    from registry.matching.evaluate import evaluate as score
    from registry.matching.evaluate import read_truth
    from registry.review.explain import explain_records
    from registry.review.queue import clusters_of, open_pairs
    from registry.services.importing import import_file
    from registry.store.models import Child
    from registry.synth import write_csv

    reg, created = init_registry()
    home = reg.settings.home
    console.print(f"registry home: {home}" + (" (new keys created)" if created else ""))
    data, truth = home / "demo" / "children.csv", home / "demo" / "truth.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    if not data.exists():
        write_csv(data, records, seed, truth_path=truth)
        console.print(f"generated {records} records of fictional children: {data}")
    with progress_bar() as bar:
        task = bar.add_task("importing", total=_count_rows(data))
        report = import_file(reg, data, None, progress=lambda n: bar.advance(task, n))
    console.print(f"import: {report.created} new, {report.unchanged} unchanged, {report.rejected} rejected")
    with err.status("deduplicating (Splink on keyed encodings)") as status:
        result = run_dedupe(reg, progress=lambda msg: status.update(msg))
    e = score(registry_clusters(reg), read_truth(truth, data))
    with reg.db.sessions() as s:
        children = s.scalar(select(func.count()).select_from(Child).where(Child.status == "active"))
        queue = clusters_of(open_pairs(s))
        t = Table("measure", "value", title="Deduplication against the known truth")
        for name, value in [
            ("records / children registered", f"{result.records} / {children}"),
            ("children found (clusters)", str(result.clusters)),
            ("pairwise precision / recall / F1",
             f"{e.pairwise.precision:.3f} / {e.pairwise.recall:.3f} / {e.pairwise.f1:.3f}"),
            ("cross-script duplicates found", f"{e.cross_script_recall:.1%} of {e.cross_script_pairs} pairs"),
            ("sibling pairs wrongly merged", f"{e.sibling_merge_rate:.2%} of {e.sibling_pairs}"),
            ("twin pairs wrongly merged", f"{e.twin_merge_rate:.1%} of {e.twin_pairs}"),
            ("suspected duplicates for review", f"{len(queue)} clusters"),
        ]:
            t.add_row(name, value)
        console.print(t)
        model = reg.model()
        for c in queue[:3]:
            pair = c.pairs[0]
            why = explain_records(model, s, pair.a.record_id, pair.b.record_id)
            console.print(f"[bold]{pair.a.child_id}[/bold] ({pair.a.institution}) ~ "
                          f"[bold]{pair.b.child_id}[/bold] ({pair.b.institution})")
            for f in (why.fields if why else ()):
                console.print(f"    {f.words}")
    console.print("\nnext: `registry serve` (API, /docs), `registry users add ...` then `registry review --as USER`,"
                  " `registry audit verify`")


def _count_rows(file: Path) -> int | None:
    if file.suffix.lower() != ".csv":
        return None
    with open(file, "rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from registry.api import create_app

    uvicorn.run(create_app(open_registry()), host=host, port=port, log_level="info")


@app.command()
def erase(child_id: str = typer.Argument(..., help="The child's registry id, e.g. CR-XXXX-XXXX-XXX")) -> None:
    """Erase a child (crypto-shredding): data keys destroyed, encodings removed, audit trail kept."""
    from registry.errors import NotFound
    from registry.services.registration import erase_child

    try:
        n = erase_child(open_registry(), child_id)
    except NotFound:
        fail(f"no child {child_id}")
    console.print(f"erased {child_id}: {n} record(s) shredded; nothing of its identity can be recovered")


@keys_app.command("rotate")
def keys_rotate(
    retire: bool = typer.Option(False, help="Delete old master key versions once nothing uses them"),
) -> None:
    """New vault master key version; re-wrap every data key under it, in batches, while serving."""
    reg = open_registry()
    version = reg.keys.add_vault_master_key()
    with reg.db.unit_of_work() as s:
        todo = sum(n for v, n in reg.vault.versions_in_use(s).items() if v != version)
    with progress_bar() as bar:
        task = bar.add_task(f"re-wrapping data keys under master key v{version}", total=todo)
        done = reg.vault.rotate(reg.db.sessions, progress=lambda n: bar.advance(task, n))
    with reg.db.unit_of_work() as s:
        in_use = reg.vault.versions_in_use(s)
    reg.record_admin("keys-rotate")
    console.print(f"master key v{version} current; {done} data keys re-wrapped; versions in use: {in_use or '{}'}")
    if retire:
        gone = reg.keys.retire_vault_master_keys(keep=set(in_use))
        console.print(f"retired master key versions: {gone or 'none'}")


@keys_app.command("rotate-linkage")
def keys_rotate_linkage() -> None:
    """New linkage key: every encoding is rebuilt from the vault under it, and the model retrained."""
    from registry.services.reindex import rebuild_index

    reg = open_registry()
    reg.keys.replace_linkage_key()
    reg = open_registry()  # a fresh encoder: its token cache belonged to the old key
    with progress_bar() as bar:
        task = bar.add_task("re-encoding under the new linkage key", total=_live_records(reg))
        n = rebuild_index(reg, progress=lambda k: bar.advance(task, k))
    reg.settings.model_path.unlink(missing_ok=True)  # its term frequencies were keyed by the old key
    reg.keys.forget_previous_linkage_key()
    reg.record_admin("linkage-key-rotate")
    console.print(f"linkage key replaced; {n} records re-encoded; run `registry dedupe` to retrain the model")


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Re-encode every record from the vault (after a change of encoding). Safe to run again."""
    from registry.services.reindex import rebuild_index

    reg = open_registry()
    with progress_bar() as bar:
        task = bar.add_task("re-encoding the linkage index", total=_live_records(reg))
        n = rebuild_index(reg, progress=lambda k: bar.advance(task, k))
    console.print(f"{n} records re-encoded")


def _live_records(reg) -> int:
    from sqlalchemy import func, select

    from registry.store.models import CaseRecord

    with reg.db.sessions() as s:
        return s.scalar(select(func.count()).select_from(CaseRecord).where(CaseRecord.status == "active")) or 0


@keys_app.command("status")
def keys_status() -> None:
    """Which master key versions exist and how many records each wraps."""
    reg = open_registry()
    with reg.db.unit_of_work() as s:
        in_use = reg.vault.versions_in_use(s)
    t = Table("version", "current", "data keys")
    for v in sorted(reg.keys.vault_keys):
        t.add_row(str(v), "yes" if v == reg.keys.vault_current else "", str(in_use.get(v, 0)))
    console.print(t)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
