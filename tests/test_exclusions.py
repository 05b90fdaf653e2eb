"""One exclusion decision (helpers.exclusions) that every group table and figure uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import exclusions, stats, tables
from helpers.execution import record_exclusions
from helpers.io import write_tsv
from helpers.robustness import synthetic_study


def _outputs(tmp_path: Path, n: int = 8) -> Path:
    scores, conn = synthetic_study(n=n, rho=-0.4, seed=5)
    out = tmp_path / "out"
    write_tsv(scores, out / "scores.tsv")
    write_tsv(conn, out / "connectivity.tsv")
    return out


def test_every_kind_of_exclusion_leaves_the_group_sample(tmp_path):
    out = _outputs(tmp_path)
    failed = pd.DataFrame(
        {"participant_id": ["sub-02"], "stage": "preprocessing", "reason": "ValueError: bad image"}
    )
    record_exclusions(failed, out / "exclusions.tsv", "preprocessing")
    one_measure = pd.DataFrame({"participant_id": ["sub-03"], "stage": "connectivity/gppi", "reason": "x"})
    record_exclusions(one_measure, out / "exclusions.tsv", "connectivity")
    user = tmp_path / "mine.tsv"
    user.write_text("participant_id\treason\n04\tfell asleep (scanner log)\n")
    record_exclusions(exclusions.read_user_exclusions(user), out / "exclusions.tsv", exclusions.STAGE_USER)
    scores = pd.read_csv(out / "scores.tsv", sep="\t")
    write_tsv(scores[scores["participant_id"] != "sub-05"], out / "scores.tsv")  # no questionnaire

    s, c, left_out = stats.read_inputs(out)
    assert (
        sorted(s["participant_id"])
        == sorted(c["participant_id"].unique())
        == ["sub-01", "sub-03", "sub-06", "sub-07", "sub-08"]
    )
    assert left_out.values.tolist() == [
        ["sub-02", "preprocessing", "ValueError: bad image"],
        ["sub-04", "user", "fell asleep (scanner log)"],
        ["sub-05", "incomplete", "no questionnaire scores"],
    ]
    # a failed alternative measure removes that measure only (there were no gppi rows to remove)
    assert "sub-03" in set(c["participant_id"])
    assert tables.table1(s, c)["n"].tolist() == [5] * 7


def test_a_group_left_below_the_minimum_stops_with_who_is_left_and_why_the_others_are_not(tmp_path):
    out = _outputs(tmp_path, n=4)
    failed = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-03"],
            "stage": "connectivity",
            "reason": ["ValueError: 30 regressors for 25 scans", "ValueError: 30 regressors for 28 scans"],
        }
    )
    record_exclusions(failed, out / "exclusions.tsv", "connectivity")
    assert len(stats.read_inputs(out, min_participants=2)[0]) == 2
    with pytest.raises(ValueError) as err:
        stats.read_inputs(out, min_participants=3)
    assert str(err.value) == (
        f"{out}: 2 participant(s) left for the group analysis (sub-02, sub-04); it needs at least 3. "
        "Left out (exclusions.tsv and the two tables): sub-01 (connectivity: ValueError: 30 regressors "
        "for 25 scans); sub-03 (connectivity: ValueError: 30 regressors for 28 scans)"
    )
    assert len(stats.read_inputs(out)[0]) == 2  # no minimum: the caller decides


def _foreign_confounds(twin: Path, tmp_path: Path) -> Path:
    """The tiny twin's derivatives with three more participants (copies renamed sub-0k → sub-0(k+3))."""
    src = twin / "derivatives" / "twin-fmriprep"
    deriv = tmp_path / "deriv"
    shutil.copytree(src, deriv)
    for k in (1, 2, 3):
        old, new = f"sub-{k:02d}", f"sub-{k + 3:02d}"
        for f in sorted((deriv / old).rglob("*")):
            target = deriv / new / f.relative_to(deriv / old).as_posix().replace(old, new)
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.is_file():
                shutil.copy2(f, target)
    return deriv


