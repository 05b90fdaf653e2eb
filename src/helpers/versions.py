"""What a result was made from: file checksums and installed package versions.

Small on purpose: the compute stages (preprocessing) record these without importing the chapter
machinery of :mod:`helpers.provenance` (parameters, tables, figure styles), so that their code
fingerprint (:func:`helpers.cache.code_fingerprint` following imports) does not change with a
figure colour.  :mod:`helpers.provenance` re-exports both functions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform

__all__ = ["PACKAGES", "sha256", "package_versions"]

#: Packages whose versions are recorded in every chapter's footer.
PACKAGES = (
    "helpers",
    "numpy",
    "scipy",
    "pandas",
    "nibabel",
    "nilearn",
    "dipy",
    "scikit-learn",
    "pingouin",
    "matplotlib",
    "seaborn",
    "papermill",
    "jupyter-book",
)


def sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes.

    Parameters
    ----------
    path : path-like
        The file.
    chunk : int, default 1 << 20
        Bytes read at a time (1 MiB).

    Returns
    -------
    str
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Python's version and each named distribution's installed version (or ``"not installed"``).

    Parameters
    ----------
    names : iterable of str, default :data:`PACKAGES`
        Distribution names.

    Returns
    -------
    dict of str to str
        ``python`` first, then each name.
    """
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
