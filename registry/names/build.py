"""Builds variant dictionaries from the shared name data: the SHIPPED one from all of it (build), and
in-memory ones from a subset, e.g. the train split for the benchmark (build_dictionary).

Sources (see /work/shared/data/names/README.md): name_units_by_country.tsv (Latin spellings of Arabic
name units per country, MIT, derived from CC0/MIT data) and wikidata_ar_en_tokens.tsv (aligned name tokens,
CC0). A row is kept when both sides parse to one unit with the same compound structure and the Latin
aligns with the Arabic (alignment similarity >= MIN_ALIGNMENT): that drops alignment noise such as
محمد = "yasmina". `include(arabic_key)` selects the Arabic names a dictionary is built from: every name
for the shipped dictionary, train-split names only (split.is_train_name) for the benchmark's.

Run: python benchmarks/build_name_dictionary.py  (data dir: env REGISTRY_NAMES_DATA or ../shared/data/names)
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from registry.names.dictionary import (
    IDS_FILE,
    SPELLINGS_FILE,
    NameDictionary,
    arabic_id,
    latin_key,
    make_dictionary,
)
from registry.names.skeleton import compose, latin_phonetic
from registry.names.transliteration import alignment_similarity
from registry.names.units import NameUnit, split_units

MIN_ALIGNMENT = 0.8
# Frequencies count names of people from Arabic-speaking countries (the registry serves Syria and Egypt);
# Iranian, Pakistani and Afghan rows still contribute spellings.
NON_ARAB_COUNTRIES = frozenset({"IR", "PK", "AF"})
LICENCE_FILES = ("name_units_by_country.LICENSE", "name_units_by_country.NOTICES.md",
                 "wikidata_ar_en_tokens.LICENSE")
OUTPUT_DIR = Path(__file__).resolve().parent / "data"


def default_data_dir() -> Path:
    env = os.environ.get("REGISTRY_NAMES_DATA")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "data" / "names"


def _one_unit(text: str) -> NameUnit | None:
    try:
        units = split_units(text)
    except ValueError:
        return None
    return units[0] if len(units) == 1 else None


def aligned_pair(arabic: str, latin: str) -> tuple[NameUnit, NameUnit] | None:
    """Both sides as one unit each, same structure, the Latin a plausible spelling of the Arabic."""
    ar, lat = _one_unit(arabic), _one_unit(latin)
    if ar is None or lat is None or ar.script != "arabic" or lat.script != "latin":
        return None
    if (ar.prefix, ar.suffix) != (lat.prefix, lat.suffix):
        return None
    if (ar.head or lat.head) and alignment_similarity(ar.head, lat.head) < MIN_ALIGNMENT:
        return None
    return ar, lat


def unit_rows(data_dir: Path) -> Iterator[dict[str, str]]:
    with open(data_dir / "name_units_by_country.tsv", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)


def token_rows(data_dir: Path) -> Iterator[tuple[str, str, int]]:
    """(arabic, latin, count) of wikidata_ar_en_tokens.tsv; the Arabic letters are space-separated there."""
    with open(data_dir / "wikidata_ar_en_tokens.tsv", encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[2].isdigit():
                yield parts[1].replace(" ", ""), parts[0], int(parts[2])


@dataclass
class Counts:
    """What a build collects: (latin key, name id) -> count, frequency per id, phonetic form per key."""

    spellings: Counter[tuple[str, str]]
    frequency: Counter[str]
    phonetic_of: dict[str, str]
    kept: int
    dropped: int

    def id_rows(self) -> list[tuple[str, int, str]]:
        """(name id, frequency, phonetic form of its most frequent spelling), sorted by id."""
        best_latin: dict[str, tuple[int, str]] = {}
        for (key, name_id), count in self.spellings.items():
            if count > best_latin.get(name_id, (0, ""))[0]:
                best_latin[name_id] = (count, key)
        return [(name_id, self.frequency[name_id], self.phonetic_of[best_latin[name_id][1]])
                for name_id in sorted(best_latin)]

    def spelling_rows(self) -> list[tuple[str, str, int]]:
        return [(key, name_id, count) for (key, name_id), count in sorted(self.spellings.items())]


def collect(data_dir: Path | None = None, include: Callable[[str], bool] | None = None) -> Counts:
    """Count the aligned spellings of the Arabic names `include` accepts (all names when None)."""
    data_dir = data_dir or default_data_dir()
    counts = Counts(Counter(), Counter(), {}, 0, 0)

    def add(arabic: str, latin: str, count: int, counts_as_frequency: bool) -> None:
        if include is not None and not include(arabic):
            return
        pair = aligned_pair(arabic, latin)
        if pair is None:
            counts.dropped += 1
            return
        counts.kept += 1
        name_id = arabic_id(pair[0])
        key = latin_key(pair[1])
        counts.spellings[(key, name_id)] += count
        counts.phonetic_of[key] = compose(pair[1].prefix, latin_phonetic(pair[1].head), pair[1].suffix)
        if counts_as_frequency:
            counts.frequency[name_id] += count

    for row in unit_rows(data_dir):
        add(row["arabic_key"], row["latin"], int(row["count"]), row["country"] not in NON_ARAB_COUNTRIES)
    for arabic, latin, count in token_rows(data_dir):
        add(arabic, latin, count, False)
    return counts


def build_dictionary(data_dir: Path | None = None, include: Callable[[str], bool] | None = None,
                     curated: bool = False) -> NameDictionary:
    """An in-memory dictionary of the names `include` accepts (the benchmark: train split, no CURATED)."""
    counts = collect(data_dir, include)
    return make_dictionary(counts.id_rows(), counts.spelling_rows(), curated=curated)


def build(data_dir: Path | None = None, output_dir: Path = OUTPUT_DIR) -> dict[str, int]:
    """Write the SHIPPED dictionary (all the data) and the licence notices; return counts for the log."""
    data_dir = data_dir or default_data_dir()
    counts = collect(data_dir)
    id_rows = counts.id_rows()
    output_dir.mkdir(parents=True, exist_ok=True)
    with gzip.open(output_dir / IDS_FILE, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("# name_id\tcount (Arab countries, name_units_by_country)"
                  "\tphonetic form of the most frequent spelling\n")
        for name_id, frequency, phonetic in id_rows:
            out.write(f"{name_id}\t{frequency}\t{phonetic}\n")
    with gzip.open(output_dir / SPELLINGS_FILE, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("# latin_key\tname_id\tcount\n")
        for key, name_id, count in counts.spelling_rows():
            out.write(f"{key}\t{name_id}\t{count}\n")
    for name in LICENCE_FILES:
        shutil.copyfile(data_dir / name, output_dir / name)
    return {"rows_kept": counts.kept, "rows_dropped": counts.dropped, "ids": len(id_rows),
            "spellings": len(counts.spellings)}
