"""`python -m registry.audit.verify_bundle BUNDLE PUBLIC_KEY [TRUSTED_CHECKPOINT]`: what a DPO runs.

Needs no database and no private key: only the exported bundle and the audit public key file
(`audit-signing.pub`, base64 of the 32-byte Ed25519 key). Exit status 0 when the log verifies, 1 when it does
not (the first line of output names the first entry or checkpoint that does not fit), 2 on bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

from registry.audit.verify import read_trusted_checkpoint, verify_bundle
from registry.keys import load_audit_public_key


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    public_key = load_audit_public_key(Path(args[1]))
    trusted = read_trusted_checkpoint(Path(args[2])) if len(args) == 3 else None
    report = verify_bundle(Path(args[0]), public_key, trusted_checkpoint=trusted)
    print(report.summary())
    for problem in report.problems:
        print(f"  {problem}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
