"""The twin's sample: who the participants are and what they answer on the Self-Compassion Scale.

Sex and age (``participants.tsv``); SCS answers from a bifactor model cut into 1–5
(``phenotype/scs.tsv``); observed scores with Neff's rules; the population moments of the scores,
which the planted coupling (:mod:`helpers.simulate.coupling`) is calibrated against.  Formulas are
stated in the docstrings and in the default ``config.yaml``; the SCS key is in book/spec_scs.md.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..scs import NEGATIVE_SUBSCALES, SCS_KEY, SUBSCALES, score_scs
from .config_key import freeze, thaw

__all__ = ["SCORES", "item_columns", "demographics", "scs_items", "score", "score_matrix", "scs_population"]

SCORES = (*SUBSCALES, "total")


def item_columns() -> list[str]:
    """BIDS phenotype column names ``scs_01 … scs_26``."""
    return [f"scs_{i:02d}" for i in range(1, 27)]


def demographics(ids: list[str], cfg: dict, rng: np.random.Generator) -> pd.DataFrame:
    """``participants.tsv``: sex with P(F) = ``female_fraction``; age ~ 18 + Gamma fitted to the mean.

    Sex: exactly round(female_fraction · n) participants are F, in shuffled order.
    Age = age_min + Gamma(shape 1.5, scale (age_mean − age_min)/1.5), rounded, clipped to
    [age_min, age_max] — a right-skewed student sample (paper: mean 20.3, range 18–27).

    Parameters
    ----------
    ids : list of str
        Participant labels.
    cfg : dict
        The config's ``demographics`` section (``female_fraction``, ``age_min``, ``age_mean``,
        ``age_max``; ages in years).
    rng : numpy.random.Generator
        Sample generator.

    Returns
    -------
    DataFrame
        ``participant_id, age, sex``.
    """
    n = len(ids)
    n_female = int(round(cfg["female_fraction"] * n))
    sex = np.array(["F"] * n_female + ["M"] * (n - n_female))
    rng.shuffle(sex)
    scale = (cfg["age_mean"] - cfg["age_min"]) / 1.5
    age = np.clip(np.round(cfg["age_min"] + rng.gamma(1.5, scale, n)), cfg["age_min"], cfg["age_max"])
    return pd.DataFrame({"participant_id": ids, "age": age.astype(int), "sex": sex})


def _latent_items(n: int, cfg: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latent bifactor draws: G (n), F (n x 6), continuous item responses y (n x 26).

    ``y_i = sign_s lg G + ls_s F_s + sqrt(1 − lg² − ls_s²) e_i`` (see config.yaml, ``scs``).
    """
    lg = cfg["general_loading"]
    g = rng.standard_normal(n)
    f = rng.standard_normal((n, len(SUBSCALES)))
    y = np.empty((n, 26))
    for s_idx, sub in enumerate(SUBSCALES):
        ls = cfg["specific_loadings"][sub]
        sign = -1.0 if sub in NEGATIVE_SUBSCALES else 1.0
        for item in SCS_KEY[sub]:
            e = rng.standard_normal(n)
            y[:, item - 1] = sign * lg * g + ls * f[:, s_idx] + np.sqrt(1 - lg**2 - ls**2) * e
    return g, f, y


def _categorise(y: np.ndarray, cfg: dict) -> np.ndarray:
    """Cut latent responses into answers 1–5 at ``thresholds`` + a fixed item-specific shift."""
    shifts = np.random.default_rng(cfg["calibration_seed"] + 1).normal(0, cfg["item_shift_sd"], 26)
    cuts = np.asarray(cfg["thresholds"])
    return 1 + (y[:, :, None] > (cuts[None, None, :] + shifts[None, :, None])).sum(axis=2)


def scs_items(ids: list[str], cfg: dict, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw SCS answers for the participants.

    Latent bifactor model: ``y_i = sign_s lg G + ls_s F_s + sqrt(1 − lg² − ls²) e_i`` for item i of
    subscale s (sign −1 on the negative subscales), cut into answers 1–5 at ``thresholds`` plus a
    fixed item-specific shift (see ``config.yaml``, ``scs``).

    Parameters
    ----------
    ids : list of str
        Participant labels.
    cfg : dict
        The config's ``scs`` section.
    rng : numpy.random.Generator
        Sample generator.

    Returns
    -------
    items : DataFrame
        ``participant_id, scs_01 … scs_26`` (integers 1–5).
    latent : DataFrame
        ``participant_id, general, f_<subscale>…`` (the latent factor scores).
    """
    g, f, y = _latent_items(len(ids), cfg, rng)
    answers = _categorise(y, cfg)
    items = pd.DataFrame(answers, columns=item_columns())
    items.insert(0, "participant_id", ids)
    latent = pd.DataFrame(f, columns=[f"f_{s}" for s in SUBSCALES])
    latent.insert(0, "general", g)
    latent.insert(0, "participant_id", ids)
    return items, latent


def score(items: pd.DataFrame) -> pd.DataFrame:
    """Observed scores with Neff's rules via :func:`helpers.scs.score_scs` (total = mean of subscale means).

    Parameters
    ----------
    items : DataFrame
        ``participant_id, scs_01 … scs_26`` (:func:`scs_items`).

    Returns
    -------
    DataFrame
        Index ``participant_id``; the six subscales and ``total``.
    """
    scores = score_scs(items.set_index("participant_id"), item_columns=item_columns())
    return scores[list(SCORES)]


def score_matrix(answers: np.ndarray) -> np.ndarray:
    """Vectorised Neff scoring of complete answers (n x 26 array, items in order) -> n x 7.

    Six subscale means of raw items, then total = mean of subscale means after 6 − x on SJ/IS/OI.
    Same rules as :func:`helpers.scs.score_scs`, without its validation, for large calibration samples.

    Parameters
    ----------
    answers : ndarray, shape (n, 26)
        Answers 1–5, item k in column k − 1.

    Returns
    -------
    ndarray, shape (n, 7)
    """
    sub = np.column_stack([answers[:, [i - 1 for i in SCS_KEY[s]]].mean(axis=1) for s in SUBSCALES])
    rev = np.array(
        [6 - sub[:, i] if s in NEGATIVE_SUBSCALES else sub[:, i] for i, s in enumerate(SUBSCALES)]
    ).T
    return np.column_stack([sub, rev.mean(axis=1)])


@functools.lru_cache(maxsize=4)
def _population(cfg_key: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cfg = thaw(cfg_key)
    rng = np.random.default_rng(cfg["calibration_seed"])
    _, _, y = _latent_items(cfg["calibration_n"], cfg, rng)
    allscores = score_matrix(_categorise(y, cfg))
    return allscores.mean(axis=0), allscores.std(axis=0), np.corrcoef(allscores, rowvar=False)


def scs_population(cfg: dict) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Population mean, SD and correlation matrix of the seven scores (6 subscales + total).

    Computed on ``calibration_n`` respondents drawn with the fixed ``calibration_seed`` (the model's
    moments do not depend on the user's seed); cached per config.

    Parameters
    ----------
    cfg : dict
        The config's ``scs`` section.

    Returns
    -------
    mean : Series
    sd : Series
    corr : DataFrame
        All labelled by score.
    """
    mean, sd, corr = _population(freeze(cfg))
    return (
        pd.Series(mean, index=SCORES),
        pd.Series(sd, index=SCORES),
        pd.DataFrame(corr, index=SCORES, columns=SCORES),
    )
