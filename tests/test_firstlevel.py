"""Tests for helpers.firstlevel: design, contrasts, beta series, file lookup, the twin end to end."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import firstlevel as fl
from helpers.connectivity import condition_effects

# the tiny twin's 6-mm CSF mask does not survive CONN's erosion: the un-eroded mask is used, with a warning
pytestmark = pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")


def _events(n_per=10, dur=11.0, seed=0):
    rng = np.random.default_rng(seed)
    kinds = np.array(["negative", "neutral", "positive"] * n_per)
    rng.shuffle(kinds)
    return pd.DataFrame({"onset": np.arange(kinds.size) * dur, "duration": dur, "trial_type": kinds})


def test_denoising_design_columns_match_conn():
    n, tr = 120, 3.0
    rng = np.random.default_rng(0)
    ev = _events()
    effects = condition_effects(ev, n, tr)
    motion = pd.DataFrame(rng.normal(size=(n, 6)), columns=fl.MOTION_COLUMNS)
    wm, csf = 500 + rng.normal(size=(n, 50)), 900 + rng.normal(size=(n, 40))
    design = fl.denoising_design(motion, effects, wm, csf)
    # CONN.md §4: WM 5 + CSF 5 + motion 6 + d motion 6 + 3 effects + 3 d effects (+ constant, trend later)
    assert design.shape == (n, 28)
    assert list(design.columns[:10]) == [
        f"{t}_{c}" for t in ("wm", "csf") for c in ("mean", "pc1", "pc2", "pc3", "pc4")
    ]
    assert "rot_z_derivative1" in design and "effect_negative_derivative1" in design
    np.testing.assert_array_equal(design["effect_neutral"], effects["neutral"])
    # the PCs are orthogonal to the covariates CONN removes before the PCA
    covariates = np.column_stack([motion, effects])
    beta = np.linalg.lstsq(np.column_stack([np.ones(n), covariates]), design["wm_pc1"], rcond=None)[0]
    assert np.abs(beta[1:]).max() < 1e-8
    assert fl.denoising_design(motion, effects).shape == (n, 18)  # CompCor off
    with pytest.raises(ValueError, match="mismatched"):
        fl.denoising_design(motion.iloc[:-1], effects)


def test_add_contrasts_are_differences_of_z():
    table = pd.DataFrame(
        {
            "participant_id": "sub-01",
            "measure": "weighted_hrf",
            "condition": ["negative", "neutral", "positive"],
            "source": "vmpfc",
            "target": "amygdala_r",
            "r": [0.5, 0.2, 0.1],
            "z": [0.55, 0.2, 0.1],
        }
    )
    out = fl.add_contrasts(table).set_index("condition")
    assert out.loc["negative-neutral", "z"] == pytest.approx(0.35)
    assert out.loc["positive-neutral", "z"] == pytest.approx(-0.1)
    assert np.isnan(out.loc["negative-neutral", "r"])
    assert len(fl.add_contrasts(table, contrasts=[("negative", "missing")])) == 3


def test_beta_series_recovers_planted_trial_covariation():
    n, tr = 200, 3.0
    ev = _events(n_per=15, dur=13.0, seed=1)
    rng = np.random.default_rng(2)
    single = condition_effects(ev.assign(trial_type=[f"{i:03d}" for i in range(len(ev))]), n, tr).to_numpy()
    shared = rng.normal(size=len(ev))
    neg = (ev["trial_type"] == "negative").to_numpy()
    amp_a = 1 + shared
    amp_b = 1 + np.where(neg, shared, rng.normal(size=len(ev)))  # coupled only on negative trials
    ts = pd.DataFrame({"a": single @ amp_a, "b": single @ amp_b}) + 0.01 * rng.normal(size=(n, 2))
    out = fl.beta_series(ts, ev, tr, band=(0.0, np.inf)).set_index(["condition", "source", "target"])
    assert out.loc[("negative", "a", "b"), "r"] > 0.98
    assert abs(out.loc[("neutral", "a", "b"), "r"]) < 0.7
    assert out.loc[("negative", "a", "b"), "z"] == pytest.approx(
        np.arctanh(out.loc[("negative", "a", "b"), "r"])
    )


def test_read_events_and_motion_validation(tmp_path):
    ev_path = tmp_path / "sub-01_task-feedback_events.tsv"
    _events().assign(trial_type=lambda d: d["trial_type"].replace("positive", "rest")).to_csv(
        ev_path, sep="\t", index=False
    )
    with pytest.raises(ValueError, match="no events of condition"):
        fl.read_events(ev_path, ["negative", "positive"])
    assert set(fl.read_events(ev_path, ["negative", "neutral"])["trial_type"]) == {"negative", "neutral"}
    conf = tmp_path / "conf.tsv"
    table = pd.DataFrame(np.zeros((10, 6)), columns=fl.MOTION_COLUMNS)
    table.to_csv(conf, sep="\t", index=False)
    with pytest.raises(
        ValueError, match="conf.tsv: participant sub-05: 10 rows but .* 12 volumes .*mismatched"
    ):
        fl.read_motion(conf, 12, participant="sub-05")
    table.loc[3, "rot_y"] = np.nan
    table.to_csv(conf, sep="\t", index=False, na_rep="n/a")
    with pytest.raises(ValueError, match="participant sub-05, column rot_y, row 3"):
        fl.read_motion(conf, 10, participant="sub-05")
    named = tmp_path / "sub-07_task-feedback_desc-confounds_timeseries.tsv"  # participant from the BIDS name
    table.drop(columns="trans_z").to_csv(named, sep="\t", index=False)
    with pytest.raises(
        ValueError, match=r"participant sub-07: missing realignment column\(s\) \['trans_z'\]"
    ):
        fl.read_motion(named, 10)


def test_read_confounds_of_a_wide_fmriprep_table(tmp_path):
    """fMRIPrep writes n/a in the first row of derivative and FD columns and hundreds of columns; the six
    realignment parameters and the non-steady-state spikes are read, the spikes enter the design."""
    n = 12
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(n, 6)), columns=fl.MOTION_COLUMNS)
    for col in ["framewise_displacement", *[f"{c}_derivative1" for c in fl.MOTION_COLUMNS]]:
        table[col] = rng.normal(size=n)
        table.loc[0, col] = np.nan
    wide = pd.DataFrame(rng.normal(size=(n, 150)), columns=[f"a_comp_cor_{i:02d}" for i in range(150)])
    spikes = pd.DataFrame(
        np.eye(n)[:, :2], columns=["non_steady_state_outlier_00", "non_steady_state_outlier_01"]
    )
    table = pd.concat([table, wide, spikes], axis=1)
    path = tmp_path / "sub-03_task-feedback_desc-confounds_timeseries.tsv"
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")
    motion, spikes = fl.read_confounds(path, n)
    np.testing.assert_allclose(motion.to_numpy(), table[list(fl.MOTION_COLUMNS)].to_numpy())
    assert list(spikes.columns) == ["non_steady_state_outlier_00", "non_steady_state_outlier_01"]
    effects = condition_effects(_events(n_per=1, dur=5.0), n, 3.0)
    design = fl.denoising_design(motion, effects, spikes=spikes)
    assert design.shape == (n, 18 + 2) and design.columns[-1] == "non_steady_state_outlier_01"
    table.loc[3, "non_steady_state_outlier_01"] = 2
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")
    with pytest.raises(
        ValueError, match="participant sub-03, column non_steady_state_outlier_01: values other than 0 and 1"
    ):
        fl.read_confounds(path, n)


def test_read_events_records_its_file_for_later_errors(tmp_path):
    path = tmp_path / "sub-01_task-feedback_events.tsv"
    _events().to_csv(path, sep="\t", index=False)
    events = fl.read_events(path, ["negative", "neutral", "positive"])
    assert events.attrs["source"] == str(path)
    assert len(events) == 30
    with pytest.raises(
        ValueError, match=r"sub-01_task-feedback_events.tsv: column onset, row \d+: .*beyond the scan"
    ):
        condition_effects(events, n_scans=20, tr=3.0)  # the run ends at 60 s, the events at 330 s


def _touch(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_find_participant_files_fmriprep_layout(tmp_path):
    bids, deriv = tmp_path / "bids", tmp_path / "fmriprep"
    sub, stem = "sub-07", "sub-07_ses-1_task-feedback_run-1"
    func = deriv / sub / "ses-1" / "func"
    bold = _touch(func / f"{stem}_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz")
    _touch(
        func / f"{stem}_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.json",
        json.dumps({"RepetitionTime": 2.5}),
    )
    _touch(func / f"{stem}_space-T1w_desc-preproc_bold.nii.gz")  # another space: ignored
    _touch(func / f"{stem}_desc-confounds_timeseries.tsv")
    for t in ("WM", "CSF", "GM"):
        _touch(deriv / sub / "anat" / f"sub-07_space-MNI152NLin2009cAsym_res-2_label-{t}_probseg.nii.gz")
    _touch(bids / sub / "ses-1" / "func" / f"{stem}_events.tsv")
    _touch(bids / sub / "ses-1" / "func" / f"{stem}_bold.nii.gz")
    files = fl.find_participant_files(bids, deriv, "07")
    assert files.bold == bold and files.tr == 2.5 and files.participant_id == "sub-07"
    assert files.wm.name.endswith("label-WM_probseg.nii.gz")
    # a second resolution makes the choice ambiguous: clear error naming both
    _touch(func / f"{stem}_space-MNI152NLin2009cAsym_res-3_desc-preproc_bold.nii.gz")
    with pytest.raises(ValueError, match=r"2 res- values \(2, 3\); choose one with the parameter res"):
        fl.find_participant_files(bids, deriv, "sub-07")
    with pytest.raises(FileNotFoundError, match="sub-08"):
        fl.find_participant_files(bids, deriv, "sub-08")


def test_unknown_measure_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown measure"):
        fl.run_connectivity(tmp_path, tmp_path, tmp_path, measures=["pearson"])


# --------------------------------------------------------------------------- tiny twin, end to end
def _deriv(root):
    return root / "derivatives" / "twin-fmriprep"


@pytest.fixture(scope="module")
def twin_result(tiny_twin, tmp_path_factory):
    out = tmp_path_factory.mktemp("conn")
    result, excluded = fl.run_connectivity(tiny_twin, _deriv(tiny_twin), out, progress=False)
    return out, result, excluded


def test_connectivity_table_on_the_tiny_twin(tiny_twin, twin_result):
    out, result, excluded = twin_result
    assert excluded.empty
    written = pd.read_csv(out / "connectivity.tsv", sep="\t")
    assert list(written.columns) == ["participant_id", "measure", "condition", "source", "target", "r", "z"]
    ids = fl.list_participants(tiny_twin, _deriv(tiny_twin))
    assert sorted(written["participant_id"].unique()) == ids
    # 5 conditions (3 + 2 contrasts) × 6 ordered pairs of the 3 ROIs, per participant
    assert len(written) == len(ids) * 5 * 6
    assert set(written["source"]) == {"vmpfc", "amygdala_l", "amygdala_r"}
    plain = written[~written["condition"].str.contains("-")]
    np.testing.assert_allclose(plain["z"], np.arctanh(plain["r"]), rtol=1e-6)
    key = ["participant_id", "source", "target"]
    z = written.pivot_table(index=key, columns="condition", values="z")
    np.testing.assert_allclose(z["negative-neutral"], z["negative"] - z["neutral"], atol=1e-6)
    assert written.loc[written["condition"].str.contains("-"), "r"].isna().all()
    assert pd.read_csv(out / "exclusions.tsv", sep="\t").empty


def test_bold_is_read_once_per_participant(tiny_twin, monkeypatch):
    import nibabel.arrayproxy

    reads = []
    original = nibabel.arrayproxy.ArrayProxy.get_unscaled
    monkeypatch.setattr(
        nibabel.arrayproxy.ArrayProxy,
        "get_unscaled",
        lambda self: reads.append(self.file_like) or original(self),
    )
    files = fl.find_participant_files(tiny_twin, _deriv(tiny_twin), "sub-01")
    fl.participant_connectivity(files)
    assert [str(r) for r in reads] == [str(files.bold)]


def test_every_measure_runs_and_the_default_matches_the_parts(tiny_twin):
    files = fl.find_participant_files(tiny_twin, _deriv(tiny_twin), "sub-02")
    table = fl.participant_connectivity(files, measures=fl.MEASURES)
    assert set(table["measure"]) == set(fl.MEASURES)
    assert np.isfinite(table["z"]).all()
    # the default measure equals the public building blocks chained by hand
    roi_ts, events, design = fl.participant_design(files, ["negative", "neutral", "positive"])
    from helpers.connectivity import condition_weights, roi_to_roi
    from helpers.denoise import regress_and_filter

    manual = roi_to_roi(
        regress_and_filter(roi_ts, design, files.tr), condition_weights(events, len(roi_ts), files.tr)
    )
    ours = table[(table["measure"] == "weighted_hrf") & ~table["condition"].str.contains("-")]
    np.testing.assert_allclose(ours["z"].to_numpy(), manual["z"].to_numpy(), atol=1e-12)


def test_missing_file_is_an_explicit_exclusion(tiny_twin, tmp_path):
    import shutil

    root = tmp_path / "twin"
    shutil.copytree(tiny_twin, root)
    next((_deriv(root) / "sub-03").rglob("*desc-confounds_timeseries.tsv")).unlink()
    out = tmp_path / "out"
    out.mkdir()
    pd.DataFrame({"participant_id": ["sub-09"], "stage": ["questionnaire"], "reason": ["x"]}).to_csv(
        out / "exclusions.tsv", sep="\t", index=False
    )
    result, excluded = fl.run_connectivity(root, _deriv(root), out, progress=False, n_jobs=2, on_error="skip")
    assert sorted(result["participant_id"].unique()) == ["sub-01", "sub-02"]
    assert excluded["participant_id"].tolist() == ["sub-03"]
    assert excluded["reason"].iloc[0].startswith("FileNotFoundError: sub-03: no confounds file")
    table = pd.read_csv(out / "exclusions.tsv", sep="\t")
    assert set(table["stage"]) == {"connectivity", "questionnaire"}  # other stages' rows are kept


def _broken_roi_twin(tiny_twin, tmp_path, sub="sub-02"):
    """A copy of the tiny twin whose ``sub``'s BOLD is 0 in the vmPFC (an ROI outside the brain)."""
    import shutil

    import nibabel as nib

    from helpers.atlas import roi_masks

    root = tmp_path / "twin"
    shutil.copytree(tiny_twin, root)
    bold = fl.find_participant_files(root, _deriv(root), sub).bold
    img = nib.load(bold)
    data = np.asanyarray(img.dataobj).astype(np.float32)
    data[np.asanyarray(roi_masks(img)["vmpfc"].dataobj).astype(bool)] = 0
    nib.save(nib.Nifti1Image(data, img.affine), bold)
    return root


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_on_error_stop_raises_naming_the_participant(tiny_twin, tmp_path, backend):
    from helpers.execution import ParticipantError

    root = _broken_roi_twin(tiny_twin, tmp_path)
    out = tmp_path / "out"
    with pytest.raises(ParticipantError) as info:
        fl.run_connectivity(root, _deriv(root), out, progress=False, backend=backend, n_jobs=2)
    assert info.value.participant == "sub-02"
    message = str(info.value)
    assert message.startswith("participant sub-02: ValueError: ")
    assert "ROI 'vmpfc' lies outside the brain" in message and 'on_error = "skip"' in message
    assert (
        not (out / "connectivity.tsv").exists() and not (out / "exclusions.tsv").exists()
    )  # nothing partial


