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
    derivatives="/data/derivatives/fmriprep",
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
        "02_preprocessing": {"preproc_resolution": resolution},
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
    assert "resampled once to 2.5 mm isotropic" in text
    assert "two-tailed" in text and "hypothesised direction" not in text
    assert "Hanning" in text and "the mean of the 26 items" in text
    assert "helpers 9.9.9" in text and "DIPY 1.10.0" in text and "Python 3.11.7" in text
    assert "digital twin" not in text  # real derivatives: no twin caveat
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
