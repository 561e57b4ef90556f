"""The variant dictionary shipped with the package: known Arabic names and their Latin spellings.

Built by registry.matching.names.build from the train split of the shared name data (see split.py) and
shipped as two gzipped TSV files in data/ (with the licence notices of the sources). At runtime only the
shipped files are read.

- A dictionary id is the canonical folded Arabic form of a unit: prefix word, head without the article,
  suffix word ("محمد", "حسن" for الحسن, "عبد رحمن" for عبد الرحمن, "نور الدين", "عبد الله").
- A Latin spelling is looked up by its key (prefix-head-suffix as written, e.g. "abd-rahman" for
  Abdel Rahman and Abdulrahman, "mohamed"), which maps to the ids it was attested for, with counts.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from registry.matching.names.skeleton import compose
from registry.matching.names.units import ARABIC_PREFIX_WORDS, ARABIC_SUFFIX_WORDS, NameUnit

IDS_FILE = "name_ids.tsv.gz"
SPELLINGS_FILE = "name_spellings.tsv.gz"
# A spelling attested for an id less often than this share is treated as alignment noise.
MIN_SHARE = 0.02


def arabic_id(unit: NameUnit) -> str:
    """Canonical folded Arabic id of an Arabic-script unit (dictionary key), known or not."""
    if unit.script != "arabic":
        raise ValueError(f"arabic_id needs an Arabic-script unit, got {unit.text!r}")
    parts = [ARABIC_PREFIX_WORDS.get(unit.prefix, ""), unit.head, ARABIC_SUFFIX_WORDS.get(unit.suffix, "")]
    return " ".join(p for p in parts if p)


def latin_key(unit: NameUnit) -> str:
    """Lookup key of a Latin-script unit: prefix-head-suffix with the head as written (folded letters).

    Not the phonetic form: that folds Amer and Ammar (عامر, عمار) together, which the dictionary must
    keep apart; spellings the dictionary lacks are handled by alignment instead.
    """
    if unit.script != "latin":
        raise ValueError(f"latin_key needs a Latin-script unit, got {unit.text!r}")
    return compose(unit.prefix, unit.head, unit.suffix)


@dataclass(frozen=True)
class NameEntry:
    """A known Arabic name: how often it occurs and its most frequent Latin spelling (phonetic key)."""

    name_id: str
    count: int
    latin: str


@dataclass(frozen=True)
class NameDictionary:
    entries: dict[str, NameEntry]
    spellings: dict[str, tuple[tuple[str, float], ...]]  # latin key -> ((id, share), ...) best first
    total_count: int

    def entry(self, name_id: str) -> NameEntry | None:
        return self.entries.get(name_id)

    def candidates(self, key: str) -> tuple[tuple[str, float], ...]:
        """Ids a Latin phonetic key was attested for, with P(id | spelling), best first."""
        return self.spellings.get(key, ())


def _read_tsv(name: str) -> list[list[str]]:
    path = resources.files("registry.matching.names").joinpath("data", name)
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t") for line in handle if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def load_dictionary() -> NameDictionary:
    """The shipped dictionary (loaded once). An empty dictionary if the data files are missing."""
    try:
        id_rows = _read_tsv(IDS_FILE)
        spelling_rows = _read_tsv(SPELLINGS_FILE)
    except FileNotFoundError:
        return NameDictionary({}, {}, 0)
    entries = {row[0]: NameEntry(row[0], int(row[1]), row[2]) for row in id_rows}
    grouped: dict[str, list[tuple[str, int]]] = {}
    for key, name_id, count in spelling_rows:
        grouped.setdefault(key, []).append((name_id, int(count)))
    spellings: dict[str, tuple[tuple[str, float], ...]] = {}
    for key, pairs in grouped.items():
        total = sum(c for _, c in pairs)
        shares = sorted(((i, c / total) for i, c in pairs), key=lambda p: -p[1])
        spellings[key] = tuple((i, s) for i, s in shares if s >= MIN_SHARE)
    return NameDictionary(entries, spellings, sum(e.count for e in entries.values()))