def test_on_error_skip_records_the_failure_and_continues(tiny_twin, tmp_path):
    root = _broken_roi_twin(tiny_twin, tmp_path)
    out = tmp_path / "out"
    result, excluded = fl.run_connectivity(
        root, _deriv(root), out, progress=False, backend="serial", on_error="skip"
    )
    assert sorted(result["participant_id"].unique()) == ["sub-01", "sub-03"]
    table = pd.read_csv(out / "exclusions.tsv", sep="\t")
    assert table[["participant_id", "stage"]].values.tolist() == [["sub-02", "connectivity"]]
    assert table["reason"].iloc[0].startswith("ValueError: ")
    assert "participant sub-02: ROI 'vmpfc' lies outside the brain" in table["reason"].iloc[0]
    with pytest.raises(ValueError, match="on_error must be one of"):
        fl.run_connectivity(root, _deriv(root), out, on_error="ignore")


def test_stop_after_a_cached_skip_still_stops(tiny_twin, tmp_path):
    """A participant excluded by an earlier "skip" run (cached) stops a "stop" run before any work."""
    from helpers.execution import ParticipantError

    root = _broken_roi_twin(tiny_twin, tmp_path)
    run = dict(progress=False, backend="serial", cache=True, cache_dir=tmp_path / "cache")
    fl.run_connectivity(root, _deriv(root), tmp_path / "a", on_error="skip", **run)
    with pytest.raises(ParticipantError, match="participant sub-02: ValueError: .*outside the brain"):
        fl.run_connectivity(root, _deriv(root), tmp_path / "b", **run)
