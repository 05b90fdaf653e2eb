"""Several runs per participant (CONN.md §7) and fMRIPrep derivatives as they really are.

Every dataset here is rewritten from the tiny twin into a layout the twin does not write: runs,
sessions, fMRIPrep 20.2 / 23 / 24 / 25 names, wide confounds with ``n/a`` first rows,
non-steady-state columns, ``MNI152NLin6Asym``, no ``res-``, tissue maps in ``ses-*/anat`` or in
percent.  The numbers are checked against the twin's own layout (byte for byte where the data are
equal) or against a hand computation from the primitives (two runs).
"""

import json
import shutil
import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from helpers import firstlevel as fl
from helpers.connectivity import condition_effects, condition_weights
from helpers.denoise import regress_and_filter

pytestmark = pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")

CONDITIONS = ["negative", "neutral", "positive"]
TASK = "feedback"
FMRIPREP = {"Name": "fMRIPrep", "Version": "24.1.1"}


def _deriv(root):
    return root / "derivatives" / "twin-fmriprep"


def _twin_files(twin, sub):
    """The twin's own files of one participant (its plain single-run layout)."""
    d = _deriv(twin) / sub
    return dict(
        bold=next((d / "func").glob("*_desc-preproc_bold.nii.gz")),
        bold_json=next((d / "func").glob("*_desc-preproc_bold.json")),
        confounds=next((d / "func").glob("*_desc-confounds_timeseries.tsv")),
        mask=next((d / "func").glob("*_desc-brain_mask.nii.gz")),
        wm=next((d / "anat").glob("*_label-WM_probseg.nii.gz")),
        csf=next((d / "anat").glob("*_label-CSF_probseg.nii.gz")),
        raw_bold=twin / sub / "func" / f"{sub}_task-{TASK}_bold.nii.gz",
        raw_json=twin / sub / "func" / f"{sub}_task-{TASK}_bold.json",
        events=twin / sub / "func" / f"{sub}_task-{TASK}_events.tsv",
    )


