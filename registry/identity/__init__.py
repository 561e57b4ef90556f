"""Identity: what a child's record holds, validated; the vault that keeps it sealed; the golden identity."""

from registry.identity.dates import PartialDate, parse_date_of_birth
from registry.identity.governorates import GOVERNORATES, Governorate, find_governorate
from registry.identity.model import CHAIN_FIELDS, NAME_FIELDS, Identity, validate_identity
from registry.names.text import clean_text

__all__ = [
    "CHAIN_FIELDS",
    "GOVERNORATES",
    "Governorate",
    "Identity",
    "NAME_FIELDS",
    "PartialDate",
    "clean_text",
    "find_governorate",
    "parse_date_of_birth",
    "validate_identity",
]
