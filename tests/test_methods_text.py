"""The pasteable methods paragraph (helpers.methods_text) follows the recorded parameters and versions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.methods_text import CITATIONS, methods_paragraph

BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"


def _records(
    folder: Path,
    alternative="directional",
    resolution=3,
    derivatives="/data/derivatives/ours",
    dipy="1.10.0",
):
    prov = folder / "provenance"
    prov.mkdir(parents=True)
    versions = {
        "python": "3.11.7",
        "helpers": "9.9.9",
        "nibabel": "5.4.2",
        "dipy": dipy,
        "nilearn": "0.14.1",
        "numpy": "2.4.6",
        "scipy": "1.17.1",
        "pandas": "3.1.1",
        "pingouin": "0.7.0",
    }
    chapters = {
        "01_questionnaire": {"total_rule": "item_mean"},
        "02_preprocessing": {"preproc_resolution": resolution, "preproc_dir": "/data/derivatives/ours"},
        "03_connectivity": {"weighting": "hanning", "derivatives_dir": derivatives},
        "04_results": {"alternative": alternative, "measure": "weighted_hrf"},
    }
    for name, params in chapters.items():
        (prov / f"{name}.json").write_text(
            json.dumps({"chapter": name, "parameters": params, "versions": versions})
        )


def test_the_paragraph_follows_parameters_and_versions(tmp_path):
    _records(tmp_path, alternative="two-sided", resolution=2.5)
    text = methods_paragraph(tmp_path)
    assert "resampled once (trilinear interpolation) to 2.5 mm isotropic" in text
    assert "two-tailed" in text and "hypothesised direction" not in text
    assert "Hanning" in text and "the mean of the 26 items" in text
    assert "helpers 9.9.9" in text and "DIPY 1.10.0" in text and "Python 3.11.7" in text
    assert "digital twin" not in text  # our own preprocessing of real data: no twin caveat
    assert "(Avants et al., 2008)" in text and "{cite" not in text


def test_a_twin_run_says_where_its_connectivity_came_from(tmp_path):
    _records(tmp_path, derivatives="build/data/twin/derivatives/twin-fmriprep")
    text = methods_paragraph(tmp_path)
    assert "one-tailed in the hypothesised direction" in text
    assert "twin-fmriprep (the digital twin's simulated derivatives)" in text


def test_the_book_form_cites_keys_of_the_bibliography(tmp_path):
    _records(tmp_path)
    text = methods_paragraph(tmp_path, form="myst")
    keys = {k for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", text) for k in group.split(",")}
    defined = set(re.findall(r"^@\w+\{([^,]+),", BIB.read_text(), re.M))
    assert keys and keys <= defined, f"cited but not in references.bib: {keys - defined}"
    assert set(CITATIONS) <= defined


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no provenance records"):
        methods_paragraph(tmp_path)
    _records(tmp_path)
    with pytest.raises(ValueError, match="form must be"):
        methods_paragraph(tmp_path, form="html")


def test_save_writes_the_plain_paragraph(tmp_path):
    from helpers.methods_text import save

    _records(tmp_path)
    path = save(tmp_path)
    assert path == tmp_path / "methods_paragraph.txt"
    assert path.read_text() == methods_paragraph(tmp_path) + "\n"


def test_our_preprocessing_names_the_template_it_really_used(tmp_path):
    _records(tmp_path)
    text = methods_paragraph(tmp_path)
    assert (
        "normalised to the MNI152 ICBM 2009a nonlinear asymmetric template distributed with nilearn" in text
    )
    assert "labelled with fMRIPrep's space name MNI152NLin2009cAsym" in text
    assert "normalised to the MNI152NLin2009cAsym template" not in text
    # CONN's denoising design (helpers.denoise.regress_and_filter): constant and linear trend too
    assert "a constant and a linear trend, then high-pass filtered" in text


def _fmriprep(folder: Path, space: str, version: str) -> Path:
    """A minimal fMRIPrep-23 layout (one run; sidecar TR; tissue maps in anat/) in another space."""
    deriv = folder / "fmriprep"
    func, anat = deriv / "sub-01" / "func", deriv / "sub-01" / "anat"
    func.mkdir(parents=True)
    anat.mkdir(parents=True)
    (deriv / "dataset_description.json").write_text(
        json.dumps(
            {
                "Name": "x",
                "DatasetType": "derivative",
                "GeneratedBy": [{"Name": "fMRIPrep", "Version": version}],
            }
        )
    )
    stem = f"sub-01_task-feedback_space-{space}_res-2"
    (func / f"{stem}_desc-preproc_bold.nii.gz").write_bytes(b"")
    (func / f"{stem}_desc-preproc_bold.json").write_text(json.dumps({"RepetitionTime": 3.0}))
    (func / "sub-01_task-feedback_desc-confounds_timeseries.tsv").write_text("trans_x\n0\n")
    for label in ("WM", "CSF"):
        (anat / f"sub-01_space-{space}_res-2_label-{label}_probseg.nii.gz").write_bytes(b"")
    return deriv


def test_users_fmriprep_derivatives_are_described_as_they_are(tmp_path):
    deriv = _fmriprep(tmp_path, "MNI152NLin6Asym", "23.2.1")
    _records(tmp_path, derivatives=str(deriv))
    text = methods_paragraph(
        tmp_path
    )  # whether or not our preprocessing also ran, fMRIPrep's fed connectivity
    assert (
        "The functional images had been preprocessed with fMRIPrep 23.2.1 (derivatives in fmriprep); "
        "connectivity was computed from its preprocessed images in its MNI152NLin6Asym output space"
    ) in text
    assert "ICBM 2009a" not in text and "realigned" not in text and "digital twin" not in text


def test_a_twin_run_without_our_preprocessing_says_so(tmp_path):
    _records(tmp_path, derivatives="build/data/twin/derivatives/twin-fmriprep")
    rec = tmp_path / "provenance" / "02_preprocessing.json"
    record = json.loads(rec.read_text())
    record["parameters"]["run_preprocessing"] = False
    rec.write_text(json.dumps(record))
    text = methods_paragraph(tmp_path)
    assert "the book's own preprocessing did not run" in text and "realigned" not in text
