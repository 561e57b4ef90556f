"""Measure name_similarity on the held-out TEST split of the shared name data, beside plain Jaro-Winkler
and jellyfish phonetic codes.

Two dictionaries, two figures:
- HELD-OUT (the honest generalisation figure): name_similarity runs against a dictionary built in memory
  from the TRAIN split only (build.build_dictionary(include=split.is_train_name), no curated entries), so
  every test name is unknown to it;
- IN-DICTIONARY (coverage, NOT a generalisation figure): the same test pairs against the SHIPPED
  dictionary, which is built from all the data and therefore knows the test names.

Usage: .venv/bin/python benchmarks/name_matching.py [--split test|train] [--min-count N] [--data DIR]
       [--failures FILE]   (write the worst held-out misses and false accepts, TSV)

Pairs (all from name_units_by_country.tsv, Arabic-speaking countries, rows of the chosen split):
- true variants: Arabic key vs each attested Latin spelling (AL), and two different Latin spellings of one
  Arabic key (LL, up to 3 pairs per key); spellings attested at least --min-count times (default 2: the
  data has alignment noise, and filtering it with the matcher itself would flatter the matcher);
- hard negatives: distinct names whose Arabic keys share a cross-script skeleton (AL: Arabic of one vs
  a spelling of the other; LL: spellings of both), minus pairs where the "other" spelling is attested for
  the first name anywhere in the data (any count, country or source: those are not negatives), with Latin
  homographs (names equal up to letters Latin does not mark, see latin_homograph_key) reported apart;
  names curated by hand in dictionary.CURATED
  (محمد, عمرو) and their curated spellings are left out; plus a fixed list of famous pairs
  (محمد/محمود, حسن/حسين, ..., Hamed/Ahmed), reported separately because some are train names;
- random negatives: random pairs of distinct names (fixed seed).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import jellyfish

from registry.names import NAME_MATCH_THRESHOLD, name_similarity, normalize, similarity, transliteration, units
from registry.names.build import (
    NON_ARAB_COUNTRIES,
    build_dictionary,
    default_data_dir,
    token_rows,
    unit_rows,
)
from registry.names.dictionary import CURATED, NameDictionary, arabic_id, load_dictionary
from registry.names.skeleton import arabic_phonetic, unit_skeleton
from registry.names.split import is_dev_name, is_fit_name, is_test_name, is_train_name
from registry.names.units import NameUnit, split_units

Pair = tuple[str, str]
FAMOUS_NEGATIVES: list[Pair] = [
    ("محمد", "محمود"), ("محمد", "Mahmoud"), ("محمود", "Mohamed"), ("Mohammed", "Mahmoud"), ("Muhammad", "Mahmud"),
    ("حسن", "حسين"), ("حسن", "Hussein"), ("حسين", "Hassan"), ("Hassan", "Hussein"), ("Hasan", "Husein"),
    ("حسن", "حسني"), ("حسن", "Hosni"), ("حسني", "Hassan"), ("Hassan", "Hosni"), ("حسين", "Husni"),
    ("عمر", "عمرو"), ("عمر", "Amr"), ("عمرو", "Omar"), ("Omar", "Amr"), ("عمر", "عامر"), ("عمر", "Amer"),
    ("عامر", "Omar"), ("عامر", "عمار"), ("عامر", "Ammar"), ("عمار", "Amer"), ("Amer", "Ammar"), ("Omar", "Ammar"),
    ("Hamed", "Ahmed"), ("حامد", "Ahmed"), ("احمد", "Hamed"), ("Hamid", "Ahmad"),
]


def _one(text: str) -> NameUnit | None:
    parsed = split_units(text)
    return parsed[0] if len(parsed) == 1 else None


def load_names(data_dir: Path, in_split: Callable[[str], bool], min_count: int) -> dict[str, dict[str, int]]:
    """Arabic id -> {Latin spelling: count} for the chosen split (Arab countries)."""
    names: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    arabic_text: dict[str, str] = {}
    for row in unit_rows(data_dir):
        if row["country"] in NON_ARAB_COUNTRIES or not in_split(row["arabic_key"]):
            continue
        ar, lat = _one(row["arabic_key"]), _one(row["latin"])
        if ar is None or lat is None or ar.script != "arabic" or lat.script != "latin":
            continue
        name_id = arabic_id(ar)
        if name_id in CURATED or any(lat.head in keys for _, keys in CURATED.values()):
            continue  # curated by hand (dictionary.CURATED), would flatter the figures
        arabic_text.setdefault(name_id, row["arabic_key"])
        names[name_id][row["latin"]] += int(row["count"])
    result = {}
    for name_id, spellings in names.items():
        kept = {s: c for s, c in spellings.items() if c >= min_count}
        if kept:
            result[arabic_text[name_id]] = kept
    return result


# Letters a Latin spelling does not tell apart (emphatic/plain pairs, ح/ه, ق/ك, the carriers ع ء ا), and
# a final ي (alef maqsura, folded) against ا: two Arabic names equal on these classes have the same Latin
# spellings, so no Latin spelling can say which one it is (اسيل / اصيل "Aseel", الحوثي / الحوطي "Houthi").
_HOMOGRAPH_CLASSES = str.maketrans({"ص": "س", "ط": "ت", "ث": "ت", "ض": "د", "ظ": "ز", "ذ": "ز", "ه": "ح",
                                    "ق": "ك", "ع": "ا", "ء": None})


def latin_homograph_key(arabic: str) -> str:
    """Arabic head folded to what Latin letters can distinguish (see _HOMOGRAPH_CLASSES)."""
    head = units.parse_unit(arabic).head.translate(_HOMOGRAPH_CLASSES).replace("اا", "ا")
    return head[:-1] + "ا" if head.endswith("ي") and len(head) > 2 else head


def attested_spellings(data_dir: Path) -> dict[str, set[str]]:
    """Arabic id -> every normalised Latin spelling attested for it anywhere in the data (any count, any
    country, both sources): a "negative" whose spelling the data attests for the name is not a negative."""
    attested: dict[str, set[str]] = defaultdict(set)

    def add(arabic: str, latin: str) -> None:
        ar = _one(arabic)
        if ar is not None and ar.script == "arabic":
            attested[arabic_id(ar)].add(normalize.normalize_name(latin).replace(" ", ""))

    for row in unit_rows(data_dir):
        add(row["arabic_key"], row["latin"])
    for arabic, latin, _ in token_rows(data_dir):
        add(arabic, latin)
    return attested


def make_pairs(names: dict[str, dict[str, int]], seed: int = 7,
               attested: dict[str, set[str]] | None = None) -> dict[str, list[Pair]]:
    """Positive, hard-negative, random-negative and famous pairs (see the module docstring).

    Hard negatives are mined honestly: a pair is dropped when the data attests the "other" spelling for
    the name (any count, any source: `attested`), and a pair of Latin homographs (latin_homograph_key
    equal: same letters up to what Latin cannot mark) goes to its own set, "homograph", reported apart."""
    rng = random.Random(seed)
    attested = attested or {}
    positives_al: list[Pair] = []
    positives_ll: list[Pair] = []
    for arabic, spellings in names.items():
        distinct = {}
        for spelling in sorted(spellings, key=lambda s: -spellings[s]):
            distinct.setdefault(units.parse_unit(spelling).key, spelling)
        positives_al.extend((arabic, s) for s in distinct.values())
        ordered = list(distinct.values())
        ll = [(ordered[i], ordered[j]) for i in range(len(ordered)) for j in range(i + 1, len(ordered))]
        positives_ll.extend(rng.sample(ll, min(3, len(ll))))

    def top(arabic: str) -> str:
        spellings = names[arabic]
        return max(spellings, key=lambda s: spellings[s])

    def normal(spelling: str) -> str:
        return normalize.normalize_name(spelling).replace(" ", "")

    def spellings_of(arabic: str) -> set[str]:
        return {normal(s) for s in names[arabic]} | attested.get(arabic_id(units.parse_unit(arabic)), set())

    by_skeleton: dict[str, list[str]] = defaultdict(list)
    for arabic in sorted(names):
        by_skeleton[unit_skeleton(units.parse_unit(arabic))].append(arabic)
    hard_al: list[Pair] = []
    hard_ll: list[Pair] = []
    homograph: list[Pair] = []
    for group in by_skeleton.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                spellings_a, spellings_b = spellings_of(a), spellings_of(b)
                same_letters = latin_homograph_key(a) == latin_homograph_key(b)
                al = [(x, top(y)) for x, y, sx in ((a, b, spellings_a), (b, a, spellings_b))
                      if normal(top(y)) not in sx]
                ll = [(top(a), top(b))] if (normal(top(a)) != normal(top(b)) and normal(top(b)) not in spellings_a
                                            and normal(top(a)) not in spellings_b) else []
                if same_letters:
                    homograph.extend(al + ll)
                else:
                    hard_al.extend(al)
                    hard_ll.extend(ll)
    keys = sorted(names)
    random_neg: list[Pair] = []
    while len(random_neg) < 3000:
        a, b = rng.sample(keys, 2)
        random_neg.append((a, top(b)) if len(random_neg) % 2 else (top(a), top(b)))
    return {"pos_al": positives_al, "pos_ll": positives_ll, "hard_al": hard_al, "hard_ll": hard_ll,
            "random": random_neg, "famous": FAMOUS_NEGATIVES, "homograph": homograph}


def romanised(text: str) -> str:
    """Lowercase Latin, or the letter-by-letter romanisation of Arabic script (for the baselines)."""
    return "".join(arabic_phonetic(t) if normalize.is_arabic_token(t) else t
                   for t in normalize.normalize_name(text).split())


def jaro_winkler(a: str, b: str) -> float:
    return jellyfish.jaro_winkler_similarity(romanised(a), romanised(b))


def code_equal(code: Callable[[str], str]) -> Callable[[str, str], float]:
    return lambda a, b: float(code(romanised(a)) == code(romanised(b)))


def roc_auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2
        rank_sum += mean_rank * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    n_pos, n_neg = len(pos), len(neg)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def rate(scores: Sequence[float], threshold: float) -> float:
    return sum(s >= threshold for s in scores) / len(scores)


def threshold_for_recall(pos: Sequence[float], recall: float) -> float:
    ordered = sorted(pos, reverse=True)
    return ordered[min(len(ordered) - 1, int(recall * len(ordered)) - 1)]


def evaluate(name: str, fn: Callable[[str, str], float], pairs: dict[str, list[Pair]], threshold: float) -> None:
    s = {k: [fn(a, b) for a, b in v] for k, v in pairs.items()}
    pos = s["pos_al"] + s["pos_ll"]
    hard = s["hard_al"] + s["hard_ll"]
    t95 = threshold_for_recall(pos, 0.95)
    print(f"| {name} | {roc_auc(pos, hard + s['random']):.3f} | {roc_auc(pos, hard):.3f} | {threshold:.2f} | "
          f"{rate(s['pos_al'], threshold):.3f} | {rate(s['pos_ll'], threshold):.3f} | {rate(pos, threshold):.3f} | "
          f"{rate(hard, threshold):.3f} | {rate(s['random'], threshold):.4f} | {rate(s['famous'], threshold):.2f} | "
          f"{rate(s['homograph'], threshold) if s['homograph'] else 0.0:.2f} | "
          f"{rate(hard, t95 if t95 > min(hard) else t95 + 1e-9):.3f} |")


def choose_threshold(pos: Sequence[float], hard: Sequence[float]) -> tuple[float, float, float]:
    """Threshold (0.70..0.95, step 0.01) maximising recall - hard-negative FAR (Youden's J); run on dev only."""
    best = max((rate(pos, t / 100) - rate(hard, t / 100), t / 100) for t in range(70, 96))
    return best[1], rate(pos, best[1]), rate(hard, best[1])


def clear_caches() -> None:
    for fn in (normalize.normalize_name, units.split_units, similarity._analyse, similarity._unit_similarity,
               transliteration._dp_cost, similarity._alignment):
        fn.cache_clear()


def with_dictionary(dictionary: NameDictionary) -> Callable[[str, str], float]:
    return lambda a, b: name_similarity(a, b, dictionary=dictionary)


def speed(pairs: list[Pair], dictionary: NameDictionary, runs: int = 5) -> tuple[float, float]:
    """Median comparisons/s over `runs`: with cold caches (first sight of each name) and warm."""
    cold, warm = [], []
    for _ in range(runs):
        clear_caches()
        start = time.perf_counter()
        for a, b in pairs:
            name_similarity(a, b, dictionary=dictionary)
        cold.append(len(pairs) / (time.perf_counter() - start))
        start = time.perf_counter()
        for a, b in pairs:
            name_similarity(a, b, dictionary=dictionary)
        warm.append(len(pairs) / (time.perf_counter() - start))
    return statistics.median(cold), statistics.median(warm)


def write_failures(path: Path, pairs: dict[str, list[Pair]], fn: Callable[[str, str], float],
                   threshold: float, limit: int = 300) -> None:
    """The worst misses (lowest-scoring positives) and false accepts (highest-scoring hard negatives)."""
    misses = sorted(((fn(a, b), k, a, b) for k in ("pos_al", "pos_ll") for a, b in pairs[k]))
    accepts = sorted(((fn(a, b), k, a, b) for k in ("hard_al", "hard_ll") for a, b in pairs[k]), reverse=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write("kind\tset\tscore\ta\tb\n")
        for score, k, a, b in [m for m in misses if m[0] < threshold][:limit]:
            out.write(f"miss\t{k}\t{score:.3f}\t{a}\t{b}\n")
        for score, k, a, b in [m for m in accepts if m[0] >= threshold][:limit]:
            out.write(f"false_accept\t{k}\t{score:.3f}\t{a}\t{b}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("test", "dev"), default="test",
                        help="test: held-out test names, dictionary from train; dev: a fold of train, "
                             "dictionary from the rest of train (for tuning rules and the threshold)")
    parser.add_argument("--threshold", type=float, default=NAME_MATCH_THRESHOLD)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--failures", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data or default_data_dir()
    start = time.perf_counter()
    in_split, dictionary_names = (is_test_name, is_train_name) if args.split == "test" else (is_dev_name, is_fit_name)
    train_dictionary = build_dictionary(data_dir, include=dictionary_names)
    label = "train-only" if args.split == "test" else "train-minus-dev"
    print(f"{label} dictionary: {len(train_dictionary.entries)} names, {len(train_dictionary.spellings)} "
          f"spellings, built in memory in {time.perf_counter() - start:.1f} s")
    names = load_names(data_dir, in_split, args.min_count)
    pairs = make_pairs(names, attested=attested_spellings(data_dir))
    print(f"split={args.split} min_count={args.min_count} names={len(names)} "
          + " ".join(f"{k}={len(v)}" for k, v in pairs.items()))
    print("| method | AUC all neg | AUC hard neg | threshold | recall AL | recall LL | recall | FAR hard "
          "| FAR random | FAR famous | FAR homograph | FAR hard @ recall 0.95 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    held_out = with_dictionary(train_dictionary)
    evaluate(f"name_similarity, {label} dictionary (held-out)", held_out, pairs, args.threshold)
    evaluate("Jaro-Winkler (romanised)", jaro_winkler, pairs, 0.85)
    evaluate("metaphone equality", code_equal(jellyfish.metaphone), pairs, 1.0)
    evaluate("NYSIIS equality", code_equal(jellyfish.nysiis), pairs, 1.0)
    if args.split == "test":
        evaluate("name_similarity, SHIPPED dictionary (in-dictionary coverage, not generalisation)",
                 with_dictionary(load_dictionary()), pairs, NAME_MATCH_THRESHOLD)
    if args.split == "dev":
        scores = {k: [held_out(a, b) for a, b in v] for k, v in pairs.items()}
        t, recall, far = choose_threshold(scores["pos_al"] + scores["pos_ll"], scores["hard_al"] + scores["hard_ll"])
        print(f"threshold maximising recall - hard FAR on dev: {t:.2f} (recall {recall:.3f}, hard FAR {far:.3f})")
    all_pairs = [p for v in pairs.values() for p in v]
    cold, warm = speed(all_pairs, train_dictionary)
    print(f"speed: {len(all_pairs)} comparisons, median of 5 runs: {cold:,.0f}/s cold caches, {warm:,.0f}/s warm")
    if args.failures:
        write_failures(args.failures, pairs, held_out, args.threshold)
        print(f"worst held-out misses and false accepts written to {args.failures}")


if __name__ == "__main__":
    main()
