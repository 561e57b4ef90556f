"""`registry review ...`: the national unit's review at a terminal, on the same services as the API.

The command line acts as a national-unit user who proves who they are (`--as USERNAME` with REGISTRY_TOKEN or
the password; see `registry.cli.common`), so the policy decision point and the audit log see the same caller as
over HTTP. `--as` works before or after the subcommand.

`registry review --as NAME` alone is an interactive loop: the next pair side by side with its explanation,
m = merge, n = not a duplicate, u = undo the last decision, s = skip, q = quit. Arabic values are right-aligned
so they read right to left.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from registry.cli.common import AsUser, PasswordStdin, console, err, run, signed_in
from registry.errors import Conflict
from registry.identity.survivorship import GOLDEN_FIELDS
from registry.names.text import script_of
from registry.services.actor import Actor
from registry.services.context import Registry, open_registry
from registry.services.review import automatic, decisions
from registry.services.review.labels import evaluate_labels
from registry.services.review.lineage import lineage
from registry.services.review.queue import REVIEW_PURPOSE, PairView, get_pair, review_queue

review_app = typer.Typer(help="Review suspected duplicates (national unit): merge, not a duplicate, undo.",
                         invoke_without_command=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


def _ctx(ctx: typer.Context, user: str | None = None, password_stdin: bool = False) -> tuple[Registry, Actor]:
    """The registry and the signed-in reviewer: `--as` given after the subcommand, or before it."""
    obj = ctx.find_root().obj if ctx.obj is None else ctx.obj
    reg = obj["reg"]
    if obj.get("actor") is None:
        obj["actor"] = signed_in(reg, user or obj.get("user"), password_stdin or obj.get("password_stdin", False))
    return reg, obj["actor"]


@review_app.callback()
def main(ctx: typer.Context, user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """Without a command: review interactively, one pair at a time."""
    ctx.obj = {"reg": open_registry(), "actor": None, "user": user, "password_stdin": password_stdin}
    if ctx.invoked_subcommand is None:
        interactive(*_ctx(ctx))


def _cell(value: Any) -> Text:
    text = "" if value is None else str(value)
    # Right-aligned Arabic reads right to left in a terminal column; the terminal does the shaping.
    return Text(text, justify="right" if script_of(text) == "arabic" else "left")


def side_by_side(view: PairView) -> Table:
    p = view.pair
    table = Table(title=f"pair {p.pair_id}  probability {p.probability:.4f}  ({p.source})", show_lines=False)
    table.add_column("field")
    table.add_column(f"{p.a.institution}\n{p.a.child_id}", min_width=18)
    table.add_column(f"{p.b.institution}\n{p.b.child_id}", min_width=18)
    table.add_column("golden (if merged)", min_width=18)
    ids = view.identities or {}
    a, b = ids.get(p.a.record_id) or {}, ids.get(p.b.record_id) or {}
    golden = (view.golden_preview or {}).get("values", {})
    for name in GOLDEN_FIELDS:
        if a.get(name) or b.get(name):
            table.add_row(name.replace("_", " "), _cell(a.get(name)), _cell(b.get(name)), _cell(golden.get(name)))
    return table


def show_pair(view: PairView) -> None:
    console.print(side_by_side(view))
    for line in view.pair.why:
        colour = "green" if "(for)" in line else "red" if "(against)" in line else "dim"
        console.print(f"  [{colour}]{line}[/{colour}]")


def interactive(reg: Registry, actor: Actor) -> None:
    skipped: set[int] = set()
    last: tuple[str, Any] | None = None  # the last decision, for u = undo
    while True:
        page = run(review_queue, reg, actor, limit=50)
        pending = [p for c in page.clusters for p in c.pairs if p.pair_id not in skipped]
        if not pending:
            console.print("the queue is empty" + (f" ({len(skipped)} skipped)" if skipped else ""))
            return
        view = run(get_pair, reg, actor, pending[0].pair_id, REVIEW_PURPOSE)
        show_pair(view)
        undo = "u = undo the last decision, " if last else ""
        prompt = f"m = merge, n = not a duplicate, {undo}s = skip, q = quit"
        key = typer.prompt(prompt, default="s").strip().lower()
        try:
            if key == "m":
                r = decisions.merge_pair(reg, actor, view.pair.pair_id)
                last = ("merge", r.merge_id)
                console.print(f"merged into {r.survivor} (merge {r.merge_id}; u undoes it)")
            elif key == "n":
                decisions.reject_pair(reg, actor, view.pair.pair_id)
                last = ("not-duplicate", view.pair.pair_id)
                console.print("not a duplicate: this pair will not be suggested again unless a record changes")
            elif key == "u" and last is not None:
                if last[0] == "merge":
                    u = decisions.undo_merge(reg, actor, last[1])
                    console.print(f"merge {last[1]} undone: {u.restored} restored")
                else:
                    decisions.undo_rejection(reg, actor, last[1])
                    console.print(f"pair {last[1]} is open again")
                last = None
            elif key == "q":
                return
            else:
                skipped.add(view.pair.pair_id)
        except Conflict as e:
            err.print(f"[yellow]{e.reason}[/yellow]", markup=True)  # someone else decided it: show the next one


@review_app.command("queue")
def queue_cmd(ctx: typer.Context, governorate: str = typer.Option(None, help="ISO 3166-2 code, e.g. SY-HL"),
              institution: str = typer.Option(None), limit: int = typer.Option(20), offset: int = typer.Option(0),
              as_json: bool = typer.Option(False, "--json"),
              user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """The open pairs, as clusters, most likely first (pseudonyms and reasons; no identities)."""
    reg, actor = _ctx(ctx, user, password_stdin)
    page = run(review_queue, reg, actor, governorate=governorate, institution=institution, offset=offset,
                limit=limit)
    if as_json:
        console.print_json(json.dumps({"total": page.total, "clusters": [c.as_dict() for c in page.clusters]},
                                      ensure_ascii=False))
        return
    table = Table(title=f"{page.total} clusters to review")
    for col in ("cluster", "pair", "probability", "children", "institutions"):
        table.add_column(col, no_wrap=True)  # pseudonyms whole, never cut
    table.add_column("strongest reasons")
    for c in page.clusters:
        for p in c.pairs:
            table.add_row(c.cluster_id, str(p.pair_id), f"{p.probability:.4f}", f"{p.a.child_id}\n{p.b.child_id}",
                          f"{p.a.institution}\n{p.b.institution}", "\n".join(p.why[:3]))
    console.print(table)


@review_app.command("show")
def show_cmd(ctx: typer.Context, pair_id: int,
             user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """One pair side by side with its explanation (opens the identities: purpose deduplication-review)."""
    reg, actor = _ctx(ctx, user, password_stdin)
    show_pair(run(get_pair, reg, actor, pair_id, REVIEW_PURPOSE))


@review_app.command("decide")
def decide_cmd(ctx: typer.Context, pair_id: int,
               merge: bool = typer.Option(False, "--merge", help="Same child: merge (reversible)"),
               reject: bool = typer.Option(False, "--reject", help="Not a duplicate (sticky)"),
               override: list[str] = typer.Option([], help="FIELD=RECORD_ID: take that field from that record"),
               survivor: str = typer.Option(None, help="Pseudonym to keep (default: the older)"),
               user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    reg, actor = _ctx(ctx, user, password_stdin)
    if merge == reject:
        err.print("[red]error:[/red] give exactly one of --merge or --reject")
        raise typer.Exit(2)
    overrides = dict(o.split("=", 1) for o in override if "=" in o)
    r = run(decisions.decide_pair, reg, actor, pair_id, "merge" if merge else "not-duplicate", overrides,
            survivor=survivor)
    if merge:
        console.print(f"merged {r['absorbed']} into {r['survivor']}: {r['records_moved']} record(s) moved; "
                      f"merge {r['merge_id']}")
    else:
        console.print(f"pair {pair_id}: not a duplicate")


@review_app.command("undo")
def undo_cmd(ctx: typer.Context, merge_id: str,
             user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """Undo a merge: both children restored exactly (later merges that moved its records first)."""
    reg, actor = _ctx(ctx, user, password_stdin)
    r = run(decisions.undo_merge, reg, actor, merge_id)
    console.print(f"{r.restored} restored with {r.records_moved_back} record(s); "
                  f"pairs reopened: {', '.join(map(str, r.reopened_pairs)) or 'none'}")


@review_app.command("lineage")
def lineage_cmd(ctx: typer.Context, child_id: str,
                user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    reg, actor = _ctx(ctx, user, password_stdin)
    lin = run(lineage, reg, actor, child_id)
    if lin.redirected:
        console.print(f"{lin.child_id} now resolves to {lin.current}")
    console.print(f"lineage of {lin.current}: {len(lin.merges)} merge(s)")
    for m in lin.merges:  # one line each: pseudonyms and merge ids whole, whatever the terminal's width
        by = f"automatic ({m['band']}, run {m['run_id']})" if m["automatic"] else f"by {m['decided_by']}"
        undone = f", undone {m['undone_at'][:19]}" if m["undone_at"] else ""
        console.print(f"{m['merge_id']}: {m['absorbed']} into {m['survivor']}, {m['records_moved']} record(s), "
                      f"{by} at {m['decided_at'][:19]}{undone}", soft_wrap=True)


@review_app.command("auto-merge")
def auto_merge_cmd(ctx: typer.Context, threshold: float = typer.Option(automatic.AUTO_MERGE_THRESHOLD),
                   user: AsUser = None, password_stdin: PasswordStdin = False) -> None:
    """Merge every open pair at or above THRESHOLD (default: the same-child band), recorded as automatic, under
    the must-stay-apart rules of a batch run's automatic merges."""
    reg, actor = _ctx(ctx, user, password_stdin)
    done = run(automatic.auto_merge, reg, actor, threshold)
    console.print(f"{len(done)} pair(s) merged automatically at probability >= {threshold}")


@review_app.command("labels")
def labels_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """How the model's thresholds fare against the reviewers' decisions (counts only: no --as needed)."""
    result = evaluate_labels(ctx.obj["reg"])
    if as_json:
        console.print_json(json.dumps(result))
        return
    console.print(f"{result['labels']} reviewed pairs: {result['same_child']} same child, "
                  f"{result['not_duplicate']} not duplicates")
    table = Table()
    for col in ("threshold", "", "precision", "recall", "TP", "FP", "FN"):
        table.add_column(col)
    for name, words in (("match", "same child"), ("review", "possible")):
        r = result[name]
        fmt = lambda v: "-" if v is None else f"{v:.3f}"
        table.add_row(words, str(r["threshold"]), fmt(r["precision"]), fmt(r["recall"]), str(r["true_positives"]),
                      str(r["false_positives"]), str(r["false_negatives"]))
    console.print(table)
