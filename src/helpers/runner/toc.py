"""The book's table of contents: which notebooks it shows, in which order, and the pages it must produce."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..paths import project_root

#: Where executed notebooks go (referenced by ``_toc.yml``), relative to the root.
EXECUTED = Path("build/notebooks")


def _toc_files(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        if "file" in node:
            out.append(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []) or []:
                out.extend(_toc_files(child))
    return out


def toc_files(root: Path) -> list[str]:
    """Every ``file`` entry of ``_toc.yml`` (including the root), in book order.

    Parameters
    ----------
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).

    Returns
    -------
    list of str
        The entries as written in ``_toc.yml`` (paths relative to ``root``).
    """
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"], *_toc_files(toc)]


def book_notebooks(root: Path | None = None) -> list[str]:
    """Stems of the notebooks the book shows, in the book's order (from ``_toc.yml``).

    Parameters
    ----------
    root : pathlib.Path, default None
        The project root; default None: :func:`helpers.paths.project_root`.

    Returns
    -------
    list of str
        Stems of the ``_toc.yml`` entries under :data:`EXECUTED`.
    """
    root = root or project_root()
    prefix = EXECUTED.as_posix() + "/"
    return [f[len(prefix) :] for f in toc_files(root) if f.startswith(prefix)]


def expected_pages(root: Path | None = None) -> list[Path]:
    """The HTML page every ``_toc.yml`` entry must produce.

    Parameters
    ----------
    root : pathlib.Path, default None
        The project root; default None: :func:`helpers.paths.project_root`.

    Returns
    -------
    list of pathlib.Path
        ``root/_build/html/<entry>.html`` for each entry of :func:`toc_files`.
    """
    root = root or project_root()
    return [root / "_build" / "html" / f"{f}.html" for f in toc_files(root)]
