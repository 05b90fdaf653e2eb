"""Beta-series safeguards (issue 17): LSS variant, trial counts, minimum trials, outlier betas.

Planted cases: one trial with a huge response in both ROIs drives their beta-series correlation to
r ≈ 1; it must be flagged, and censoring it must bring r back near the clean value.  Trial counts are
checked against an events file read independently; the minimum-trials error names participant,
condition, count and minimum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import beta_series as bs
from helpers.connectivity import condition_effects
from helpers.firstlevel import read_events

N, TR = 240, 3.0


def _design(seed: int, per_condition: int = 8):
    """Back-to-back 11 s trials of three conditions (a wall-to-wall run) and each trial's regressor."""
    rng = np.random.default_rng(seed)
    kinds = np.array(["negative", "neutral", "positive"] * per_condition)
    rng.shuffle(kinds)
    events = pd.DataFrame({"onset": np.arange(kinds.size) * 11.0 + 2, "duration": 11.0, "trial_type": kinds})
    single = condition_effects(
        events.assign(trial_type=[f"{i:03d}" for i in range(kinds.size)]), N, TR
    ).to_numpy()
    return rng, events, single


def _fit(*args, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """beta_series rows and their per-condition trial counts."""
    table = bs.beta_series(*args, **kwargs)
    return table, bs.trial_counts(table)


def _r(table: pd.DataFrame, condition: str = "negative") -> float:
    return float(table.set_index(["condition", "source", "target"]).loc[(condition, "a", "b"), "r"])


def _planted(seed: int = 4, boost: float = 20.0):
    """Clean and planted series: amplitudes independent between ROIs, one negative trial boosted in both."""
    rng, events, single = _design(seed)
    amp = 1 + 0.5 * rng.normal(size=(len(events), 2))
    noise = 0.05 * rng.normal(size=(N, 2))
    k = int(np.flatnonzero(events["trial_type"] == "negative")[3])
    boosted = amp.copy()
    boosted[k] += boost
    clean = pd.DataFrame(single @ amp + noise, columns=["a", "b"])
    planted = pd.DataFrame(single @ boosted + noise, columns=["a", "b"])
    return events, clean, planted, k


def test_one_outlier_trial_is_flagged_and_censoring_restores_r():
    events, clean, planted, k = _planted()
    clean_table, clean_counts = _fit(clean, events, TR)
    flagged_table, flagged_counts = _fit(planted, events, TR)  # default: flag only
    censored_table, censored_counts = _fit(planted, events, TR, beta_outliers="censor")
    assert clean_counts["n_outliers"].tolist() == [0, 0, 0]
    assert abs(_r(clean_table)) < 0.7
    assert _r(flagged_table) > 0.95  # the single trial makes the correlation
    assert flagged_counts.set_index("condition").loc[
        "negative", ["n_trials", "n_outliers", "n_used"]
    ].tolist() == [8, 1, 8]
    assert censored_counts.set_index("condition").loc[
        "negative", ["n_trials", "n_outliers", "n_used"]
    ].tolist() == [8, 1, 7]
    assert abs(_r(censored_table) - _r(clean_table)) < 0.2
    # censoring = the clean data's betas of the seven other trials, with trial k on its own regressor:
    # the boost (20 × trial k's regressor) is absorbed by that regressor and leaves their betas alone
    isolate = np.arange(len(events)) == k
    betas = bs.lss_betas(clean, events, TR, isolate=isolate)
    negative = (events["trial_type"] == "negative").to_numpy()
    assert _r(censored_table) == pytest.approx(
        np.corrcoef(betas[negative & ~isolate], rowvar=False)[0, 1], abs=0.01
    )
    # back to back, the outlier also leaks into its neighbours, trials of the other conditions: their r
    # rise too when it is only flagged, and return with censoring
    for condition in ("neutral", "positive"):
        assert _r(flagged_table, condition) > _r(clean_table, condition) + 0.3
        assert _r(censored_table, condition) == pytest.approx(_r(clean_table, condition), abs=0.1)


def test_robust_z_by_hand():
    b = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [4.0, 10.0], [100.0, 11.0]])
    z = bs.robust_z(b)
    # column 1: median 3, |deviations| 2,1,0,1,97 → MAD 1; column 2: MAD 0 → ±∞ off the median
    np.testing.assert_allclose(z[:, 0], 0.6745 * np.array([-2, -1, 0, 1, 97]))
    assert z[:4, 1].tolist() == [0, 0, 0, 0] and np.isposinf(z[4, 1])


