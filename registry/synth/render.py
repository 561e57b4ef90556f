"""One registration written out as an import row: the script and spelling conventions of the institution, the
omissions and mistakes of its clerks, and (when asked) a deliberately invalid value for import tests.
"""

from __future__ import annotations

from random import Random
from typing import TYPE_CHECKING

from registry.identity.governorates import BY_CODE, BY_NID_CODE
from registry.identity.national_id import make_egyptian_id
from registry.synth import noise

if TYPE_CHECKING:
    from registry.synth.generator import Child, Institution, SynthRecord, _World

_SEX_WORDS = {("M", "letter"): "M", ("F", "letter"): "F", ("M", "word"): "male", ("F", "word"): "female"}
_SEX_ARABIC = {"M": "ذكر", "F": "أنثى"}
_GIVEN_ROLE = ("given", "given", "given", "surname", "given", "surname")  # per name field, for spellings
_NAME_FIELDS = ("given_name", "father_name", "grandfather_name", "family_name", "mother_given_name",
                "mother_family_name")


def render(child: Child, inst: Institution, world: _World) -> tuple[SynthRecord, bool]:
    """The row `inst` submits for `child`, and whether it gets a source reference (False: deliberately none)."""
    from registry.synth.generator import IMPORT_COLUMNS, SynthRecord

    rng, cfg, bank = world.rng, world.cfg, world.bank
    r = rng.random
    q = inst.quality
    fam = child.family
    tags: list[str] = []
    latin = inst.script == "latin" or (inst.script == "mixed" and r() < inst.p_latin)
    row: dict[str, str | None] = dict.fromkeys(IMPORT_COLUMNS)
    row["institution"] = inst.code

    # --- names: which parts the clerk wrote, in which order -------------------------------------
    parts: list[str | None] = [child.given, fam.father, fam.grandfather, fam.family_name,
                               fam.mother_given, fam.mother_family]
    if r() < 0.30 * q:
        parts[2] = None
        tags.append("no_grandfather")
    chain = q * cfg.chain_noise
    if r() < 0.03 * chain:
        parts[1] = None
        if r() < 0.7:
            parts[2] = None  # a clerk who skips the father mostly stops the chain there
        tags.append("no_father")
    if r() < 0.03 * chain:
        parts[3] = None
        tags.append("no_family_name")
    if r() < 0.25 * q:
        parts[4] = parts[5] = None
        tags.append("no_mother")
    elif r() < 0.20 * q:
        parts[5] = None
        tags.append("no_mother_family")
    if r() < 0.03 * chain:
        # Shifted chain: the child known as "given + father" gets the father's name as family name.
        if r() < 0.5:
            parts[1], parts[2], parts[3] = None, None, fam.father
        else:
            parts[2], parts[3] = None, fam.grandfather
        tags.append("shifted_chain")

    upper = latin and inst.upper_rate and r() < inst.upper_rate  # some clerks type whole rows in capitals
    written: list[str | None] = []
    for i, name in enumerate(parts):
        if name is None:
            written.append(None)
        elif latin:
            country = inst.country
            if cfg.other_country_spelling and r() < cfg.other_country_spelling:
                country = "SY" if country == "EG" else "EG"  # a clerk schooled in the other country's habits
                if "other_country_spelling" not in tags:
                    tags.append("other_country_spelling")
            text = bank.latin(name, country, _GIVEN_ROLE[i], rng)
            if name == "محمد" and inst.country == "SY" and r() < 0.08:
                text = "Mhd" if r() < 0.7 else "Mohd"  # Syrian clerks' abbreviation
            written.append(text.upper() if upper else text)
        else:
            written.append(noise.arabic_variant(name, rng, inst.hamza_drop, inst.taa_to_haa, inst.yaa_to_alef))
    if r() < 0.06 * q:
        present = [i for i, w in enumerate(written) if w]
        i = present[rng.randrange(len(present))]
        written[i] = noise.typo(written[i], rng)  # type: ignore[arg-type]
        tags.append(f"typo_{_NAME_FIELDS[i]}")
    if r() < cfg.full_name_only:
        row["full_name"] = " ".join(w for w in written[:4] if w)
        written[:4] = [None] * 4
        tags.append("full_name_only")
    for f, w in zip(_NAME_FIELDS, written):
        row[f] = w

    # --- sex --------------------------------------------------------------------------------
    if r() < 0.04 * q:
        tags.append("no_sex")
    else:
        row["sex"] = _SEX_ARABIC[child.sex] if not latin and r() < 0.5 else _SEX_WORDS[(child.sex, inst.sex_style)]

    # --- date of birth ----------------------------------------------------------------------
    born = child.born
    dob_wrong = False
    x = r()
    if x < 0.05 * q:
        wrong, tag = noise.wrong_date(born, rng)
        dob_text = noise.format_date(wrong, inst.date_style)
        dob_wrong = True
        tags.append(tag)
    elif x < 0.08 * q:
        dob_text = None
        tags.append("no_dob")
    elif x < 0.08 * q + 0.03:
        year = born.year + (rng.choice((-1, 1)) if r() < 0.4 else 0)
        year = min(year, noise.NEWEST.year)
        dob_text = (f"~{year}" if latin or r() < 0.5 else f"حوالي {year}")
        tags.append("dob_estimated")
    elif x < 0.08 * q + 0.07:
        dob_text = str(born.year)
        tags.append("dob_year_only")
    elif x < 0.08 * q + 0.12:
        dob_text = f"{born.year}-{born.month:02d}" if r() < 0.5 else f"{born.month:02d}/{born.year}"
        tags.append("dob_year_month")
    else:
        dob_text = noise.format_date(born, inst.date_style)
    away = inst.governorate != fam.home_gov
    if dob_text and away and cfg.year_typo_displaced and r() < cfg.year_typo_displaced:
        dob_text = _year_typo(dob_text, born.year, rng)  # displaced, and the year misremembered
        dob_wrong = True
        tags.append("dob_year_typo_displaced")
    if dob_text and not latin and r() < 0.10:
        dob_text = noise.indic_digits(dob_text)
        tags.append("indic_digits_dob")
    row["date_of_birth"] = dob_text

    # --- governorate and place of birth -----------------------------------------------------
    if inst.governorate == fam.home_gov or r() < 0.3:
        gov = fam.home_gov  # where the family is from, or where it lives and registers
    else:
        gov = inst.governorate
    if r() < 0.05 * q:
        row["governorate"] = None
        tags.append("no_governorate")
    else:
        g = BY_CODE[gov]
        row["governorate"] = g.code if inst.gov_style == "code" else (g.name_en if latin else g.name_ar)
    if r() < 0.25:
        g = BY_CODE[fam.home_gov]
        row["place_of_birth"] = g.name_en if latin else g.name_ar

    # --- national ID: only when the row's facts agree with it (as a real clerk copies it from papers) --
    nid = child.national_id
    agrees = not dob_wrong and inst.country == fam.country and (row["governorate"] is None or gov == fam.home_gov)
    if nid and agrees and r() < cfg.nid_carried:
        if not latin and r() < 0.10:
            nid = noise.indic_digits(nid)
            tags.append("indic_digits_id")
        elif len(nid) == 14 and r() < 0.05:
            nid = f"{nid[0]} {nid[1:7]} {nid[7:9]} {nid[9:]}"  # as printed on the card
        row["national_id"] = nid

    keep_ref = True
    bad = bool(cfg.bad_row_rate) and r() < cfg.bad_row_rate
    if bad:
        keep_ref = _make_bad(row, child, rng, tags)
    rec = SynthRecord(row, child.person_id, fam.family_id, child.twin_of, fam.country, child.sex,
                      born.isoformat(), bad, tuple(tags))
    return rec, keep_ref


