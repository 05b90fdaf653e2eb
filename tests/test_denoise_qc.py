"""Denoising QC (helpers.denoise_qc): hand-worked QC-FC and permutation p, planted motion–coupling
association in a twin variant, before/after on a planted shared motion signal, degrees of freedom."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_CONFIG, TINY_SEED

from helpers import denoise_qc as dq
from helpers.denoise import regress_and_filter
from helpers.style import format_r

N_TWIN = 10  # QC-FC is a correlation across participants: the tiny twin's 3 are too few
PLANTED = ("vmpfc", "amygdala_r", "negative")  # the edge whose planted coupling drives the variant's motion


# --------------------------------------------------------------------------- hand-worked QC-FC
def test_qc_fc_hand_worked_r_and_exact_p():
    # x = FD, y = connectivity; centred x = (-2,-1,0,1,2), centred y = (-2,-1,0,2,1):
    # Σxy = 4+1+0+2+2 = 9, Σx² = Σy² = 10 → r = 0.9.  Permuting y over the 5! = 120 orders, Σxy ≥ 9
    # for the identity and the 4 swaps of neighbouring values (Σxy = 10 − 1), ≤ −9 for their 5 mirror
    # images: exact two-sided p = 10/120 = 1/12.
    values = pd.DataFrame({"e1": [1.0, 2, 3, 5, 4]}, index=[f"sub-{i}" for i in range(1, 6)])
    fd = pd.Series([0.1, 0.2, 0.3, 0.4, 0.5], index=values.index)
    table, summary = dq.qc_fc(values, fd, n_perm=1000, seed=3)
    assert table.loc["e1", "qc_fc_r"] == pytest.approx(0.9, abs=1e-12)
    assert summary["exact"] and summary["n_perm"] == 120
    assert table.loc["e1", "p_perm"] == pytest.approx(1 / 12, abs=1e-12)
    assert summary["median_abs_qc_fc"] == pytest.approx(0.9)
    # Monte Carlo (n_perm < 5!) approaches the exact value
    mc, mc_summary = dq.qc_fc(values, fd, n_perm=100, seed=3)  # 100 < 5!: random permutations
    assert not mc_summary["exact"] and abs(mc.loc["e1", "p_perm"] - 1 / 12) < 0.06


def test_qc_fc_brute_force_two_edges():
    rng = np.random.default_rng(0)
    values = pd.DataFrame(rng.normal(size=(5, 3)), columns=["a", "b", "c"], index=list("pqrst"))
    fd = pd.Series(rng.uniform(0.1, 0.4, 5), index=values.index)
    table, summary = dq.qc_fc(values, fd, n_perm=500)

    def r(x, y):
        return np.corrcoef(x, y)[0, 1]

    x = fd.to_numpy()
    observed = np.array([r(x, values[c]) for c in values])
    perms = [np.array([r(x[list(p)], values[c]) for c in values]) for p in itertools.permutations(range(5))]
    p_edges = np.mean([np.abs(rp) >= np.abs(observed) - 1e-12 for rp in perms], axis=0)
    p_median = np.mean([np.median(np.abs(rp)) >= np.median(np.abs(observed)) - 1e-12 for rp in perms])
    np.testing.assert_allclose(table["qc_fc_r"], observed, atol=1e-12)
    np.testing.assert_allclose(table["p_perm"], p_edges, atol=1e-12)
    assert summary["p_median"] == pytest.approx(p_median)
    assert summary["pct_significant"] == pytest.approx(100 * np.mean(p_edges < 0.05))


def test_qc_fc_same_seed_same_values_and_clear_errors():
    rng = np.random.default_rng(1)
    values = pd.DataFrame(rng.normal(size=(12, 4)), index=[f"sub-{i:02d}" for i in range(12)])
    fd = pd.Series(rng.uniform(0.1, 0.4, 12), index=values.index)
    a, b, c = (dq.qc_fc(values, fd, n_perm=300, seed=s)[0] for s in (7, 7, 8))
    pd.testing.assert_frame_equal(a, b)
    assert not a["p_perm"].equals(c["p_perm"])
    holed = values.copy()
    holed.iloc[3, 2] = np.nan
    with pytest.raises(ValueError, match="participant sub-03, edge 2"):
        dq.qc_fc(holed, fd)
    with pytest.raises(ValueError, match=r"\['sub-11'\]"):
        dq.qc_fc(values.iloc[:11], fd)
    with pytest.raises(ValueError, match="at least 4"):
        dq.qc_fc(values.iloc[:3], fd.iloc[:3])
    with pytest.raises(ValueError, match="FD varies"):
        dq.qc_fc(values, fd * 0 + 0.2)


# --------------------------------------------------------------------------- before / after, dof
def test_denoising_removes_a_planted_shared_motion_signal():
    rng = np.random.default_rng(5)
    n, tr = 180, 2.0
    motion = pd.DataFrame(
        np.cumsum(rng.normal(0, 0.1, (n, 6)), axis=0),
        columns=["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"],
    )
    shared = motion.to_numpy() @ rng.normal(0, 3, 6)  # motion-driven signal in every ROI
    rois = pd.DataFrame(
        {name: shared + rng.normal(0, 0.3 * shared.std(), n) for name in ("a", "b", "c", "d")}
    )
    raw = dq.edge_correlations(rois - rois.mean())
    after = dq.edge_correlations(regress_and_filter(rois, motion, tr))
    assert len(raw) == 6 and list(raw[["source", "target"]].iloc[0]) == ["a", "b"]
    assert raw["r"].min() > 0.8  # inflated by the shared signal
    assert after["r"].abs().max() < 0.25  # the independent parts remain: r ≈ 0
    assert np.median(np.abs(after["r"])) < 0.15


def test_design_dof_counts_by_kind_and_condition_dof():
    n = 40
    rng = np.random.default_rng(2)
    cols = [
        "wm_mean",
        "wm_pc1",
        "csf_mean",
        "trans_x",
        "trans_x_derivative1",
        "rot_z",
        "effect_a",
        "effect_a_derivative1",
        "non_steady_state_outlier_00",
    ]
    design = pd.DataFrame(rng.normal(size=(n, len(cols))), columns=cols)
    weights = pd.DataFrame({"a": np.r_[np.ones(10), np.zeros(30)], "b": np.r_[np.zeros(20), np.ones(20)]})
    out = dq.design_dof(design, weights)
    assert (
        out["n_compcor_wm"],
        out["n_compcor_csf"],
        out["n_motion"],
        out["n_effects"],
        out["n_outliers"],
        out["n_constant_trend"],
    ) == (2, 1, 3, 2, 1, 2)
    assert out["n_regressors"] == 11 and out["dof"] == 40 - 11
    assert out["dof_a"] == pytest.approx(10 / 40 * 29) and out["dof_b"] == pytest.approx(20 / 40 * 29)
    # two runs add up; a collinear column is not counted in the dof
    twice = design.assign(wm_pc1=design["wm_mean"] * 2)
    both = dq.design_dof([design, twice], [weights, weights])
    assert both["n_scans"] == 80 and both["dof"] == 29 + 30 and both["n_regressors"] == 22


def test_verdict_lines_follow_thresholds():
    edges = pd.DataFrame({"participant_id": ["s1", "s2"], "r_raw": [0.8, 0.6], "r_denoised": [0.1, 0.3]})
    dof = pd.DataFrame({"participant_id": ["s1", "s2"], "dof_x": [25.0, 12.0], "dof_y": [30.0, 40.0]})
    # 10 of 100 edges at p < .05: P(X ≥ 10 | 100, .05) = .028, beyond chance
    summary = {"pct_significant": 10.0, "p_median": 0.2, "n_edges": 100, "median_abs_qc_fc": 0.3}
    out = dq.verdicts(edges, dof, summary, max_pct_significant=5, min_dof=20).set_index("score")
    assert (
        "(10) correlate with mean FD at p < 0.05, a count chance alone reaches with probability .028"
        in (out.loc["QC-FC", "text"])
    )
    assert out.loc["before/after", "value"] == pytest.approx(0.7 - 0.2)
    assert list(out["verdict"]) == ["pass", "fail", "fail"]
    assert "s2" in out.loc["degrees of freedom", "text"] and "s1" not in out.loc["degrees of freedom", "text"]
    relaxed = dq.verdicts(edges, dof, summary, max_pct_significant=10, min_dof=12).set_index("score")
    assert list(relaxed["verdict"]) == ["pass", "pass", "pass"]
    # 1 of 9 edges (11 %) is what chance gives 37 % of the time (1 − .95⁹): not a failure
    one_of_nine = {**summary, "pct_significant": 100 / 9, "n_edges": 9}
    small = dq.verdicts(edges, dof, one_of_nine, max_pct_significant=5, min_dof=12).set_index("score")
    assert small.loc["QC-FC", "verdict"] == "pass" and "probability .370" in small.loc["QC-FC", "text"]
    three_of_nine = {**summary, "pct_significant": 300 / 9, "n_edges": 9}  # P(X ≥ 3) = .008
    assert (
        dq.verdicts(edges, dof, three_of_nine, min_dof=12).set_index("score").loc["QC-FC", "verdict"]
        == "fail"
    )


# --------------------------------------------------------------------------- the planted twin variant
def _scale_motion(derivatives: Path, factors: dict[str, float]) -> None:
    """Rewrite each participant's confounds: realignment parameters, their derivatives and FD × factor
    (FD is linear in the realignment parameters, so the table stays consistent)."""
    for path in derivatives.glob("sub-*/func/*_desc-confounds_timeseries.tsv"):
        pid = path.name.split("_")[0]
        table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
        scaled = [
            c for c in table.columns if c.startswith(("trans_", "rot_")) or c == "framewise_displacement"
        ]
        table[scaled] = table[scaled] * factors[pid]
        path.unlink()  # a symlink into the plain twin: replace, never write through it
        table.to_csv(path, sep="\t", index=False, na_rep="n/a")


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """A 10-participant tiny twin, and a variant whose mean FD rises with the planted coupling of one edge."""
    from helpers import firstlevel as fl
    from helpers.exclusions import motion_table
    from helpers.simulate import simulate

    root = tmp_path_factory.mktemp("dqc")
    plain = simulate(root / "plain", participants=N_TWIN, seed=TINY_SEED, config=TINY_CONFIG)
    coupled = root / "coupled"
    shutil.copytree(plain, coupled, copy_function=os.symlink)
    truth = pd.read_csv(plain / "derivatives" / "twin-truth" / "coupling.tsv", sep="\t")
    source, target, condition = PLANTED
    z = truth.query("source == @source and target == @target and condition == @condition").set_index(
        "participant_id"
    )["z"]
    deriv = "derivatives/twin-fmriprep"
    fd = motion_table(plain / deriv, list(z.index), "feedback").set_index("participant_id")["mean_fd"]
    wanted = 0.1 + 0.3 * (z - z.min()) / (z.max() - z.min())  # mean FD monotone (linear) in planted z
    _scale_motion(coupled / deriv, (wanted / fd).to_dict())
    out = {}
    for name, bids in (("plain", plain), ("coupled", coupled)):
        fl.run_connectivity(bids, bids / deriv, root / f"out-{name}", backend="serial", progress=False)
        out[name] = (bids, root / f"out-{name}")
    out["planted_z"] = z
    return out


def _qc(twins, name, **kw):
    bids, output = twins[name]
    return dq.run_denoise_qc(
        bids, bids / "derivatives/twin-fmriprep", output, n_perm=2000, seed=1, progress=False, **kw
    )


@pytest.mark.filterwarnings("ignore:.*erosion")
def test_qc_fc_flags_motion_coupled_with_connectivity_and_not_the_plain_twin(twins):
    from helpers.exclusions import motion_table

    coupled_bids, coupled_out = twins["coupled"]
    # the rewrite changes the FD the QC reads, and not the connectivity (the regression is scale-free)
    fd = motion_table(coupled_bids / "derivatives/twin-fmriprep", list(twins["planted_z"].index), "feedback")
    assert np.corrcoef(fd["mean_fd"], twins["planted_z"])[0, 1] == pytest.approx(1.0)
    plain_c = pd.read_csv(twins["plain"][1] / "connectivity.tsv", sep="\t")
    coupled_c = pd.read_csv(coupled_out / "connectivity.tsv", sep="\t")
    np.testing.assert_allclose(plain_c["z"], coupled_c["z"], atol=1e-8)

    key = dict(zip(("source", "target", "condition"), PLANTED))
    rows = {}
    for name in ("plain", "coupled"):
        result = _qc(twins, name)
        rows[name] = result.qc_fc.query(" and ".join(f"{k} == {v!r}" for k, v in key.items())).iloc[0]
        rows[name + "_verdict"] = result.verdicts.set_index("score").loc["QC-FC", "verdict"]
        written = pd.read_csv(twins[name][1] / "qc_fc.tsv", sep="\t")
        assert len(written) == 9 and set(written["measure"]) == {"weighted_hrf"}
    assert rows["coupled"]["qc_fc_r"] > 0.6 and rows["coupled"]["p_perm"] < 0.01  # flagged
    assert abs(rows["plain"]["qc_fc_r"]) < 0.5 and rows["plain"]["p_perm"] > 0.1  # not flagged
    assert rows["coupled_verdict"] == "fail" and rows["plain_verdict"] == "pass"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*erosion")
def test_run_denoise_qc_tables_and_same_bytes(twins, tmp_path):
    bids, output = twins["plain"]
    first = _qc(twins, "plain")
    saved = {n: (output / n).read_bytes() for n in ("denoise_qc.tsv", "qc_fc.tsv", "denoise_qc_verdicts.tsv")}
    _qc(twins, "plain")
    for name, data in saved.items():
        assert (output / name).read_bytes() == data, name
    per = pd.read_csv(output / "denoise_qc.tsv", sep="\t")
    assert len(per) == N_TWIN
    # 60 volumes; 1 + trend, 12 motion, 5 + 5 CompCor, 3 × 2 effects = 30 regressors → 30 dof
    assert (per["n_scans"] == 60).all() and (per["n_regressors"] == 30).all() and (per["dof"] == 30).all()
    assert (per[["dof_negative", "dof_neutral", "dof_positive"]] < per[["dof"]].to_numpy()).all().all()
    assert (per["median_abs_r_denoised"] < per["median_abs_r_raw"]).all()
    assert len(first.edges) == 3 * N_TWIN
    qcfc = pd.read_csv(output / "qc_fc.tsv", sep="\t")
    assert (qcfc["distance_mm"] > 30).all() and (qcfc["null_low"] < 0).all() and (qcfc["null_high"] > 0).all()
    # a subset of participants (the group sample) is honoured
    part = dq.run_denoise_qc(
        bids,
        bids / "derivatives/twin-fmriprep",
        output,
        participants=[f"sub-{i:02d}" for i in range(1, 9)],
        n_perm=200,
        progress=False,
    )
    assert part.summary["n_participants"] == 8 and len(part.per_participant) == 8
    with pytest.raises(ValueError, match="sub-99"):
        dq.run_denoise_qc(
            bids, bids / "derivatives/twin-fmriprep", output, participants=["sub-99"], progress=False
        )


# --------------------------------------------------------------------------- carpet and figures
@pytest.mark.filterwarnings("ignore:.*erosion")
def test_carpet_is_z_scored_subsampled_and_seeded(tiny_twin):
    from helpers import firstlevel as fl

    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    files = fl.find_participant_files(tiny_twin, deriv, "sub-01")
    carpet = dq.carpet_data(files, max_voxels=400, seed=2, derivatives_dir=deriv)
    again = dq.carpet_data(files, max_voxels=400, seed=2, derivatives_dir=deriv)
    assert carpet["before"].shape == carpet["after"].shape and carpet["before"].shape[1] == 60
    assert 300 < carpet["before"].shape[0] <= 400  # voxels without signal are dropped
    np.testing.assert_array_equal(carpet["before"], again["before"])
    for key in ("before", "after"):
        np.testing.assert_allclose(carpet[key].mean(axis=1), 0, atol=1e-9)
        np.testing.assert_allclose(carpet[key].std(axis=1), 1, atol=1e-9)
    assert (np.diff(carpet["tissue"]) >= 0).all() and set(carpet["tissue"]) >= {0, 1}
    # without a brain mask (derivatives_dir=None) nilearn's EPI mask is used
    assert dq.carpet_data(files, max_voxels=50, seed=2)["before"].shape[0] <= 50
    fig = dq.plot_carpet(carpet)
    assert len(fig.axes) == 6


def test_distance_dependence_and_figures():
    rng = np.random.default_rng(4)
    rois = [f"r{i}" for i in range(5)]
    pairs = list(itertools.combinations(rois, 2))
    table = pd.DataFrame(
        [(s, t, c) for s, t in pairs for c in ("negative", "neutral")],
        columns=["source", "target", "condition"],
    )
    table["distance_mm"] = np.repeat(np.arange(10, 110, 10.0), 2)
    table["qc_fc_r"] = -0.004 * table["distance_mm"] + rng.normal(0, 0.01, len(table))
    table["p_perm"], table["null_low"], table["null_high"] = 0.5, -0.6, 0.6
    rho = dq.distance_dependence(table)
    assert rho < -0.9
    assert np.isnan(dq.distance_dependence(table[table["distance_mm"] < 40]))
    assert dq.plot_qc_fc_distance(table, rho).axes[0].get_title().startswith("Spearman")
    result = dq.DenoiseQC(None, None, table, {}, None, rho)
    assert dq.distance_sentence(result).endswith(
        f"Spearman ρ = {format_r(rho, 2)}."
    ) and "5 regions" in dq.distance_sentence(result)
    assert "too few" in dq.distance_sentence(dq.DenoiseQC(None, None, table[:6], {}, None, float("nan")))
    assert len(dq.plot_qc_fc(table).axes) == 1


# --------------------------------------------------------------------------- several runs, fMRIPrep layout
@pytest.mark.filterwarnings("ignore:.*erosion")
def test_two_runs_in_fmriprep_layout_count_every_run(tiny_twin, tmp_path):
    """sub-A1: run-1 = the twin's sub-01, run-2 = sub-02 without positive events and with a non-steady-state
    volume, fMRIPrep-24 names and 120 extra confound columns (tests/test_runs.py's rewriting)."""
    from test_runs import _dataset, _put, _twin_files, _wide_confounds

    from helpers import firstlevel as fl

    root = tmp_path / "bids"
    deriv = _dataset(root, ["sub-A1"])
    for run, twin_sub in (("1", "sub-01"), ("2", "sub-02")):
        f = _twin_files(tiny_twin, twin_sub)
        stem = f"sub-A1_task-feedback_run-{run}"
        _put(f["raw_bold"], root / "sub-A1" / "func" / f"{stem}_bold.nii.gz")
        events = pd.read_csv(f["events"], sep="\t")
        events = events[events["trial_type"] != "positive"] if run == "2" else events
        events.to_csv(root / "sub-A1" / "func" / f"{stem}_events.tsv", sep="\t", index=False, na_rep="n/a")
        space = "space-MNI152NLin2009cAsym_res-6"
        _put(f["bold"], deriv / "sub-A1" / "func" / f"{stem}_{space}_desc-preproc_bold.nii.gz")
        _put(f["bold_json"], deriv / "sub-A1" / "func" / f"{stem}_{space}_desc-preproc_bold.json")
        _wide_confounds(
            f["confounds"],
            deriv / "sub-A1" / "func" / f"{stem}_desc-confounds_timeseries.tsv",
            nonsteady=(0,) if run == "2" else (),
        )
    (root / "task-feedback_bold.json").write_text(_twin_files(tiny_twin, "sub-01")["raw_json"].read_text())
    for t in ("wm", "csf"):
        _put(
            _twin_files(tiny_twin, "sub-01")[t],
            deriv
            / "sub-A1"
            / "anat"
            / f"sub-A1_space-MNI152NLin2009cAsym_res-6_label-{t.upper()}_probseg.nii.gz",
        )
    files = fl.find_participant_files(root, deriv, "sub-A1")
    edges, dof = dq.participant_denoise_qc(files)
    assert len(files.runs) == 2 and len(edges) == 3
    # run 1: 30 regressors; run 2: 2 fewer effects (no positive) + 1 spike = 29; 60 scans each
    assert dof["n_scans"] == 120 and dof["n_regressors"] == 59 and dof["n_outliers"] == 1
    assert dof["n_effects"] == 6 + 4 and dof["dof"] == 120 - 59
    one = dq.participant_denoise_qc(
        fl.find_participant_files(tiny_twin, tiny_twin / "derivatives/twin-fmriprep", "sub-01")
    )[1]
    assert dof["dof_positive"] == pytest.approx(one["dof_positive"])  # positive only in run 1
    assert dof["dof_negative"] > one["dof_negative"] + 5  # negative in both runs
    assert (edges["r_denoised"].abs() < edges["r_raw"].abs()).all()


# --------------------------------------------------------------------------- distances and parcellations
def test_roi_distances_are_centroid_distances_in_mm():
    import nibabel as nib

    shape = (20, 17, 11)  # unequal grid, 2 × 3 × 4 mm voxels, shifted origin
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    affine[:3, 3] = (-20, -25, -10)
    masks = {}
    for name, (i, j, k) in {"a": (2, 3, 2), "b": (12, 3, 2), "c": (2, 13, 7)}.items():
        data = np.zeros(shape, np.uint8)
        data[i : i + 2, j : j + 2, k : k + 2] = 1  # centroid at voxel (i + .5, j + .5, k + .5)
        masks[name] = nib.Nifti1Image(data, affine)
    ref = nib.Nifti1Image(np.zeros(shape, np.float32), affine)
    d = dq.roi_distances(ref, masks).set_index(["source", "target"])["distance_mm"]
    assert d["a", "b"] == pytest.approx(10 * 2.0)  # 10 voxels along x of 2 mm
    assert d["a", "c"] == pytest.approx(np.hypot(10 * 3.0, 5 * 4.0))
    assert d["b", "c"] == pytest.approx(np.sqrt(20.0**2 + 30.0**2 + 20.0**2))


def test_parcellation_rois_checks_labels_and_leaves_out_labels_without_signal(tiny_twin):
    from helpers import parcellation

    rois, dropped = parcellation.parcellation_rois("aal", ["Precuneus_L", "Amygdala_R"])
    assert (
        rois
        == {
            "Precuneus_L": {"atlas": "aal", "label": "Precuneus_L"},
            "Amygdala_R": {"atlas": "aal", "label": "Amygdala_R"},
        }
        and dropped.empty
    )
    with pytest.raises(ValueError, match="Precuneus_X"):
        parcellation.parcellation_rois("aal", ["Precuneus_X"])
    with pytest.raises(ValueError, match="one of aal, harvard_oxford"):
        parcellation.parcellation_rois("destrieux")
    bold = next((tiny_twin / "derivatives/twin-fmriprep/sub-01/func").glob("*desc-preproc_bold.nii.gz"))
    every, left_out = parcellation.parcellation_rois("aal", reference_img=bold, min_voxels=3)
    assert len(every) + len(left_out) == 116 and len(every) > 100
    # "0 voxels", "1 voxel", "2 voxels": the noun agrees with the count
    assert all(re.match(r"(1 voxel|\d+ voxels) with signal", reason) for reason in left_out["reason"])


@pytest.mark.filterwarnings("ignore:.*erosion")
def test_run_parcellation_gives_matrices_and_a_distance_dependence(twins, tmp_path):
    from helpers import parcellation

    bids = twins["plain"][0]
    labels = [
        "Precentral_L",
        "Precentral_R",
        "Frontal_Sup_L",
        "Occipital_Mid_R",
        "Precuneus_L",
        "Temporal_Mid_L",
    ]
    connectivity, result, dropped = parcellation.run_parcellation(
        bids, bids / "derivatives/twin-fmriprep", tmp_path, "aal", labels, n_perm=200, seed=0
    )
    folder = tmp_path / "parcellation-aal"
    assert (folder / "connectivity.tsv").is_file() and (folder / "qc_fc.tsv").is_file() and dropped.empty
    assert set(connectivity["source"]) == set(labels)
    assert len(result.qc_fc) == 15 * 3 and result.qc_fc["distance_mm"].nunique() == 15
    assert -1 <= result.distance_rho <= 1  # ≥ 4 ROIs: the trend is estimated
    fig = parcellation.plot_matrices(connectivity, conditions=["negative", "neutral", "positive"])
    assert len(fig.axes) == 4  # three matrices and the colour bar
    sentence = parcellation.summary_sentence("aal", result, dropped)
    assert "aal with 6 regions (0 labels left out" in sentence and "of its 45 connection" in sentence
    assert parcellation.summary_sentence(None) == "No parcellation was requested in this run."


@pytest.mark.filterwarnings("ignore:.*erosion")
def test_too_few_participants_for_qc_fc_is_said_not_raised(twins):
    bids, output = twins["plain"]
    result = dq.run_denoise_qc(
        bids,
        bids / "derivatives/twin-fmriprep",
        output,
        participants=["sub-01", "sub-02", "sub-03"],
        progress=False,
    )
    verdict = result.verdicts.set_index("score").loc["QC-FC"]
    assert verdict["verdict"] == "not computed" and "3 participants," in verdict["text"]
    assert result.qc_fc["qc_fc_r"].isna().all() and len(result.qc_fc) == 9
    assert "not computed" in dq.qc_fc_sentence(result.summary)
    assert len(dq.plot_qc_fc(result.qc_fc).axes) == 1
    # with enough participants the sentence carries the numbers
    full = dq.qc_fc_sentence(
        {"pct_significant": 11.1, "n_edges": 9, "median_abs_qc_fc": 0.153, "p_median": 0.92}
    )
    assert full == (
        "The median |QC-FC| is .15 (permutation *p* = .920), and 11 % of the 9 connection–condition "
        "values reach *p* < .05; chance alone would give about 5 %."
    )


@pytest.mark.filterwarnings("ignore:.*erosion")
def test_qc_describes_the_outlier_rule_the_first_level_used(tiny_twin):
    """Scrubbing: the spikes of the first level's design are counted and regressed; censoring: only the kept
    scans are compared, denoised as the first level denoises them."""
    from helpers import firstlevel as fl
    from helpers.denoise import regress_and_filter
    from helpers.denoise_qc.scores import participant_denoise_qc
    from helpers.outliers import censor_denoise, parse_outliers

    files = fl.find_participant_files(tiny_twin, tiny_twin / "derivatives" / "twin-fmriprep", "sub-01")
    run = fl.load_runs(files, ["negative", "neutral", "positive"], None)[0]
    plain_edges, plain = participant_denoise_qc(files)
    scrub_edges, scrub = participant_denoise_qc(files, outliers="intermediate")
    rule = parse_outliers("intermediate")
    n_spikes = run.design(rule).shape[1] - run.full.shape[1]
    assert n_spikes > 0 and plain["n_outliers"] + n_spikes == scrub["n_outliers"]
    assert scrub["dof"] == plain["dof"] - n_spikes
    by_hand = regress_and_filter(run.roi_ts, run.design(rule), files.tr).corr()
    assert scrub_edges.iloc[0]["r_denoised"] == pytest.approx(by_hand.iloc[0, 1], abs=1e-12)
    assert scrub_edges.iloc[0]["r_denoised"] != pytest.approx(plain_edges.iloc[0]["r_denoised"], abs=1e-3)

    censor = {"gs_z": 5, "fd_mm": 0.9, "method": "censor"}
    cens_edges, _ = participant_denoise_qc(files, outliers=censor)
    keep = ~run.outliers(parse_outliers(censor))
    clean = censor_denoise(run.roi_ts.to_numpy(), run.full.to_numpy(), keep, files.tr)[keep]
    assert cens_edges.iloc[0]["r_denoised"] == pytest.approx(
        np.corrcoef(clean[:, 0], clean[:, 1])[0, 1], abs=1e-12
    )
    raw = run.roi_ts.to_numpy()[keep]
    assert cens_edges.iloc[0]["r_raw"] == pytest.approx(np.corrcoef(raw[:, 0], raw[:, 1])[0, 1], abs=1e-12)
