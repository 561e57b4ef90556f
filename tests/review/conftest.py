"""Review fixtures: reviewers as actors, hand-made children in both scripts, and a small deduplicated registry.

Hand-made children pin exact behaviour (merge, undo, lineage, concurrency) on both backends; the generated
registry (module-scoped: one Splink training per test module) gives realistic pairs for the queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from registry.config import Settings
from registry.errors import InvalidInput
from registry.identity import validate_identity
from registry.keys import create_key_dir
from registry.services.actor import Actor
from registry.services.context import Registry, open_registry
from registry.services.dedupe import run_dedupe
from registry.services.registration import register_child
from registry.store.db import Base
from registry.store.migrate import upgrade
from registry.store.models import CaseRecord, Child
from registry.store.tables.matching import LinkageEntry, SuspectedDuplicate
from registry.synth import generate

REVIEWER = Actor("Ureviewer0001", "national_reviewer", "national-unit", "reviewer")
CASEWORKER = Actor("Ucaseworker01", "caseworker", "sy-homs-ngo", "cw_a")

# One child written by three institutions, in Arabic and in Latin script, with the usual disagreements.
MOHAMMED_AR = {"institution": "sy-homs-ngo", "source_ref": "HMS-1", "given_name": "محمد", "father_name": "أحمد",
               "grandfather_name": "علي", "family_name": "الحلبي", "mother_given_name": "فاطمة", "sex": "M",
               "date_of_birth": "2015-03-04", "governorate": "SY-HI"}
MOHAMMED_LAT = {"institution": "sy-aleppo-cp", "source_ref": "ALP-7", "given_name": "Mohammed", "father_name": "Ahmad",
                "grandfather_name": "Ali", "family_name": "Al-Halabi", "sex": "M", "date_of_birth": "2015",
                "governorate": "SY-HL", "national_id": "01234567890"}
MOHAMMED_EG = {"institution": "eg-cairo-mss", "source_ref": "CAI-3", "given_name": "محمد", "father_name": "احمد",
               "family_name": "الحلبي", "sex": "M", "date_of_birth": "2015-04-03", "governorate": "EG-C"}


def fresh_tables(reg: Registry) -> None:
    Base.metadata.create_all(reg.db.engine)  # review tables, until their migration exists


def register(reg: Registry, row: dict) -> tuple[str, str]:
    r = register_child(reg, validate_identity(row))
    return r.child_id, r.record_id


def queue_pair(reg: Registry, record_x: str, record_y: str, probability: float = 0.97) -> int:
    """Put a pair in the queue as deduplication would (its stored digests are the records' current ones)."""
    a, b = sorted((record_x, record_y))
    with reg.db.unit_of_work() as s:
        da, db_ = (s.get(CaseRecord, r).content_digest for r in (a, b))
        s.execute(insert(SuspectedDuplicate).values(record_a=a, record_b=b, probability=probability,
                                                    match_weight=5.0, source="registration", status="open",
                                                    digest_a=da, digest_b=db_))
        return s.scalars(select(SuspectedDuplicate.pair_id).where(SuspectedDuplicate.record_a == a,
                                                                  SuspectedDuplicate.record_b == b)).one()


def snapshot(reg: Registry) -> dict:
    """Everything a merge changes and an undo must restore (timestamps aside)."""
    with reg.db.unit_of_work() as s:
        return {
            "children": sorted(s.execute(select(Child.child_id, Child.status, Child.merged_into)).all()),
            "records": sorted(s.execute(select(CaseRecord.record_id, CaseRecord.child_id, CaseRecord.institution,
                                               CaseRecord.source_ref, CaseRecord.status)).all()),
            "index": sorted(s.execute(select(LinkageEntry.record_id, LinkageEntry.child_id)).all()),
            "pairs": sorted(s.execute(select(SuspectedDuplicate.pair_id, SuspectedDuplicate.status)).all()),
        }


@pytest.fixture
def reg(registry: Registry) -> Registry:
    fresh_tables(registry)
    return registry


def generated_registry(home: Path, n: int = 600, seed: int = 3, auto_merge: bool = True) -> Registry:
    url = f"sqlite:///{home / 'registry.db'}"
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, database_url=url, key_dir=home / "keys", auto_merge=auto_merge)
    keys = create_key_dir(settings.key_dir)
    upgrade(url)
    reg = open_registry(settings, keys)
    fresh_tables(reg)
    for rec in generate(n, seed=seed).records:
        try:
            identity = validate_identity(rec.row)
        except InvalidInput:
            continue
        register_child(reg, identity)
    run_dedupe(reg)
    return reg


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A generated registry, deduplicated once per test module (a few seconds)."""
    reg = generated_registry(tmp_path_factory.mktemp("review") / "home")
    yield reg
    reg.close()


@pytest.fixture(scope="module")
def trained_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A generated registry deduplicated once with automatic merging off (REGISTRY_AUTO_MERGE=false)."""
    reg = generated_registry(tmp_path_factory.mktemp("review-off") / "home", n=900, seed=5, auto_merge=False)
    yield reg
    reg.close()


class Kit:
    """The helpers above, for test modules (importlib mode cannot import a conftest by name)."""

    reviewer = REVIEWER
    caseworker = CASEWORKER
    mohammed = (MOHAMMED_AR, MOHAMMED_LAT, MOHAMMED_EG)
    register = staticmethod(register)
    queue_pair = staticmethod(queue_pair)
    snapshot = staticmethod(snapshot)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
