"""gPPI safeguards (issue 17): the undirected (symmetric) value, and non-estimable interaction terms.

* ``gppi_symmetric`` is exactly the mean of the two directed values, for every condition and pair;
* a condition whose interaction term is a linear combination of the other columns of the design
  (conditions that fill the run, a condition on in every scan) gives an error naming the participant
  and the condition — never a number — and the variance inflation factor that decides it equals its
  textbook formula.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.connectivity import MAX_VIF, check_gppi_estimable, gppi, gppi_symmetric, gppi_vif


def _blocks(n: int, period: int, k: int) -> pd.DataFrame:
    """k conditions taking turns in blocks of ``period`` scans, plus scans of none (rest) in between."""
    phase = (np.arange(n) // period) % (k + 1)
    return pd.DataFrame({f"c{j}": (phase == j).astype(float) for j in range(k)})


def _series(n: int, rois=("vmpfc", "amygdala_l", "amygdala_r"), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=n)
    return pd.DataFrame({r: 0.6 * shared + rng.normal(size=n) for r in rois})


def test_symmetric_is_exactly_the_mean_of_the_two_directions():
    ts, w = _series(150), _blocks(150, 10, 2)
    directed = gppi(ts, w)
    sym = gppi_symmetric(directed)
    assert list(sym.columns) == list(directed.columns) and len(sym) == len(directed)
    d = directed.set_index(["condition", "source", "target"])["value"]
    s = sym.set_index(["condition", "source", "target"])["value"]
    assert (d.index == s.index).all()
    for (c, a, b), value in s.items():
        assert value == (d[(c, a, b)] + d[(c, b, a)]) / 2  # exactly, not approximately
        assert value == s[(c, b, a)]
    assert d[("c0", "vmpfc", "amygdala_l")] != d[("c0", "amygdala_l", "vmpfc")]  # gPPI itself is directed


def test_symmetric_by_hand_and_with_participant_keys():
    table = pd.DataFrame(
        {
            "participant_id": ["sub-01"] * 2 + ["sub-02"] * 2,
            "condition": "negative",
            "source": ["a", "b", "a", "b"],
            "target": ["b", "a", "b", "a"],
            "z": [0.25, 0.75, -1.0, 3.0],
            "r": np.nan,
        }
    )
    out = gppi_symmetric(table, value="z")
    assert out["z"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert out["r"].isna().all() and out["participant_id"].tolist() == table["participant_id"].tolist()
    with pytest.raises(ValueError, match="reverse direction"):
        gppi_symmetric(table.iloc[[0, 2, 3]], value="z")


def test_a_condition_on_in_every_scan_is_named_with_the_participant():
    """A condition with weight 1 in every scan: its interaction s·P equals s, so its term is a linear
    combination of the design (VIF = ∞); the other conditions' terms stay estimable."""
    n = 180
    w = _blocks(n, 9, 2).assign(task=1.0)
    vif = gppi_vif(_series(n), w)
    assert np.isinf(vif.loc[vif["condition"] == "task", "vif"]).all()
    assert np.isfinite(vif.loc[vif["condition"] != "task", "vif"]).all()
    assert vif.loc[vif["condition"] != "task", "vif"].max() < 10
    with pytest.raises(ValueError) as err:
        gppi(_series(n), w, where="sub-07")
    message = str(err.value)
    assert message.startswith("sub-07: gPPI interaction term of condition 'task'")
    assert "linear combination" in message and "conditions affected: ['task']" in message


