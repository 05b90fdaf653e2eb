"""Data with a known correlation: the digital twin's planted value and small synthetic studies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paper
from ..stats import DEFAULT_MEASURE


def planted_rho(
    bids_dir, scale: str = "total", condition: str = "negative-neutral", target: str = "amygdala_r"
) -> float | None:
    """The digital twin's planted population correlation, or None if ``bids_dir`` is not a twin.

    Reads ``derivatives/twin-truth/population_correlations.tsv`` (written by
    :mod:`helpers.simulate`): the row whose values include ``scale``, ``condition``
    and ``target``; its ``planted`` column.

    Parameters
    ----------
    bids_dir : path-like
        The BIDS dataset.
    scale : str, default "total"
        The scale.
    condition : str, default "negative-neutral"
        The condition or contrast.
    target : str, default "amygdala_r"
        The target ROI.

    Returns
    -------
    float or None
    """
    path = Path(bids_dir) / "derivatives" / "twin-truth" / "population_correlations.tsv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, sep="\t")
    if "planted" not in table.columns:
        return None
    text = table.drop(columns="planted").astype(str)
    hit = table[
        text.isin([scale]).any(axis=1) & text.isin([condition]).any(axis=1) & text.isin([target]).any(axis=1)
    ]
    return float(hit["planted"].iloc[0]) if len(hit) == 1 else None


def _with_exact_correlation(x: np.ndarray, rho: float, rng: np.random.Generator) -> np.ndarray:
    """A standardised vector whose *sample* correlation with ``x`` is exactly ``rho``."""
    zx = (x - x.mean()) / x.std()
    e = rng.standard_normal(len(x))
    e = e - e.mean() - (e @ zx) / (zx @ zx) * zx
    e /= e.std()
    return rho * zx + np.sqrt(1 - rho**2) * e


def synthetic_study(
    n: int = paper.N,
    rho: float | Mapping[str, float] = -0.4,
    *,
    seed: int = 0,
    rois: Sequence[str] = ("vmpfc", "amygdala_l", "amygdala_r"),
    key_pair: tuple[str, str] = ("vmpfc", "amygdala_r"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Small ``scores.tsv`` / ``connectivity.tsv`` tables with a planted correlation.

    For tests, exercises and dry runs before real outputs exist.  The sample
    correlation between ``total`` and the Neg − Neu Fisher z of ``key_pair``
    (both directions) is *exactly* ``rho`` (or ``rho[measure]`` for each measure
    when a mapping is given); everything else is random.

    Parameters
    ----------
    n : int, default :data:`helpers.paper.N`
        Participants (19, the paper's).
    rho : float or mapping of str to float, default -0.4
        The planted correlation, or measure → correlation.
    seed : int, default 0
        Random seed.
    rois : sequence of str, default ("vmpfc", "amygdala_l", "amygdala_r")
        ROIs of the connectivity table.
    key_pair : (source, target), default ("vmpfc", "amygdala_r")
        The pair carrying the planted correlation.

    Returns
    -------
    scores, connectivity : DataFrame
        In the formats of ``book/spec_data_contract.md``.
    """
    rng = np.random.default_rng(seed)
    rhos = dict(rho) if isinstance(rho, Mapping) else {DEFAULT_MEASURE: float(rho)}
    ids = [f"sub-{i:02d}" for i in range(1, n + 1)]
    total = 3.0 + 0.5 * rng.standard_normal(n)
    scores = pd.DataFrame({"participant_id": ids})
    for col, _ in paper.SCALES[1:]:
        sub = total + 0.4 * rng.standard_normal(n)
        scores[col] = np.clip(6 - sub if paper.HYPOTHESISED_DIRECTION[col] == "greater" else sub, 1, 5)
    scores["total"] = total
    pairs = [(a, b) for i, a in enumerate(rois) for b in rois[i + 1 :]]
    rows = []
    for measure, r_planted in rhos.items():
        for a, b in pairs:
            neutral = 0.2 + 0.15 * rng.standard_normal(n)
            positive = neutral + 0.15 * rng.standard_normal(n)
            if {a, b} == set(key_pair):
                diff = 0.15 * _with_exact_correlation(total, r_planted, rng)
            else:
                diff = 0.15 * rng.standard_normal(n)
            z = {
                "negative": neutral + diff,
                "neutral": neutral,
                "positive": positive,
                "negative-neutral": diff,
                "positive-neutral": positive - neutral,
            }
            for cond, values in z.items():
                r = np.full(n, np.nan) if "-" in cond else np.tanh(values)
                for src, tgt in ((a, b), (b, a)):
                    rows.append(
                        pd.DataFrame(
                            {
                                "participant_id": ids,
                                "measure": measure,
                                "condition": cond,
                                "source": src,
                                "target": tgt,
                                "r": r,
                                "z": values,
                            }
                        )
                    )
    return scores, pd.concat(rows, ignore_index=True)