def test_min_trials_error_names_participant_condition_count_and_minimum():
    events, clean, planted, _ = _planted()
    with pytest.raises(ValueError) as err:
        bs.beta_series(clean, events, TR, min_trials=9, where="sub-05")
    assert str(err.value).startswith(
        "sub-05: beta series: condition 'negative' has 8 events entering the correlation, "
        "fewer than min_trials = 9"
    )
    with pytest.raises(
        ValueError,
        match=r"^sub-05: beta series: condition 'negative' has 7 events entering the "
        r"correlation \(1 outlier trial\(s\) of 8 censored\), fewer than min_trials = 8",
    ):
        bs.beta_series(planted, events, TR, min_trials=8, beta_outliers="censor", where="sub-05")
    assert len(bs.beta_series(clean, events, TR, min_trials=8)) == 6
    for bad in (1, 2.5, True):
        with pytest.raises(ValueError, match="min_trials must be an integer"):
            bs.beta_series(clean, events, TR, min_trials=bad)
    with pytest.raises(ValueError, match="beta_outliers must be one of"):
        bs.beta_series(clean, events, TR, beta_outliers="drop")


def test_trial_counts_equal_the_events_files_counts(tmp_path):
    """A spreadsheet-style events file (extra trial type, extra column, unsorted rows) read by the
    first level's reader: the counts reported are the file's counts of each modelled condition."""
    _, events, _ = _design(seed=2, per_condition=7)
    events = events.iloc[:-2]  # unequal counts
    written = pd.concat(
        [
            events.assign(response_time="n/a"),
            pd.DataFrame(
                {"onset": [5.0, 60.0], "duration": 2.0, "trial_type": "rating", "response_time": [1.2, 0.8]}
            ),
        ]
    ).sample(frac=1, random_state=0)
    path = tmp_path / "sub-09_task-feedback_events.tsv"
    written.to_csv(path, sep="\t", index=False)
    conditions = ["negative", "neutral", "positive"]
    read = read_events(path, conditions).sort_values("onset", ignore_index=True)
    rng = np.random.default_rng(0)
    ts = pd.DataFrame(rng.normal(size=(N, 2)), columns=["a", "b"])
    _, counts = _fit(ts, read, TR)
    from_file = pd.read_csv(path, sep="\t")["trial_type"].value_counts()
    assert counts.set_index("condition")["n_trials"].to_dict() == {c: int(from_file[c]) for c in conditions}
    assert counts["n_trials"].tolist() != [7, 7, 7]
    # two runs: counts add up
    _, two = _fit([ts, ts], [read, read], [TR, TR])
    assert (two["n_trials"] == 2 * counts["n_trials"]).all()


def test_lumped_variant_models_every_other_trial_in_one_regressor():
    """LSS "lumped" (Mumford et al. 2012) by hand for one trial; "separate" (default, Turner et al.
    2012) recovers planted trial amplitudes better when the conditions' mean responses differ."""
    rng, events, single = _design(seed=6)
    means = events["trial_type"].map({"negative": 3.0, "neutral": 0.0, "positive": -2.0}).to_numpy()
    deviation = rng.normal(size=len(events))
    ts = pd.DataFrame({"a": single @ (means + deviation) + 0.3 * rng.normal(size=N)})
    ts["b"] = rng.normal(size=N)
    band = (0.0, np.inf)  # no filter, so the hand-made design below is the one fitted
    lumped = bs.lss_betas(ts, events, TR, band, lss="lumped")
    i = 5
    design = np.column_stack([np.ones(N), single[:, i], single.sum(axis=1) - single[:, i]])
    assert lumped[i, 0] == pytest.approx(np.linalg.lstsq(design, ts["a"], rcond=None)[0][1], rel=1e-10)
    separate = bs.lss_betas(ts, events, TR, band)
    error = {
        name: np.sqrt(np.mean((b[:, 0] - means - deviation) ** 2))
        for name, b in (("separate", separate), ("lumped", lumped))
    }
    assert error["separate"] < 0.8 * error["lumped"]
    with pytest.raises(ValueError, match="lss must be one of"):
        bs.lss_betas(ts, events, TR, lss="all")


