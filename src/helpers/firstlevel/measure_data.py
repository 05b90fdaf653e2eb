"""What a connectivity measure receives: a participant's runs and the stage settings.

:class:`MeasureData` is handed to each measure function of the registry
(:mod:`helpers.firstlevel.registry`), and holds the steps the weighted measures share: denoising
under the outlier rule, condition weights, the degrees-of-freedom check and the weighted
correlation.  Like the registry, this module imports numpy, pandas, :mod:`helpers.connectivity` and
:mod:`helpers.beta_series` only; the denoising code is imported where it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..beta_series import MIN_TRIALS, OUTLIER_Z
from ..connectivity import MAX_VIF, check_dof, condition_dof, roi_to_roi

__all__ = ["MeasureData"]


@dataclass
class MeasureData:
    """A participant's runs (:class:`helpers.firstlevel.signals.Run`) and the stage settings.

    Parameters
    ----------
    runs : list of Run
        Every run's ROI series, events, condition Effects, motion, spikes and full denoising design.
    conditions : list of str
        The modelled conditions.
    band : tuple of float
        The stage's filter band (Hz; default high-pass 0.008 Hz).
    min_dof : float
        Smallest effective residual dof of a condition (:func:`helpers.connectivity.check_dof`).
    measure : str
        The measure being computed (for error messages).
    min_trials, lss, beta_outliers, beta_outlier_z : default 3, "separate", "flag", 5
        Beta-series options (:func:`helpers.beta_series.beta_series`).
    gppi_max_vif : float, default :data:`helpers.connectivity.MAX_VIF` (1000)
        Largest variance inflation factor of a gPPI interaction term (:func:`helpers.connectivity.gppi`).
    outliers : helpers.outliers.OutlierRule or None, default None
        Outlier scans (None: none, the paper's pipeline).  Scrubbing changes the design
        (:meth:`design_of`); censoring changes :meth:`denoise` and zeroes the censored scans' weights
        (:meth:`weights`).
    """

    runs: list
    conditions: list
    band: tuple
    min_dof: float
    measure: str
    min_trials: int = MIN_TRIALS
    lss: str = "separate"
    beta_outliers: str = "flag"
    beta_outlier_z: float = OUTLIER_Z
    gppi_max_vif: float = MAX_VIF
    outliers: object = None

    @property
    def censoring(self) -> bool:
        """Whether outlier scans are censored (dropped) rather than scrubbed or kept."""
        return self.outliers is not None and self.outliers.method == "censor"

    def kept(self) -> list:
        """Per run, False at censored scans (all True unless censoring)."""
        import numpy as np

        if not self.censoring:
            return [np.ones(len(r.roi_ts), bool) for r in self.runs]
        return [~r.outliers(self.outliers) for r in self.runs]

    def design_of(self, compcor: bool = True) -> Callable:
        """``run → its denoising design`` under the outlier rule (:meth:`Run.design`).

        Parameters
        ----------
        compcor : bool, default True
            Include the aCompCor WM/CSF signals.

        Returns
        -------
        callable
            Maps a :class:`helpers.firstlevel.signals.Run` to its design.
        """
        return lambda run: run.design(self.outliers, compcor)

    @property
    def where(self) -> str:
        """Start of an error message: participant and measure."""
        return f"{self.runs[0].files.participant_id}, measure {self.measure}"

    def denoise(self, design_of: Callable, band=None) -> tuple[list, list]:
        """Each run regressed on ``design_of(run)`` and filtered (CONN's RegBP, that run's TR).

        ``band`` default None: the stage's band.  Returns the denoised series and the residual
        degrees of freedom, one per run.  With censoring, :func:`helpers.outliers.censor_denoise`
        (regression on the kept scans, spline fill, CONN's filter; censored scans 0) and the residual
        dof of the kept scans.

        Parameters
        ----------
        design_of : callable
            Maps a run to its denoising design (:meth:`design_of`).
        band : tuple of float, default None
            Filter band (Hz); None: the stage's.

        Returns
        -------
        tuple of list
            The denoised series and the residual dof, one per run.
        """
        from ..denoise import regress_and_filter, residual_dof

        band = self.band if band is None else band
        if not self.censoring:
            series = [regress_and_filter(r.roi_ts, design_of(r), r.files.tr, band) for r in self.runs]
            return series, [residual_dof(len(r.roi_ts), design_of(r)) for r in self.runs]
        from ..outliers import censor_denoise

        series, dofs = [], []
        for r, keep in zip(self.runs, self.kept()):
            design = design_of(r)
            denoised = censor_denoise(r.roi_ts, design, keep, r.files.tr, band)
            series.append(pd.DataFrame(denoised, index=r.roi_ts.index, columns=r.roi_ts.columns))
            dofs.append(residual_dof(int(keep.sum()), design[keep]))
        return series, dofs

    def weights(self, kind: str = "hrf") -> list:
        """Every run's condition weights (``kind`` = hrf/hanning/none), zero for absent conditions
        and, with censoring, at censored scans (:func:`helpers.outliers.censor_weights`).

        Parameters
        ----------
        kind : {"hrf", "hanning", "none"}, default "hrf"
            Weighting (:func:`helpers.connectivity.condition_weights`).

        Returns
        -------
        list of DataFrame
            Scans × conditions, one per run.
        """
        weights = [r.weights(kind, self.conditions) for r in self.runs]
        if not self.censoring:
            return weights
        from ..outliers import censor_weights

        return [censor_weights(w, keep) for w, keep in zip(weights, self.kept())]

    def check_dof(self, weights: list, dofs: list) -> None:
        """:func:`helpers.connectivity.check_dof` of the conditions' effective residual dof.

        With censoring the runs' residual dof are shared among their kept scans only (a censored scan
        has none to give), so the count uses the weights of the kept scans.

        Parameters
        ----------
        weights : list of DataFrame
            Condition weights, one per run (:meth:`weights`).
        dofs : list of float
            Residual dof, one per run (:meth:`denoise`).

        Raises
        ------
        ValueError
            A condition has fewer than ``min_dof`` effective residual dof.
        """
        if self.censoring:
            weights = [w[keep] for w, keep in zip(weights, self.kept())]
        check_dof(condition_dof(weights, dofs), self.min_dof, self.where)

    def correlate(self, series: list, dofs: list, kind: str = "hrf") -> pd.DataFrame:
        """Weighted ROI-to-ROI correlation of the stacked runs after the dof check (spec_conn.md §3, §7).

        Parameters
        ----------
        series : list of DataFrame
            Denoised ROI series, one per run.
        dofs : list of float
            Residual dof, one per run.
        kind : {"hrf", "hanning", "none"}, default "hrf"
            Weighting.

        Returns
        -------
        DataFrame
            One row per condition and ROI pair, with ``r`` and ``z``.

        Raises
        ------
        ValueError
            Too few degrees of freedom (:meth:`check_dof`).
        """
        from .signals import stack

        weights = self.weights(kind)
        self.check_dof(weights, dofs)
        return roi_to_roi(stack(series), stack(weights))
