"""The synthetic population and its registrations: families, children, twins, institutions, and the rows each
institution submits, with the known truth (which rows are the same child) kept beside them.

Nothing here is real personal data: every name is drawn from frequency tables and every number is random.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any

from registry.identity.governorates import BY_CODE, GOVERNORATES
from registry.identity.national_id import make_egyptian_id
from registry.synth import noise
from registry.synth.curated_names import MALE, TWIN_PAIRS
from registry.synth.names import NameBank, Sampler, name_bank

IMPORT_COLUMNS: tuple[str, ...] = (
    "institution", "source_ref", "given_name", "father_name", "grandfather_name", "family_name",
    "mother_given_name", "mother_family_name", "full_name", "sex", "date_of_birth", "governorate",
    "place_of_birth", "national_id",
)
TRUTH_COLUMNS: tuple[str, ...] = (
    "institution", "source_ref", "person_id", "family_id", "twin_of", "country", "true_sex",
    "true_date_of_birth", "bad_row", "noise",
)

# Rough populations (millions): where families live and how many institutions a governorate has.
POPULATION: dict[str, float] = {
    "SY-HL": 4.9, "SY-RD": 2.9, "SY-DI": 1.8, "SY-HI": 1.8, "SY-ID": 2.8, "SY-HM": 1.6, "SY-LA": 1.1,
    "SY-TA": 0.8, "SY-DR": 1.0, "SY-SU": 0.4, "SY-QU": 0.1, "SY-DY": 1.2, "SY-HA": 1.5, "SY-RA": 0.9,
    "EG-C": 10.3, "EG-GZ": 9.4, "EG-SHR": 7.8, "EG-DK": 7.0, "EG-BH": 6.9, "EG-KB": 6.0, "EG-MN": 6.1,
    "EG-ALX": 5.5, "EG-SHG": 5.6, "EG-AST": 4.9, "EG-GH": 5.3, "EG-MNF": 4.6, "EG-KFS": 3.7, "EG-FYM": 4.0,
    "EG-KN": 3.6, "EG-BNS": 3.6, "EG-ASN": 1.6, "EG-IS": 1.4, "EG-DT": 1.6, "EG-LX": 1.4, "EG-PTS": 0.8,
    "EG-SUZ": 0.8, "EG-MT": 0.5, "EG-BA": 0.4, "EG-SIN": 0.5, "EG-WAD": 0.3, "EG-JS": 0.1,
}
INSTITUTION_TYPES = {"SY": {"ngo": 5, "mosal": 2, "cp": 2, "sarc": 1}, "EG": {"mss": 4, "ngo": 4, "nccm": 1}}


@dataclass(frozen=True)
class SynthConfig:
    """Rates of the generated world. Defaults are the documented ones (docs/synthetic-data.md)."""

    registrations: tuple[float, ...] = (0.60, 0.30, 0.06, 0.04)  # P(child registered 1, 2, 3, 4 times)
    family_sizes: tuple[float, ...] = (0.30, 0.25, 0.20, 0.13, 0.08, 0.04)  # P(1..6 children)
    twin_birth_rate: float = 0.026  # per birth: gives about 5% of children with a twin
    twin_same_sex: float = 0.6
    twin_paired_names: float = 0.3  # twins named as a pair (حسن/حسين), the hardest negatives
    displaced: float = 0.40  # a further registration in another governorate of the same country
    cross_border: float = 0.05  # a Syrian child's further registration in Egypt (when both countries run)
    same_institution: float = 0.10  # registered twice by the same institution under two references
    nid_eg: float = 0.75  # Egyptian children who have a national ID
    nid_sy: float = 0.12
    nid_carried: float = 0.6  # a registration writes the ID the child has
    bad_row_rate: float = 0.0  # rows made invalid on purpose, for import tests
    # Harder mixes (issue 14). The defaults keep the documented world (and its random stream) unchanged.
    full_name_only: float = 0.04  # a row that gives only the full name, no separate name fields
    chain_noise: float = 1.0  # multiplies the rates of a missing father or family name and of a shifted chain
    year_typo_displaced: float = 0.0  # a registration away from home with its birth year a year out
    other_country_spelling: float = 0.0  # a Latin name spelled by the other country's convention (Gamal/Jamal)
    foreign_families: float = 0.0  # families whose children have Western or Christian given names

    @classmethod
    def mix(cls, name: str) -> SynthConfig:
        """A named mix: "default", "hard" (what tuning may look at) or "held-out" (reported, never tuned on)."""
        if name not in MIXES:
            raise ValueError(f"unknown synth mix {name!r}: one of {', '.join(MIXES)}")
        return MIXES[name]


MIXES: dict[str, SynthConfig] = {
    "default": SynthConfig(),
    "hard": SynthConfig(full_name_only=0.08, chain_noise=2.0, year_typo_displaced=0.15,
                        other_country_spelling=0.15, foreign_families=0.05),
    # Reported only (docs/benchmarks.md), with its own seed: never used to choose a rule, a key or a threshold.
    "held-out": SynthConfig(displaced=0.5, full_name_only=0.06, chain_noise=2.5, year_typo_displaced=0.2,
                            other_country_spelling=0.25, foreign_families=0.08, nid_carried=0.5),
}
HELD_OUT_SEED = 2027


@dataclass
class Institution:
    code: str
    country: str
    governorate: str
    script: str  # "arabic", "latin" or "mixed"
    p_latin: float
    date_style: str
    gov_style: str
    sex_style: str
    ref_style: str
    quality: float  # multiplies the error and omission rates
    hamza_drop: float
    taa_to_haa: float
    yaa_to_alef: float
    upper_rate: float
    next_serial: int = 1

    def next_ref(self) -> str:
        n = self.next_serial
        self.next_serial += 1
        if self.ref_style == "plain":
            return f"{n:06d}"
        if self.ref_style == "prefixed":
            return f"CP-{n:05d}"
        return f"{2016 + n % 10}/{n}"


@dataclass
class Family:
    family_id: str
    country: str
    home_gov: str
    father: str
    grandfather: str
    family_name: str
    mother_given: str
    mother_family: str


@dataclass
class Child:
    person_id: str
    family: Family
    given: str
    sex: str
    born: dt.date
    twin_of: str | None = None
    national_id: str | None = None


@dataclass(frozen=True)
class SynthRecord:
    """One submitted row (import columns only) and the truth about it, kept apart."""

    row: dict[str, str | None]
    person_id: str
    family_id: str
    twin_of: str | None
    country: str
    true_sex: str
    true_date_of_birth: str
    bad_row: bool = False
    noise: tuple[str, ...] = ()

    def truth(self) -> dict[str, Any]:
        return {
            "institution": self.row["institution"], "source_ref": self.row["source_ref"],
            "person_id": self.person_id, "family_id": self.family_id, "twin_of": self.twin_of or "",
            "country": self.country, "true_sex": self.true_sex, "true_date_of_birth": self.true_date_of_birth,
            "bad_row": int(self.bad_row), "noise": ";".join(self.noise),
        }


@dataclass
class SynthResult:
    records: list[SynthRecord]
    institutions: list[Institution] = field(default_factory=list)

    def rows(self) -> list[dict[str, str | None]]:
        return [r.row for r in self.records]

    def truth(self) -> list[dict[str, Any]]:
        return [r.truth() for r in self.records]

    @property
    def n_persons(self) -> int:
        return len({r.person_id for r in self.records})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def make_institutions(rng: Random, countries: Sequence[str]) -> list[Institution]:
    """Institutions in every governorate of the countries, more where more people live."""
    out: list[Institution] = []
    for country in countries:
        types = Sampler.of(INSTITUTION_TYPES[country])
        for gov in (g for g in GOVERNORATES if g.country == country):
            numbers: dict[str, int] = {}
            for _ in range(max(1, round(POPULATION[gov.code] ** 0.5 * 2))):
                kind = types.pick(rng)
                numbers[kind] = numbers.get(kind, 0) + 1
                script = rng.choices(("arabic", "latin", "mixed"), (0.35, 0.30, 0.35))[0]
                egypt = country == "EG"
                out.append(Institution(
                    code=f"{country.lower()}-{_slug(gov.name_en)}-{kind}-{numbers[kind]}",
                    country=country,
                    governorate=gov.code,
                    script=script,
                    p_latin=rng.uniform(0.3, 0.7),
                    date_style=rng.choice(("iso", "iso", "dmy", "dmy_short", "dmy_dash")),
                    gov_style=rng.choice(("code", "name", "name")),
                    sex_style=rng.choice(("letter", "word")),
                    ref_style=rng.choice(("plain", "prefixed", "year")),
                    quality=rng.choice((0.5, 1.0, 1.0, 1.5, 2.0)),
                    hamza_drop=rng.uniform(0.2, 0.8),
                    taa_to_haa=rng.uniform(0.2, 0.5) if egypt else rng.uniform(0.05, 0.25),
                    yaa_to_alef=rng.uniform(0.3, 0.7) if egypt else rng.uniform(0.0, 0.1),
                    upper_rate=rng.choice((0.0, 0.0, 0.3)),
                ))
    return out


class _World:
    """Everything the generation loop needs, built once per run from the seed."""

    def __init__(self, seed: int, countries: Sequence[str], config: SynthConfig, bank: NameBank) -> None:
        unknown = set(countries) - {"SY", "EG"}
        if unknown or not countries:
            raise ValueError(f"countries must be among SY, EG (got {sorted(unknown) or 'none'})")
        self.rng = Random(seed)
        self.cfg = config
        self.bank = bank
        self.countries = tuple(countries)
        self.institutions = make_institutions(self.rng, self.countries)
        self.inst_by_gov: dict[str, list[Institution]] = {}
        for inst in self.institutions:
            self.inst_by_gov.setdefault(inst.governorate, []).append(inst)
        self.gov_sampler = {
            c: Sampler.of({g.code: POPULATION[g.code] for g in GOVERNORATES if g.country == c})
            for c in self.countries
        }
        self.ids_used: set[str] = set()
        self.n_families = 0
        self.n_children = 0

    # --- the population ---------------------------------------------------------------------------

    def family(self) -> list[Child]:
        rng, cfg, bank = self.rng, self.cfg, self.bank
        country = self.countries[rng.randrange(len(self.countries))]
        self.n_families += 1
        father = bank.given[(country, "M")].pick(rng)
        grandfather = bank.given[(country, "M")].pick(rng)
        if grandfather == father:  # naming a son after his father is rare
            grandfather = bank.given[(country, "M")].pick(rng)
        fam = Family(
            family_id=f"F{self.n_families:07d}",
            country=country,
            home_gov=self.gov_sampler[country].pick(rng),
            father=father,
            grandfather=grandfather,
            family_name=bank.surname[country].pick(rng),
            mother_given=bank.given[(country, "F")].pick(rng),
            mother_family=bank.surname[country].pick(rng),
        )
        foreign = bool(cfg.foreign_families) and rng.random() < cfg.foreign_families
        size = 1 + _pick_index(cfg.family_sizes, rng)
        span = (size - 1) * 700
        first = noise.OLDEST + dt.timedelta(days=rng.randrange(max(1, (noise.NEWEST - noise.OLDEST).days - span)))
        children: list[Child] = []
        used: set[str] = set()
        born = first
        while len(children) < size and born <= noise.NEWEST:
            if rng.random() < cfg.twin_birth_rate and len(children) + 2 <= len(cfg.family_sizes):
                a, b = self._twins(fam, born, used, foreign)
                children += [a, b]
            else:
                sex = "M" if rng.random() < 0.51 else "F"
                children.append(self._child(fam, self._given(country, sex, used, foreign), sex, born))
            born += dt.timedelta(days=rng.randrange(330, 1500))
        return children

    def _given(self, country: str, sex: str, used: set[str], foreign: bool = False) -> str:
        sampler = self.bank.foreign[sex] if foreign else self.bank.given[(country, sex)]
        for _ in range(20):
            name = sampler.pick(self.rng)
            if name not in used:
                break
        used.add(name)
        return name

    def _twins(self, fam: Family, born: dt.date, used: set[str], foreign: bool = False) -> tuple[Child, Child]:
        rng = self.rng
        pair = TWIN_PAIRS[rng.randrange(len(TWIN_PAIRS))] if rng.random() < self.cfg.twin_paired_names else None
        if foreign:
            pair = None
        if pair and not (set(pair) & used):
            names = list(pair)
            sexes = ["M" if n in MALE else "F" for n in names]
            used.update(names)
        else:
            s1 = "M" if rng.random() < 0.5 else "F"
            s2 = s1 if rng.random() < self.cfg.twin_same_sex else ("F" if s1 == "M" else "M")
            sexes = [s1, s2]
            names = [self._given(fam.country, s1, used, foreign), self._given(fam.country, s2, used, foreign)]
        a = self._child(fam, names[0], sexes[0], born)
        b = self._child(fam, names[1], sexes[1], born)
        a.twin_of, b.twin_of = b.person_id, a.person_id
        return a, b

    def _child(self, fam: Family, given: str, sex: str, born: dt.date) -> Child:
        rng, cfg = self.rng, self.cfg
        self.n_children += 1
        child = Child(f"P{self.n_children:07d}", fam, given, sex, born)
        if fam.country == "EG" and rng.random() < cfg.nid_eg:
            nid_code = BY_CODE[fam.home_gov].nid_code or "01"
            while child.national_id is None or child.national_id in self.ids_used:
                child.national_id = make_egyptian_id(born, nid_code, sex, rng.randrange(10000), rng.randrange(10))
        elif fam.country == "SY" and rng.random() < cfg.nid_sy:
            while child.national_id is None or child.national_id in self.ids_used:
                child.national_id = str(rng.randrange(10**10, 10**11))
        if child.national_id:
            self.ids_used.add(child.national_id)
        return child

    def registrations(self, child: Child) -> list[Institution]:
        """Where the child is registered: first at home, then same place, elsewhere, or across the border."""
        rng, cfg = self.rng, self.cfg
        home = self.inst_by_gov[child.family.home_gov]
        first = home[rng.randrange(len(home))]
        out = [first]
        for _ in range(_pick_index(cfg.registrations, rng)):
            x = rng.random()
            if child.family.country == "SY" and "EG" in self.countries and x < cfg.cross_border:
                places = self.inst_by_gov[self.gov_sampler["EG"].pick(rng)]
            elif x < cfg.cross_border + cfg.displaced:
                gov = self.gov_sampler[child.family.country].pick(rng)
                places = self.inst_by_gov[gov]
            elif x < cfg.cross_border + cfg.displaced + cfg.same_institution:
                places = [first]
            else:
                places = [i for i in home if i is not first] or home
            out.append(places[rng.randrange(len(places))])
        return out


def _pick_index(weights: Sequence[float], rng: Random) -> int:
    x = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def iter_records(
    n_records: int,
    seed: int = 0,
    countries: Sequence[str] = ("SY", "EG"),
    *,
    bad_row_rate: float | None = None,
    config: SynthConfig | None = None,
    shuffle_window: int = 20_000,
) -> Iterator[SynthRecord]:
    """Yield exactly n_records rows, streaming; rows of one child are spread within `shuffle_window` rows."""
    world = _World(seed, countries, _config(config, bad_row_rate), name_bank())
    return _stream(world, n_records, shuffle_window)


def generate(
    n_records: int,
    seed: int = 0,
    countries: Sequence[str] = ("SY", "EG"),
    *,
    bad_row_rate: float | None = None,
    config: SynthConfig | None = None,
) -> SynthResult:
    """All rows in memory, fully shuffled. Same seed and arguments: same rows."""
    world = _World(seed, countries, _config(config, bad_row_rate), name_bank())
    records = list(_stream(world, n_records, max(1, n_records)))
    return SynthResult(records, world.institutions)


def list_institutions(seed: int = 0, countries: Sequence[str] = ("SY", "EG")) -> list[Institution]:
    """The institutions a run with this seed and these countries submits from (to create them before import)."""
    return _World(seed, countries, SynthConfig(), name_bank()).institutions


def _config(config: SynthConfig | None, bad_row_rate: float | None) -> SynthConfig:
    cfg = config or SynthConfig()
    if bad_row_rate is not None:
        cfg = replace(cfg, bad_row_rate=bad_row_rate)
    return cfg


def _stream(world: _World, n_records: int, shuffle_window: int) -> Iterator[SynthRecord]:
    from registry.synth.render import render  # render needs this module's types

    rng = world.rng
    buffer: list[tuple[Institution, SynthRecord, bool]] = []

    def emit(item: tuple[Institution, SynthRecord, bool]) -> SynthRecord:
        inst, rec, keep_ref = item
        ref = inst.next_ref()  # assigned in output order, so references are unique per institution
        if keep_ref:
            rec.row["source_ref"] = ref
        return rec

    made = 0
    while made < n_records:
        for child in world.family():
            for inst in world.registrations(child):
                if made >= n_records:
                    break
                rec, keep_ref = render(child, inst, world)
                made += 1
                buffer.append((inst, rec, keep_ref))
                if len(buffer) >= shuffle_window:
                    i = rng.randrange(len(buffer))
                    buffer[i], buffer[-1] = buffer[-1], buffer[i]
                    yield emit(buffer.pop())
    rng.shuffle(buffer)
    for item in buffer:
        yield emit(item)
