"""The fixed train/test split of the shared name data, by Arabic name (never by row).

All spellings of one Arabic name fall on the same side, so a name measured in the benchmark was never
seen by the dictionary builder. The side is a stable hash (SHA-256) of the name's dictionary id (its
canonical folded Arabic form: الحسن and حسن, عبد الله and عبدالله, عبد الرحمن and عبدالرحمن go together).
"""

from __future__ import annotations

import hashlib

from registry.names.dictionary import arabic_id
from registry.names.normalize import fold_arabic
from registry.names.units import split_units

TEST_PERCENT = 20
DEV_PERCENT = 20


def split_key(arabic_key: str) -> str:
    """The key a data row is split by: the dictionary id of the Arabic unit (else its folded letters)."""
    units = split_units(arabic_key)
    if len(units) == 1 and units[0].script == "arabic":
        return arabic_id(units[0])
    return fold_arabic(arabic_key).replace(" ", "")


def split_bucket(arabic_key: str) -> int:
    """Stable bucket 0..99 of an Arabic name (SHA-256 of its split key)."""
    digest = hashlib.sha256(split_key(arabic_key).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def is_test_name(arabic_key: str) -> bool:
    """True when the Arabic name belongs to the held-out test split (about TEST_PERCENT % of names)."""
    return split_bucket(arabic_key) < TEST_PERCENT


def is_dev_name(arabic_key: str) -> bool:
    """A development fold carved out of the TRAIN split (buckets TEST_PERCENT..TEST_PERCENT+DEV_PERCENT-1):
    rules and the threshold are tuned on it with a dictionary built from the rest of train, never on test."""
    return TEST_PERCENT <= split_bucket(arabic_key) < TEST_PERCENT + DEV_PERCENT


def is_fit_name(arabic_key: str) -> bool:
    """Train names outside the dev fold: what the dictionary for dev measurements is built from."""
    return split_bucket(arabic_key) >= TEST_PERCENT + DEV_PERCENT


def is_train_name(arabic_key: str) -> bool:
    """True when the Arabic name belongs to the train split (the complement of is_test_name)."""
    return not is_test_name(arabic_key)
