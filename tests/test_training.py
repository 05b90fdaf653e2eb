"""Tests of the training-study twin and its analysis (helpers.training).

Hand-worked identities (the three-way mixed ANOVA from contrast scores, direct OLS = nilearn's
GLM, noise-free effects recovered exactly) and planted ground truth on a small twin: 10 + 10
participants, 4 mm grid, 6 clips per type, a stronger training effect than the chapter's
(training 2.5 % instead of 0.7 %, empathy 1.5 % instead of 0.5 %: a small twin has little power,
and whole-brain FDR needs strong voxel-wise effects) — recovered when planted, absent in the null
twin with the same seed.
"""

from __future__ import annotations

import re

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.training import behaviour, design, glm, pipeline, rois

SMALL = {
    "groups": {"compassion": 10, "memory": 10},
    "task": {"clips_per_type": 6},
    "bold": {"training_pct": 2.5, "empathy_pct": 1.5},
}
SEED = 7


# --- design -------------------------------------------------------------------------------------


def test_config_null_removes_every_training_effect_and_nothing_else():
    cfg, null = design.load_config(), design.load_config(null=True)
    assert cfg["bold"]["training_pct"] == 0.7 and null["bold"]["training_pct"] == 0.0
    assert cfg["ratings"]["training"]["distress"]["positive_affect"] == 2.0
    assert all(v == 0.0 for video in null["ratings"]["training"].values() for v in video.values())
    assert null["bold"]["empathy_pct"] == cfg["bold"]["empathy_pct"]
    assert null["ratings"]["habituation"] == cfg["ratings"]["habituation"]
    assert cfg["groups"] == {"compassion": 28, "memory": 30}


def test_every_config_value_is_marked_with_its_source():
    text = (design.resources.files("helpers.training") / "config.yaml").read_text()
    values = [ln for ln in text.splitlines() if re.match(r"^\s*\w+: *[^ #]", ln)]
    assert len(values) > 50
    unmarked = [ln for ln in values if not any(t in ln for t in ("[abstract]", "[secondary]", "[assumed]"))]
    assert unmarked == []


def test_bad_config_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="groups.memory must be an integer >= 2"):
        design.load_config({"groups": {"memory": 1}})
    with pytest.raises(ValueError, match="task.tr must be a multiple of 0.5"):
        design.load_config({"task": {"tr": 2.2}})


def test_events_follow_the_task_design():
    cfg = design.load_config()
    ev = design.events(cfg, np.random.default_rng(0))
    clips = ev[ev["trial_type"] != "rating"]
    assert clips["trial_type"].value_counts().to_dict() == {"distress": 12, "everyday": 12}
    assert ev["onset"].iloc[0] == 6.0
    # every clip is followed by its rating period, then a 2-4 s interval
    assert (ev["trial_type"].iloc[1::2] == "rating").all()
    assert (ev["clip"].iloc[1::2].to_numpy() == clips["clip"].to_numpy()).all()
    gaps = ev["onset"].iloc[2::2].to_numpy() - (ev["onset"].iloc[1:-1:2] + 9.0).to_numpy()
    assert gaps.min() >= 2.0 - 0.01 and gaps.max() <= 4.0 + 0.01
    kinds = (clips["trial_type"] == "distress").to_numpy().astype(int)
    longest = max(
        len(run) for run in "".join(map(str, kinds)).replace("01", "0 1").replace("10", "1 0").split()
    )
    assert longest <= 2


def test_vta_sphere_and_subcortical_labels():
    shape, affine = (20, 22, 18), np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-20.0, -38.0, -30.0]
    target = nib.Nifti1Image(np.zeros(shape, np.uint8), affine)
    mask = rois.roi_mask("vta", {"sphere": [0.0, -16.0, -14.0], "radius": 2.0}, target)
    # centre voxel (10, 11, 8) — unequal indices, so a swapped axis would miss it — and its 6 face neighbours
    assert mask.shape == shape and mask.sum() == 7 and mask[10, 11, 8]
    assert mask[9, 11, 8] and mask[10, 12, 8] and mask[10, 11, 7]
    _, labels = rois.harvard_oxford_subcortical()
    assert {"Left_Putamen", "Right_Pallidum"} <= set(labels)
    with pytest.raises(ValueError, match="ROI 'x': give 'sphere'"):
        rois.roi_mask("x", {"radius": 3}, target)


