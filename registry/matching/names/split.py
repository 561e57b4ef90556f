"""The fixed train/test split of the shared name data, by Arabic name (never by row).

All spellings of one Arabic name fall on the same side, so a name measured in the benchmark was never
seen by the dictionary builder. The side is a stable hash of a split key derived from the data's folded
Arabic key (spaces and a leading article removed, so الحسن and حسن, عبد الله and عبدالله go together).
"""

from __future__ import annotations

import hashlib

from registry.matching.names.normalize import fold_arabic

TEST_PERCENT = 20


def split_key(arabic_key: str) -> str:
    """The key a data row is split by: folded Arabic letters, no spaces, no leading ال."""
    key = fold_arabic(arabic_key).replace(" ", "")
    return key[2:] if key.startswith("ال") and len(key) >= 4 else key


def is_test_name(arabic_key: str) -> bool:
    """True when the Arabic name belongs to the held-out test split (about TEST_PERCENT % of names)."""
    digest = hashlib.sha256(split_key(arabic_key).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < TEST_PERCENT