# --------------------------------------------------------------------------- through the first-level stage
def test_beta_series_trials_tsv_counts_the_events_files(tiny_twin, tmp_path):
    """A copy of the twin whose events files were rewritten the way users' often are (rows shuffled,
    an extra trial type that is not modelled, a column more, one trial fewer for sub-01): the
    counts in beta_series_trials.tsv are each file's counts of the modelled conditions."""
    import shutil

    from helpers import firstlevel as fl

    twin = tmp_path / "twin"
    shutil.copytree(tiny_twin, twin)
    conditions = ["negative", "neutral", "positive"]
    participants = fl.list_participants(twin)[:2]
    for k, p in enumerate(participants):
        path = twin / p / "func" / f"{p}_task-feedback_events.tsv"
        events = pd.read_csv(path, sep="\t")
        if k == 0:
            events = events.drop(index=events.index[events["trial_type"] == "neutral"][0])
        fixation = pd.DataFrame({"onset": [0.5], "duration": [0.5], "trial_type": ["fixation"]})
        events = pd.concat([events, fixation]).assign(stimulus="word").sample(frac=1, random_state=k)
        events.to_csv(path, sep="\t", index=False, na_rep="n/a")
    out = tmp_path / "out"
    result, _ = fl.run_connectivity(
        twin,
        twin / "derivatives" / "twin-fmriprep",
        out,
        participants=participants,
        measures=("weighted_hrf", "beta_series"),
        backend="serial",
        progress=False,
    )
    trials = pd.read_csv(out / "beta_series_trials.tsv", sep="\t")
    assert list(trials.columns) == ["participant_id", "condition", "n_trials", "n_outliers", "n_used"]
    for p in participants:
        counts = pd.read_csv(twin / p / "func" / f"{p}_task-feedback_events.tsv", sep="\t")[
            "trial_type"
        ].value_counts()
        mine = trials[trials["participant_id"] == p].set_index("condition")
        assert mine["n_trials"].to_dict() == {c: int(counts[c]) for c in conditions}
        assert (
            mine["n_used"] == mine["n_trials"]
        ).all()  # default beta_outliers = "flag": every trial enters
    assert (
        trials.loc[trials["participant_id"] == participants[0], "n_trials"].tolist()[1]
        == trials.loc[trials["participant_id"] == participants[1], "n_trials"].tolist()[1] - 1
    )
    assert list(pd.read_csv(out / "connectivity.tsv", sep="\t").columns) == [
        "participant_id",
        "measure",
        "condition",
        "source",
        "target",
        "r",
        "z",
    ]


def test_the_stage_passes_min_trials_and_records_the_error(tiny_twin, tmp_path):
    from helpers import firstlevel as fl

    p = fl.list_participants(tiny_twin)[0]
    result, excluded = fl.run_connectivity(
        tiny_twin,
        tiny_twin / "derivatives" / "twin-fmriprep",
        tmp_path,
        participants=[p],
        measures=("weighted_hrf", "beta_series"),
        min_trials=50,
        backend="serial",
        progress=False,
    )
    assert excluded["stage"].tolist() == ["connectivity/beta_series"]
    assert (
        excluded["reason"]
        .iloc[0]
        .startswith(f"{p}, measure beta_series: beta series: condition 'negative' has ")
    )
    assert "fewer than min_trials = 50" in excluded["reason"].iloc[0]
    assert (
        not (tmp_path / "beta_series_trials.tsv").exists()
        or pd.read_csv(tmp_path / "beta_series_trials.tsv", sep="\t").empty
    )


def test_invalid_options_stop_the_stage_before_any_work(tiny_twin, tmp_path):
    from helpers import firstlevel as fl

    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    for option, message in (
        (dict(lss="all"), "lss must be one of"),
        (dict(min_trials=1), "min_trials must be"),
        (dict(beta_outliers="drop"), "beta_outliers must be one of"),
        (dict(gppi_max_vif=0), "gppi_max_vif must be a positive"),
    ):
        with pytest.raises(ValueError, match=message):
            fl.run_connectivity(
                tiny_twin, deriv, tmp_path, measures=("weighted_hrf", "beta_series"), **option
            )
        assert not (tmp_path / "connectivity.tsv").exists()
    files = fl.find_participant_files(tiny_twin, deriv, "sub-01")
    with pytest.raises(ValueError, match="lss must be one of"):
        fl.participant_connectivity(files, measures=("beta_series",), lss="all")
    lumped = fl.participant_connectivity(files, measures=("beta_series",), lss="lumped", contrasts=())
    separate = fl.participant_connectivity(files, measures=("beta_series",), contrasts=())
    assert list(lumped.columns) == list(separate.columns) and not np.allclose(lumped["r"], separate["r"])
