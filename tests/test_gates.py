"""Registration QC gates (helpers.preprocess.gates): hand-made scores, the exclusion policy, the hard
twin's planted problems, and a deliberately broken coregistration."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from helpers.preprocess import gates, qc_scores
from helpers.preprocess.gate_yardstick import misregistration_scores
from helpers.preprocess.pipeline import derivative_paths, run_preprocessing
from helpers.simulate.space import rigid_matrix

#: Light settings for the 6 mm tiny twin (as tests/test_preprocess_pipeline.py).
TINY = dict(resolution=6, template_resolution=4, syn_level_iters=[10, 5])
#: The tiny twin's 6-8 mm voxels lower both similarities (well-registered: coreg_nmi 1.05-1.09, norm_r
#: 0.52-0.59; mis-oriented: 1.03 and 0.15), and its BOLD voxels are 8 mm thick: its own thresholds.
TINY_GATES = dict(max_voxel_mm=None, min_coreg_nmi=1.04, min_norm_r=0.4)
SUBS = [f"sub-0{i}" for i in range(1, 6)]


def _scores(**changes):
    base = {
        "participant_id": ["sub-01", "sub-02"],
        "coreg_nmi": [1.3, 1.3],
        "norm_r": [0.8, 0.8],
        "brain_cover_vmpfc": [1.0, 1.0],
        "signal_cover_vmpfc": [0.95, 0.95],
        "mean_fd": [0.1, 0.1],
        "bold_voxel_mm": [4.0, 4.0],
    }
    for key, (i, value) in changes.items():
        base[key][i] = value
    return pd.DataFrame(base)


def test_nmi_is_two_for_identical_and_near_one_for_independent_samples():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200_000)
    assert qc_scores.nmi(a, a) == pytest.approx(2.0)
    assert qc_scores.nmi(a, rng.normal(size=a.size)) == pytest.approx(1.0, abs=0.01)
    assert qc_scores.nmi(a, -a) == pytest.approx(2.0)  # any one-to-one relation, not only a linear one


def test_a_failed_gate_flags_and_warns_with_participant_score_and_threshold():
    with pytest.warns(UserWarning, match=r"participant sub-02: coreg_nmi 1\.030 < 1\.05") as record:
        table = gates.evaluate(_scores(coreg_nmi=(1, 1.03)))
    assert len(record) == 1
    assert table["flagged"].tolist() == [False, True]
    assert table.loc[1, "reasons"].startswith("coreg_nmi 1.030 < 1.05")
    with pytest.warns(UserWarning, match=r"sub-01: signal_cover_vmpfc 0\.500 < 0\.7"):
        gates.evaluate(_scores(signal_cover_vmpfc=(0, 0.5)))
    with pytest.warns(UserWarning, match=r"sub-01: mean_fd 0\.800 > 0\.5"):
        gates.evaluate(_scores(mean_fd=(0, 0.8)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not gates.evaluate(_scores(coreg_nmi=(1, 1.03)), min_coreg_nmi=None)[
            "flagged"
        ].any()  # gate off
    with pytest.raises(ValueError, match="min_nmi"):
        gates.evaluate(_scores(), min_nmi=1.1)


def test_a_negative_structural_template_correlation_says_the_contrast_looks_reversed():
    reversed_contrast = r"sub-02: norm_r -0\.200 < 0\.6 .*contrast is the template's reversed"
    with pytest.warns(UserWarning, match=reversed_contrast):
        table = gates.evaluate(_scores(norm_r=(1, -0.2)))
    assert "named _T1w" in table.loc[1, "reasons"]
    with pytest.warns(UserWarning) as record:  # low but positive: a poor registration, no such hint
        gates.evaluate(_scores(norm_r=(1, 0.2)))
    assert [str(w.message) for w in record] == [
        "registration QC: participant sub-02: norm_r 0.200 < 0.6 "
        "(structural-template correlation after normalisation)"
    ]


def test_policy_exclude_records_flagged_participants_and_report_records_none(tmp_path):
    pd.DataFrame(
        {"participant_id": ["sub-07"], "stage": ["connectivity"], "reason": ["no ROI signal"]}
    ).to_csv(tmp_path / "exclusions.tsv", sep="\t", index=False)
    with pytest.warns(UserWarning):
        table = gates.evaluate(_scores(norm_r=(0, 0.2)))
    rows = gates.apply_policy(table, tmp_path, "exclude")
    assert rows["participant_id"].tolist() == ["sub-01"] and rows["stage"].tolist() == ["preprocessing/qc"]
    written = pd.read_csv(tmp_path / "exclusions.tsv", sep="\t")
    assert sorted(written["participant_id"]) == ["sub-01", "sub-07"]  # the other stage's row is kept
    assert "norm_r 0.200 < 0.6" in written.set_index("participant_id").loc["sub-01", "reason"]
    assert gates.apply_policy(table, tmp_path, "report").empty
    assert pd.read_csv(tmp_path / "exclusions.tsv", sep="\t")["participant_id"].tolist() == ["sub-07"]
    with pytest.raises(ValueError, match="qc_policy 'drop'"):
        gates.apply_policy(table, tmp_path, "drop")


@pytest.fixture(scope="module")
def hard_preprocessed(hard_twin, tmp_path_factory):
    out = tmp_path_factory.mktemp("hard") / "derivatives"
    run_preprocessing(hard_twin, out, participants=SUBS, progress=False, backend="serial", **TINY)
    return out


@pytest.mark.slow
def test_hard_twin_planted_problems_are_flagged_and_nobody_else(hard_twin, hard_preprocessed):
    with pytest.warns(UserWarning) as record:
        table = gates.registration_qc(hard_twin, hard_preprocessed, SUBS, resolution=6, **TINY_GATES)
    table = table.set_index("participant_id")
    assert table.index[table["flagged"]].tolist() == ["sub-02", "sub-03", "sub-04"]
    assert "signal_cover_vmpfc" in table.loc["sub-02", "reasons"]  # dropout over the VMPFC
    assert "mean_fd" in table.loc["sub-03", "reasons"]  # a restless participant
    assert "coreg_nmi" in table.loc["sub-04", "reasons"]  # structural with a mis-set orientation
    named = [str(w.message) for w in record if "registration QC" in str(w.message)]
    assert named and all(any(s in m for s in ("sub-02", "sub-03", "sub-04")) for m in named)
    on_disk = pd.read_csv(hard_preprocessed / "registration_qc.tsv", sep="\t")
    assert on_disk["flagged"].tolist() == table["flagged"].tolist()


@pytest.mark.slow
def test_a_coregistration_30_degrees_off_is_caught_by_name_and_score(hard_twin, hard_preprocessed, tmp_path):
    broken = tmp_path / "derivatives"
    shutil.copytree(hard_preprocessed / "sub-01", broken / "sub-01")
    path = derivative_paths(broken, "sub-01", "feedback", 6)["coreg_xfm"]
    coreg = np.loadtxt(path)
    np.savetxt(path, rigid_matrix([0, 0, 0, np.deg2rad(30), 0, 0]) @ coreg)
    good = gates.participant_scores(hard_twin, hard_preprocessed, "sub-01", resolution=6)
    bad = gates.participant_scores(hard_twin, broken, "sub-01", resolution=6)
    assert good["coreg_nmi"] >= TINY_GATES["min_coreg_nmi"] > bad["coreg_nmi"]
    # the chapter's yardstick breaks the same registration the same way, without writing a copy
    yardstick = misregistration_scores(hard_twin, hard_preprocessed, "sub-01", resolution=6)
    assert yardstick["coreg_nmi"] == good["coreg_nmi"] and yardstick["coreg_nmi_broken"] == bad["coreg_nmi"]
    assert yardstick["norm_r"] == good["norm_r"] >= TINY_GATES["min_norm_r"] > yardstick["norm_r_broken"]
    with pytest.warns(UserWarning, match=rf"participant sub-01: coreg_nmi {bad['coreg_nmi']:.3f} < 1\.04"):
        table = gates.evaluate(pd.DataFrame([bad]), **TINY_GATES)
    assert table["flagged"].all()


@pytest.mark.slow
def test_registration_qc_in_worker_processes_gives_the_serial_table(hard_twin, hard_preprocessed, tmp_path):
    tables = {}
    for backend, n_jobs in (("serial", 1), ("processes", 2)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the planted problems' warnings (tested above)
            tables[backend] = gates.registration_qc(
                hard_twin,
                hard_preprocessed,
                SUBS,
                resolution=6,
                path=tmp_path / f"{backend}.tsv",
                n_jobs=n_jobs,
                backend=backend,
                **TINY_GATES,
            )
    pd.testing.assert_frame_equal(tables["serial"], tables["processes"], check_exact=True)
    assert (tmp_path / "serial.tsv").read_bytes() == (tmp_path / "processes.tsv").read_bytes()
    assert tables["serial"]["participant_id"].tolist() == SUBS  # input order, whoever finished first


def test_yardstick_sentence_puts_the_broken_scores_beside_the_thresholds():
    from helpers.preprocess.gate_yardstick import yardstick_sentence

    scores = dict(coreg_nmi=1.0973, coreg_nmi_broken=1.0067, norm_r=0.7930, norm_r_broken=0.2588)
    text = yardstick_sentence("sub-07", {**scores, "degrees": 30.0, "shift_mm": 10.0}, 1.05, 0.6)
    assert text == (
        "For scale: sub-07's EPI–structural NMI of 1.097 falls to 1.007 when its coregistration is turned "
        "30°, and its structural–template correlation of .793 falls to .259 when its normalised structural "
        "is moved 10 mm forward; the gates ask for at least 1.050 (`qc_min_coreg_nmi`) and .600 "
        "(`qc_min_norm_r`)."
    )
    start = text[: text.index("; the gates")]
    assert yardstick_sentence("sub-07", {**scores, "degrees": 30.0, "shift_mm": 10.0}, None, 0.6) == (
        start + "; the gates ask for at least .600 (`qc_min_norm_r`) (`qc_min_coreg_nmi` is off)."
    )
    assert yardstick_sentence("sub-07", {**scores, "degrees": 30.0, "shift_mm": 10.0}, None, None).endswith(
        "; both gates are off (`qc_min_coreg_nmi` and `qc_min_norm_r` are None)."
    )
    # a normalisation that is already wrong (the tiny twin at 3 mm: r = −.25) can score higher once moved
    poor = {**scores, "norm_r": -0.25, "norm_r_broken": 0.049, "degrees": 30.0, "shift_mm": 10.0}
    assert "correlation of −.250 rises to .049 when" in yardstick_sentence("sub-s11", poor, 1.05, 0.6)
