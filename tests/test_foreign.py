"""End-to-end on a dataset nobody here wrote (slow): every chapter through the runner, as a user runs it.

The twin is rewritten into a foreign layout (tests/foreign.py: other IDs, task and condition labels,
sessions, two runs for some participants, T1w, ``.nii``, inherited sidecar, fMRIPrep-24 derivatives)
and the book is built from a params file without any twin key. The numbers must equal those of the same
data in the plain layout (single-run participants) and a concatenation computed by hand from the
primitives (two-run participants).

The runner *executes* the chapters (``python -m helpers.runner execute``) and the pages' text is read
from the executed notebooks: rendering a user's data into HTML is tested by tests/test_recipes.py,
which builds the book from the README's recipe, so the Jupyter Book build is not repeated here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_CONFIG, TINY_SEED, copy_project
from foreign import LABELS, TASK, foreign_id, make_foreign

from helpers import firstlevel as fl
from helpers import tables
from helpers.connectivity import condition_effects, condition_weights, roi_to_roi
from helpers.denoise import regress_and_filter
from helpers.runner import EXECUTED, book_notebooks

pytestmark = pytest.mark.slow

PARTICIPANTS = 8  # the robustness chapter needs more than 6 (Shepherd's pi bootstraps a Mahalanobis distance)
SPLIT = ("sub-02", "sub-05")
CONDITIONS = list(LABELS.values())
#: A user's params file: no twin key; small grids and resamples and the seed of notebooks/params/test.yml
#: (the training chapter, which reads no data, then finds tests/test_book.py's work in the shared cache).
PARAMS = f"""# study.yml
bids_dir: ../study
output_dir: build/study
conditions: [{", ".join(CONDITIONS)}]
seed: 11
n_jobs: 1
n_boot: 200
n_sim: 500
n_compassion: 8
n_memory: 8
grid_resolution: 6
preproc_resolution: 6
template_resolution: 4
"""


def run_book(root: Path, params: str, command: str = "book") -> subprocess.CompletedProcess:
    """``python -m helpers.runner <command> --params <params>`` in ``root``, as a user runs it."""
    env = {**os.environ, "HELPERS_PROJECT_ROOT": str(root), "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-m", "helpers.runner", command, "--params", params],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> Path:
    """The tiny twin with the paper's run length (166 volumes, 15 words per condition): each half of a
    split run keeps enough scans for CONN's 30-regressor denoising design."""
    from helpers.simulate import simulate

    config = {
        **TINY_CONFIG,
        "timing": {"n_volumes": 166},
        "events": {"per_condition": 15},
        "anatomy": {"contrast": "T1w"},  # the foreign layout's _T1w holds a T1-weighted image
    }
    return simulate(
        tmp_path_factory.mktemp("twin") / "twin", participants=PARTICIPANTS, seed=TINY_SEED, config=config
    )


@pytest.fixture(scope="module")
def foreign_book(twin, tmp_path_factory, book_cache):
    base = tmp_path_factory.mktemp("foreign")
    cuts = make_foreign(twin, base / "study", split=SPLIT)
    root = copy_project(base / "book", cache=book_cache)
    (root / "study.yml").write_text(PARAMS)
    proc = run_book(root, "study.yml", "execute")
    assert proc.returncode == 0, f"the chapters failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return root, base / "study", cuts, proc.stderr


def page_text(root: Path, stem: str) -> str:
    """What the page of chapter ``stem`` shows: its executed cells' sources and outputs, as text."""
    nb = json.loads((root / EXECUTED / f"{stem}.ipynb").read_text())
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            parts += ["".join(v) if isinstance(v, list) else str(v) for v in out.get("data", {}).values()]
            parts.append("".join(out.get("text", "")))
    return "\n".join(parts)


def test_the_runner_follows_the_data(foreign_book):
    root, study, _, log = foreign_book
    assert "preprocessing is skipped" in log and "derivatives/fmriprep" in log
    assert not (root / "build" / "data").exists()  # no twin was made, no twin path was read
    for stem in book_notebooks(root):  # every chapter of the book ran on this data
        assert (root / EXECUTED / f"{stem}.ipynb").is_file(), stem