# --- behaviour ----------------------------------------------------------------------------------


def _cells(rng, n=(7, 9)):
    rows = []
    for g, k in zip(("compassion", "memory"), n):
        for i in range(k):
            for s in ("pre", "post"):
                for v in ("distress", "everyday"):
                    rows.append(
                        {
                            "participant_id": f"{g}{i}",
                            "group": g,
                            "session": s,
                            "video": v,
                            "positive_affect": rng.normal(
                                3 + (g == "compassion") * (s == "post") * (1 + (v == "distress")), 1
                            ),
                        }
                    )
    return pd.DataFrame(rows)


def test_three_way_anova_equals_two_sample_t_of_contrast_scores():
    means = _cells(np.random.default_rng(3))
    table = behaviour.mixed_anova_3way(means, "positive_affect").set_index("effect")
    wide = means.pivot_table(
        index=["participant_id", "group"], columns=["session", "video"], values="positive_affect"
    )
    dd = (wide[("post", "distress")] - wide[("post", "everyday")]) - (
        wide[("pre", "distress")] - wide[("pre", "everyday")]
    )
    avg = wide["post"].mean(axis=1) - wide["pre"].mean(axis=1)
    for effect, score in (("group × session × video", dd), ("group × session", avg)):
        t = stats.ttest_ind(
            score.xs("compassion", level="group"), score.xs("memory", level="group")
        ).statistic
        assert table.loc[effect, "F"] == pytest.approx(t**2, rel=1e-9)
        assert table.loc[effect, "df2"] == 14
    # video main effect: one-sample test of the session-averaged contrast with a group-pooled error
    d = (
        wide["post"]["distress"]
        + wide["pre"]["distress"]
        - wide["post"]["everyday"]
        - wide["pre"]["everyday"]
    ) / 2
    resid = d - d.groupby(level="group").transform("mean")
    f = len(d) * d.mean() ** 2 / ((resid**2).sum() / (len(d) - 2))
    assert table.loc["video", "F"] == pytest.approx(f, rel=1e-9)
    assert list(table.index) == list(behaviour.EFFECTS)


def test_hedges_g_change_on_a_hand_worked_example():
    df = pd.DataFrame(
        {
            "participant_id": list("aabbccdd"),
            "group": ["compassion"] * 4 + ["memory"] * 4,
            "session": ["pre", "post"] * 4,
            "effect": [0, 2, 0, 4, 0, 1, 0, 0],
        }
    )
    out = behaviour.hedges_g_change(df, "effect")
    # changes 2, 4 vs 1, 0: means 3 and 0.5, pooled SD sqrt((2 + 0.5) / 2), d = 2.5 / 1.118 = 2.236,
    # Hedges' correction 1 - 3 / (4 * 4 - 9) = 0.5714 -> g = 1.278
    assert out["change_compassion"] == 3 and out["change_memory"] == 0.5
    assert out["hedges_g"] == pytest.approx(2.5 / np.sqrt(1.25) * (1 - 3 / 7), rel=1e-3)


# --- first level --------------------------------------------------------------------------------


def _run_design(cfg, rng):
    ev = design.events(cfg, rng)
    n_vol = design.n_volumes(ev, cfg["task"]["tr"])
    X = glm.design_matrix(ev, n_vol, cfg["task"]["tr"], cfg["glm"])
    return ev, X


