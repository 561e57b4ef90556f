"""Idempotency-Key for the HTTP API's creating POSTs: the first answer is kept per user and key for 24 hours;
a retry with the same request gets it again, the same key with another request is refused."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from registry.errors import Conflict, InvalidInput
from registry.services.actor import Actor
from registry.services.context import Registry
from registry.store.db import utcnow
from registry.store.tables.idempotency import IdempotencyKey

KEPT = dt.timedelta(hours=24)
_KEY_OK = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: Any
    headers: dict[str, str]


def begin(reg: Registry, actor: Actor, key: str, fingerprint: str) -> StoredAnswer | None:
    """Claim the key for this request (None: go ahead), or the first answer when this is a retry."""
    if not _KEY_OK.match(key):
        raise InvalidInput.one("Idempotency-Key", "must be 1-200 visible ASCII characters")
    with reg.db.unit_of_work() as s:
        s.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEPT))
    try:
        with reg.db.unit_of_work() as s:
            s.add(IdempotencyKey(user_id=actor.user_id, key=key, fingerprint=fingerprint))
        return None
    except IntegrityError:
        pass
    with reg.db.unit_of_work() as s:
        row = s.get(IdempotencyKey, (actor.user_id, key))
        if row is None:  # expired and removed between the two steps: claim it again
            s.add(IdempotencyKey(user_id=actor.user_id, key=key, fingerprint=fingerprint))
            return None
        if row.fingerprint != fingerprint:
            raise InvalidInput.one("Idempotency-Key", "was used with another request: use a new key")
        if row.status is None:
            raise Conflict("a request with this Idempotency-Key is still being worked on", field="Idempotency-Key")
        return StoredAnswer(row.status, json.loads(row.body or "null"), json.loads(row.headers or "{}"))


def finish(reg: Registry, actor: Actor, key: str, status: int, body: Any, headers: dict[str, str]) -> None:
    with reg.db.unit_of_work() as s:
        row = s.get(IdempotencyKey, (actor.user_id, key))
        if row is not None:
            row.status, row.body, row.headers = status, json.dumps(body, ensure_ascii=False), json.dumps(headers)


def abandon(reg: Registry, actor: Actor, key: str) -> None:
    """The first call failed: nothing was created, so the key is free again."""
    with reg.db.unit_of_work() as s:
        s.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == actor.user_id, IdempotencyKey.key == key,
                                               IdempotencyKey.status.is_(None)))
