"""Files the registry writes: owner-only (0600 files, 0700 folders), written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700, and make an existing one 0700."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write a file readable by its owner only (0600 from the first byte), replacing any older one atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# What the registry keeps in its home: the SQLite file (and its WAL, shared-memory and journal files) and the
# folders of keys, the saved model, DuckDB work files and the demo. Nothing else under the home is touched.
HOME_FILES = ("registry.db", "registry.db-wal", "registry.db-shm", "registry.db-journal")
HOME_FOLDERS = ("keys", "model", "work", "demo")


def _tighten(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, mode & 0o700)


def secure_home(home: Path) -> None:
    """Owner-only from now on: the process umask becomes 077 (every file the registry creates after this is
    0600, every folder 0700), and what the registry already keeps in `home` is tightened the same way."""
    os.umask(0o077)
    home = Path(home)
    if not home.is_dir():
        return
    os.chmod(home, 0o700)
    for name in HOME_FILES:
        if (home / name).is_file():
            _tighten(home / name)
    for name in HOME_FOLDERS:
        folder = home / name
        if not folder.is_dir() or folder.is_symlink():
            continue
        _tighten(folder)
        for root, dirs, files in os.walk(folder):
            for d in dirs:
                _tighten(Path(root, d))
            for f in files:
                if not Path(root, f).is_symlink():
                    _tighten(Path(root, f))
