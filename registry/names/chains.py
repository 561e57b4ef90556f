"""Name chains: given name, father, grandfather and family name of a full name.

Rule (documented in docs/name-matching.md): units in order; the first is the given name; with two or more
units the last is the family name; the second is the father's name and the third the grandfather's when
there are three or more (resp. four or more) units. Units between grandfather and family (a great-
grandfather, a second family name) are kept in `middle`. Registries omit and shift parts (the father's
name written as the family name), so comparison (similarity.chain_similarity) does not trust positions
beyond the given name.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.names.units import NameUnit, split_units


@dataclass(frozen=True)
class NameChain:
    given: NameUnit
    father: NameUnit | None
    grandfather: NameUnit | None
    family: NameUnit | None
    middle: tuple[NameUnit, ...]
    units: tuple[NameUnit, ...]  # all units in written order


def chain_from_units(units: tuple[NameUnit, ...]) -> NameChain:
    if not units:
        raise ValueError("a name chain needs at least one name unit")
    n = len(units)
    family = units[-1] if n >= 2 else None
    father = units[1] if n >= 3 else None
    grandfather = units[2] if n >= 4 else None
    middle = units[3:-1] if n >= 5 else ()
    return NameChain(units[0], father, grandfather, family, middle, units)


def parse_chain(full_name: str) -> NameChain:
    """Parse a full name into its chain. ValueError when it has no Arabic or Latin letters."""
    units = split_units(full_name)
    if not units:
        raise ValueError(f"no Arabic or Latin letters in name {full_name!r}")
    return chain_from_units(units)
