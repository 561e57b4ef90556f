"""The child case registry: pseudonymised identities, privacy-preserving deduplication, consent and audit."""

__version__ = "0.1.0"
