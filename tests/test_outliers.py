"""Tests for helpers.outliers: ART detection, CONN's presets, scrubbing and censoring, lost scans."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.connectivity import weighted_correlation
from helpers.denoise import HIGHPASS, conn_filter, linear_trend, regress_and_filter
from helpers.outliers import (
    PRESETS,
    OutlierRule,
    censor_denoise,
    censor_weights,
    composite_motion,
    detect_outliers,
    global_signal_z,
    lost_scans,
    outlier_exclusions,
    parse_outliers,
    read_outlier_inputs,
    record_outlier_exclusions,
    spike_regressors,
)

MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


def inputs(global_signal, motion=None):
    n = len(global_signal)
    table = pd.DataFrame(np.zeros((n, 6)) if motion is None else motion, columns=MOTION)
    table.insert(0, "global_signal", np.asarray(global_signal, dtype=float))
    table["framewise_displacement"] = 0.0
    return table


# --------------------------------------------------------------------------- presets and the parameter
def test_presets_are_conns_numbers():
    # conn_setup_preproc.m: art_global_thresholds=[9 5 3]; art_motion_thresholds=[2 .9 .5]
    assert PRESETS == {
        "liberal": {"gs_z": 9.0, "fd_mm": 2.0},
        "intermediate": {"gs_z": 5.0, "fd_mm": 0.9},
        "conservative": {"gs_z": 3.0, "fd_mm": 0.5},
    }
    assert parse_outliers("intermediate") == OutlierRule(5.0, 0.9, "scrub", "conn", "intermediate")
    assert parse_outliers({"preset": "liberal", "method": "censor"}).label == "liberal-censor"
    assert parse_outliers({"gs_z": 4, "fd_mm": 0.3, "fd": "power"}) == OutlierRule(4.0, 0.3, "scrub", "power")


@pytest.mark.parametrize("spec", ["none", None])
def test_none_means_no_rule(spec):
    assert parse_outliers(spec) is None


@pytest.mark.parametrize(
    "spec, words",
    [
        ("strict", "preset 'strict'"),
        ({"gs_z": 3}, "missing key(s) ['fd_mm']"),
        ({"gs_z": -1, "fd_mm": 1}, "'gs_z' = -1"),
        ({"preset": "liberal", "method": "drop"}, "method 'drop'"),
        ({"preset": "liberal", "gs_z": 2}, "without gs_z"),
        ({"gs_z": 3, "fd_mm": 0.5, "dvars": 2}, "unknown key(s) ['dvars']"),
        (3, "rule: 'none', a preset"),
        ({"gs_z": True, "fd_mm": 0.5}, "'gs_z' = True"),
    ],
)
def test_bad_outlier_parameter_is_named(spec, words):
    with pytest.raises(ValueError, match="parameter 'outliers'") as err:
        parse_outliers(spec)
    assert words in str(err.value)


# --------------------------------------------------------------------------- detection, worked by hand
def test_global_signal_z_worked_by_hand():
    # changes d = (0, 1, −1, 1, −1, 12, −1, 1, −1); sorted: −1 −1 −1 −1 0 1 1 1 12 → median 0;
    # MATLAB prctile (hazen): 25th at position 2.75 → −1, 75th at 7.25 → 1; σ = 0.7413·2 = 1.4826
    d = np.array([0, 1, -1, 1, -1, 12, -1, 1, -1], dtype=float)
    z = global_signal_z(100 + np.cumsum(d))
    np.testing.assert_allclose(z, d / 1.4826, atol=1e-12)


def test_global_signal_z_uses_matlabs_percentiles():
    # d = (0, 1, 2, −3, 5, −1, 4, 2, −2, 30); sorted −3 −2 −1 0 1 2 2 4 5 30: median 1.5;
    # MATLAB prctile puts the 25th and 75th percentiles at positions 3 and 8 exactly: −1 and 4 (numpy's
    # default 'linear' would give −0.75 and 3.5); σ = 0.7413·5; the first scan's z is 0
    d = np.array([0, 1, 2, -3, 5, -1, 4, 2, -2, 30], dtype=float)
    z = global_signal_z(np.cumsum(d))
    np.testing.assert_allclose(z, np.r_[0, (d[1:] - 1.5) / (0.7413 * 5)], atol=1e-12)


def test_global_signal_z_with_zero_iqr_uses_one():
    z = global_signal_z([5, 5, 5, 9, 5, 5, 5, 5])  # d = 0 0 0 4 −4 0 0 0: IQR 0 → σ = 1 (ART)
    np.testing.assert_allclose(z, [0, 0, 0, 4, -4, 0, 0, 0])


@pytest.mark.parametrize(
    "preset, flagged", [("conservative", [4, 5]), ("intermediate", [4, 5]), ("liberal", [])]
)
def test_global_signal_spike_flags_the_scan_and_the_one_before(preset, flagged):
    d = np.array([0, 1, -1, 1, -1, 12, -1, 1, -1], dtype=float)  # z at scan 5 = 8.09
    found = detect_outliers(inputs(100 + np.cumsum(d)), parse_outliers(preset))
    assert np.flatnonzero(found["outlier"]).tolist() == flagged
    assert set(found.loc[found["outlier"], "reason"]) <= {"global signal"}


def test_composite_motion_worked_by_hand():
    motion = np.zeros((6, 6))
    motion[3:, 0] = 1.0  # 1 mm along x from scan 3: every control point moves 1 mm
    motion[5, 3] = 0.01  # pitch 0.01 rad at scan 5: the −y face centre (110 mm from the x axis)
    e = composite_motion(motion)
    np.testing.assert_allclose(e, [0, 0, 0, 1.0, 0, 2 * 110 * math.sin(0.005)], atol=1e-12)
    roll = np.zeros((2, 6))
    roll[1, 4] = 0.02  # roll about y: the +z face centre at 75 mm is the farthest
    np.testing.assert_allclose(composite_motion(roll)[1], 2 * 75 * math.sin(0.01), atol=1e-12)


def test_detection_by_motion_and_by_global_signal():
    motion = np.zeros((8, 6))
    motion[3:, 0] = 1.0  # 1.0 mm at scan 3 (> 0.9 intermediate, < 2 liberal)
    gs = np.r_[np.zeros(6), 40.0, 0.0] + np.arange(8) * 0.1  # a big change at 6 and back at 7
    found = detect_outliers(inputs(gs, motion), parse_outliers("intermediate"))
    assert np.flatnonzero(found["outlier"]).tolist() == [2, 3, 5, 6, 7]
    assert found["reason"].tolist()[2:4] == ["motion", "motion"]
    assert found.loc[6, "reason"] == "global signal"
    assert not detect_outliers(inputs(np.arange(8.0), motion), parse_outliers("liberal"))["outlier"].any()


def test_power_fd_uses_the_confounds_column():
    table = inputs(np.arange(6.0))
    table["framewise_displacement"] = [0, 0.1, 0.6, 0.1, 0.1, 0.1]
    found = detect_outliers(table, parse_outliers({"preset": "conservative", "fd": "power"}))
    assert np.flatnonzero(found["outlier"]).tolist() == [1, 2]


def test_read_outlier_inputs_from_fmriprep_confounds(tmp_path):
    path = tmp_path / "sub-07_task-x_desc-confounds_timeseries.tsv"
    table = inputs([10.0, 11, 12]).assign(csf=1.0)
    table = table[["csf", "framewise_displacement", *MOTION, "global_signal"]].astype(object)  # another order
    table.loc[0, "framewise_displacement"] = "n/a"
    table.to_csv(path, sep="\t", index=False)
    values = read_outlier_inputs(path, 3, "sub-07")
    assert values["framewise_displacement"].tolist() == [0.0, 0.0, 0.0]
    assert values["global_signal"].tolist() == [10.0, 11.0, 12.0]
    table.loc[2, "rot_y"] = "n/a"
    table.to_csv(path, sep="\t", index=False)
    with pytest.raises(ValueError, match=r"sub-07, column rot_y, row 2"):
        read_outlier_inputs(path, 3, "sub-07")
    table.drop(columns="global_signal").to_csv(path, sep="\t", index=False)
    with pytest.raises(ValueError, match=r"sub-07: missing column\(s\) \['global_signal'\]"):
        read_outlier_inputs(path, 3, "sub-07")
    inputs([1.0, 2.0]).to_csv(path, sep="\t", index=False)
    with pytest.raises(ValueError, match="2 rows but the BOLD image has 3"):
        read_outlier_inputs(path, 3)


def test_art_global_signal_and_the_fallback_for_confounds_without_it(tmp_path):
    import nibabel as nib

    data = np.zeros((3, 4, 2, 5))  # unequal axes; background 0
    brain = np.zeros((3, 4, 2), bool)
    brain[1:, 1:3, :] = True  # 8 voxels
    data[brain] = 100.0 + np.arange(5)  # brain voxels: 100, 101, … per scan
    data[0, 0, 0] = 1000.0  # one bright voxel in every scan: inside the mask too
    data[2, 2, 1, 3] = 1.0  # a brain voxel dark in scan 3 (< mean/8): leaves the mask
    mask = brain.copy()
    mask[0, 0, 0], mask[2, 2, 1] = True, False
    g = data[mask].mean(axis=0)  # 7 brain voxels and the bright one
    from helpers.outliers import art_global_signal

    np.testing.assert_allclose(art_global_signal(data), g, atol=1e-12)
    bold = tmp_path / "sub-01_bold.nii.gz"
    nib.save(nib.Nifti1Image(data.astype(np.float32), np.eye(4)), bold)
    confounds = tmp_path / "sub-01_desc-confounds_timeseries.tsv"
    inputs(np.zeros(5)).drop(columns="global_signal").to_csv(confounds, sep="\t", index=False)
    global_signal = read_outlier_inputs(confounds, 5, "sub-01", bold=bold)["global_signal"]
    np.testing.assert_allclose(global_signal, g, rtol=1e-6)
    with pytest.raises(ValueError, match="keeps 0 of 24 voxels"):
        art_global_signal(np.zeros((3, 4, 2, 5)))


# --------------------------------------------------------------------------- scrubbing: a planted spike
def _pair(seed=3, n=120):
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=n)
    x, y = shared + rng.normal(size=n), shared + rng.normal(size=n)  # true r ≈ 0.5
    confounds = rng.normal(size=(n, 4))
    weights = 1 + 0.5 * np.sin(np.arange(n) / 7.0)
    return np.column_stack([x, y]), confounds, weights


def _r(series, weights):
    return weighted_correlation(series[:, 0], series[:, 1], weights)


def test_scrubbing_removes_a_planted_spike_from_r():
    data, confounds, w = _pair()
    tr, s = 3.0, 60
    clean_r = _r(regress_and_filter(data, confounds, tr), w)
    spiked = data.copy()
    spiked[s] += 40.0  # one scan, both ROIs (and the global signal)
    spiked_r = _r(regress_and_filter(spiked, confounds, tr), w)
    assert spiked_r - clean_r > 0.2  # the spike inflates r

    gs = spiked.mean(axis=1) + 0.01 * np.sin(np.arange(len(w)))
    found = detect_outliers(inputs(gs), parse_outliers("intermediate"))
    assert np.flatnonzero(found["outlier"]).tolist() == [s - 1, s, s + 1]  # up at s, down at s+1
    design = np.column_stack([confounds, spike_regressors(found["outlier"]).to_numpy()])
    scrubbed_r = _r(regress_and_filter(spiked, design, tr), w)
    scrubbed_clean_r = _r(regress_and_filter(data, design, tr), w)
    assert scrubbed_r == pytest.approx(scrubbed_clean_r, abs=1e-12)  # the spike's value no longer matters
    # r is back near the spike-free r: over 90 % of the inflation (≈ 0.4) is gone; the rest (0.025) is the
    # three scans the regressors take out, spike or not (the equality above)
    assert abs(scrubbed_r - clean_r) < 0.1 * (spiked_r - clean_r)
    assert abs(scrubbed_r - clean_r) < 0.03


def test_spike_regressors():
    spikes = spike_regressors([False, True, False, True])
    assert spikes.columns.tolist() == ["outlier_scan_0001", "outlier_scan_0003"]
    np.testing.assert_array_equal(spikes.to_numpy(), [[0, 0], [1, 0], [0, 0], [0, 1]])
    assert spike_regressors([False, False]).shape == (2, 0)


# --------------------------------------------------------------------------- censoring
def test_censoring_equals_nilearn_sample_mask_without_filter():
    from nilearn.signal import clean

    data, confounds, _ = _pair(n=80)
    keep = np.ones(80, bool)
    keep[[0, 10, 11, 40, 79]] = False  # both ends and an inner pair
    ours = censor_denoise(data, confounds, keep, 3.0, band=(0, math.inf))
    design = np.column_stack([np.ones(80), confounds, linear_trend(80)])  # CONN's design, given to nilearn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # nilearn's advice to detrend: our design has the trend
        theirs = clean(
            data,
            confounds=design,
            detrend=False,
            standardize=None,
            standardize_confounds=False,
            filter=False,
            sample_mask=keep,
            t_r=3.0,
        )
    np.testing.assert_allclose(ours[keep], theirs, atol=1e-10)
    assert np.all(ours[~keep] == 0)


def test_censoring_without_censored_scans_is_conns_denoising():
    data, confounds, _ = _pair(n=80)
    np.testing.assert_allclose(
        censor_denoise(data, confounds, np.ones(80, bool), 3.0),
        regress_and_filter(data, confounds, 3.0),
        atol=1e-12,
    )


def test_censored_scans_are_filled_by_a_cubic_spline_before_the_filter():
    # y a cubic in time: its residual on [1, trend] fitted on the kept scans is again a cubic, which the
    # not-a-knot spline reproduces exactly; so the result equals the filter of the full residual.
    n, tr = 64, 2.0
    t = np.arange(n) * tr
    y = (1e-5 * (t - 40) ** 3 - 2e-3 * t**2 + 0.3 * t)[:, None]
    keep = np.ones(n, bool)
    keep[[5, 6, 30, 50]] = False
    design = np.column_stack([np.ones(n), linear_trend(n)])
    beta = np.linalg.lstsq(design[keep], y[keep], rcond=None)[0]
    expected = conn_filter(y - design @ beta, tr, HIGHPASS)
    np.testing.assert_allclose(censor_denoise(y, None, keep, tr)[keep], expected[keep], atol=1e-9)


def test_censored_values_do_not_matter_and_weights_drop_them():
    data, confounds, w = _pair(n=80)
    keep = np.ones(80, bool)
    keep[[20, 21, 79]] = False
    other = data.copy()
    other[[20, 21, 79]] = 1e3
    np.testing.assert_allclose(
        censor_denoise(other, confounds, keep, 3.0), censor_denoise(data, confounds, keep, 3.0), atol=1e-9
    )
    weights = censor_weights(pd.DataFrame({"a": w}), keep)
    assert (weights["a"][~keep] == 0).all() and (weights["a"][keep] == w[keep]).all()


def test_censoring_needs_degrees_of_freedom():
    with pytest.raises(ValueError, match="4 regressors for 3 kept scans"):
        censor_denoise(np.arange(6.0), np.ones((6, 2)) * np.arange(6)[:, None], [1, 1, 0, 0, 0, 1], 2.0)


# ------------------------------------------------------------------ what is lost, and who is excluded
def test_lost_scans_and_the_exclusion_rule(tmp_path):
    run1 = pd.DataFrame({"negative": [0, 1, 1, 1, 0, 0], "neutral": [0, 0, 0, 0.5, 1, 1]})
    run2 = pd.DataFrame({"negative": [1, 1, 0, 0], "neutral": [0, 0, 1, 1]})
    out1 = [False, True, True, False, False, False]  # two negative scans of run 1
    out2 = [True, False, False, False]  # one negative scan of run 2
    rule = parse_outliers({"preset": "intermediate", "method": "censor"})
    lost = lost_scans("sub-01", [out1, out2], [run1, run2], rule)
    assert lost[["measure", "outliers", "condition", "n_scans", "n_lost"]].values.tolist() == [
        ["all", "intermediate-censor", "negative", 5, 3],
        ["all", "intermediate-censor", "neutral", 5, 0],
    ]
    assert lost["fraction_lost"].tolist() == [0.6, 0.0]
    other = lost_scans("sub-02", [[False] * 6, [False] * 4], [run1, run2], rule)
    branch = lost_scans("sub-02", [[True] * 6, [False] * 4], [run1, run2], rule, measure="censoring")
    table = pd.concat([lost, other, branch])

    rows = outlier_exclusions(table, max_outlier_fraction=0.5)
    assert rows[["participant_id", "stage"]].values.tolist() == [
        ["sub-01", "outliers"],
        ["sub-02", "outliers/censoring"],
    ]
    assert "3 of 5 scans of condition negative (60%) > 0.5" in rows["reason"].iloc[0]
    assert outlier_exclusions(table, max_outlier_fraction=0.8).empty
    with pytest.raises(ValueError, match="max_outlier_fraction"):
        outlier_exclusions(table, 1.5)

    # through the single exclusion mechanism: exclusions.tsv, read by exclusions.apply
    from helpers.exclusions import apply, read_exclusions
    from helpers.layout import outputs

    record_outlier_exclusions(tmp_path, table, 0.5)
    assert pd.read_csv(outputs(tmp_path).outlier_scans, sep="\t")["n_lost"].tolist() == [3, 0, 0, 0, 3, 3]
    recorded = read_exclusions(outputs(tmp_path).exclusions)
    assert recorded["stage"].tolist() == ["outliers", "outliers/censoring"]
    scores = pd.DataFrame({"participant_id": ["sub-01", "sub-02"], "scs": [3.0, 4.0]})
    conn = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02", "sub-02"],
            "measure": ["weighted_hrf"] * 2 + ["censoring"],
            "z": [0.1, 0.2, 0.3],
        }
    )
    kept_scores, kept_conn, left_out = apply(scores, conn, recorded)
    assert kept_scores["participant_id"].tolist() == ["sub-02"]
    assert kept_conn["measure"].tolist() == ["weighted_hrf"]  # sub-02 keeps the main measure only
    assert left_out["stage"].tolist() == ["outliers"]
    record_outlier_exclusions(tmp_path, None, 0.5)  # no choice: the rows and the table go away
    assert read_exclusions(outputs(tmp_path).exclusions).empty
    assert not outputs(tmp_path).outlier_scans.exists()


def test_outliers_parameter_in_the_schema(tmp_path):
    from helpers.params import load_params_file, validate_params

    path = tmp_path / "p.yml"
    path.write_text("outliers: {gs_z: 4, fd_mm: 0.7, method: censor}\nmax_outlier_fraction: 0.25\n")
    params = load_params_file(path)
    assert parse_outliers(params["outliers"]) == OutlierRule(4.0, 0.7, "censor")
    with pytest.raises(
        ValueError, match=r"parameter 'outliers' = 'strict' is not an outlier choice \(preset 'strict'"
    ):
        validate_params({"outliers": "strict"})
    with pytest.raises(TypeError, match="parameter 'outliers' = 3 has type int"):
        validate_params({"outliers": 3})
    with pytest.raises(ValueError, match="parameter 'max_outlier_fraction' = 1.5 is out of range"):
        validate_params({"max_outlier_fraction": 1.5})


def test_robustness_sentence_on_the_outlier_branches(tmp_path):
    from helpers.robustness import outlier_sentence

    assert "no pipeline of the curve removes outlier scans" in outlier_sentence(tmp_path)
    w = pd.DataFrame({"negative": [0, 1, 1, 1, 0, 0], "neutral": [0, 0, 0, 0.5, 1, 1]})
    scrub, censor = (
        parse_outliers("intermediate"),
        parse_outliers({"preset": "intermediate", "method": "censor"}),
    )
    rows = [
        lost_scans(p, [flags], [w], rule, measure)
        for p, flags in (("sub-01", [0, 1, 0, 0, 0, 0]), ("sub-02", [0] * 6))
        for rule, measure in ((scrub, "scrubbing"), (censor, "censoring"))
    ]
    pd.concat(rows).to_csv(tmp_path / "outlier_scans.tsv", sep="\t", index=False)
    # sub-01 loses 1 of its 6 weighted scans, sub-02 none: mean 8.3 %, at most 16.7 %
    # (the two branches share the flags)
    flags = (
        "Outlier scans: with CONN's intermediate thresholds (global-signal z 5, motion "
        "0.9 mm) ART flags on average 8.3% of a participant's weighted scans, at most "
        "16.7% (sub-01)."
    )
    assert outlier_sentence(tmp_path) == flags + (
        " Participants left out of a branch (too few residual degrees of freedom once the scans are gone, "
        "or too many scans lost; exclusions.tsv): scrubbing 0, censoring 0."
    )
    pd.DataFrame(
        {
            "participant_id": ["sub-02", "sub-01", "sub-02"],
            "stage": ["connectivity/censoring", "outliers/censoring", "motion"],
            "reason": ["dof", "lost", "fd"],
        }
    ).to_csv(tmp_path / "exclusions.tsv", sep="\t", index=False)
    assert outlier_sentence(tmp_path).endswith("exclusions.tsv): scrubbing 0, censoring 2 (sub-01, sub-02).")


# ------------------------------------------------------------------ in the first level (the tiny twin)
CONDITIONS = ["negative", "neutral", "positive"]


def _twin_files(tiny_twin, participant="sub-01"):
    from helpers import firstlevel as fl

    return fl.find_participant_files(
        tiny_twin, tiny_twin / "derivatives" / "twin-fmriprep", participant, "feedback"
    )


@pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")
def test_none_leaves_the_design_byte_identical_and_scrubbing_adds_spikes(tiny_twin):
    from helpers.denoise import compcor_from_voxels
    from helpers.firstlevel.signals import denoising_design
    from helpers.firstlevel.signals import load_runs as _load_runs

    run = _load_runs(_twin_files(tiny_twin), CONDITIONS, None)[0]
    plain = denoising_design(run.motion, run.effects, run.wm, run.csf, spikes=run.spikes)
    assert run.design(None).to_numpy().tobytes() == plain.to_numpy().tobytes()
    assert list(run.design(None).columns) == list(plain.columns)
    censor = parse_outliers({"preset": "intermediate", "method": "censor"})
    assert run.design(censor) is run.design(None)  # censoring drops scans, not columns

    scrub = parse_outliers("intermediate")
    flagged = np.flatnonzero(run.outliers(scrub))
    assert flagged.size > 0  # the twin's motion gives some
    scrubbed = run.design(scrub)
    spikes = scrubbed[[c for c in scrubbed.columns if c.startswith("outlier_scan_")]]
    assert [int(c.rsplit("_", 1)[1]) for c in spikes.columns] == flagged.tolist()
    np.testing.assert_array_equal(spikes.to_numpy()[flagged, np.arange(flagged.size)], 1.0)
    assert spikes.to_numpy().sum() == flagged.size
    same = [c for c in plain.columns if not c.startswith(("wm_", "csf_"))]
    assert scrubbed[same].to_numpy().tobytes() == plain[same].to_numpy().tobytes()
    # CompCor sees the spikes as first-level covariates (CONN): its components change
    covariates = np.column_stack([run.motion, run.effects, spikes])
    expected = compcor_from_voxels(run.wm, confounds=covariates, prefix="wm_")
    np.testing.assert_allclose(scrubbed[expected.columns], expected, atol=1e-10)


@pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")
def test_run_connectivity_with_outliers_counts_and_excludes_through_exclusions(tiny_twin, tmp_path):
    from helpers import firstlevel as fl
    from helpers.exclusions import read_exclusions

    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    spec = {"preset": "intermediate", "method": "censor"}
    result, _ = fl.run_connectivity(
        tiny_twin,
        deriv,
        tmp_path,
        measures=("weighted_hrf", "scrubbing"),
        outliers=spec,
        max_outlier_fraction=0.0,
        progress=False,
        backend="serial",
    )
    lost = pd.read_csv(tmp_path / "outlier_scans.tsv", sep="\t")
    assert sorted(set(lost["measure"])) == ["all", "scrubbing"]
    # the counts are the flagged scans with weight > 0, per condition (worked out from the primitives)
    files = _twin_files(tiny_twin)
    inputs = read_outlier_inputs(files.confounds, 60, "sub-01")
    flags = detect_outliers(inputs, parse_outliers(spec))["outlier"].to_numpy()
    from helpers.connectivity import condition_weights

    events = fl.read_events(files.events, CONDITIONS)
    weights = condition_weights(events, 60, files.tr, "hrf", conditions=CONDITIONS)
    mine = lost.query("participant_id == 'sub-01' and measure == 'all'").set_index("condition")
    assert mine["n_lost"].to_dict() == {c: int(((weights[c] > 0) & flags).sum()) for c in CONDITIONS}
    assert mine["n_scans"].to_dict() == {c: int((weights[c] > 0).sum()) for c in CONDITIONS}
    # max_outlier_fraction = 0: everyone who lost a weighted scan is out, through exclusions.tsv
    rows = read_exclusions(tmp_path / "exclusions.tsv")
    losers = sorted(lost.loc[(lost["measure"] == "all") & (lost["n_lost"] > 0), "participant_id"].unique())
    assert rows.loc[rows["stage"] == "outliers", "participant_id"].tolist() == losers
    branch = sorted(
        lost.loc[(lost["measure"] == "scrubbing") & (lost["n_lost"] > 0), "participant_id"].unique()
    )
    assert rows.loc[rows["stage"] == "outliers/scrubbing", "participant_id"].tolist() == branch
    # the censored main measure differs from the plain one where scans were censored
    plain, _ = fl.run_connectivity(tiny_twin, deriv, tmp_path / "plain", progress=False, backend="serial")
    assert not (tmp_path / "plain" / "outlier_scans.tsv").exists()
    key = ["participant_id", "condition", "source", "target"]
    both = plain.merge(result[result["measure"] == "weighted_hrf"], on=key, suffixes=("", "_censored"))
    assert (both["r"] - both["r_censored"]).abs().max() > 1e-3


@pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")
def test_confounds_without_global_signal_use_the_images(tiny_twin, tmp_path):
    """Our own preprocessing writes no global_signal: ART's global signal of the BOLD image stands in."""
    import shutil

    from helpers import firstlevel as fl

    root = tmp_path / "bids"
    shutil.copytree(tiny_twin, root)
    for path in (root / "derivatives").rglob("*desc-confounds_timeseries.tsv"):
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
        table.drop(columns="global_signal").to_csv(path, sep="\t", index=False)
    motion_only = {"gs_z": math.inf, "fd_mm": 0.9}  # the global signal's source cannot change these flags
    kwargs = dict(measures=("weighted_hrf",), outliers=motion_only, progress=False, backend="serial")
    fl.run_connectivity(root, root / "derivatives" / "twin-fmriprep", tmp_path / "images", **kwargs)
    fl.run_connectivity(tiny_twin, tiny_twin / "derivatives" / "twin-fmriprep", tmp_path / "column", **kwargs)
    for name in ("connectivity.tsv", "outlier_scans.tsv"):
        assert (tmp_path / "images" / name).read_bytes() == (tmp_path / "column" / name).read_bytes()
    assert pd.read_csv(tmp_path / "images" / "outlier_scans.tsv", sep="\t")["n_lost"].sum() > 0


def test_censored_scans_give_no_degrees_of_freedom_to_their_condition():
    from types import SimpleNamespace

    from helpers.firstlevel.measures import MeasureData

    class OneRun:  # what the dof check reads of a run
        files = SimpleNamespace(participant_id="sub-01")
        roi_ts = pd.DataFrame(np.zeros((10, 2)))

        def outliers(self, rule):
            return np.r_[True, True, np.zeros(8, bool)]

    rule = parse_outliers({"preset": "intermediate", "method": "censor"})
    data = MeasureData([OneRun()], ["a"], HIGHPASS, 5.9, "censoring", outliers=rule)
    weights = data.kept()[0].astype(float)  # weight 1 on the 8 kept scans, 0 on the 2 censored ones
    # 6 residual dof of the 8 kept scans all go to condition a (8 · 6/8 = 6), not 8 · 6/10 = 4.8
    data.check_dof([pd.DataFrame({"a": weights})], [6])
    strict = MeasureData([OneRun()], ["a"], HIGHPASS, 6.1, "censoring", outliers=rule)
    with pytest.raises(ValueError, match="measure censoring: condition .a. has 6.0 effective residual"):
        strict.check_dof([pd.DataFrame({"a": weights})], [6])
