"""Record matching. Public face of the name matcher (registry.matching.names) for the rest of the registry."""

from registry.matching.names.chains import NameChain, parse_chain
from registry.matching.names.features import comparable_form, ngram_dice, unit_keys, unit_ngrams
from registry.matching.names.frequencies import FrequencyTable, build_frequency_table, unit_frequency
from registry.matching.names.normalize import normalize_name
from registry.matching.names.similarity import NAME_MATCH_THRESHOLD, name_similarity
from registry.matching.names.units import NameUnit, split_units

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
    "unit_ngrams",
]
