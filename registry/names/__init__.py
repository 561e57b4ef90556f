"""Arabic/Latin personal-name matching: normalisation, units, chains, skeletons, dictionary, similarity.

One concept per module:
- normalize: script-aware folding of a raw name string (either script) to a comparable normalised text.
- units: splitting a name into name units (compounds such as عبد الرحمن / Abdel Rahman are one unit).
- chains: the given / father / grandfather / family chain of a full name.
- skeleton: cross-script forms (phonetic consonant skeleton, Latin phonetic form, ASCII romanisation).
- transliteration: graded alignment of an Arabic unit against a Latin spelling.
- dictionary: the shipped variant dictionary (Latin spelling -> known Arabic name ids, with counts).
- split: the fixed train/test split of the shared name data.
- similarity: name_similarity for units and chains.
- frequencies: name-unit frequency tables for term-frequency weighting.
- features: plaintext features the linkage index stores as keyed encodings.
- text: Unicode cleaning (NFC, invisible controls, Persian letters, Arabic-Indic digits) and script detection.
"""

from registry.names.chains import NameChain, parse_chain
from registry.names.features import comparable_form, ngram_dice, unit_keys, unit_neighbourhood, unit_ngrams
from registry.names.frequencies import FrequencyTable, build_frequency_table, unit_frequency
from registry.names.normalize import normalize_name
from registry.names.similarity import NAME_MATCH_THRESHOLD, name_similarity
from registry.names.units import NameUnit, split_units

__all__ = [
    "NAME_MATCH_THRESHOLD",
    "FrequencyTable",
    "NameChain",
    "NameUnit",
    "build_frequency_table",
    "comparable_form",
    "name_similarity",
    "ngram_dice",
    "normalize_name",
    "parse_chain",
    "split_units",
    "unit_frequency",
    "unit_keys",
    "unit_neighbourhood",
    "unit_ngrams",
]
