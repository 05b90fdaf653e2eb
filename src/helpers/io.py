"""Atomic file output: nothing partial is ever left behind.

Every file the pipeline writes goes first to a temporary sibling path and is
renamed into place only when it is complete (``os.replace`` is atomic on POSIX
within one file system), so a run killed at any moment leaves either the old
complete file or the new complete file, never a truncated one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

__all__ = ["atomic_path", "write_tsv", "write_json", "save_figure"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; rename it to ``path`` on success.

    Works for files and for directories (write a whole folder under the
    yielded path).  On an exception the temporary path is removed and the
    exception propagates; an existing ``path`` is left untouched.

    Parameters
    ----------
    path : path-like
        Final destination.  Its parent folder is created if needed.

    Yields
    ------
    pathlib.Path
        The temporary path to write (``.tmp-<random>.<name>`` beside ``path``).

    Raises
    ------
    PermissionError
        If the parent folder is not writable (the message names the folder).
    """
    final = Path(path)
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (PermissionError, NotADirectoryError, FileExistsError) as err:
        # e.g. a read-only location, or a path below a regular file
        raise PermissionError(
            f"cannot create output folder {parent} for {final.name}: {err.strerror or err}"
        ) from err
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"output folder {parent} is not writable (needed for {final.name})")
    # The final name stays at the end so that extension-sniffing writers (nibabel, papermill) work.
    tmp = parent / f".tmp-{uuid.uuid4().hex[:8]}.{final.name}"
    try:
        yield tmp
        if final.is_dir() and not final.is_symlink():
            old = parent / f".old-{uuid.uuid4().hex[:8]}.{final.name}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_tsv(df: pd.DataFrame, path: str | os.PathLike, index: bool = False) -> Path:
    """Write ``df`` as a tab-separated file atomically; missing values as ``n/a`` (BIDS).

    Parameters
    ----------
    df : pandas.DataFrame
        The table to write (Unix line endings).
    path : path-like
        Destination; written through :func:`atomic_path`, so a failed write leaves no partial file.
    index : bool, default False
        Also write the index as the first column.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=index, na_rep="n/a", lineterminator="\n")
    return Path(path)


def write_json(obj, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically (deterministic bytes).

    Parameters
    ----------
    obj : object
        A JSON-serialisable value; other values (paths, dates, numpy scalars) are written as ``str(value)``.
    path : path-like
        Destination; written through :func:`atomic_path`, with a final newline.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
    return Path(path)


def save_figure(
    fig, stem: str | os.PathLike, formats: tuple[str, ...] = ("png", "svg"), dpi: int = 150
) -> list[Path]:
    """Save a matplotlib ``Figure`` as ``stem.<fmt>`` for each format, atomically.

    SVG metadata dates are dropped so identical figures give identical bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (saved with ``bbox_inches="tight"``).
    stem : path-like
        Destination without extension; ``.<fmt>`` is appended for each format.
    formats : tuple of str, default ("png", "svg")
        Matplotlib output formats.
    dpi : int, default 150
        Resolution of raster formats (dots per inch).

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.
    """
    out = []
    for fmt in formats:
        dest = Path(f"{stem}.{fmt}")
        with atomic_path(dest) as tmp:
            meta = {"Date": None} if fmt == "svg" else {}
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta or None)
        out.append(dest)
    return out
