"""Shared fixtures: a tiny digital twin for everybody's tests.

``tiny_twin`` is built once per test session (3 participants, 6 mm MNI derivatives, a 32 x 32 x 18
native grid, 60 volumes, 5 words per condition); it returns the dataset folder.  ``TINY_CONFIG``
is the override used, so tests can rebuild it (e.g. for determinism checks).

The end-to-end tests run the book in a copy of the project (:func:`copy_project`); their copies share
one ``build/cache`` (``book_cache``), so per-participant work one run did is read back by the next.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

#: Overrides of the default twin config giving a fast, small dataset (a few seconds); shared with
#: the end-to-end book test (notebooks/params/test.yml).
TINY_CONFIG = yaml.safe_load((Path(__file__).parent / "data" / "twin_tiny.yaml").read_text())
TINY_PARTICIPANTS = 3
TINY_SEED = 11


@pytest.fixture(scope="session")
def tiny_twin(tmp_path_factory):
    """Path of a 3-participant twin on a reduced grid (built once per session)."""
    from helpers.simulate import simulate

    out = tmp_path_factory.mktemp("twin") / "tiny"
    return simulate(out, participants=TINY_PARTICIPANTS, seed=TINY_SEED, config=TINY_CONFIG)


#: The "hard" twin's overrides (tests/data/twin_hard.yaml), merged over the tiny config: planted
#: dropout (sub-02), large motion (sub-03) and a mis-set structural orientation (sub-04).
HARD_CONFIG = yaml.safe_load((Path(__file__).parent / "data" / "twin_hard.yaml").read_text())
HARD_PARTICIPANTS = 5


@pytest.fixture(scope="session")
def hard_twin(tmp_path_factory):
    """Path of a 5-participant tiny twin with the hard twin's planted problems (built once per session)."""
    from helpers.simulate import simulate

    assert not set(TINY_CONFIG) & set(HARD_CONFIG), (
        "the tiny and hard overrides must touch different sections"
    )
    out = tmp_path_factory.mktemp("twin") / "hard"
    return simulate(
        out, participants=HARD_PARTICIPANTS, seed=TINY_SEED, config={**TINY_CONFIG, **HARD_CONFIG}
    )


ROOT = Path(__file__).resolve().parents[1]
#: The files of a user's checkout that executing and building the book reads.
COPY = ["_config.yml", "_toc.yml", "CITATION.cff", "book", "notebooks", "src", "pyproject.toml", "tests/data"]


@pytest.fixture(scope="session")
def book_cache(tmp_path_factory):
    """A ``build/cache`` shared by the session's end-to-end runs of the book.

    Its entries are content-addressed (inputs, parameters and the code that computes them:
    :mod:`helpers.cache`), so a run reads back only work done on the same inputs with the same code.
    """
    return tmp_path_factory.mktemp("book_cache")


def copy_project(dest: Path, cache: Path | None = None) -> Path:
    """The book's sources in ``dest`` (a user's checkout), without anyone's build outputs.

    ``cache`` (default None: none) becomes ``dest/build/cache``, e.g. the session's ``book_cache``.
    """
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "generated"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    if cache is not None:
        (dest / "build").mkdir(parents=True, exist_ok=True)
        (dest / "build" / "cache").symlink_to(cache, target_is_directory=True)
    return dest
