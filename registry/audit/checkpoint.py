"""Signed checkpoints: the log's size and root hash at a moment, signed with the audit Ed25519 key. Pure functions.

The text is a C2SP tlog-checkpoint inside a C2SP signed note (https://c2sp.org/signed-note), simplified to one
signature and one extension line for the time:

    registry.local/audit-log            <- origin: names the log
    1234                                <- tree size, decimal
    9tW5lZr...base64 root hash...=      <- root hash (32 bytes), standard base64
    time 2026-11-22T08:47:21.123456Z    <- when the checkpoint was made (UTC)
                                        <- blank line ends the signed body
    — registry.local/audit-log AbCd...  <- em dash, key name, base64(key id (4 bytes) || Ed25519 signature (64 bytes))

The signature covers the body exactly: the four lines above, each ending in a newline, as UTF-8 bytes.
The key id is the first four bytes of SHA-256(key name || 0x0A || 0x01 || public key), as in signed-note
(0x01 = Ed25519), so a verifier can tell "signed by another key" from "signature broken".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from registry.audit.event import format_time, parse_time

DEFAULT_ORIGIN = "registry.local/audit-log"
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space, as in signed-note
ED25519_ALGORITHM = b"\x01"


class CheckpointError(ValueError):
    """A checkpoint note that is malformed, not signed by the expected key, or whose signature fails."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    at: dt.datetime  # UTC
    note: str = ""  # the signed note text, once signed or opened

    def body(self) -> str:
        """The signed body: origin, size, root hash, time; each line ends in a newline."""
        root_b64 = base64.b64encode(self.root_hash).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root_b64}\ntime {format_time(self.at)}\n"


def key_id(key_name: str, verify_key: nacl.signing.VerifyKey) -> bytes:
    """First 4 bytes of SHA-256(key name || "\\n" || 0x01 || the 32-byte Ed25519 public key)."""
    return hashlib.sha256(key_name.encode("utf-8") + b"\n" + ED25519_ALGORITHM + bytes(verify_key)).digest()[
        :4
    ]


def sign_checkpoint(checkpoint: Checkpoint, signing_key: nacl.signing.SigningKey) -> Checkpoint:
    """The checkpoint with its note: the body, a blank line, and one signature line by the origin's key."""
    if "\n" in checkpoint.origin or not checkpoint.origin.strip():
        raise CheckpointError("origin must be one non-empty line")
    if len(checkpoint.root_hash) != 32:
        raise CheckpointError("root hash must be 32 bytes")
    body = checkpoint.body()
    # Ed25519 over the body's UTF-8 bytes, nothing else.
    signature = signing_key.sign(body.encode("utf-8")).signature
    name = checkpoint.origin
    stamp = base64.b64encode(key_id(name, signing_key.verify_key) + signature).decode("ascii")
    note = f"{body}\n{SIGNATURE_PREFIX}{name} {stamp}\n"
    return Checkpoint(checkpoint.origin, checkpoint.size, checkpoint.root_hash, checkpoint.at, note)


def _parse_body(note: str, origin: str | None) -> tuple[str, str, int, bytes, dt.datetime, str]:
    """(body, origin, size, root hash, time, signature lines) of a note, unverified."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise CheckpointError("no blank line between the checkpoint body and its signature")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) != 4 or not lines[3].startswith("time "):
        raise CheckpointError("the body must be 4 lines: origin, size, root hash, time")
    name_expected = lines[0]
    if origin is not None and name_expected != origin:
        raise CheckpointError(f"checkpoint is for log {name_expected!r}, not {origin!r}")
    try:
        size = int(lines[1])
        if size < 0 or lines[1] != str(size):
            raise ValueError
        root_hash = base64.b64decode(lines[2], validate=True)
        at = parse_time(lines[3][len("time ") :])
    except (ValueError, binascii.Error):
        raise CheckpointError("size, root hash or time is malformed") from None
    if len(root_hash) != 32:
        raise CheckpointError("root hash is not 32 bytes")
    return body, name_expected, size, root_hash, at, signatures


def parse_unverified(note: str) -> Checkpoint:
    """The checkpoint a note claims, without checking any signature (a witness that holds no public key)."""
    _, origin, size, root_hash, at, _ = _parse_body(note, None)
    return Checkpoint(origin, size, root_hash, at, note)


def open_checkpoint(note: str, verify_key: nacl.signing.VerifyKey, origin: str | None = None) -> Checkpoint:
    """Parse a checkpoint note and check its signature by `verify_key`; CheckpointError says what is wrong."""
    body, name_expected, size, root_hash, at, signatures = _parse_body(note, origin)

    wanted_id = key_id(name_expected, verify_key)
    seen_ours = False
    for line in signatures.split("\n"):
        if not line:
            continue
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"malformed signature line {line!r}")
        name, _, stamp_b64 = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            stamp = base64.b64decode(stamp_b64, validate=True)
        except binascii.Error:
            raise CheckpointError("signature is not base64") from None
        if name != name_expected or stamp[:4] != wanted_id:
            continue  # another key's signature (a witness, or a forger): not ours
        seen_ours = True
        try:
            # The signature must cover exactly the body bytes.
            verify_key.verify(body.encode("utf-8"), stamp[4:])
        except (nacl.exceptions.BadSignatureError, ValueError):
            raise CheckpointError(
                "signature by the audit key does not verify: the checkpoint was altered"
            ) from None
        return Checkpoint(name_expected, size, root_hash, at, note)
    if not seen_ours:
        raise CheckpointError("not signed by the audit key (signed by another key, or not at all)")
    raise AssertionError("unreachable")


def attestation(size: int, root_hash: bytes) -> str:
    """The token an `audit-checkpoint` entry carries: which checkpoint was made (size and root)."""
    return f"cp-{size}-{root_hash.hex()}"


def read_attestation(token: str | None) -> tuple[int, bytes] | None:
    """(size, root hash) from an `audit-checkpoint` entry's token; None when it is not one."""
    if not token or not token.startswith("cp-"):
        return None
    size_text, _, root_hex = token[3:].partition("-")
    try:
        size, root = int(size_text), bytes.fromhex(root_hex)
    except ValueError:
        return None
    return (size, root) if len(root) == 32 and size >= 0 else None
