"""The digital twin: a deterministic simulation of the Parrish et al. (2018) study as BIDS.

``simulate(out, participants=19, seed=2018)`` (or ``python -m helpers.simulate --out DIR
--participants N --seed S [--config FILE]``) writes, atomically (a temporary folder renamed at the
end), a BIDS dataset with the paper's design and planted ground truth.  The generative model and
every parameter are in ``config.yaml`` next to this file (a user config is merged over it).

Generative model, in order (modules in brackets):

1. Sample [sample]: sex and age; SCS answers from a bifactor model (general + six subscale
   factors) cut into 1–5; observed scores with Neff's rules (:func:`helpers.scs.score_scs`).
2. Planted coupling [coupling]: per participant, amygdala side and condition, a Fisher z whose
   population correlations with the scores match the paper's Table 1 and text results.
3. Design [task]: 45 words, 15 per condition, 10–12 s wall to wall, pseudo-randomised; ratings
   1–4 depending on condition and self-compassion.
4. Time series [signals]: neural VMPFC/amygdala signals with exactly the planted within-condition
   correlation, HRF-convolved; task main effects; grey-matter networks; physiological noise
   (aliased cardiac/respiratory, RVT) mainly in CSF/WM; drift < 0.008 Hz; head motion (random walk
   + jerks) with a spin-history intensity loss.
5. Space [space: coordinates, maps, resampling]: the signal
   S(x, t) = S0(x)(1 + Σ_k map_k(x) ts_k(t)/100)·spin(t) is built on a 2 mm MNI grid; each native
   volume samples it through the participant's affine, smooth warp and that volume's rigid motion
   (one trilinear resampling per volume), plus Rician thermal noise.  The ideal derivatives
   evaluate the same maps on the 3 mm MNI grid (plus Gaussian noise), and an 8 mm FWHM smoothed
   copy.

Ground truth layout (``derivatives/twin-truth/``):

* ``config.yaml`` — the full configuration used; ``scores.tsv`` — latent factors and observed
  scores; ``coupling.tsv`` — planted ``participant_id, condition, source, target, z, r``;
  ``population_correlations.tsv`` — ``side, measure, score, target`` (paper) and ``planted``
  (implied population correlation of the model);
* ``sub-XX/sub-XX_motion.tsv`` — true rigid motion (fMRIPrep names, mm/rad, SPM convention, see
  :mod:`helpers.simulate.space`) and FD;
  ``sub-XX/sub-XX_transform.json`` — pose ``H`` (MNI→scanner 4x4), warp parameters, structural pose
  (map points with :func:`space.native_to_mni` / :func:`space.mni_to_native`);
  ``sub-XX/sub-XX_roi_timeseries.tsv`` — noise-free ROI BOLD in percent (``<roi>`` = fluctuation +
  task, ``<roi>_fluct``, ``<roi>_task``); ``sub-XX/sub-XX_neural.tsv`` — the neural signals (time
  step ``timing.dt``); ``sub-XX/sub-XX_components.tsv`` — every component time series.
"""

from __future__ import annotations

import copy
import os
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

__all__ = ["simulate", "load_config", "default_config_path"]


def default_config_path() -> Path:
    """Path of the default ``config.yaml`` shipped with the package."""
    return Path(str(resources.files(__package__).joinpath("config.yaml")))


def _merge(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(config=None) -> dict:
    """The default configuration, updated (recursively) by ``config`` (dict or YAML path).

    Nested mappings are merged key by key; any other value in ``config`` replaces the default.

    Parameters
    ----------
    config : dict, path-like or None, default None
        Overrides of the default ``config.yaml`` (None: the default as it is).

    Returns
    -------
    dict
        The merged configuration (a new object; the inputs are not modified).

    Raises
    ------
    ValueError
        If a YAML file does not hold a mapping.
    TypeError
        If ``config`` is neither a dict nor a path.
    """
    cfg = yaml.safe_load(default_config_path().read_text())
    if config is None:
        return cfg
    if isinstance(config, (str, os.PathLike)):
        text = Path(config).read_text()
        config = yaml.safe_load(text) or {}
        if not isinstance(config, dict):
            raise ValueError(f"{config}: a simulation config must be a YAML mapping")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict or a YAML path, not {type(config).__name__}")
    return _merge(cfg, config)


def _check_config(cfg: dict, n: int) -> None:
    """Refuse designs that cannot fit the run (clear messages)."""
    if n < 1:
        raise ValueError(f"participants must be >= 1, got {n}")
    if n > 99:
        raise ValueError(f"participants must be <= 99 (labels sub-01 … sub-99), got {n}")
    ev, tm = cfg["events"], cfg["timing"]
    n_events = ev["per_condition"] * len(cfg["conditions"])
    length = ev["first_onset"] + n_events * float(np.mean(ev["durations"]))
    if length > tm["n_volumes"] * tm["tr"] + 1e-9:
        raise ValueError(
            f"config: {n_events} events of mean {np.mean(ev['durations'])} s end at {length} s, "
            f"after the run ({tm['n_volumes']} volumes x TR {tm['tr']} s)"
        )
    if (n_events % len(ev["durations"])) != 0:
        raise ValueError("config: the number of events must be a multiple of the number of durations")
    if abs(round(tm["tr"] / tm["dt"]) * tm["dt"] - tm["tr"]) > 1e-9:
        raise ValueError(f"config: timing.dt ({tm['dt']}) must divide the TR ({tm['tr']})")


def simulate(out, participants: int = 19, seed: int = 2018, config=None) -> Path:
    """Write the digital twin to ``out`` (atomically) and return its path.

    Parameters
    ----------
    out : path-like
        Dataset folder (replaced if it exists, only once the new one is complete).
    participants : int, default 19
        Number of participants (1–99), labelled ``sub-01`` … (the paper's sample size).
    seed : int, default 2018
        Seed of ``numpy.random.SeedSequence``; the same seed and config give byte-identical files.
    config : dict, path or None, default None
        Overrides merged over the default ``config.yaml`` (e.g. a reduced grid for tests).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ValueError
        If ``participants`` is outside 1–99, or the config's design cannot fit the run (events
        ending after the last volume, an event count not a multiple of the number of durations, a
        ``timing.dt`` that does not divide the TR).
    """
    from ..io import atomic_path
    from .build import build

    cfg = load_config(config)
    _check_config(cfg, participants)
    with atomic_path(Path(out)) as tmp:
        tmp.mkdir(parents=True)
        build(tmp, cfg, participants, seed)
    return Path(out)
