"""Where things live: the project root and the git-ignored build area.

All relative paths in notebook parameters are relative to the project root
(the folder holding ``_config.yml``); the runner executes notebooks there.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "build_dir", "resolve"]


def project_root() -> Path:
    """The project root: ``$HELPERS_PROJECT_ROOT`` or the first parent holding ``_config.yml``.

    The working directory's parents are searched first (they must also hold ``pyproject.toml``),
    then this file's; the working directory itself when neither finds one.

    Returns
    -------
    pathlib.Path
    """
    env = os.environ.get("HELPERS_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    for parent in [Path.cwd(), *Path.cwd().parents]:
        if (parent / "_config.yml").is_file() and (parent / "pyproject.toml").is_file():
            return parent
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "_config.yml").is_file():
            return parent
    return Path.cwd()


def build_dir() -> Path:
    """The git-ignored build area (``<root>/build``) for data, executed notebooks and outputs.

    Returns
    -------
    pathlib.Path
        :func:`project_root` / ``"build"`` (not created).
    """
    return project_root() / "build"


def resolve(path: str | os.PathLike) -> Path:
    """Resolve ``path`` against the project root unless it is absolute.

    Parameters
    ----------
    path : path-like
        A path; ``~`` is expanded first.

    Returns
    -------
    pathlib.Path
        ``path`` if absolute, else :func:`project_root` / ``path`` (not normalised, not checked to exist).
    """
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p
