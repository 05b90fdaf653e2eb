"""Fingerprints that decide whether a notebook is current: the helpers' code and the dataset's files."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Files whose content defines the code's behaviour (sources and packaged configuration).
CODE_PATTERNS = ("*.py", "*.yml", "*.yaml")


def _tree_hash(folder: Path, patterns: tuple[str, ...] = CODE_PATTERNS) -> str:
    h = hashlib.sha256()
    for f in sorted({f for pattern in patterns for f in folder.rglob(pattern)}):
        if "__pycache__" in f.parts:
            continue
        h.update(f.relative_to(folder).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def code_version(root: Path) -> str:
    """Hash of the helpers package's source (Python files and packaged data).

    Parameters
    ----------
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).

    Returns
    -------
    str
        Hash of the tree ``root/src/helpers``.
    """
    return _tree_hash(root / "src" / "helpers")


def data_fingerprint(folder: Path) -> str:
    """Cheap fingerprint of a dataset: every file's relative path, size and modification time.

    Parameters
    ----------
    folder : pathlib.Path
        The dataset; a missing folder gives the hash of nothing.

    Returns
    -------
    str
        SHA-256 (hex).
    """
    h = hashlib.sha256()
    if folder.is_dir():
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.relative_to(folder)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()