def test_noise_free_contrast_is_recovered_exactly():
    cfg = design.load_config()
    _, X = _run_design(cfg, np.random.default_rng(1))
    beta = np.zeros((X.shape[1], 3))
    beta[list(X.columns).index("distress")] = [0.7, 0.0, 1.0]
    beta[list(X.columns).index("everyday")] = [0.2, 0.5, 1.0]
    beta[list(X.columns).index("constant")] = 100.0
    effect = glm.first_level(X.to_numpy() @ beta, X, glm.contrast_vector(X.columns))
    np.testing.assert_allclose(effect, [0.5, -0.5, 0.0], atol=1e-4)


def test_direct_ols_equals_nilearn_run_glm():
    cfg = design.load_config()
    rng = np.random.default_rng(2)
    _, X = _run_design(cfg, rng)
    y = rng.standard_normal((len(X), 50)) + 100
    w = glm.contrast_vector(X.columns)
    np.testing.assert_allclose(
        glm.first_level(y, X, w, "ols"), glm.first_level(y, X, w, "nilearn-ols"), atol=1e-5
    )
    with pytest.raises(ValueError, match="not one of"):
        glm.first_level(y, X, w, "spm")
    with pytest.raises(ValueError, match="no column 'neutral'"):
        glm.contrast_vector(X.columns, negative="neutral")


# --- the small twin: planted and null -----------------------------------------------------------


@pytest.fixture(scope="module")
def twins():
    out = {}
    for null in (False, True):
        cfg = design.load_config(SMALL, null=null)
        study = pipeline.run_study(cfg, seed=SEED, n_jobs=1)
        means = behaviour.cell_means(study.ratings, cfg["measures"])
        maps = glm.second_level_maps(study.contrasts, study.participants["group"], study.grid)
        out[null] = {
            "study": study,
            "anova": behaviour.mixed_anova_3way(means, "positive_affect").set_index("effect"),
            "rois": glm.roi_stats(
                glm.roi_values(study.contrasts, study.participants, study.grid, "training")
            ).set_index("roi"),
            "empathy": glm.roi_onesample(
                glm.roi_values(study.contrasts, study.participants, study.grid, "empathy")
            ).set_index("roi"),
            "interaction": glm.threshold_map(maps["interaction"], study.grid),
            "pre": glm.threshold_map(maps["pre"], study.grid),
        }
    return out


@pytest.mark.slow
def test_small_twin_recovers_the_planted_training_effects(twins):
    res = twins[False]
    study = res["study"]
    assert study.contrasts.shape == (20, 2, int(study.grid.mask.sum()))
    assert len(study.ratings) == 20 * 2 * 12
    # behaviour: positive affect rises after compassion training only
    assert res["anova"].loc["group × session", "p"] < 0.05
    means = behaviour.cell_means(study.ratings, ["positive_affect"])
    change = means.pivot_table(index="group", columns="session", values="positive_affect")
    assert change.loc["compassion", "post"] - change.loc["compassion", "pre"] > 1.0
    assert abs(change.loc["memory", "post"] - change.loc["memory", "pre"]) < 0.5
    # ROIs: group x session interaction, larger increase in the compassion group, in every region
    assert (res["rois"]["p"] < 0.05).all(), res["rois"]
    assert (res["rois"]["change_compassion"] > res["rois"]["change_memory"] + 0.3).all()
    # whole brain: voxels survive FDR, and the peak lies in a training ROI
    thr_img, thr, n = res["interaction"]
    assert n > 0 and np.isfinite(thr)
    z = np.asarray(thr_img.dataobj)[study.grid.mask]
    union = np.any(list(study.grid.roi_index("training").values()), axis=0)
    assert union[np.argmax(z)]
    # before training, distress clips engage anterior insula and aMCC (both groups)
    assert (res["empathy"]["p"] < 0.05).all() and (res["empathy"]["mean"] > 0).all()
    assert res["pre"][2] > 0


@pytest.mark.slow
def test_null_twin_shows_no_training_interaction(twins):
    res, planted = twins[True], twins[False]
    assert res["anova"].loc["group × session", "p"] > 0.05
    assert (res["rois"]["p_bonferroni"] > 0.05).all()
    assert res["interaction"][2] == 0 and np.isinf(res["interaction"][1])
    # same seed, same noise: the pre-training network is identical with and without training effects
    pd.testing.assert_frame_equal(res["empathy"], planted["empathy"])
    np.testing.assert_array_equal(res["study"].contrasts[:, 0], planted["study"].contrasts[:, 0])


