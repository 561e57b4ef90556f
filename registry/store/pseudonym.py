"""Registry pseudonyms: random, opaque, stable, and easy to read out on a phone.

Ten random symbols from an alphabet without look-alikes (no 0/O, 1/I/L, U), about 49 bits, plus a Luhn
mod-N check symbol that catches any single mistyped symbol and most swaps of neighbours.
Shown as CR-XXXX-XXXX-XXC. Never derived from personal data.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 symbols
_N = len(ALPHABET)
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
PREFIX = "CR"
BODY_LENGTH = 10


def _check_symbol(body: str) -> str:
    # Luhn mod N, computed from the rightmost symbol leftwards.
    factor, total = 2, 0
    for ch in reversed(body):
        addend = factor * _INDEX[ch]
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def _format(body: str) -> str:
    full = body + _check_symbol(body)
    return f"{PREFIX}-{full[0:4]}-{full[4:8]}-{full[8:]}"


def new_pseudonym() -> str:
    # One draw of a uniform number below 30^10, written in base 30: each symbol uniform and independent, as
    # ten draws would give, at a tenth of the cost (the import makes one per new child).
    n = secrets.randbelow(_N**BODY_LENGTH)
    body = []
    for _ in range(BODY_LENGTH):
        n, digit = divmod(n, _N)
        body.append(ALPHABET[digit])
    return _format("".join(body))


def parse_pseudonym(text: str) -> str:
    """The canonical form of a pseudonym typed by a person; ValueError with the reason if it is not one."""
    raw = text.strip().upper().replace("-", "").replace(" ", "")
    raw = raw.removeprefix(PREFIX)
    # Readers confuse these; the alphabet has only one of each pair.
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(raw) != BODY_LENGTH + 1:
        raise ValueError(f"a registry id has {BODY_LENGTH + 1} symbols after {PREFIX}-")
    bad = sorted({c for c in raw if c not in _INDEX})
    if bad:
        raise ValueError(f"symbols {''.join(bad)} are not used in registry ids")
    body, check = raw[:-1], raw[-1]
    if _check_symbol(body) != check:
        raise ValueError("the check symbol does not match: a symbol was misread or mistyped")
    return _format(body)
