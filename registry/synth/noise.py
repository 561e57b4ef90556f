"""How clerks write one true value: Arabic-script variants, Latin case, one-edit typos, date forms and date errors.

Each function takes the random generator explicitly so the whole run stays deterministic given the seed.
"""

from __future__ import annotations

import datetime as dt
from random import Random

ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"
HARAKAT = "\u064E\u064F\u0650\u0652\u0651"  # fatha, damma, kasra, sukun, shadda
TATWEEL = "\u0640"
_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_HAMZA_DROP = str.maketrans("أإآ", "ااا")

OLDEST = dt.date(2006, 1, 1)
NEWEST = dt.date(2025, 12, 31)  # fixed, not today: the output must not depend on the day it is generated


def arabic_variant(name: str, rng: Random, hamza_drop: float, taa_to_haa: float, yaa_to_alef: float) -> str:
    """The name as one clerk writes it: hamza dropped, ة as ه, final ي as ى, عبد joined, harakat, tatweel."""
    r = rng.random
    if hamza_drop and r() < hamza_drop:
        name = name.translate(_HAMZA_DROP)
    if name.endswith("ة") and r() < taa_to_haa:
        name = name[:-1] + "ه"
    elif name.endswith("ي") and r() < yaa_to_alef:
        name = name[:-1] + "ى"  # Egyptian habit: على for علي
    if name.startswith("عبد ") and r() < 0.3:
        name = "عبد" + name[4:]
    elif " " in name and r() < 0.15:
        name = name.replace(" ", "")  # نورالدين, منةالله
    x = r()
    if x < 0.03:  # vocalised by a careful clerk
        i = rng.randrange(len(name))
        if name[i] != " ":
            name = name[: i + 1] + rng.choice(HARAKAT) + name[i + 1 :]
    elif x < 0.04 and len(name) > 2 and name[1] not in " اأإآدذرزوؤة":
        name = name[:2] + TATWEEL + name[2:]  # tatweel only after a joining letter
    return name


def typo(name: str, rng: Random) -> str:
    """One edit (substitute, delete, insert, swap) inside a word, in the name's own script."""
    letters = ARABIC_LETTERS if "\u0600" <= name[0] <= "\u06FF" else LATIN_LETTERS
    positions = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(positions) < 3:
        return name
    i = rng.choice(positions[1:])  # keep the first letter: clerks rarely get it wrong
    kind = rng.randrange(4)
    if kind == 0:
        new = rng.choice(letters)
        return name[:i] + (new.upper() if name[i].isupper() else new) + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + rng.choice(letters) + name[i:]
    if i + 1 < len(name) and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i + 1 :]


def indic_digits(text: str) -> str:
    return text.translate(_INDIC)


def random_birth_date(rng: Random) -> dt.date:
    return OLDEST + dt.timedelta(days=rng.randrange((NEWEST - OLDEST).days + 1))


def wrong_date(born: dt.date, rng: Random) -> tuple[dt.date, str]:
    """A plausible wrong exact date: day/month swapped, year off by one, or one digit mistyped."""
    for _ in range(6):
        kind = rng.randrange(3)
        try:
            if kind == 0 and born.day <= 12 and born.day != born.month:
                d, tag = dt.date(born.year, born.day, born.month), "dob_swapped"
            elif kind == 1:
                d, tag = born.replace(year=born.year + rng.choice((-1, 1))), "dob_year_off"
            else:
                text = born.strftime("%Y%m%d")
                i = rng.choice((3, 5, 6, 7))  # last year digit, month units, day digits
                text = text[:i] + str(rng.randrange(10)) + text[i + 1 :]
                d, tag = dt.datetime.strptime(text, "%Y%m%d").date(), "dob_digit_typo"
        except ValueError:
            continue
        if d != born and dt.date(1990, 1, 1) <= d <= NEWEST:
            return d, tag
    return born.replace(day=1) if born.day != 1 else born.replace(day=2), "dob_digit_typo"


def format_date(d: dt.date, style: str) -> str:
    if style == "iso":
        return d.isoformat()
    if style == "dmy":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "dmy_short":
        return f"{d.day}/{d.month}/{d.year}"
    return f"{d.day:02d}-{d.month:02d}-{d.year}"
