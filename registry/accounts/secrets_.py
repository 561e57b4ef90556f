"""Passwords (Argon2id) and API tokens (SHA-256 of 32 random bytes): the two secrets a user holds.

Why two schemes: a password is chosen by a person and has little entropy, so its hash must be slow and
memory-hard (Argon2id) to resist guessing. An API token is 32 bytes from the OS random source (256 bits):
no guess can succeed, so a fast hash is enough, and it lets every request find its token by an indexed
equality lookup on the hash instead of paying an Argon2 verification per call. No key is involved, so
tokens survive key rotation and a stolen database alone still yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "crt_"  # recognisable by secret scanners and in logs that must be cleaned

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    """True when the stored hash was made with other parameters than the current ones."""
    return _hasher.check_needs_rehash(stored)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(b"registry-api-token-v1\x00" + token.encode("utf-8")).hexdigest()
