"""Synthetic multi-institution child records with known truth, for tests, tuning and accuracy measurement.

No real personal data: names come from frequency tables, numbers are random. See docs/synthetic-data.md.
"""

from registry.synth.generator import (
    IMPORT_COLUMNS,
    TRUTH_COLUMNS,
    Institution,
    SynthConfig,
    SynthRecord,
    SynthResult,
    generate,
    iter_records,
    list_institutions,
)
from registry.synth.output import write_csv, write_xlsx

__all__ = [
    "IMPORT_COLUMNS",
    "TRUTH_COLUMNS",
    "Institution",
    "SynthConfig",
    "SynthRecord",
    "SynthResult",
    "generate",
    "iter_records",
    "list_institutions",
    "write_csv",
    "write_xlsx",
]
