"""Checking a log against its signed checkpoints, and the exported bundle format. No database, no private key.

`verify_entries` is the one verifier: it streams entries in index order and checks, for each entry, that its
bytes match its stored leaf hash, that they are a canonical entry naming its own index, and that it links to the
leaf hash of the entry before it; at each checkpoint's size it checks the Merkle root against the signed
checkpoint; after the last entry it checks no checkpoint (or trusted checkpoint kept outside) covers more
entries than there are. Problems come out in log order, so `Report.first` is the first entry that does not fit.
The stored log (`AuditLog.verify`) and an exported bundle (`verify_bundle`) both feed it.

Bundle: one JSON-lines file (UTF-8, ASCII in practice):
    {"format": "registry-audit-bundle", "version": 1, "origin": ..., "public_key": <base64>, "size": n, ...}
    {"checkpoint": "<signed note>"}                 one line per checkpoint, by size
    {"index": i, "leaf_hash": <hex>, "entry": "<canonical entry JSON, as a string>"}   one line per entry
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.signing

from registry.audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint, read_attestation
from registry.audit.event import AUDIT_CHECKPOINT, FIRST_PREV, LogEntry, parse_entry
from registry.audit.merkle import Frontier, hash_leaf

BUNDLE_FORMAT = "registry-audit-bundle"
BUNDLE_VERSION = 1
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    """One thing that does not fit: at entry `index`, or at the checkpoint of size `checkpoint_size`."""

    what: str
    index: int | None = None
    checkpoint_size: int | None = None

    def where(self) -> str:
        if self.index is not None:
            return f"entry {self.index}"
        if self.checkpoint_size is not None:
            return f"checkpoint at size {self.checkpoint_size}"
        return "log"

    def __str__(self) -> str:
        return f"{self.where()}: {self.what}"


@dataclass
class Report:
    entries: int = 0  # entries read
    checkpoints: int = 0  # checkpoints whose signature verified
    latest: Checkpoint | None = None  # the largest checkpoint that verified
    problems: list[Problem] = field(default_factory=list)
    truncated_problems: bool = False
    witnesses: int = 0  # witnesses (and trusted checkpoints) whose note was checked
    witnessed: Checkpoint | None = None  # the largest checkpoint held outside the database that verified

    @property
    def after_checkpoint(self) -> int:
        """Entries after the latest signed checkpoint: not yet covered by any signature."""
        return self.entries - (self.latest.size if self.latest else 0)

    @property
    def after_witnessed(self) -> int:
        """Entries after the latest checkpoint held by a witness: what someone who can write to the database
        could still cut back or rewrite without it being detected (with the signing key: everything after it)."""
        return self.entries - (self.witnessed.size if self.witnessed else 0)

    def exposure(self) -> str:
        """One line on what lies after the last signed and the last witnessed checkpoint."""
        signed = f"{self.after_checkpoint} entries after the latest signed checkpoint"
        if self.witnesses == 0:
            return (f"{signed}; no witness consulted: the whole log ({self.entries} entries) could be cut "
                    "back together with its checkpoints unnoticed")
        where = f"size {self.witnessed.size}" if self.witnessed else "none held"
        return f"{signed}; {self.after_witnessed} entries after the last witnessed checkpoint ({where})"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.truncated_problems = True

    def summary(self) -> str:
        if self.ok:
            size = self.latest.size if self.latest else 0
            return f"OK: {self.entries} entries, {self.checkpoints} signed checkpoints verified (latest at size {size})"
        return f"FAILED at {self.first}" + (
            f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        )


# (index as stored, entry bytes, stored leaf hash or None)
StoredEntry = tuple[int, bytes, bytes | None]


def open_checkpoints(
    notes: Iterable[tuple[int | None, str]],
    verify_key: nacl.signing.VerifyKey,
    origin: str | None,
    report: Report,
) -> list[Checkpoint]:
    """The checkpoints whose signatures verify, by size; a Problem for each one that does not."""
    good: dict[int, Checkpoint] = {}
    for claimed_size, note in notes:
        try:
            cp = open_checkpoint(note, verify_key, origin)
        except CheckpointError as e:
            report.add(Problem(f"checkpoint rejected: {e}", checkpoint_size=claimed_size))
            continue
        if claimed_size is not None and claimed_size != cp.size:
            report.add(
                Problem(
                    f"stored as size {claimed_size} but its signed note says {cp.size}",
                    checkpoint_size=claimed_size,
                )
            )
            continue
        if cp.size in good and good[cp.size].root_hash != cp.root_hash:
            # Two validly signed, different roots for one size: the signer itself forked the log.
            report.add(
                Problem("two signed checkpoints give different roots for this size", checkpoint_size=cp.size)
            )
            continue
        good[cp.size] = cp
    report.checkpoints = len(good)
    ordered = [good[s] for s in sorted(good)]
    report.latest = ordered[-1] if ordered else None
    return ordered


def verify_entries(
    entries: Iterable[StoredEntry],
    checkpoint_notes: Iterable[tuple[int | None, str]],
    verify_key: nacl.signing.VerifyKey,
    *,
    origin: str | None = None,
    trusted_checkpoint: str | None = None,
    witnessed: Iterable[tuple[str, str]] = (),
    on_entry: Callable[[int, LogEntry], Iterable[Problem]] | None = None,
) -> Report:
    """Check a log (entries in index order) against its signed checkpoints and an optional trusted one.

    `witnessed`: (witness name, note) for each checkpoint held outside the database. Each must verify, the log
    must reach its size with the same root, and it must still be among the stored checkpoints (a witnessed
    checkpoint missing from the database was deleted). Each `audit-checkpoint` entry must name a stored
    checkpoint too: a stored checkpoint deleted later is caught by the entry that recorded it.

    `on_entry(index, LogEntry)` if given is called for each entry that parses (storage uses it to compare its
    query columns with the bytes, and may return Problems).
    """
    report = Report()
    checkpoints = open_checkpoints(checkpoint_notes, verify_key, origin, report)
    targets: list[tuple[Checkpoint, str]] = [(cp, "signed checkpoint") for cp in checkpoints]
    if trusted_checkpoint is not None:
        try:
            trusted = open_checkpoint(trusted_checkpoint, verify_key, origin)
            targets.append((trusted, "trusted checkpoint kept outside the database"))
        except CheckpointError as e:
            report.add(Problem(f"the trusted checkpoint itself is not valid: {e}"))
        else:
            report.witnesses += 1
            report.witnessed = trusted
    stored = {cp.size: cp for cp in checkpoints}
    for name, note in witnessed:
        report.witnesses += 1
        try:
            held = open_checkpoint(note, verify_key, origin)
        except CheckpointError as e:
            report.add(Problem(f"the checkpoint held by witness {name} is not valid: {e}"))
            continue
        targets.append((held, f"checkpoint held by witness {name}"))
        if report.witnessed is None or held.size > report.witnessed.size:
            report.witnessed = held
        if held.size not in stored:
            report.add(
                Problem(
                    f"witness {name} holds a checkpoint at this size that is not among the stored checkpoints: "
                    "it was deleted from the database",
                    checkpoint_size=held.size,
                )
            )
    targets.sort(key=lambda t: t[0].size)
    attested: list[tuple[int, int, bytes]] = []  # (entry index, checkpoint size, root) from audit-checkpoint entries

    frontier = Frontier()
    prev = FIRST_PREV
    expected = 0
    last_good_size = 0
    t = 0

    def check_roots() -> None:
        nonlocal t, last_good_size
        while t < len(targets) and targets[t][0].size == frontier.size:
            cp, label = targets[t]
            if frontier.root() == cp.root_hash:
                last_good_size = cp.size
            else:
                report.add(
                    Problem(
                        f"root of the first {cp.size} entries does not match the {label}: an entry in "
                        f"{last_good_size}..{cp.size - 1} was changed, replaced or reordered after it was signed",
                        checkpoint_size=cp.size,
                    )
                )
            t += 1

    check_roots()  # a checkpoint of the empty log
    for index, raw, stored_hash in entries:
        if index != expected:
            if index > expected:
                report.add(
                    Problem(
                        f"missing: the log jumps from entry {expected - 1} to {index} "
                        f"({index - expected} entries deleted)",
                        index=expected,
                    )
                )
            else:
                report.add(
                    Problem(f"out of order: entry {index} comes after entry {expected - 1}", index=index)
                )
        leaf = hash_leaf(raw)
        if stored_hash is not None and stored_hash != leaf:
            report.add(
                Problem(
                    "the stored bytes do not match the stored leaf hash: the entry was edited", index=index
                )
            )
        try:
            entry: LogEntry | None = parse_entry(raw)
        except ValueError as e:
            entry = None
            report.add(Problem(f"the bytes are not a valid entry ({e})", index=index))
        if entry is not None:
            if entry.index != index:
                report.add(
                    Problem(
                        f"the entry here says it is entry {entry.index}: entries were moved or reordered",
                        index=index,
                    )
                )
            if entry.prev_hash != prev:
                report.add(
                    Problem(
                        f"does not link to the entry before it: entry {index - 1} was changed, or entries "
                        "were removed or reordered here",
                        index=index,
                    )
                )
            if entry.event.action == AUDIT_CHECKPOINT:
                named = read_attestation(entry.event.query_fingerprint)
                if named is not None:
                    attested.append((index, *named))
            if on_entry is not None:
                for p in on_entry(index, entry):
                    report.add(p)
        prev = leaf
        frontier.append(leaf)
        expected = index + 1
        report.entries += 1
        check_roots()

    for cp, label in targets[t:]:
        report.add(
            Problem(
                f"the log ends after {frontier.size} entries but a {label} covers {cp.size}: "
                f"entries {frontier.size}..{cp.size - 1} were removed (truncated)",
                index=frontier.size,
            )
        )
    for index, size, root_hash in attested:
        kept = stored.get(size)
        if kept is None:
            report.add(
                Problem(
                    f"entry {index} records a signed checkpoint at size {size} that is no longer stored: "
                    "the checkpoint was deleted",
                    checkpoint_size=size,
                )
            )
        elif kept.root_hash != root_hash:
            report.add(
                Problem(f"entry {index} records another root for this checkpoint: it was replaced",
                        checkpoint_size=size)
            )
    return report


# ---- the bundle -------------------------------------------------------------------------------------------


def write_bundle(
    path: Path,
    origin: str,
    verify_key: nacl.signing.VerifyKey,
    checkpoint_notes: Iterable[str],
    entries: Iterable[StoredEntry],
    size: int,
) -> None:
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        header = {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "origin": origin,
            "public_key": base64.b64encode(bytes(verify_key)).decode("ascii"),
            "size": size,
        }
        f.write(json.dumps(header, sort_keys=True) + "\n")
        for note in checkpoint_notes:
            f.write(json.dumps({"checkpoint": note}) + "\n")
        for index, raw, leaf_hash in entries:
            line = {"index": index, "entry": raw.decode("ascii")}
            if leaf_hash is not None:
                line["leaf_hash"] = leaf_hash.hex()
            f.write(json.dumps(line, sort_keys=True) + "\n")


def _read_bundle(path: Path) -> tuple[dict[str, object], list[str], Iterator[StoredEntry]]:
    f = Path(path).open("r", encoding="utf-8")  # noqa: SIM115 (closed by the entries iterator)
    header = json.loads(f.readline() or "{}")
    if header.get("format") != BUNDLE_FORMAT or header.get("version") != BUNDLE_VERSION:
        f.close()
        raise ValueError(f"{path} is not a registry audit bundle (version {BUNDLE_VERSION})")
    notes: list[str] = []
    first_entry: dict[str, Any] | None = None
    for line in f:
        obj = json.loads(line)
        if "checkpoint" in obj:
            notes.append(obj["checkpoint"])
        else:
            first_entry = obj
            break

    def entries() -> Iterator[StoredEntry]:
        try:
            obj = first_entry
            while obj is not None:
                lh = obj.get("leaf_hash")
                yield int(obj["index"]), str(obj["entry"]).encode("ascii"), bytes.fromhex(lh) if lh else None
                line = f.readline()
                obj = json.loads(line) if line else None
        finally:
            f.close()

    return header, notes, entries()


def verify_bundle(
    bundle: Path,
    public_key: nacl.signing.VerifyKey,
    trusted_checkpoint: str | None = None,
    witnessed: Iterable[tuple[str, str]] = (),
) -> Report:
    """Verify an exported bundle with only the audit public key (given by the verifier, not the bundle)."""
    header, notes, entries = _read_bundle(Path(bundle))
    origin = str(header.get("origin"))
    report_extra: list[Problem] = []
    if header.get("public_key") != base64.b64encode(bytes(public_key)).decode("ascii"):
        report_extra.append(
            Problem(
                "the bundle names a different public key from the one given; verifying with the one given"
            )
        )
    report = verify_entries(
        entries, [(None, n) for n in notes], public_key, origin=origin, trusted_checkpoint=trusted_checkpoint,
        witnessed=witnessed,
    )
    if header.get("size") != report.entries:
        report.add(
            Problem(f"the bundle header says {header.get('size')} entries but it holds {report.entries}")
        )
    report.problems[:0] = report_extra
    return report


def read_trusted_checkpoint(path: Path) -> str:
    """A checkpoint note kept outside: a plain note file, or the largest checkpoint in a file witness."""
    from registry.audit.witness import read_witness_file

    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        notes = read_witness_file(Path(path))
        if not notes:
            raise ValueError(f"{path} holds no checkpoint")
        return max(notes, key=lambda n: int(n.split("\n")[1]))
    return text
