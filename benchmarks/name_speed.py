"""Speed of name_similarity on unique name pairs (issue 15), in a fresh process (every cache cold at start).

Pairs are generated from the shipped dictionary's spelling table (registry/names/data), drawn by how often
each spelling and each Arabic name is attested, as a registry's names are: Arabic script and Latin letters,
single names and chains of two to four, half of them random pairs and half spellings of one name (which
reach the alignment, the expensive part). Every pair is distinct; names repeat as they do in a registry, so
the per-name analysis is computed once per name and the per-pair work is what is measured.

Usage: .venv/bin/python benchmarks/name_speed.py [--pairs 10000] [--runs 3] [--seed 11] [--names-analysed]
       .venv/bin/python benchmarks/name_speed.py --record FILE --pairs 3000   (pairs and their scores, TSV:
       the reference tests/names/test_similarity_speed.py checks the implementation against)

Each run is a fresh interpreter (subprocess), so the figure includes loading the dictionary's caches of
per-name analysis from nothing; the median of the runs is printed.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

Pair = tuple[str, str]


def _spelling_rows() -> list[tuple[str, str, int]]:
    path = resources.files("registry.names").joinpath("data", "name_spellings.tsv.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if line.strip() and not line.startswith("#")]
    return [(key.replace("-", " "), name_id, int(count)) for key, name_id, count in rows]


def generate_pairs(n: int, seed: int = 11) -> list[Pair]:
    """n distinct pairs, half random (by frequency), half two spellings of one name (Arabic/Latin or Latin/Latin)."""
    rows = _spelling_rows()
    by_id: dict[str, list[str]] = {}
    arabic_count: dict[str, int] = {}
    for key, name_id, count in rows:
        by_id.setdefault(name_id, []).append(key)
        arabic_count[name_id] = arabic_count.get(name_id, 0) + count
    names = [key for key, _, _ in rows] + list(arabic_count)
    weights = [count for _, _, count in rows] + list(arabic_count.values())
    ids, id_weights = list(arabic_count), list(arabic_count.values())
    rng = random.Random(seed)

    def chain() -> str:
        return " ".join(rng.choices(names, weights, k=rng.choice((1, 1, 2, 3, 4))))

    def variant_pair() -> Pair:
        name_id = rng.choices(ids, id_weights)[0]
        spellings = by_id[name_id]
        if rng.random() < 0.5 or len(spellings) < 2:
            return name_id, rng.choice(spellings)
        a, b = rng.sample(spellings, 2)
        return a, b

    pairs: set[Pair] = set()
    tries = 0
    while len(pairs) < n:
        tries += 1
        if tries > 50 * n:
            # Spellings of one name run out long before chains do: say so instead of looping for ever.
            raise SystemExit(f"only {len(pairs):,} distinct pairs found: ask for fewer than {n:,}")
        pairs.add(variant_pair() if len(pairs) % 2 else (chain(), chain()))
    ordered = sorted(pairs)
    rng.shuffle(ordered)
    return ordered


def _one_run(n: int, seed: int, names_analysed: bool = False) -> float:
    """Comparisons per CPU second (process time: the machine is shared, so wall time would measure the
    neighbours) over n fresh pairs, in this (fresh) process; loading the dictionary is not counted.
    names_analysed: every name's analysis is cached first and only the per-pair caches are emptied, so
    only the per-pair work is timed (a registry analyses each name once, when it is recorded)."""
    from registry.names import name_similarity, similarity, transliteration
    from registry.names.dictionary import load_dictionary

    pairs = generate_pairs(n, seed)
    load_dictionary()
    if names_analysed:
        for a, b in pairs:
            name_similarity(a, b)
        for cache in (similarity._unit_similarity, similarity._alignment, transliteration._dp_cost):
            cache.cache_clear()
    start = time.process_time()
    for a, b in pairs:
        name_similarity(a, b)
    return n / (time.process_time() - start)


def record(path: Path, n: int, seed: int) -> None:
    from registry.names import name_similarity

    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("# a\tb\tname_similarity (shipped dictionary)\n")
        for a, b in generate_pairs(n, seed):
            out.write(f"{a}\t{b}\t{name_similarity(a, b)!r}\n")
    print(f"{n} pairs and their scores written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--record", type=Path, default=None)
    parser.add_argument("--names-analysed", action="store_true",
                        help="time the per-pair work only: every name analysed (cached) before timing")
    parser.add_argument("--one-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.record:
        record(args.record, args.pairs, args.seed)
        return
    if args.one_run:
        print(_one_run(args.pairs, args.seed, args.names_analysed))
        return
    rates = []
    extra = ["--names-analysed"] if args.names_analysed else []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--one-run", "--pairs", str(args.pairs), "--seed",
                              str(args.seed), *extra], check=True, capture_output=True, text=True)
        rates.append(float(out.stdout.strip().splitlines()[-1]))
    what = "names analysed first, per-pair work only" if args.names_analysed else "everything from cold"
    print(f"name_similarity, {args.pairs:,} unique pairs, fresh process each run, {what}: "
          f"median {statistics.median(rates):,.0f} comparisons per CPU second "
          f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")


if __name__ == "__main__":
    main()