@pytest.mark.slow
def test_results_do_not_depend_on_n_jobs():
    cfg = design.load_config({"groups": {"compassion": 2, "memory": 2}, "task": {"clips_per_type": 2}})
    one = pipeline.run_study(cfg, seed=1, n_jobs=1)
    two = pipeline.run_study(cfg, seed=1, n_jobs=2)
    np.testing.assert_array_equal(one.contrasts, two.contrasts)
    pd.testing.assert_frame_equal(one.ratings, two.ratings)


def test_assumptions_table_lists_every_value_with_its_source():
    from helpers.training import report

    table = report.assumptions_table().set_index("setting")
    assert table.loc["groups.compassion", ["value", "source"]].tolist() == ["28", "secondary"]
    assert table.loc["bold.training_pct", "value"] == "0.7"
    assert table.loc["measures", "source"] == "abstract/secondary"
    assert (table["source"] != "").all()


def test_training_stage_fingerprint_does_not_follow_the_figure_style():
    """Cached first levels are keyed by the code the stage imports; figures and styles are not in it."""
    from helpers.cache import imported_modules

    modules = imported_modules("helpers.training.pipeline")
    assert "helpers.training.glm" in modules and "helpers.training.bold" in modules
    assert not [m for m in modules if m.startswith(("helpers.style", "helpers.training.figures"))], modules


# --- the chapter's tables -----------------------------------------------------------------------


def test_display_table_prints_p_as_the_prose_does():
    """Hand-worked p values through the chapter's path (display_table -> Markdown cells, APA style).

    The old `{:.2g}` format gave .4519 -> ".45" -> ".450", .7537 -> ".750", .9957 -> "1.000" and a
    Bonferroni p of .00062 -> ".001" where the prose said "p < .001".
    """
    from helpers.mdtable import table_cells
    from helpers.style import journal_cells
    from helpers.training import report

    stats_ = pd.DataFrame(
        {
            "roi": ["mofc", "vta", "putamen"],
            "F": [0.57123, 16.8271, 3.0],
            "df1": [1, 1, 1],
            "df2": [56, 56, 56],
            "p": [0.4519, 0.000155, 0.0449],
            "p_bonferroni": [1.0, 0.00062, 0.1796],
            "np2": [0.0101, 0.23111, 0.05],
            "change_compassion": [0.36249, -0.0461, 0.1],
            "change_memory": [-0.04551, 0.0, 0.2],
            "hedges_g": [1.0634, -0.0825, 0.5],
        }
    )
    header, body = journal_cells(*table_cells(report.display_table(stats_)))
    col = {h: [row[i] for row in body] for i, h in enumerate(header)}
    assert col["p"] == [".452", "< .001", ".045"]
    assert col["p (Bonferroni)"] == ["1.000", "< .001", ".180"]
    assert col["F"] == ["0.57", "16.83", "3.00"]
    assert col["Change, compassion (% signal change)"] == ["0.362", "−0.046", "0.100"]
    assert col["Change, memory (% signal change)"] == ["−0.046", "0.000", "0.200"]
    assert col["η²p"] == [".010", ".231", ".050"]

    posthoc = pd.DataFrame({"T": [1.05], "dof": [29.0], "p_unc": [0.3039], "p_corr": [0.7537]})
    header, body = journal_cells(*table_cells(report.display_table(posthoc)))
    assert body == [["1.05", "29", ".304", ".754"]]
    empathy = pd.DataFrame({"roi": ["amcc"], "mean": [0.31951], "p": [0.9957]})
    header, body = journal_cells(*table_cells(report.display_table(empathy)))
    assert header[1] == "M (% signal change)" and body[0][1:] == ["0.320", ".996"]
