"""Regenerate the SHIPPED dictionary registry/names/data/ from ALL the shared name data
(the benchmark builds its own train-only dictionary in memory: benchmarks/name_matching.py).

Usage: .venv/bin/python benchmarks/build_name_dictionary.py [DATA_DIR]
DATA_DIR defaults to env REGISTRY_NAMES_DATA, else ../shared/data/names next to the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

from registry.names.build import build, default_data_dir

if __name__ == "__main__":
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_dir()
    print(build(data_dir))
