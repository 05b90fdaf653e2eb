"""Everything the robustness chapter shows about reliability and attenuation on the twin, in one call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .attenuation import latent_r, observed_r_given
from .attenuation_figure import plot_attenuation
from .draws import repeated_draws
from .estimates import (
    draw_correlations,
    image_check,
    planted_population_sd,
    population_reliability,
    reliability_from_draws,
)
from .twin import read_twin_design


@dataclass(frozen=True)
class TwinAttenuation:
    """Everything the robustness chapter shows about reliability and attenuation.

    Made by :func:`twin_attenuation`.
    """

    table: pd.DataFrame  # one row: see twin_attenuation
    figure: object
    draws: pd.DataFrame


def twin_attenuation(
    bids_dir,
    connectivity: pd.DataFrame,
    r_ours: float,
    r_paper: float,
    n_draws: int = 10,
    n_sim: int = 20000,
    seed: int = 2018,
    measure: str = "weighted_hrf",
) -> TwinAttenuation | None:
    """Reliability of the Neg − Neu VMPFC–right amygdala estimate on the twin and what it does to r.

    Re-simulates every participant ``n_draws`` times (:func:`repeated_draws`), measures the
    reliability (:func:`reliability_from_draws`, in this sample and for the population's spread),
    checks the shortcut against the images (:func:`image_check`), and compares the planted
    sample correlation of the self-compassion mean, the r expected from one run's estimates for these
    participants (:func:`observed_r_given`; Spearman's r_planted · √reliability beside it) and ours.

    Parameters
    ----------
    bids_dir : path
        The dataset; None is returned when it is not a twin.
    connectivity : DataFrame
        ``connectivity.tsv`` (ours, from the images).
    r_ours, r_paper : float
        Our and the paper's headline r.
    n_draws : int, default 10
        Re-simulated first-level draws per participant (:func:`repeated_draws`).
    n_sim : int, default 20000
        Simulated runs of :func:`observed_r_given`.
    seed : int, default 2018
        Seed of the draws and of the simulation.
    measure : str, default "weighted_hrf"
        Connectivity measure of ``connectivity`` compared with the draws (:func:`image_check`).

    Returns
    -------
    TwinAttenuation or None.  ``table`` columns: ``n, draws, reliability, retest,
    reliability_population, reliability_config, level, error_sd, slope, r_planted, spearman (r_planted ·
    √reliability), expected, q_low, q_high (:func:`observed_r_given`: mean and central 95 %), r_ours,
    ours_within, ours_quantile, draws_r_mean, draws_r_min, draws_r_max, image_n, image_mean_z,
    image_sd_z, image_within, r_paper, latent_paper`` (latent_paper = the paper's r divided by
    √reliability_population: the neural correlation it implies on this design).
    """
    design = read_twin_design(bids_dir)
    if design is None:
        return None
    ids = sorted(set(design.events) & set(connectivity["participant_id"]))
    draws = repeated_draws(design, n_draws, seed, participants=ids)
    rel = reliability_from_draws(draws)
    rel_pop = population_reliability(rel, planted_population_sd(design.cfg))
    sel = draws[(draws["condition"] == "negative-neutral") & (draws["target"] == "amygdala_r")]
    planted = sel.groupby("participant_id")["planted"].first()
    total = design.scores["total"].loc[planted.index]
    r_planted = float(np.corrcoef(total, planted)[0, 1])
    means = sel.groupby("participant_id")["z"].mean().loc[planted.index]
    sims = observed_r_given(total.to_numpy(), means.to_numpy(), rel["error_sd"], n_draws, n_sim, seed)
    q_low, q_high = np.quantile(sims, [0.025, 0.975])
    summary = {
        "r_planted": r_planted,
        "reliability": rel["reliability"],
        "expected": float(sims.mean()),
        "q_low": float(q_low),
        "q_high": float(q_high),
        "sims": sims,
        "r_ours": r_ours,
        "ours_within": bool(q_low <= r_ours <= q_high),
        "ours_quantile": float((sims < r_ours).mean()),
        "spearman": r_planted * float(np.sqrt(rel["reliability"])),
    }
    draw_r = draw_correlations(draws, design.scores["total"])
    check = image_check(draws, connectivity, measure=measure)
    coupling = design.cfg["coupling"]
    table = pd.DataFrame(
        [
            {
                "n": len(ids),
                "draws": n_draws,
                "reliability": rel["reliability"],
                "retest": rel["retest"],
                "reliability_population": rel_pop,
                "reliability_config": float(
                    (coupling.get("reliability") or {}).get("negative-neutral", np.nan)
                ),
                "level": coupling.get("level", "latent"),
                "error_sd": rel["error_sd"],
                "slope": rel["slope"],
                "r_planted": r_planted,
                "spearman": summary["spearman"],
                "expected": summary["expected"],
                "q_low": summary["q_low"],
                "q_high": summary["q_high"],
                "r_ours": r_ours,
                "ours_within": summary["ours_within"],
                "ours_quantile": summary["ours_quantile"],
                "draws_r_mean": float(draw_r.mean()),
                "draws_r_min": float(draw_r.min()),
                "draws_r_max": float(draw_r.max()),
                "image_n": check["n"],
                "image_mean_z": check["mean"],
                "image_sd_z": check["sd"],
                "image_within": check["within"],
                "r_paper": r_paper,
                "latent_paper": float(latent_r(r_paper, rel_pop)),
            }
        ]
    )
    figure = plot_attenuation(summary, r_paper=r_paper, n=len(ids), draw_r=draw_r)
    return TwinAttenuation(table, figure, draws)