def test_a_participant_above_the_fd_threshold_is_absent_from_table1(tiny_twin, tmp_path):
    deriv = _foreign_confounds(tiny_twin, tmp_path)
    conf = next((deriv / "sub-05").rglob("*desc-confounds_timeseries.tsv"))
    table = pd.read_csv(conf, sep="\t", na_values=["n/a"], keep_default_na=False)
    table["framewise_displacement"] = table["framewise_displacement"] + 1.0  # +1 mm on every volume
    write_tsv(table, conf)
    out = _outputs(tmp_path, n=6)
    ids = [f"sub-{k:02d}" for k in range(1, 7)]

    motion = exclusions.motion_table(deriv, ids, "feedback")
    fd = np.nanmean(table["framewise_displacement"].to_numpy(float))
    assert motion.set_index("participant_id").loc["sub-05", "mean_fd"] == pytest.approx(fd)
    assert (motion.set_index("participant_id").drop("sub-05")["mean_fd"] < 0.5).all()
    # every volume counts, also the first, whose FD is n/a
    assert np.isnan(table["framewise_displacement"].iloc[0])
    assert motion.set_index("participant_id").loc["sub-05", "n_volumes"] == len(table)

    exclusions.record_group_rules(out, deriv, ids, "feedback", fd_threshold=0.5)
    scores, conn, left_out = stats.read_inputs(out)
    t1 = tables.table1(scores, conn)
    assert t1["n"].tolist() == [5] * 7
    assert "sub-05" not in set(scores["participant_id"]) | set(conn["participant_id"])
    assert left_out["participant_id"].tolist() == ["sub-05"]
    assert left_out["reason"].item() == f"mean framewise displacement {fd:.3f} mm > 0.5 mm"
    assert (out / "motion.tsv").is_file()
    # a higher threshold lets them back in: the rule is re-evaluated, not appended
    exclusions.record_group_rules(out, deriv, ids, "feedback", fd_threshold=fd + 0.1)
    assert tables.table1(*stats.read_inputs(out)[:2])["n"].tolist() == [6] * 7


@pytest.mark.parametrize(
    "text, match",
    [
        ("participant_id,reason\nsub-01,x\n", "missing column.*tab-separated"),
        ("participant_id\treason\nsub-01\t\n", "line 2: column reason is empty"),
        (
            "participant_id\treason\nsub-01\ta\n01\tb\n",
            "line 3: participant sub-01 is listed again .first on line 2",
        ),
    ],
)
def test_a_users_exclusions_file_with_a_mistake_names_the_line(tmp_path, text, match):
    f = tmp_path / "excl.tsv"
    f.write_text(text)
    with pytest.raises(ValueError, match=match):
        exclusions.read_user_exclusions(f)


def test_a_studys_own_condition_labels_play_the_papers_roles(tmp_path):
    """face/house/scrambled in the paper's role order give the Table 1 of negative/neutral/positive."""
    out = _outputs(tmp_path)
    expected = tables.table1(*stats.read_inputs(out)[:2])
    conn = pd.read_csv(out / "connectivity.tsv", sep="\t")
    names = {
        "negative": "face",
        "neutral": "house",
        "positive": "scrambled",
        "negative-neutral": "face-house",
        "positive-neutral": "scrambled-house",
    }
    write_tsv(conn.assign(condition=conn["condition"].map(names)), out / "connectivity.tsv")
    with pytest.raises(ValueError, match="negative-neutral"):
        tables.table1(*stats.read_inputs(out)[:2])  # without the record, no Neg − Neu
    assert stats.record_roles(["face", "house", "scrambled"], out) == {
        "negative": "face",
        "neutral": "house",
        "positive": "scrambled",
    }
    pd.testing.assert_frame_equal(tables.table1(*stats.read_inputs(out)[:2]), expected)
    with pytest.raises(ValueError, match="needs 3 conditions"):
        stats.record_roles(["face", "house"], out)


def test_a_stage_records_only_its_own_rows(tmp_path):
    rows = pd.DataFrame({"participant_id": ["sub-01"], "stage": "motion", "reason": "x"})
    with pytest.raises(ValueError, match="exclusions of stage 'user': rows of stage\\(s\\) \\['motion'\\]"):
        record_exclusions(rows, tmp_path / "exclusions.tsv", "user")
    assert not (tmp_path / "exclusions.tsv").exists()
