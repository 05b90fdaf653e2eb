"""Shared fixtures: a tiny digital twin for everybody's tests.

``tiny_twin`` is built once per test session (3 participants, 6 mm MNI derivatives, a 32 x 32 x 18
native grid, 60 volumes, 5 words per condition); it returns the dataset folder.  ``TINY_CONFIG``
is the override used, so tests can rebuild it (e.g. for determinism checks).
"""

from __future__ import annotations

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
