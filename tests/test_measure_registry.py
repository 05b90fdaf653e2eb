"""The measure registry: a measure registered in a test reaches the schema, the stage, the chapter's
table and the multiverse without editing any other module; the schema reads it without nibabel."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from helpers import firstlevel as fl
from helpers import params, robustness
from helpers.connectivity import condition_weights
from helpers.denoise import regress_and_filter
from helpers.firstlevel import measures

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*one-step erosion:UserWarning"
)  # the tiny twin's 6-mm CSF mask

TOY = "mean_product"
TOY_TEXT = "toy: weighted mean of the product of two denoised ROI series"


def mean_product(data: measures.MeasureData, weighting: str) -> pd.DataFrame:
    """Σ w x_s x_t / Σ w over the stacked runs' denoised series, per condition (z holds it, r = NaN)."""
    series, _ = data.denoise(lambda run: run.full)
    x = pd.concat(series, ignore_index=True).to_numpy()
    w = pd.concat(data.weights(weighting), ignore_index=True)
    rois = list(series[0].columns)
    rows = [
        (c, s, t, np.nan, float(np.sum(w[c].to_numpy() * x[:, i] * x[:, j]) / w[c].sum()))
        for c in data.conditions
        for i, s in enumerate(rois)
        for j, t in enumerate(rois)
        if i != j
    ]
    return pd.DataFrame(rows, columns=["condition", "source", "target", "r", "z"])


@pytest.fixture
def toy_measure():
    """``mean_product`` registered for one test, removed after it (even if the test fails)."""
    measures.register(TOY, TOY_TEXT, "toy", uses=("conditions", "band"), weighting="hrf")(mean_product)
    yield TOY
    measures.unregister(TOY)


def test_an_unregistered_measure_is_refused_everywhere(tiny_twin, tmp_path):
    assert TOY not in fl.MEASURES
    with pytest.raises(ValueError, match="mean_product.*is not a connectivity measure"):
        params.validate_value("measure", TOY)
    with pytest.raises(ValueError, match=r"unknown measure\(s\) \['mean_product'\]"):
        fl.run_connectivity(
            tiny_twin,
            tiny_twin / "derivatives" / "twin-fmriprep",
            tmp_path,
            measures=(TOY,),
            backend="serial",
            progress=False,
        )
    assert TOY not in set(fl.measures_table()["measure"])


def test_a_measure_registered_in_a_test_reaches_schema_stage_and_chapter(toy_measure, tiny_twin, tmp_path):
    params.validate_value("measure", TOY)  # the schema accepts it
    assert TOY in fl.MEASURES and fl.MEASURES[-1] == TOY  # the live view, in registration order
    table = fl.measures_table()
    assert table.set_index("measure").loc[TOY, ["family", "description", "settings", "uses"]].tolist() == [
        "toy",
        TOY_TEXT,
        "weighting = hrf",
        "conditions, band",
    ]
    assert robustness.describe_measure(TOY) == TOY_TEXT

    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    fl.run_connectivity(
        tiny_twin,
        deriv,
        tmp_path,
        measures=("weighted_hrf", TOY),
        backend="serial",
        progress=False,
        cache=False,
    )
    written = pd.read_csv(tmp_path / "connectivity.tsv", sep="\t")
    toy = written[written["measure"] == TOY]
    assert sorted(toy["participant_id"].unique()) == ["sub-01", "sub-02", "sub-03"]
    # contrasts are added to the new measure as to every other one
    assert {"negative", "neutral", "positive", "negative-neutral", "positive-neutral"} == set(
        toy["condition"]
    )

    # the number, recomputed by hand from the primitives for sub-01 (one run): CONN's full design,
    # RegBP high-pass, hrf weights
    files = fl.find_participant_files(tiny_twin, deriv, "sub-01")
    roi_ts, events, design = fl.participant_design(files, ["negative", "neutral", "positive"])
    x = regress_and_filter(roi_ts, design, files.tr)
    w = condition_weights(events, len(roi_ts), files.tr, "hrf")["neutral"].to_numpy()
    source, target = roi_ts.columns[:2]
    expected = np.sum(w * x[source].to_numpy() * x[target].to_numpy()) / w.sum()
    row = toy[
        (toy["participant_id"] == "sub-01")
        & (toy["condition"] == "neutral")
        & (toy["source"] == source)
        & (toy["target"] == target)
    ]
    assert row["z"].item() == pytest.approx(expected, rel=1e-5)  # the TSV keeps about 6 significant digits
    assert abs(expected) > 0


def test_a_measure_registers_once(toy_measure):
    with pytest.raises(ValueError, match="mean_product.*already registered"):
        measures.register(TOY, "again", "toy")(mean_product)


def test_builtin_measures_are_described_by_the_registry():
    assert list(fl.MEASURES) == [
        "weighted_hrf",
        "weighted_hanning",
        "weighted_none",
        "gppi_regression",
        "gppi_symmetric",
        "beta_series",
        "no_compcor",
        "bandpass",
        "nilearn_motion+wm_csf",
        "scrubbing",
        "censoring",
    ]
    assert robustness.describe_measure("weighted_hrf").startswith("the paper's")
    assert "'motion'" in robustness.describe_measure("nilearn_motion")
    assert robustness.describe_measure("custom") == "custom"
    table = fl.measures_table()
    assert table["measure"].tolist()[-3:] == ["nilearn_<strategy>", "scrubbing", "censoring"]
    assert table["description"].str.len().min() > 20


def test_the_schema_reads_the_registry_without_nibabel_or_nilearn():
    code = (
        "import sys; from helpers import params; params.validate_value('measure', 'beta_series'); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('nibabel', 'nilearn')); "
        "assert not loaded, loaded; assert 'helpers.firstlevel.measures' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_name_of_the_package_resolves_to_its_module():
    """The package loads its modules lazily: every exported name must reach its definition."""
    import helpers.connectivity
    from helpers.firstlevel import signals, stage

    for name in fl.__all__:
        assert getattr(fl, name) is not None, name
    assert fl.condition_weights is helpers.connectivity.condition_weights  # the chapter uses it via fl
    assert fl.run_connectivity is stage.run_connectivity and fl._ROI_CACHE is signals._ROI_CACHE
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        fl.nothing  # noqa: B018