def test_the_pages_say_what_data_they_read(foreign_book):
    root = foreign_book[0]
    text = {stem: page_text(root, stem) for stem in book_notebooks(root)}
    assert "the dataset at ../study" in text["00_data"] and "Unless you point" not in text["00_data"]
    assert "Preprocessing was **skipped**" in text["02_preprocessing"]
    assert "recover what the twin planted" not in text["03_connectivity"]
    assert "ideal derivatives" not in text["04_results"] and "face as negative" in text["04_results"]


def _expected_single(twin: Path, tmp_path: Path, old: str) -> pd.DataFrame:
    """The twin's own numbers for ``old`` in the plain layout, relabelled as the foreign data."""
    plain, _ = fl.run_connectivity(
        twin,
        twin / "derivatives" / "twin-fmriprep",
        tmp_path,
        participants=[old],
        measures=("weighted_hrf",),
        progress=False,
        backend="serial",
    )
    plain = plain[plain["condition"].isin(LABELS)]
    return plain.assign(condition=plain["condition"].map(LABELS))


def _expected_two_runs(study: Path, new: str) -> pd.DataFrame:
    """CONN's concatenation by hand: each run denoised alone, then one weighted correlation on the stack."""
    files = fl.find_participant_files(study, study / "derivatives" / "fmriprep", new, TASK)
    assert [r.label for r in files.all_runs] == ["ses-1_run-1", "ses-1_run-2"]
    denoised, weights = [], []
    for run in files.all_runs:
        roi_ts, wm, csf = fl.extract_signals(run)
        n = len(roi_ts)
        events = pd.read_csv(run.events, sep="\t")
        assert set(CONDITIONS) <= set(events["trial_type"])
        motion = pd.read_csv(run.confounds, sep="\t", na_values=["n/a"])[list(fl.MOTION_COLUMNS)]
        effects = condition_effects(events, n, run.tr, conditions=CONDITIONS)
        design = fl.denoising_design(motion, effects, wm, csf)
        denoised.append(regress_and_filter(roi_ts, design, run.tr))
        weights.append(condition_weights(events, n, run.tr, conditions=CONDITIONS))
    return roi_to_roi(pd.concat(denoised, ignore_index=True), pd.concat(weights, ignore_index=True))


def test_numbers_equal_the_plain_layout_and_a_concatenation_by_hand(foreign_book, twin, tmp_path):
    root, study, cuts, _ = foreign_book
    assert sorted(cuts) == sorted(SPLIT)
    out = root / "build" / "study"
    result = pd.read_csv(out / "connectivity.tsv", sep="\t", na_values=["n/a"])
    result = result[(result["measure"] == "weighted_hrf") & result["condition"].isin(CONDITIONS)]
    keys = ["condition", "source", "target"]
    for k in range(1, PARTICIPANTS + 1):
        old = f"sub-{k:02d}"
        ours = result[result["participant_id"] == foreign_id(old)].set_index(keys)["z"].sort_index()
        if old in SPLIT:
            expected = _expected_two_runs(study, foreign_id(old)).set_index(keys)["z"].sort_index()
            single = _expected_single(twin, tmp_path / old, old).set_index(keys)["z"].sort_index()
            assert not np.allclose(ours.to_numpy(), single.to_numpy(), atol=1e-6)  # the cut matters
        else:
            expected = _expected_single(twin, tmp_path / old, old).set_index(keys)["z"].sort_index()
        assert len(ours) == len(expected) == 18
        np.testing.assert_allclose(
            ours.to_numpy(), expected.reindex(ours.index).to_numpy(), rtol=0, atol=1e-10
        )


def test_table1_is_computed_from_those_numbers_for_everyone_analysed(foreign_book):
    root = foreign_book[0]
    out = root / "build" / "study"
    t1 = pd.read_csv(out / "tables" / "table1.tsv", sep="\t")
    scores = pd.read_csv(out / "scores.tsv", sep="\t")
    conn = pd.read_csv(out / "connectivity.tsv", sep="\t", na_values=["n/a"])
    roles = {v: k for k, v in LABELS.items()}
    roles |= {"face-house": "negative-neutral", "scrambled-house": "positive-neutral"}
    again = tables.table1(scores, conn.assign(condition=conn["condition"].map(roles)))
    assert t1["n"].tolist() == [PARTICIPANTS] * 7
    np.testing.assert_allclose(t1["r"], again["r"], atol=1e-12)
