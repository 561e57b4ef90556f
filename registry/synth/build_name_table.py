"""Build the compact name table the generator ships (data/name_units_sy_eg.tsv.gz) from the shared data.

Run once when the shared data or the curated lists change:
    python -m registry.synth.build_name_table
It reads name_units_by_country.tsv from $REGISTRY_NAMES_DATA or <repo root>/../shared/data/names, keeps Syrian
and Egyptian given names and surnames with their attested Latin spellings (noise filtered), and adds spellings
from other Arab countries for curated given names that Syria and Egypt do not attest.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from collections import defaultdict
from pathlib import Path

from registry.synth.curated_names import FEMALE, MALE

OUT = Path(__file__).parent / "data" / "name_units_sy_eg.tsv.gz"
COUNTRIES = ("SY", "EG")
# Other Arab countries whose spellings stand in when Syria and Egypt attest nothing for a curated name.
FALLBACK_COUNTRIES = {"LB", "JO", "PS", "IQ", "SA", "KW", "AE", "QA", "BH", "OM", "YE", "SD", "LY", "TN", "DZ", "MA"}

_HARAKAT = re.compile(r"[\u064B-\u0652\u0670\u0640]")
_LATIN_OK = re.compile(r"^[A-Za-z][A-Za-z' \-]*[a-z]$")


def fold(arabic: str) -> str:
    """The data's key folding: no harakat, alef forms to bare alef, alef maqsura to yeh, taa marbuta to heh."""
    text = _HARAKAT.sub("", arabic)
    return text.translate(str.maketrans("أإآٱىة", "اااايه")).strip()


def names_dir() -> Path:
    env = os.environ.get("REGISTRY_NAMES_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "names"


def _plausible(key: str, latin: str, count: int, total: int) -> bool:
    if not _LATIN_OK.match(latin) or (latin.islower() and "-" not in latin):
        return False
    if len(latin.split()) > len(key.split()) + 1:
        return False
    # Rare spellings of a common name are mostly alignment noise (Hamza for أحمد, Ahmet, Cemal).
    return count >= 3 or count / total >= 0.02


def _display(key: str, latins: list[str], curated: dict[str, str]) -> str:
    """Written form of a surname key: curated spelling when it is a curated name, taa marbuta restored."""
    if key in curated:
        return curated[key]
    if key.endswith("ه") and len(key) > 2 and not key.endswith("له"):
        ends_a = sum(1 for x in latins if x.lower().endswith(("a", "ah", "eh", "at")))
        if ends_a * 2 > len(latins):
            return key[:-1] + "ة"
    return key


def build(source: Path | None = None, out: Path = OUT) -> int:
    source = source or names_dir() / "name_units_by_country.tsv"
    curated = {fold(n): n for n in MALE + FEMALE}
    # (country, role, key) -> latin -> count
    counts: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with open(source, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            country, role = row["country"], row["role"]
            if role not in ("given", "surname"):
                continue
            if country in COUNTRIES:
                counts[(country, role, row["arabic_key"])][row["latin"].strip()] += int(row["count"])
            elif country in FALLBACK_COUNTRIES and row["arabic_key"] in curated and role == "given":
                counts[("ZZ", role, row["arabic_key"])][row["latin"].strip()] += int(row["count"])
    rows: list[tuple[str, str, str, str, str, int]] = []
    for (country, role, key), spellings in sorted(counts.items()):
        if " " in key and not key.startswith(("عبد ", "ابو ", "بن ")) and not key.endswith((" الله", " الدين")):
            continue  # multi-word keys other than compound units are mostly whole names
        total = sum(spellings.values())
        kept = {lat: c for lat, c in spellings.items() if _plausible(key, lat, c, total)}
        if not kept:
            continue
        display = _display(key, list(kept), curated)
        rows.extend((key, display, lat, country, role, c) for lat, c in sorted(kept.items()))
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", newline="") as g:
        w = csv.writer(g, delimiter="\t", lineterminator="\n")
        w.writerow(("key", "arabic", "latin", "country", "role", "count"))
        w.writerows(rows)
    missing = sorted(k for k in curated if not any((c, "given", k) in counts for c in (*COUNTRIES, "ZZ")))
    if missing:
        print("curated names without any attested Latin spelling:", " ".join(curated[k] for k in missing))
    return len(rows)


if __name__ == "__main__":
    print(build(), "rows written to", OUT)
