"""The README's and the *Run it on your data* page's recipes, run verbatim on foreign datasets (slow).

Each recipe is read from its file: a ``yaml`` block whose first line names the params file
(``# my-study.yml — …``) is written to that file as it stands, and every line of a ``bash`` block is
run as it stands in a copy of the project (``make`` with ``-o`` for the two set-up targets, so that the
shared virtual environment is never reinstalled). The datasets sit where the recipes say
(``../my-study``, ``../my-study-fmriprep``).

1. The README's recipe on a **raw** foreign dataset (no derivatives): preprocessing runs, every page
   is built.
2. The *Run it on your data* raw recipe: the same parameters and commands as the README's (so 1. runs it).
3. Its fMRIPrep recipe with the derivatives outside the dataset: preprocessing is skipped, the
   connectivity chapter reads fMRIPrep's files, every page is built again.
4. Every layout variant at once, and a first participant whose runs are too short for the denoising
   design: ``on_error: skip`` (as its error advises) excludes it and the book is built around it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import nibabel as nib
import pandas as pd
import pytest
import yaml
from conftest import ROOT, TINY_CONFIG, TINY_SEED, copy_project
from foreign import foreign_id, make_foreign

from helpers.runner import expected_pages

pytestmark = pytest.mark.slow

PARTICIPANTS = 5  # few: the recipe preprocesses at the default resolutions
FENCE = re.compile(r"^```(yaml|bash)\n(.*?)^```", re.S | re.M)
#: Make targets that set up the environment: never remade here (the venv is shared).
SETUP = ["-o", ".venv/.installed", "-o", "book/_static/mathjax/tex-chtml.js"]


def recipes(path: Path, heading: str | None = None) -> list[tuple[str, str]]:
    """(language, text) of the yaml and bash blocks of ``path`` (of one section when ``heading`` is given)."""
    text = path.read_text()
    if heading:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[start : end if end > 0 else None]
    return FENCE.findall(text)


def commands(text: str) -> list[list[str]]:
    """The commands of a bash block, split into words (comments and blank lines dropped)."""
    return [words for line in text.splitlines() if (words := line.split("#")[0].split())]


def execute(blocks: list[tuple[str, str]], root: Path) -> str:
    """Write the params files and run the commands of ``blocks`` in ``root``; returns the output."""
    env = {**os.environ, "HELPERS_PROJECT_ROOT": str(root), "PYTHONPATH": str(root / "src")}
    output = ""
    for lang, text in blocks:
        if lang == "yaml":
            name = re.match(r"#\s*(\S+\.yml)", text)
            assert name, f"a yaml recipe must start with '# <file>.yml': {text[:60]!r}"
            (root / name.group(1)).write_text(text)
            continue
        for command in commands(text):
            line = " ".join(command)
            if command[0] == "make":
                command = [command[0], *SETUP, *command[1:]]
            proc = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=3000)
            output += proc.stdout + proc.stderr
            assert proc.returncode == 0, f"{line!r} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return output


def build_with(root: Path, name: str, params: dict) -> Path:
    """``make book PARAMS=<name>.yml`` with ``params`` (and the conditions of the foreign layout) in
    ``root``; checks that every page exists and returns the run's output folder."""
    params = {"conditions": ["face", "house", "scrambled"], "output_dir": f"build/{name}", **params}
    (root / f"{name}.yml").write_text(yaml.safe_dump(params))
    execute([("bash", f"make book PARAMS={name}.yml")], root)
    for page in expected_pages(root):
        assert page.is_file(), page
    return root / params["output_dir"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from helpers.simulate import simulate

    base = tmp_path_factory.mktemp("recipes")
    config = {**TINY_CONFIG, "anatomy": {"contrast": "T1w"}}  # the foreign layout's _T1w is T1-weighted
    twin = simulate(base / "twin", participants=PARTICIPANTS, seed=TINY_SEED, config=config)
    plain = dict(split=(), sessions=False, runs=False, nii=False, inherit=False)
    make_foreign(twin, base / "my-study", derivatives=False, **plain)  # raw: to be preprocessed
    make_foreign(twin, base / "prepped", derivatives=True, **plain)  # the same data, fMRIPrep'd
    # every layout variant on; sub-03 (sub-s11, first in sorted order) cut into runs too short to denoise
    make_foreign(twin, base / "split-study", split=("sub-03",), derivatives=True)
    shutil.move(base / "prepped" / "derivatives" / "fmriprep", base / "my-study-fmriprep")
    root = copy_project(base / "book")
    for name in ("Makefile", "requirements.lock"):
        shutil.copy2(ROOT / name, root / name)
    (root / ".venv").symlink_to(ROOT / ".venv")
    return root


def test_readme_recipe_on_raw_data_preprocesses_and_builds_every_page(workspace):
    blocks = recipes(ROOT / "README.md", "## Run it on your own data")
    assert [lang for lang, _ in blocks] == ["yaml", "bash"]
    log = execute(blocks, workspace)
    assert "derivatives_dir = build/my-study/preproc" in log
    for page in expected_pages(workspace):
        assert page.is_file(), page
    out = workspace / "build" / "my-study"
    assert sorted(pd.read_csv(out / "connectivity.tsv", sep="\t")["participant_id"].unique()) == sorted(
        foreign_id(f"sub-{k:02d}") for k in range(1, PARTICIPANTS + 1)
    )
    assert (out / "preproc" / "sub-s37").is_dir()  # our preprocessing of *this* data
    # its T1w structurals normalised to the T1w template: no structural-template gate fails (a T2w
    # image under _T1w scored -.11 to -.28); the 8 mm BOLD voxels are flagged by their own gate
    qc = pd.read_csv(out / "preprocessing_registration_qc.tsv", sep="\t")
    assert len(qc) == PARTICIPANTS and (qc["norm_r"] > 0.6).all(), qc[["participant_id", "norm_r"]]
    assert not qc["reasons"].fillna("").str.contains("norm_r").any()
    prep = (workspace / "_build/html/build/notebooks/02_preprocessing.html").read_text()
    assert "Seconds per preprocessing step" in prep and "twin's ground truth" not in prep


def test_your_data_raw_recipe_is_the_readmes():
    """Same params file and same commands as the README's recipe, which the test above runs."""
    page = recipes(ROOT / "book" / "your_data.md", "## 1. From a raw BIDS dataset")
    readme = recipes(ROOT / "README.md", "## Run it on your own data")
    assert [yaml.safe_load(t) for lang, t in page if lang == "yaml"] == [
        yaml.safe_load(t) for lang, t in readme if lang == "yaml"
    ]
    bash = [[commands(t) for lang, t in blocks if lang == "bash"] for blocks in (page, readme)]
    assert bash[0] == bash[1] == [[["make", "book", "PARAMS=my-study.yml"]]]


def test_your_data_fmriprep_recipe_skips_preprocessing(workspace):
    blocks = recipes(ROOT / "book" / "your_data.md", "## 2. From fMRIPrep derivatives")
    run = recipes(ROOT / "book" / "your_data.md", "## 1. From a raw BIDS dataset")[-1]
    log = execute([*blocks, run], workspace)
    assert "derivatives_dir = ../my-study-fmriprep" in log
    for page in expected_pages(workspace):
        assert page.is_file(), page
    prep = (workspace / "_build/html/build/notebooks/02_preprocessing.html").read_text()
    assert "Preprocessing was <strong>skipped</strong>" in prep


def test_three_participants_left_build_every_page_and_say_what_they_cannot_show(workspace):
    """The user's own exclusions leave 3 of 5: leave-one-out (needs 4) and the one-pipeline curve say why."""
    dropped = [foreign_id(f"sub-{k:02d}") for k in (4, 5)]
    pd.DataFrame({"participant_id": dropped, "reason": "left out by the test"}).to_csv(
        workspace / "few-exclusions.tsv", sep="\t", index=False
    )
    params = {
        "bids_dir": "../my-study",
        "derivatives_dir": "../my-study-fmriprep",
        "exclusions_file": "few-exclusions.tsv",
    }
    out = build_with(workspace, "few", params)
    loo = pd.read_csv(out / "tables" / "leave_one_out.tsv", sep="\t")
    assert loo["n"].tolist() == [3, 3, 3] and loo["r_min"].isna().all()
    why = "With 3 participants no one can be left out"
    html = workspace / "_build/html/build/notebooks"
    robustness = (html / "05_robustness.html").read_text()
    assert why in robustness
    assert "With 3 participants there is no 95 % interval" in robustness  # not "from — to —"
    assert "no 95 % interval (3 participants; it needs at least 4)" in robustness
    discussion = (html / "07_discussion.html").read_text()
    assert why in discussion and "Only the paper\u2019s connectivity pipeline was computed" in discussion


def test_a_participant_the_connectivity_stage_skips_is_not_the_worked_example(workspace):
    """sub-s11, the example participant, has a run too short for the design: with ``on_error: skip`` it
    is excluded once, in exclusions.tsv; the connectivity chapter's worked example is the next one
    and the page says why."""
    params = {
        "bids_dir": "../split-study",
        "derivatives_dir": "../split-study/derivatives/fmriprep",
        "on_error": "skip",
        "example_participant": "sub-s11",  # the data chapter shows it; the connectivity chapter cannot
    }
    out = build_with(workspace, "split", params)
    excluded = pd.read_csv(out / "exclusions.tsv", sep="\t")
    assert excluded["participant_id"].tolist() == ["sub-s11"], excluded
    bold = sorted((workspace.parent / "split-study" / "sub-s11").glob("ses-1/func/*_run-*_bold.nii"))
    shortest = min(nib.load(f).shape[3] for f in bold)
    assert len(bold) == 2 and shortest < 30
    assert f"30 regressors for {shortest} scans" in excluded["reason"].iloc[0]
    analysed = pd.read_csv(out / "connectivity.tsv", sep="\t")["participant_id"].unique()
    assert sorted(analysed) == ["sub-s37", "sub-s48", "sub-s74", "sub-s85"]
    html = (workspace / "_build/html/build/notebooks/03_connectivity.html").read_text()
    text = re.sub(r"<[^>]+>", "", html)
    assert "Denoising design of sub-s37" in text
    why = f"(ValueError: regress_and_filter: 30 regressors for {shortest} scans leave no degrees of freedom)"
    assert f"sub-s11 cannot serve as the worked example {why}" in text
    data = re.sub(r"<[^>]+>", "", (workspace / "_build/html/build/notebooks/00_data.html").read_text())
    assert "sub-s11" in data
