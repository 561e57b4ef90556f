"""Publishing checkpoints outside the database, so that a later cut or rewrite of the log is caught.

A witness keeps checkpoint notes somewhere the database administrator cannot rewrite: a file on another
machine or write-once storage (`FileWitness`: one JSON line per checkpoint, appended), or an HTTP endpoint
(`HttpWitness`: the note POSTed as text/plain; a GET on the same URL answers the largest note it holds).
`witness_app` is such an endpoint (`registry audit witness-serve`). `registry audit verify` reads every
configured witness and fails when the log is shorter than, or differs from, a checkpoint a witness holds.
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

MAX_NOTE_BYTES = 4096  # a checkpoint note is about 200 bytes


class WitnessError(RuntimeError):
    """A witness could not be written or read; the message names the witness and the reason."""


class Witness(Protocol):
    @property
    def name(self) -> str: ...

    def publish(self, checkpoint: Checkpoint) -> None: ...

    def latest_note(self) -> str | None:
        """The largest checkpoint note the witness holds (None when it holds none)."""
        ...


def _size_of(note: str) -> int:
    try:
        return int(note.split("\n")[1])
    except (IndexError, ValueError):
        return -1


def largest_note(notes: list[str]) -> str | None:
    return max(notes, key=_size_of) if notes else None


@dataclass(frozen=True)
class FileWitness:
    path: Path

    @property
    def name(self) -> str:
        return f"file {self.path}"

    def publish(self, checkpoint: Checkpoint) -> None:
        line = json.dumps(
            {"published_at": format_time(utcnow()), "size": checkpoint.size, "note": checkpoint.note}
        )
        # One write of one line in append mode: concurrent publishers do not interleave lines.
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise WitnessError(f"witness {self.name}: cannot append ({e.strerror})") from None

    def latest_note(self) -> str | None:
        if not Path(self.path).exists():
            return None
        try:
            return largest_note(read_witness_file(Path(self.path)))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise WitnessError(f"witness {self.name}: cannot be read ({type(e).__name__})") from None


@dataclass(frozen=True)
class HttpWitness:
    url: str
    timeout: float = 10.0

    @property
    def name(self) -> str:
        return f"url {self.url}"

    def publish(self, checkpoint: Checkpoint) -> None:
        import httpx

        try:
            response = httpx.post(
                self.url,
                content=checkpoint.note.encode("utf-8"),
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=self.timeout,
            )
            response.raise_for_status()
        except httpx.HTTPError as e:
            raise WitnessError(f"witness {self.name}: publishing failed ({type(e).__name__})") from None

    def latest_note(self) -> str | None:
        import httpx

        try:
            response = httpx.get(self.url, timeout=self.timeout)
        except httpx.HTTPError as e:
            raise WitnessError(f"witness {self.name}: cannot be read ({type(e).__name__})") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200 or len(response.content) > MAX_NOTE_BYTES:
            raise WitnessError(f"witness {self.name}: answered {response.status_code}")
        return response.text


def read_witness_file(path: Path) -> list[str]:
    """The checkpoint notes in a file witness, in the order published."""
    notes = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            notes.append(json.loads(line)["note"])
    return notes


def witness_app(path: Path, verify_key=None, origin: str | None = None):
    """A minimal HTTP witness: POST a note (kept in a file witness at `path`), GET the largest note held.

    With `verify_key`, only notes signed by the audit key are kept (400 otherwise). Nothing else is served.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from registry.audit.checkpoint import CheckpointError, open_checkpoint, parse_unverified

    store = FileWitness(Path(path))

    async def receive(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_NOTE_BYTES:
                return PlainTextResponse("note too large", status_code=413)
        try:
            note = body.decode("utf-8")
            cp = (open_checkpoint(note, verify_key, origin) if verify_key is not None
                  else parse_unverified(note))
        except (UnicodeDecodeError, CheckpointError) as e:
            return PlainTextResponse(f"not a valid checkpoint note: {e}"[:200], status_code=400)
        store.publish(cp)
        return Response(status_code=204)

    async def latest(_: Request) -> Response:
        note = store.latest_note()
        if note is None:
            return PlainTextResponse("no checkpoint yet", status_code=404)
        return PlainTextResponse(note)

    async def handle(request: Request) -> Response:
        return await (receive(request) if request.method == "POST" else latest(request))

    return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])
