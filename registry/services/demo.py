"""The demo registry, the README's first command: generated children from Syrian and Egyptian agencies in
both scripts, imported, deduplicated and measured against the known truth; then the first clusters of the
national unit's queue, explained. All data is fictional (`registry.synth`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from registry.matching.evaluate import Evaluation, evaluate, read_truth
from registry.matching.explain import explain_records
from registry.services.context import Registry
from registry.services.dedupe import DedupeResult, registry_clusters, run_dedupe
from registry.services.demo_users import DemoUser, demo_users
from registry.services.importing import ImportReport, import_file
from registry.services.review.queue import clusters_of, open_pairs
from registry.store.models import Child
from registry.synth import write_csv


@dataclass
class ExamplePair:
    a: tuple[str, str]  # (pseudonym, institution)
    b: tuple[str, str]
    reasons: list[str]  # per-field agreement in words (no identity)


@dataclass
class DemoReport:
    generated: int  # records written this time (0 when the file was there already)
    data_path: str
    imported: ImportReport
    dedupe: DedupeResult
    evaluation: Evaluation
    children: int
    queue_clusters: int
    true_children: int = 0  # distinct fictional children in the generated truth, beside the clusters found
    examples: list[ExamplePair] = field(default_factory=list)
    users: list[DemoUser] = field(default_factory=list)  # one per role for the web pages; passwords shown once


def build_demo(reg: Registry, records: int = 3000, seed: int = 7,
               import_progress: Callable[[int], None] | None = None,
               dedupe_progress: Callable[[str], None] | None = None, examples: int = 3) -> DemoReport:
    home = reg.settings.home
    data, truth = home / "demo" / "children.csv", home / "demo" / "truth.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    generated = 0
    if not data.exists():
        generated = write_csv(data, records, seed, truth_path=truth)
    imported = import_file(reg, data, None, progress=import_progress)
    result = run_dedupe(reg, progress=dedupe_progress)
    known = read_truth(truth, data)
    scores = evaluate(registry_clusters(reg), known)
    with reg.db.sessions() as s:
        children = s.scalar(select(func.count()).select_from(Child).where(Child.status == "active")) or 0
        queue = clusters_of(open_pairs(s))
        model = reg.model()
        shown = []
        for c in queue[:examples]:
            pair = c.pairs[0]
            why = explain_records(model, s, pair.a.record_id, pair.b.record_id)
            shown.append(ExamplePair((pair.a.child_id, pair.a.institution), (pair.b.child_id, pair.b.institution),
                                     [f.words for f in (why.fields if why else ())]))
    return DemoReport(generated, str(data), imported, result, scores, children, len(queue),
                      len(set(known.person.values())), shown, demo_users(reg))
