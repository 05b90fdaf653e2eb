"""What a twin's folder says it planted: its configuration, events, coupling and scores, and the
correlations a pipeline is expected to estimate from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..layout.raw import raw_paths
from ..simulate import load_config


@dataclass(frozen=True)
class TwinDesign:
    """A twin's configuration, events and planted coupling (read back from its folder)."""

    cfg: dict
    events: dict
    coupling: pd.DataFrame
    scores: pd.DataFrame


def read_twin_design(bids_dir) -> TwinDesign | None:
    """The twin's ``config.yaml``, planted ``coupling.tsv``, ``scores.tsv`` and each participant's events.

    Parameters
    ----------
    bids_dir : path-like
        The twin's BIDS folder (truth under ``derivatives/twin-truth``).

    Returns
    -------
    TwinDesign or None
        None when ``bids_dir`` is not a twin (no ``derivatives/twin-truth/coupling.tsv``).
    """
    root = Path(bids_dir)
    truth = root / "derivatives" / "twin-truth"
    if not (truth / "coupling.tsv").is_file():
        return None
    cfg = yaml.safe_load((truth / "config.yaml").read_text())
    coupling = pd.read_csv(truth / "coupling.tsv", sep="\t")
    scores = pd.read_csv(truth / "scores.tsv", sep="\t").set_index("participant_id")
    events = {}
    for pid in coupling["participant_id"].unique():
        path = raw_paths(root, pid, cfg["task"])["events"]
        events[pid] = pd.read_csv(path, sep="\t")[["onset", "duration", "trial_type"]]
    return TwinDesign(cfg, events, coupling, scores)


def expected_observed(bids_dir) -> pd.DataFrame | None:
    """The twin's planted correlations and the values a pipeline should *estimate* from them.

    Reads ``derivatives/twin-truth/population_correlations.tsv`` (``target`` = the paper's value,
    ``planted`` = population, ``sample`` = among these participants) and the twin's config; adds
    ``level`` (how the twin planted: ``latent``/``observed``), ``match`` (``sample``/``population``),
    ``reliability`` (the config's ``coupling.reliability`` of each measure; the package default for
    twins made before it existed) and ``expected`` = sample · √reliability (``planted`` when there is
    no ``sample`` column), the correlation expected from estimated connectivity.

    Parameters
    ----------
    bids_dir : path-like
        The twin's BIDS folder.

    Returns
    -------
    DataFrame or None
        The table with the added columns; None when ``bids_dir`` is not a twin.
    """
    truth = Path(bids_dir) / "derivatives" / "twin-truth"
    path = truth / "population_correlations.tsv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, sep="\t")
    coupling = (
        yaml.safe_load((truth / "config.yaml").read_text())["coupling"]
        if (truth / "config.yaml").is_file()
        else {}
    )
    rel = coupling.get("reliability") or load_config()["coupling"]["reliability"]
    table["level"] = coupling.get("level", "latent")
    table["match"] = coupling.get("match", "population")
    table["reliability"] = table["measure"].map(rel).astype(float)
    table["expected"] = table["sample" if "sample" in table.columns else "planted"] * np.sqrt(
        table["reliability"]
    )
    return table
