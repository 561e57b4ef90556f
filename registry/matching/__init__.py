"""Record matching: the linkage encoder and index, the Splink model, batch deduplication, real-time lookup
and evaluation. Names are matched by `registry.names`."""