def _year_typo(dob_text: str, year: int, rng: Random) -> str:
    """The same date text with the birth year one out (never after the generator's last date)."""
    other = year + rng.choice((-1, 1))
    if other > noise.NEWEST.year:
        other = year - 1
    text = dob_text.replace(str(year), str(other), 1)
    if "-02-29" in text or "29/02/" in text or "29-02-" in text or "29/2/" in text:
        return dob_text  # no 29 February in the other year
    return text


_BAD_KINDS = ("bad_date", "bad_date", "unknown_governorate", "digits_in_name", "id_contradicts_dob",
              "id_wrong_length", "mixed_script_name", "bad_sex", "missing_source_ref")


def _make_bad(row: dict[str, str | None], child: Child, rng: Random, tags: list[str]) -> bool:
    """Make the row invalid in one realistic way; returns whether it keeps its source reference."""
    kind = _BAD_KINDS[rng.randrange(len(_BAD_KINDS))]
    tags.append(f"bad:{kind}")
    b = child.born
    if kind == "bad_date":
        row["date_of_birth"] = rng.choice((
            f"31/02/{b.year}", f"{b.year}-13-{b.day:02d}", f"{b.day:02d}/{b.year}/{b.month:02d}",
            f"{b.day:02d}/{b.month:02d}/20{rng.randrange(30, 40)}", "غير معروف", "unknown", f"{b.day}/{b.month}",
            f"{b.day:02d}/{b.month:02d}/19{rng.randrange(70, 89)}",
        ))
    elif kind == "unknown_governorate":
        row["governorate"] = rng.choice(("Beirut", "Alepo", "Gaza", "Amman", "القدس", "SY-XX", "EG-99", "Mosul"))
    elif kind == "digits_in_name":
        field = "given_name" if row["given_name"] else "full_name"
        name = row[field] or "Ahmed"
        row[field] = name.replace("o", "0", 1) if "o" in name else name + rng.choice(("2", "1", "٣"))
    elif kind == "id_contradicts_dob":
        other = b.replace(year=b.year - 1) if not (b.month == 2 and b.day == 29) else b.replace(day=28, year=b.year - 1)
        gov = BY_CODE[child.family.home_gov].nid_code or next(iter(BY_NID_CODE))
        row["national_id"] = make_egyptian_id(other, gov, child.sex, rng.randrange(10000), rng.randrange(10))
        row["date_of_birth"] = b.isoformat()
    elif kind == "id_wrong_length":
        row["national_id"] = str(rng.randrange(10**11, 10**13))  # 12 or 13 digits
    elif kind == "mixed_script_name":
        row["given_name"] = rng.choice(("محمد Ali", "Ahmed محمود", "فاطمة Zahra", "Omar عمر"))
        row["full_name"] = None
    elif kind == "bad_sex":
        row["sex"] = rng.choice(("X", "?", "2", "unknown", "ولد؟"))
    else:
        return False
    return True
