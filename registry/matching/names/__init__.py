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
"""