def _put(src, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _dataset(root, participants, generator=FMRIPREP):
    """Top-level files of a raw dataset with an fMRIPrep derivatives folder; returns the derivatives path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(json.dumps({"Name": "foreign", "BIDSVersion": "1.8.0"}))
    pd.DataFrame({"participant_id": participants}).to_csv(root / "participants.tsv", sep="\t", index=False)
    deriv = root / "derivatives" / "fmriprep"
    deriv.mkdir(parents=True, exist_ok=True)
    (deriv / "dataset_description.json").write_text(
        json.dumps(
            {
                "Name": "fMRIPrep - fMRI PREProcessing workflow",
                "BIDSVersion": "1.4.0",
                "DatasetType": "derivative",
                "GeneratedBy": [generator],
            }
        )
    )
    return deriv


def _wide_confounds(src, dest, n_extra=120, nonsteady=()):
    """fMRIPrep-like confounds: the twin's columns + ``n_extra`` others (n/a in the first row of the
    derivative-like ones, as fMRIPrep writes them) + ``non_steady_state_outlier_XX`` for ``nonsteady``."""
    table = pd.read_csv(src, sep="\t", na_values=["n/a"], keep_default_na=False)
    rng = np.random.default_rng(3)
    n = len(table)
    extra = {}
    for i in range(n_extra):
        values = rng.normal(size=n)
        if i % 2:
            values[0] = np.nan  # e.g. a_comp_cor_XX_derivative1 / std_dvars: n/a in the first row
        extra[f"a_comp_cor_{i:02d}" if i % 2 == 0 else f"c_comp_cor_{i:02d}_derivative1"] = values
    for k, volume in enumerate(nonsteady):
        spike = np.zeros(n)
        spike[volume] = 1
        extra[f"non_steady_state_outlier_{k:02d}"] = spike
    table = pd.concat([table, pd.DataFrame(extra)], axis=1)
    dest.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(dest, sep="\t", index=False, na_rep="n/a")
    return dest


def _table(bids, deriv, out, **kwargs):
    kwargs.setdefault("measures", ("weighted_hrf", "gppi_regression", "beta_series", "nilearn_motion+wm_csf"))
    result, excluded = fl.run_connectivity(bids, deriv, out, progress=False, backend="serial", **kwargs)
    assert excluded.empty, excluded
    return result


# --------------------------------------------------------------------------- one run named run-1
def test_a_single_run_named_run_1_gives_the_same_bytes(tiny_twin, tmp_path):
    """The twin with every file renamed ``…_run-1_…`` writes the same connectivity.tsv.

    Raw and derivative files are both renamed.
    """
    root = tmp_path / "run1"
    shutil.copytree(tiny_twin, root)
    for path in sorted(root.rglob(f"*_task-{TASK}_*")):
        path.rename(path.with_name(path.name.replace(f"_task-{TASK}_", f"_task-{TASK}_run-1_")))
    files = fl.find_participant_files(root, _deriv(root), "sub-01")
    assert files.label == "run-1" and files.runs == ()
    kwargs = dict(measures=fl.MEASURES, progress=False, backend="serial")
    fl.run_connectivity(tiny_twin, _deriv(tiny_twin), tmp_path / "plain", **kwargs)
    fl.run_connectivity(root, _deriv(root), tmp_path / "named", **kwargs)
    assert (tmp_path / "named" / "connectivity.tsv").read_bytes() == (
        tmp_path / "plain" / "connectivity.tsv"
    ).read_bytes()


# --------------------------------------------------------------------------- two runs, by hand
@pytest.fixture(scope="module")
def two_runs(tiny_twin, tmp_path_factory):
    """Participant ``sub-A1`` with two runs (fMRIPrep-24 names): run-1 = the twin's sub-01, run-2 = sub-02
    without its positive events (absent from that run), one anatomical reference (sub-01's)."""
    root = tmp_path_factory.mktemp("tworuns") / "bids"
    deriv = _dataset(root, ["sub-A1"])
    for run, twin_sub in (("1", "sub-01"), ("2", "sub-02")):
        f = _twin_files(tiny_twin, twin_sub)
        stem = f"sub-A1_task-{TASK}_run-{run}"
        _put(f["raw_bold"], root / "sub-A1" / "func" / f"{stem}_bold.nii.gz")
        events = pd.read_csv(f["events"], sep="\t")
        if run == "2":
            events = events[events["trial_type"] != "positive"]
        events.to_csv(root / "sub-A1" / "func" / f"{stem}_events.tsv", sep="\t", index=False, na_rep="n/a")
        space = "space-MNI152NLin2009cAsym_res-6"
        _put(f["bold"], deriv / "sub-A1" / "func" / f"{stem}_{space}_desc-preproc_bold.nii.gz")
        _put(f["bold_json"], deriv / "sub-A1" / "func" / f"{stem}_{space}_desc-preproc_bold.json")
        _wide_confounds(f["confounds"], deriv / "sub-A1" / "func" / f"{stem}_desc-confounds_timeseries.tsv")
    (root / f"task-{TASK}_bold.json").write_text(f["raw_json"].read_text())  # inherited sidecar
    f = _twin_files(tiny_twin, "sub-01")
    for t in ("wm", "csf"):
        _put(
            f[t],
            deriv
            / "sub-A1"
            / "anat"
            / f"sub-A1_space-MNI152NLin2009cAsym_res-6_label-{t.upper()}_probseg.nii.gz",
        )
    return root, deriv


def _weighted_r(x, y, w):
    """CONN.md §3 by formula: centring with w, products with w²."""
    xc = x - (w * x).sum() / w.sum()
    yc = y - (w * y).sum() / w.sum()
    return (w**2 * xc * yc).sum() / np.sqrt((w**2 * xc**2).sum() * (w**2 * yc**2).sum())


def test_two_runs_equal_a_hand_computed_concatenation(two_runs, tmp_path):
    root, deriv = two_runs
    files = fl.find_participant_files(root, deriv, "sub-A1")
    assert [r.label for r in files.all_runs] == ["run-1", "run-2"]
    result = _table(root, deriv, tmp_path / "out", measures=("weighted_hrf", "gppi_regression"))

    denoised, weights, per_run_z = [], [], []
    for run in files.all_runs:  # each run on its own: its CompCor, motion, Effects, trend, regression, filter
        roi_ts, wm, csf = fl.extract_signals(run)
        n = len(roi_ts)
        events = pd.read_csv(run.events, sep="\t")
        present = [c for c in CONDITIONS if c in set(events["trial_type"])]
        effects = condition_effects(events, n, 3.0, conditions=present).reindex(
            columns=CONDITIONS, fill_value=0.0
        )
        motion = pd.read_csv(run.confounds, sep="\t", na_values=["n/a"])[list(fl.MOTION_COLUMNS)]
        den = regress_and_filter(roi_ts, fl.denoising_design(motion, effects, wm, csf), 3.0)
        w = condition_weights(events, n, 3.0, conditions=present).reindex(columns=CONDITIONS, fill_value=0.0)
        denoised.append(den)
        weights.append(w)
        per_run_z.append(
            np.arctanh(
                _weighted_r(den["vmpfc"].to_numpy(), den["amygdala_r"].to_numpy(), w["negative"].to_numpy())
            )
        )
    assert (weights[1]["positive"] == 0).all() and (weights[0]["positive"] > 0).any()
    data, w = pd.concat(denoised, ignore_index=True), pd.concat(weights, ignore_index=True)
    assert len(data) == 120  # every scan of both runs kept

    rows = result[(result["measure"] == "weighted_hrf")].set_index(["condition", "source", "target"])
    for condition in CONDITIONS:
        for source, target in (("vmpfc", "amygdala_r"), ("amygdala_l", "vmpfc")):
            r = _weighted_r(data[source].to_numpy(), data[target].to_numpy(), w[condition].to_numpy())
            assert rows.loc[(condition, source, target), "r"] == pytest.approx(r, abs=1e-12)
            assert rows.loc[(condition, source, target), "z"] == pytest.approx(np.arctanh(r), abs=1e-12)
    # one weighted correlation over the stack, not an average of per-run values
    assert abs(rows.loc[("negative", "vmpfc", "amygdala_r"), "z"] - np.mean(per_run_z)) > 1e-3

    # gPPI on the stacked terms: one global centring, no run intercept (CONN.md §6–7)
    s, y = data["vmpfc"].to_numpy(), data["amygdala_l"].to_numpy()
    p = w.to_numpy()
    design = np.column_stack([s, p, s[:, None] * p])
    beta = np.linalg.lstsq(design - design.mean(axis=0), y - y.mean(), rcond=None)[0]
    gppi = result[result["measure"] == "gppi_regression"].set_index(["condition", "source", "target"])
    for k, condition in enumerate(CONDITIONS):
        assert gppi.loc[(condition, "vmpfc", "amygdala_l"), "z"] == pytest.approx(
            beta[4 + k], rel=1e-9, abs=1e-12
        )


def test_beta_series_concatenates_the_betas_of_the_runs():
    """Trials of a condition are pooled over runs: two copies of a run give the one run's correlation
    (corr of [b; b] = corr of b), and 2 + 2 trials pass the 3-trial rule that 2 trials fail."""
    n, tr = 120, 3.0
    rng = np.random.default_rng(5)
    kinds = np.array(["negative", "neutral"] * 6)
    events = pd.DataFrame({"onset": np.arange(12) * 25.0, "duration": 12.0, "trial_type": kinds})
    single = condition_effects(events.assign(trial_type=[f"{i:02d}" for i in range(12)]), n, tr).to_numpy()
    amp = 1 + rng.normal(size=(12, 2))
    ts = pd.DataFrame(single @ amp + 0.05 * rng.normal(size=(n, 2)), columns=["a", "b"])
    one = fl.beta_series(ts, events, tr)
    two = fl.beta_series([ts, ts], [events, events], [tr, tr])
    np.testing.assert_allclose(two["r"], one["r"], atol=1e-12)
    few = events.iloc[:4]  # 2 negative, 2 neutral
    with pytest.raises(ValueError, match="'negative' has 2 events"):
        fl.beta_series(ts, few, tr)
    assert len(fl.beta_series([ts, ts], [few, few], [tr, tr])) == 4


def test_a_condition_absent_from_every_run_names_participant_and_condition(two_runs, tmp_path):
    root, deriv = two_runs
    files = fl.find_participant_files(root, deriv, "sub-A1")
    with pytest.raises(
        ValueError, match=r"sub-A1: condition\(s\) \['anger'\] have no events in any of its 2 runs"
    ):
        fl.participant_connectivity(files, conditions=("negative", "anger"))


# --------------------------------------------------------------------------- degrees of freedom
def test_too_few_degrees_of_freedom_is_an_error_naming_participant_condition_and_dof(tiny_twin):
    # the tiny twin: 60 scans, 30 regressors → 30 residual dof;
    # sub-01's conditions have 29 weighted scans each
    files = fl.find_participant_files(tiny_twin, _deriv(tiny_twin), "sub-01")
    with pytest.raises(
        ValueError,
        match=r"sub-01, measure weighted_hrf: condition 'negative' has 14\.5 effective "
        r"residual degrees of freedom .* fewer than min_dof = 20",
    ):
        fl.participant_connectivity(files, min_dof=20)


def test_a_short_run_never_yields_a_noise_correlation(tiny_twin, tmp_path):
    """32 of 60 volumes: 2 residual dof for the whole run — pure noise would give |r| ≈ .9 — an exclusion."""
    root = tmp_path / "short"
    shutil.copytree(tiny_twin, root)
    f = _twin_files(root, "sub-02")
    img = nib.load(f["bold"])
    nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj)[..., :32], img.affine, img.header), f["bold"])
    conf = pd.read_csv(f["confounds"], sep="\t", na_values=["n/a"], keep_default_na=False).iloc[:32]
    conf.to_csv(f["confounds"], sep="\t", index=False, na_rep="n/a")
    events = pd.read_csv(f["events"], sep="\t")
    events[events["onset"] < 32 * 3.0].to_csv(f["events"], sep="\t", index=False, na_rep="n/a")
    result, excluded = fl.run_connectivity(
        root, _deriv(root), tmp_path / "out", progress=False, backend="serial", on_error="skip"
    )
    assert sorted(result["participant_id"].unique()) == ["sub-01", "sub-03"]
    assert excluded["participant_id"].tolist() == ["sub-02"]
    assert "effective residual degrees of freedom" in excluded["reason"].iloc[0]
    assert "sub-02, measure weighted_hrf: condition" in excluded["reason"].iloc[0]


