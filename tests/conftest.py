"""Shared fixtures: a tiny digital twin for everybody's tests.

``tiny_twin`` is built once per test session (3 participants, 6 mm MNI derivatives, a 32 x 32 x 18
native grid, 60 volumes, 5 words per condition); it returns the dataset folder.  ``TINY_CONFIG``
is the override used, so tests can rebuild it (e.g. for determinism checks).
"""

from __future__ import annotations

import pytest

#: Overrides of the default twin config giving a fast, small dataset (a few seconds).
TINY_CONFIG = {
    "grid": {"func_shape": [32, 32, 18], "func_zooms": [6.25, 6.25, 8.0],
             "anat_shape": [64, 64, 18], "anat_zooms": [3.125, 3.125, 8.0],
             "source_resolution": 4, "anat_source_resolution": 2, "mni_resolution": 6},
    "timing": {"n_volumes": 60},
    "events": {"per_condition": 5},
    "output": {"n_jobs": 1},
}
TINY_PARTICIPANTS = 3
TINY_SEED = 11


@pytest.fixture(scope="session")
def tiny_twin(tmp_path_factory):
    """Path of a 3-participant twin on a reduced grid (built once per session)."""
    from helpers.simulate import simulate

    out = tmp_path_factory.mktemp("twin") / "tiny"
    return simulate(out, participants=TINY_PARTICIPANTS, seed=TINY_SEED, config=TINY_CONFIG)
