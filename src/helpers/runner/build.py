"""Building the HTML book with ``jupyter-book``, never leaving a silently partial book."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from ..paths import project_root
from .toc import expected_pages

log = logging.getLogger(__package__)

#: Marker of a book build that did not finish (failed or killed): the next build renders every page.
INCOMPLETE = Path("_build/.incomplete")


def build_book(root: Path | None = None) -> None:
    """``jupyter-book build`` with warnings as errors; then check every page exists.

    Sphinx re-reads only the pages whose source changed, so a page that failed once (a warning
    turned error, a killed build) would be published as it was after a rebuild that exits 0. A
    marker (:data:`INCOMPLETE`) is written before the build and removed only after a complete one;
    while it exists, the next build renders every page (``--all``).

    Parameters
    ----------
    root : pathlib.Path, default None
        The project root; default None: :func:`helpers.paths.project_root`.

    Raises
    ------
    RuntimeError
        The build failed, or a page of :func:`expected_pages` is missing.
    """
    root = root or project_root()
    marker = root / INCOMPLETE
    full = marker.is_file()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("a book build started and has not finished; the next build renders every page\n")
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(root),
        "--warningiserror",
        "--keep-going",
    ]
    if full:
        log.info("the last book build did not finish: rendering every page")
        cmd.append("--all")
    result = subprocess.run(cmd, cwd=root)
    if result.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}); see the warnings above")
    missing = [str(p.relative_to(root)) for p in expected_pages(root) if not p.is_file()]
    if missing:
        raise RuntimeError(f"the book build left out pages: {', '.join(missing)}")
    marker.unlink()
