"""Name frequencies and spellings for the generator: which Arabic names to draw, and how each country writes them
in Latin letters.

Given names come from the curated lists (they need a sex), weighted by rank and by how often the data attests
them in the country; surnames come from the data's surname role. Latin spellings are drawn by the country's
attested counts, so an Egyptian institution writes Gamal and Abdel, a Syrian one Jamal and Abdul.
"""

from __future__ import annotations

import csv
import gzip
import io
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from random import Random

from registry.synth.build_name_table import OUT as TABLE_PATH
from registry.synth.build_name_table import fold
from registry.synth.curated_names import FALLBACK_LATIN, FEMALE, FOREIGN_FEMALE, FOREIGN_MALE, MALE


@dataclass(frozen=True)
class Sampler:
    """Weighted choice by cumulative weights and bisect (faster than random.choices for hot loops)."""

    items: tuple
    cum: tuple[float, ...]

    @classmethod
    def of(cls, weighted: dict) -> Sampler:
        items = tuple(weighted)
        return cls(items, tuple(accumulate(float(weighted[i]) for i in items)))

    def pick(self, rng: Random):
        return self.items[bisect(self.cum, rng.random() * self.cum[-1])]


class NameBank:
    """Samplers of Arabic names per country and role, and of Latin spellings per country and name."""

    def __init__(self, table: Path = TABLE_PATH) -> None:
        # (country, role, key) -> {latin: count}; display form per key
        spell: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
        self.display: dict[str, str] = {}
        with gzip.open(table, "rb") as g:
            for row in csv.DictReader(io.TextIOWrapper(g, encoding="utf-8"), delimiter="\t"):
                spell[(row["country"], row["role"], row["key"])][row["latin"]] = int(row["count"])
                self.display.setdefault(row["key"], row["arabic"])
        self._spell = spell
        self._latin: dict[tuple[str, str, str], Sampler] = {}
        self.given: dict[tuple[str, str], Sampler] = {}
        self.surname: dict[str, Sampler] = {}
        for country in ("SY", "EG"):
            for sex, names in (("M", MALE), ("F", FEMALE)):
                weights = {}
                for rank, name in enumerate(names):
                    attested = sum(spell.get((country, "given", fold(name)), {}).values())
                    # Rank gives the shape (Zipf), attestation the country flavour; both kept modest.
                    weights[name] = 1.0 / (rank + 3) + 0.002 * min(attested, 200) ** 0.5
                weights[names[0]] *= 3.0  # محمد / فاطمة lead by far in both countries
                self.given[(country, sex)] = Sampler.of(weights)
            surnames = {}
            for (c, role, key), spellings in spell.items():
                if c == country and role == "surname":
                    surnames[self.display[key]] = sum(spellings.values()) ** 0.5  # flatten the notable families
            self.surname[country] = Sampler.of(surnames)
        # Western and Christian given names (the harder mixes), flat weights.
        self.foreign = {"M": Sampler.of(dict.fromkeys(FOREIGN_MALE, 1)),
                        "F": Sampler.of(dict.fromkeys(FOREIGN_FEMALE, 1))}

    def latin(self, arabic: str, country: str, role: str, rng: Random) -> str:
        """A Latin spelling of one Arabic name unit as an institution of `country` would write it."""
        sampler = self._latin.get((country, role, arabic))  # cached by the written form: no folding per call
        if sampler is None:
            sampler = self._latin_sampler(fold(arabic), country, role)
            self._latin[(country, role, arabic)] = sampler
        return sampler.pick(rng)

    def _latin_sampler(self, key: str, country: str, role: str) -> Sampler:
        other = "given" if role == "surname" else "surname"
        for c, r in ((country, role), (country, other), ("SY" if country == "EG" else "EG", role),
                     ("SY" if country == "EG" else "EG", other), ("ZZ", "given")):
            found = self._spell.get((c, r, key))
            if found:
                return Sampler.of(found)
        for name, spellings in {**FALLBACK_LATIN, **FOREIGN_MALE, **FOREIGN_FEMALE}.items():
            if fold(name) == key:
                return Sampler.of({s: 1 for s in spellings})
        raise KeyError(f"no Latin spelling for {key!r}")


_BANK: NameBank | None = None


def name_bank() -> NameBank:
    global _BANK
    if _BANK is None:
        _BANK = NameBank()
    return _BANK