# --------------------------------------------------------------------------- fMRIPrep as it is
def _fmriprep_variant(twin, root, version):
    """The twin's data under the names fMRIPrep ``version`` writes (participant ids kept)."""
    subs = ["sub-01", "sub-02"]
    deriv = _dataset(root, subs, {"Name": "fMRIPrep", "Version": version})
    for sub in subs:
        f = _twin_files(twin, sub)
        ses = "ses-1" if version.startswith(("24", "25")) else None
        run = "run-01" if version.startswith(("24", "25")) else None
        ents = "_".join(x for x in (sub, ses, f"task-{TASK}", run) if x)
        raw = root / sub / (f"{ses}/func" if ses else "func")
        _put(f["raw_bold"], raw / f"{ents}_bold.nii.gz")
        _put(f["events"], raw / f"{ents}_events.tsv")
        _put(f["raw_json"], raw / f"{ents}_bold.json")
        func = deriv / sub / (f"{ses}/func" if ses else "func")
        anat = deriv / sub / "anat"
        if version.startswith("20.2"):  # res-native: no res- entity anywhere
            space, conf, d_ents = "space-MNI152NLin2009cAsym", "timeseries", ents
        elif version.startswith("20.1"):  # the older confounds name
            space, conf, d_ents = "space-MNI152NLin2009cAsym_res-2", "regressors", ents
        elif version.startswith("23"):
            space, conf, d_ents = "space-MNI152NLin2009cAsym_res-2", "timeseries", ents
            _put(f["bold"], func / f"{ents}_desc-preproc_bold.nii.gz")  # 23.x+: native-space BOLD, no space-
            _put(f["bold"], func / f"{ents}_space-T1w_desc-preproc_bold.nii.gz")
        elif version.startswith("24"):  # sessions, run-01 in the raw data but run-1 in the derivatives
            space, conf, d_ents = "space-MNI152NLin6Asym_res-2", "timeseries", ents.replace("run-01", "run-1")
            anat = deriv / sub / ses / "anat"
        else:  # 25.x sessionwise anatomy, in percent (an FSL/FreeSurfer export)
            space, conf, d_ents = "space-MNI152NLin6Asym", "timeseries", ents
            anat = deriv / sub / ses / "anat"
        _put(f["bold"], func / f"{d_ents}_{space}_desc-preproc_bold.nii.gz")
        _put(f["bold_json"], func / f"{d_ents}_{space}_desc-preproc_bold.json")
        _put(f["mask"], func / f"{d_ents}_{space}_desc-brain_mask.nii.gz")
        _wide_confounds(f["confounds"], func / f"{d_ents}_desc-confounds_{conf}.tsv")
        a_ents = f"{sub}_{ses}" if anat.parent.name == ses else sub
        for t in ("wm", "csf"):
            dest = anat / f"{a_ents}_{space}_label-{t.upper()}_probseg.nii.gz"
            if version.startswith("25"):
                img = nib.load(f[t])
                dest.parent.mkdir(parents=True, exist_ok=True)
                nib.save(
                    nib.Nifti1Image(np.asanyarray(img.dataobj, dtype=np.float64) * 100, img.affine), dest
                )
            else:
                _put(f[t], dest)
            _put(f[t], anat / f"{a_ents}_label-{t.upper()}_probseg.nii.gz")  # T1w-space maps: never taken
    return deriv


