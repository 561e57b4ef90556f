"""Name-unit frequency tables for term-frequency weighting: a match on محمد is weak evidence, a match on a
rare family name strong.

A unit is counted under its frequency key: the dictionary id when the name is known (so محمد, Mohamed and
Muhammad count as one name), else its cross-script skeleton. The shipped table comes from the dictionary's
counts (people from Arabic-speaking countries in Wikidata); build_frequency_table counts the registry's own
records instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from registry.names.dictionary import load_dictionary
from registry.names.similarity import analyse_unit
from registry.names.units import NameUnit, parse_unit


def frequency_key(unit: NameUnit | str) -> str:
    """Dictionary id when known (share >= 0.5 for Latin spellings), else 'skeleton:<skeleton>'."""
    analysis = analyse_unit(unit if isinstance(unit, NameUnit) else parse_unit(unit))
    if analysis.known and analysis.candidates[0][1] >= 0.5:
        return analysis.name_id
    return "skeleton:" + analysis.skeleton


@dataclass(frozen=True)
class FrequencyTable:
    counts: dict[str, int]
    total: int

    def relative(self, unit: NameUnit | str) -> float:
        """Relative frequency of a unit; an unseen name counts as seen once (never 0, for log weights)."""
        if self.total <= 0:
            raise ValueError("frequency table is empty")
        return max(self.counts.get(frequency_key(unit), 0), 1) / self.total


def build_frequency_table(units: Iterable[str | NameUnit]) -> FrequencyTable:
    """Frequency table of the given units (e.g. every given name in the registry). Empty strings and
    strings without letters are skipped; a multi-unit string counts each of its units."""
    from registry.names.units import split_units

    counts: Counter[str] = Counter()
    for item in units:
        for unit in (item,) if isinstance(item, NameUnit) else split_units(item):
            counts[frequency_key(unit)] += 1
    return FrequencyTable(dict(counts), sum(counts.values()))


@lru_cache(maxsize=1)
def shipped_frequency_table() -> FrequencyTable:
    """The table of the shipped dictionary (counts per known Arabic name id)."""
    entries = load_dictionary().entries
    counts = {name_id: e.count for name_id, e in entries.items() if e.count > 0}
    return FrequencyTable(counts, sum(counts.values()))


def unit_frequency(unit: NameUnit | str) -> float:
    """Relative frequency of a unit in the shipped table (unknown names count as seen once)."""
    return shipped_frequency_table().relative(unit)
