"""Rebuilding the linkage index from the vault: after a change of encoding, or a new linkage key.

Every live record's identity is opened (purpose: re-encoding; nothing leaves this process), encoded again and
written back in committed batches. Rotating the linkage key is this rebuild under the new key; the saved model
is then retrained, since its term-frequency table is keyed too.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from registry.matching.index import to_entry
from registry.services.context import Registry
from registry.store.models import CaseRecord
from registry.store.tables.matching import LinkageEntry

BATCH = 1000


def rebuild_index(reg: Registry, progress: Callable[[int], None] | None = None) -> int:
    with reg.db.sessions() as s:
        record_ids = list(s.scalars(select(CaseRecord.record_id).where(CaseRecord.status == "active")
                                    .order_by(CaseRecord.record_id)))
    done = 0
    for start in range(0, len(record_ids), BATCH):
        part = record_ids[start:start + BATCH]
        with reg.db.unit_of_work() as s:
            records = s.scalars(select(CaseRecord).where(CaseRecord.record_id.in_(part))).all()
            existing = {e.record_id: e for e in s.scalars(select(LinkageEntry).where(
                LinkageEntry.record_id.in_(part)))}
            for rec in records:
                values = to_entry(reg.index.encoder.encode(rec.record_id, rec.child_id,
                                                           reg.vault.open(s, rec.record_id)))
                entry = existing.get(rec.record_id)
                if entry is None:
                    s.add(LinkageEntry(**values))
                else:
                    for k, v in values.items():
                        setattr(entry, k, v)
        done += len(part)
        if progress:
            progress(len(part))
    return done