@pytest.fixture(scope="module")
def twin_reference(tiny_twin, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    return _table(tiny_twin, _deriv(tiny_twin), out, participants=["sub-01", "sub-02"])


@pytest.mark.parametrize("version", ["20.1.3", "20.2.7", "23.2.1", "24.1.1", "25.1.4"])
def test_fmriprep_versions_give_the_twins_numbers(tiny_twin, twin_reference, tmp_path, version):
    root = tmp_path / "bids"
    deriv = _fmriprep_variant(tiny_twin, root, version)
    from helpers.layout import find_fmriprep

    assert find_fmriprep(root) == deriv
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _table(root, deriv, tmp_path / "out")
    percent = [w for w in caught if "look like percent" in str(w.message)]
    assert bool(percent) == version.startswith("25")
    keys = ["participant_id", "measure", "condition", "source", "target"]
    pd.testing.assert_frame_equal(
        result.sort_values(keys).reset_index(drop=True),
        twin_reference.sort_values(keys).reset_index(drop=True),
        check_exact=True,
    )


def test_non_steady_state_volumes_do_not_reach_the_result(tiny_twin, tmp_path):
    """Flagged volumes are spike regressors.

    Scaling them ×4 (T1 saturation) changes nothing; unflagged, it does.
    """
    results = {}
    for flagged in (True, False):
        for saturated in (True, False):
            root = tmp_path / f"{flagged}{saturated}"
            deriv = _dataset(root, ["sub-01"])
            f = _twin_files(tiny_twin, "sub-01")
            _put(f["raw_bold"], root / "sub-01" / "func" / f"sub-01_task-{TASK}_bold.nii.gz")
            _put(f["events"], root / "sub-01" / "func" / f"sub-01_task-{TASK}_events.tsv")
            func = deriv / "sub-01" / "func"
            bold = _put(
                f["bold"], func / f"sub-01_task-{TASK}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"
            )
            _put(f["bold_json"], bold.with_name(bold.name.replace(".nii.gz", ".json")))
            img = nib.load(bold)  # both versions saved as float32, so that only the two volumes differ
            data = np.asanyarray(img.dataobj).astype(np.float32)
            if saturated:
                data[..., :2] *= 4
            nib.save(nib.Nifti1Image(data, img.affine), bold)
            _wide_confounds(
                f["confounds"],
                func / f"sub-01_task-{TASK}_desc-confounds_timeseries.tsv",
                nonsteady=(0, 1) if flagged else (),
            )
            for t in ("wm", "csf"):
                _put(
                    f[t],
                    deriv
                    / "sub-01"
                    / "anat"
                    / f"sub-01_space-MNI152NLin2009cAsym_label-{t.upper()}_probseg.nii.gz",
                )
            results[flagged, saturated] = _table(
                root, deriv, tmp_path / f"out{flagged}{saturated}", measures=fl.MEASURES[:5]
            )
    np.testing.assert_allclose(results[True, True]["z"], results[True, False]["z"], atol=1e-8)
    assert np.abs(results[False, True]["z"] - results[False, False]["z"]).max() > 0.05


def test_derivative_lookup_rules(tmp_path):
    """Ambiguous spaces name the parameter; a non-MNI space is refused; ses-*/anat is found."""
    from helpers.layout import derivative_runs

    deriv = tmp_path / "d"
    func = deriv / "sub-1" / "ses-a" / "func"
    for space in ("MNI152NLin2009cAsym", "MNI152NLin6Asym"):
        for name in (f"sub-1_ses-a_task-t_space-{space}_res-2_desc-preproc_bold.nii.gz",):
            (func / name).parent.mkdir(parents=True, exist_ok=True)
            (func / name).write_bytes(b"")
        (deriv / "sub-1" / "ses-a" / "anat").mkdir(parents=True, exist_ok=True)
        for t in ("WM", "CSF"):
            (
                deriv
                / "sub-1"
                / "ses-a"
                / "anat"
                / f"sub-1_ses-a_space-{space}_res-2_label-{t}_probseg.nii.gz"
            ).write_bytes(b"")
    (func / "sub-1_ses-a_task-t_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.json").write_text(
        '{"RepetitionTime": 2}'
    )
    (func / "sub-1_ses-a_task-t_desc-confounds_timeseries.tsv").write_text("trans_x\n0\n")
    with pytest.raises(
        ValueError,
        match=r"2 space values \(MNI152NLin2009cAsym, MNI152NLin6Asym\); choose one with the parameter space",
    ):
        derivative_runs(deriv, "1", "t")
    with pytest.raises(ValueError, match="not an MNI template"):
        derivative_runs(deriv, "1", "t", space="T1w")
    (run,) = derivative_runs(deriv, "sub-1", "t", space="MNI152NLin2009cAsym")
    assert run.label == "ses-a" and run.tr == 2.0 and run.mask is None
    assert run.wm.parent.name == "anat" and run.wm.parent.parent.name == "ses-a"
    (func / "sub-1_ses-a_task-t_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.json").write_text(
        '{"RepetitionTime": 2000}'
    )
    with pytest.raises(ValueError, match="looks like milliseconds"):
        derivative_runs(deriv, "sub-1", "t", space="MNI152NLin2009cAsym")


def test_find_fmriprep_takes_fmriprep_first_and_names_ambiguity(tmp_path, tiny_twin):
    from helpers.layout import find_fmriprep

    assert find_fmriprep(tmp_path) is None  # no derivatives/ at all
    assert find_fmriprep(tiny_twin) == _deriv(tiny_twin)  # the twin's own (twin-truth holds no BOLD)
    root = tmp_path / "bids"
    for name, generator in (
        ("ours", {"Name": "helpers.preprocess"}),
        ("fmriprep", {"Name": "fMRIPrep"}),
        ("notes", {"Name": "fMRIPrep"}),
    ):
        folder = root / "derivatives" / name
        folder.mkdir(parents=True)
        (folder / "dataset_description.json").write_text(json.dumps({"GeneratedBy": [generator]}))
        if name != "notes":  # a folder without preprocessed BOLD never qualifies
            bold = (
                folder / "sub-1" / "func" / "sub-1_task-t_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"
            )
            bold.parent.mkdir(parents=True)
            bold.write_bytes(b"")
    assert find_fmriprep(root) == root / "derivatives" / "fmriprep"
    (root / "derivatives" / "fmriprep").rename(root / "derivatives" / "fmriprep-20.2")
    shutil.copytree(root / "derivatives" / "fmriprep-20.2", root / "derivatives" / "fmriprep-24")
    with pytest.raises(ValueError, match="2 derivatives folders qualify .* parameter derivatives_dir"):
        find_fmriprep(root)


def test_raw_and_derivative_repetition_times_must_agree(two_runs, tmp_path):
    root = tmp_path / "bids"
    shutil.copytree(two_runs[0], root)
    sidecar = root / f"task-{TASK}_bold.json"  # inherited by both raw runs
    sidecar.write_text(json.dumps(json.loads(sidecar.read_text()) | {"RepetitionTime": 2.0}))
    with pytest.raises(
        ValueError, match=r"sub-A1, run-1: repetition time 3 s of .* differs from the raw run's 2 s"
    ):
        fl.find_participant_files(root, root / "derivatives" / "fmriprep", "sub-A1")


def test_each_session_takes_its_own_anatomy_when_fmriprep_wrote_one_per_session(tmp_path):
    """fMRIPrep 25 ``--subject-anatomical-reference sessionwise``.

    One ses-*/anat per session; runs in BIDS order.
    """
    from helpers.layout import derivative_runs

    deriv = tmp_path / "d"
    for ses in ("b", "a"):
        for run in ("10", "2"):
            func = deriv / "sub-1" / f"ses-{ses}" / "func"
            func.mkdir(parents=True, exist_ok=True)
            stem = f"sub-1_ses-{ses}_task-t_run-{run}"
            (func / f"{stem}_space-MNI152NLin6Asym_desc-preproc_bold.nii.gz").write_bytes(b"")
            (func / f"{stem}_space-MNI152NLin6Asym_desc-preproc_bold.json").write_text(
                '{"RepetitionTime": 1.5}'
            )
            (func / f"{stem}_desc-confounds_timeseries.tsv").write_text("trans_x\n0\n")
        anat = deriv / "sub-1" / f"ses-{ses}" / "anat"
        anat.mkdir(parents=True)
        for t in ("WM", "CSF"):
            (anat / f"sub-1_ses-{ses}_space-MNI152NLin6Asym_label-{t}_probseg.nii.gz").write_bytes(b"")
    runs = derivative_runs(deriv, "sub-1", "t")
    assert [r.label for r in runs] == ["ses-a_run-2", "ses-a_run-10", "ses-b_run-2", "ses-b_run-10"]
    assert [r.wm.parent.parent.name for r in runs] == ["ses-a", "ses-a", "ses-b", "ses-b"]
    assert {r.tr for r in runs} == {1.5} and all(
        r.confounds.name.startswith(f"sub-1_{r.label.replace('_', '_task-t_')}") for r in runs
    )
