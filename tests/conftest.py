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


# --- `make test` on two pytest-xdist workers (`-n 2 --dist loadfile`) ----------------------------------
# A work unit is a test file (its module fixtures are built once), except that the files reading the
# session's ``book_cache`` form one unit: one worker runs them, so they find the tiny book's work (e.g. its
# ~45 s template correspondence) instead of redoing it.  (xdist's own ``--dist loadgroup`` cannot do this:
# it renames node ids, which pytest 9 no longer allows.)

#: The test files that use the ``book_cache`` fixture (checked at collection).
BOOK_CACHE_FILES = ("test_book.py", "test_foreign.py", "test_preprocess_pipeline.py")
#: The two longest units (~7 and ~6 min): first, so that the two workers run them side by side.
FIRST_UNITS = ("book_cache", "test_recipes.py")


def _unit(filename: str) -> str:
    return "book_cache" if filename in BOOK_CACHE_FILES else filename


def pytest_collection_modifyitems(config, items):
    """Check :data:`BOOK_CACHE_FILES`; on an xdist worker, put :data:`FIRST_UNITS` first."""
    unlisted = {i.path.name for i in items if "book_cache" in i.fixturenames} - set(BOOK_CACHE_FILES)
    if unlisted:
        raise pytest.UsageError(f"tests/conftest.py: add {sorted(unlisted)} to BOOK_CACHE_FILES")
    if hasattr(config, "workerinput"):  # each worker collects; the controller schedules in that order

        def rank(item):
            unit = _unit(item.path.name)
            return FIRST_UNITS.index(unit) if unit in FIRST_UNITS else len(FIRST_UNITS)

        items.sort(key=rank)  # stable: the order of everything else is kept


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the :data:`BOOK_CACHE_FILES` as one unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Units(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(Path(super()._split_scope(nodeid)).name)

    return Units(config, log)


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
