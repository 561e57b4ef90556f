"""Publishing checkpoints outside the database, so that a later rewrite of the whole log is caught.

A witness keeps checkpoint notes somewhere the database administrator cannot rewrite: a file on another
machine or write-once storage (`FileWitness`: one JSON line per checkpoint, appended), or an HTTP endpoint
(`HttpWitness`: the note POSTed as text/plain). A later `verify --trusted FILE` checks the log still contains
the tree that was published.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from registry.audit.checkpoint import Checkpoint
from registry.audit.event import format_time
from registry.store.db import utcnow


class Witness(Protocol):
    def publish(self, checkpoint: Checkpoint) -> None: ...


@dataclass(frozen=True)
class FileWitness:
    path: Path

    def publish(self, checkpoint: Checkpoint) -> None:
        line = json.dumps(
            {"published_at": format_time(utcnow()), "size": checkpoint.size, "note": checkpoint.note}
        )
        # One write of one line in append mode: concurrent publishers do not interleave lines.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class HttpWitness:
    url: str
    timeout: float = 10.0

    def publish(self, checkpoint: Checkpoint) -> None:
        import httpx

        response = httpx.post(
            self.url,
            content=checkpoint.note.encode("utf-8"),
            headers={"Content-Type": "text/plain; charset=utf-8"},
            timeout=self.timeout,
        )
        response.raise_for_status()


def read_witness_file(path: Path) -> list[str]:
    """The checkpoint notes in a file witness, in the order published."""
    notes = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            notes.append(json.loads(line)["note"])
    return notes