def test_conditions_that_fill_the_run_are_not_estimable_one_by_one():
    """Two conditions whose weights sum to 1 in every scan (the wall-to-wall limit): s·P1 + s·P2 = s,
    so each interaction is a combination of the other and s; the error names every condition."""
    n = 200
    p1 = ((np.arange(n) // 10) % 2 == 0).astype(float)
    w = pd.DataFrame({"negative": p1, "neutral": 1 - p1})
    with pytest.raises(
        ValueError,
        match=r"^sub-03: gPPI interaction term of condition 'negative'.*"
        r"conditions affected: \['negative', 'neutral'\]",
    ):
        gppi(_series(n, ("s", "y")), w, where="sub-03")


def test_vif_equals_its_formula_and_the_threshold_is_a_parameter():
    """VIF_k = [(XᵀX)⁻¹]_kk · ‖x_k‖² for the centred design [s, P, s·P], computed here with an inverse."""
    n = 160
    ts, w = _series(n, ("s", "y"), seed=3), _blocks(n, 8, 2)
    s = ts[["s"]].to_numpy()
    x = np.hstack([s, w.to_numpy(), s * w.to_numpy()])
    x = x - x.mean(axis=0)
    inv = np.linalg.inv(x.T @ x)
    expected = [inv[3 + j, 3 + j] * (x[:, 3 + j] @ x[:, 3 + j]) for j in range(2)]
    vif = gppi_vif(ts, w).query("source == 's'")["vif"].to_numpy()
    np.testing.assert_allclose(vif, expected, rtol=1e-10)
    assert 1 < vif.min() < MAX_VIF
    with pytest.raises(ValueError, match=r"sub-01: gPPI interaction term .*max_vif = 1\b"):
        gppi(ts, w, max_vif=1.0, where="sub-01")
    with pytest.raises(ValueError, match="max_vif must be a positive"):
        check_gppi_estimable(gppi_vif(ts, w), max_vif=0)


def test_the_spec_page_states_the_codes_threshold():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "book" / "spec_conn.md").read_text()
    assert f"`MAX_VIF` = {MAX_VIF:g}, a standard error inflated about {round(np.sqrt(MAX_VIF))}-fold" in text


# --------------------------------------------------------------------------- through the first-level stage
def _stage(twin, out, **kwargs):
    from helpers import firstlevel as fl

    deriv = twin / "derivatives" / "twin-fmriprep"
    kwargs.setdefault("participants", fl.list_participants(twin)[:2])
    return fl.run_connectivity(twin, deriv, out, backend="serial", progress=False, cache=False, **kwargs)


def test_connectivity_tsv_holds_gppi_symmetric_beside_the_directed_values(tiny_twin, tmp_path):
    _stage(tiny_twin, tmp_path, measures=("weighted_hrf", "gppi_regression", "gppi_symmetric"))
    written = pd.read_csv(tmp_path / "connectivity.tsv", sep="\t")
    keys = ["participant_id", "condition", "source", "target"]
    directed = written[written["measure"] == "gppi_regression"].set_index(keys)["z"]
    symmetric = written[written["measure"] == "gppi_symmetric"].set_index(keys)["z"]
    assert len(symmetric) == len(directed) == 2 * 5 * 6  # 2 participants, 3 conditions + 2 contrasts, 6 pairs
    assert written.loc[written["measure"] == "gppi_symmetric", "r"].isna().all()
    plain = [k for k in symmetric.index if "-" not in k[1]]
    for p, c, a, b in plain:  # the file's values: the mean of the file's two directed values, exactly
        assert symmetric[(p, c, a, b)] == (directed[(p, c, a, b)] + directed[(p, c, b, a)]) / 2
    for p, c, a, b in (k for k in symmetric.index if "-" in k[1]):  # contrasts: differences of the means
        assert symmetric[(p, c, a, b)] == pytest.approx(
            (directed[(p, c, a, b)] + directed[(p, c, b, a)]) / 2, abs=1e-12
        )


def test_a_non_estimable_gppi_term_is_recorded_with_participant_and_condition(tiny_twin, tmp_path):
    result, excluded = _stage(
        tiny_twin, tmp_path, measures=("weighted_hrf", "gppi_regression"), gppi_max_vif=1.0
    )
    assert set(result["measure"]) == {"weighted_hrf"}  # no number for gPPI, and the paper's measure stays
    recorded = pd.read_csv(tmp_path / "exclusions.tsv", sep="\t")
    assert recorded["stage"].tolist() == ["connectivity/gppi_regression"] * 2
    for p, reason in zip(recorded["participant_id"], recorded["reason"]):
        assert reason.startswith(
            f"{p}, measure gppi_regression: gPPI interaction term of condition 'negative'"
        )
        assert "max_vif = 1" in reason
