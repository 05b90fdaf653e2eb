"""The measure registry: how a connectivity measure is declared, found, described and computed.

Every measure is declared **once**, by :func:`register`: its name (the value of the ``measure``
column of connectivity.tsv), a one-line description, its family, the stage settings it reads and
its own fixed settings, and the function that computes it.  Everything else reads this registry:
the parameter schema (:mod:`helpers.params`), the stage (:func:`helpers.firstlevel.run_connectivity`),
the chapter's and the docs' measures table (:func:`measures_table`) and the multiverse's
descriptions (:func:`helpers.robustness.describe_measure`).  Adding a measure is one
``@register(...)`` on a function, here or in any other module.

The built-in measures register themselves in :mod:`helpers.firstlevel.measures`, which re-exports
this module's API: import the registry from there.

A measure function receives a :class:`MeasureData` (the participant's runs, each with its ROI series
and CONN denoising design, and the stage settings) plus its registered settings, and returns rows
``condition, source, target, r, z`` over all runs (book/spec_conn.md §7: each run denoised on its
own, then stacked).

This module and :mod:`helpers.firstlevel.measures` import numpy, pandas, :mod:`helpers.connectivity`
and :mod:`helpers.beta_series` only, so that the schema can read the registry without loading nibabel
or nilearn; the denoising code is imported where it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..beta_series import MIN_TRIALS, OUTLIER_Z
from ..connectivity import MAX_VIF, check_dof, condition_dof, roi_to_roi

__all__ = [
    "MEASURES",
    "Measure",
    "MeasureData",
    "register",
    "unregister",
    "get_measure",
    "is_measure",
    "check_measures",
    "describe_measure",
    "measures_table",
    "compute_measure",
]


# --------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Measure:
    """One registered connectivity measure.

    Parameters
    ----------
    name : str
        The ``measure`` value in connectivity.tsv; for a family named by a prefix (``prefix=True``)
        the name with a placeholder, e.g. ``"nilearn_<strategy>"``.
    description : str
        One line for tables and the multiverse (``<...>`` is replaced by the variant of a prefix family).
    family : str
        Group shown in the measures table (e.g. ``"weighted correlation"``).
    func : callable
        ``func(data: MeasureData, **settings)`` (plus ``variant=`` for a prefix family) → rows
        ``condition, source, target, r, z``.
    uses : tuple of str, default ()
        The stage settings the measure reads (``conditions``, ``band``, ``min_dof``).
    settings : dict, default {}
        The measure's own fixed settings, passed to ``func`` as keyword arguments.
    prefix : str, default ""
        Non-empty: the measure is a family, every name starting with ``prefix`` belongs to it.
    examples : tuple of str, default ()
        Names of a family listed in :data:`MEASURES` (e.g. ``"nilearn_motion+wm_csf"``).
    """

    name: str
    description: str
    family: str
    func: Callable
    uses: tuple = ()
    settings: dict = field(default_factory=dict)
    prefix: str = ""
    examples: tuple = ()

    def matches(self, name: str) -> bool:
        """Whether ``name`` is this measure (or a member of this family).

        Parameters
        ----------
        name : str
            A measure name (e.g. ``"weighted_hrf"``).

        Returns
        -------
        bool
            Equal to the name, or starting with the family's prefix.
        """
        return name.startswith(self.prefix) if self.prefix else name == self.name


_REGISTRY: dict[str, Measure] = {}


def register(
    name: str,
    description: str,
    family: str,
    *,
    uses=("conditions", "band", "min_dof"),
    prefix: str = "",
    examples=(),
    **settings,
) -> Callable:
    """Decorator registering ``func`` as the connectivity measure ``name``.

    Parameters
    ----------
    name, description, family
        See :class:`Measure`.
    uses : tuple of str, default ("conditions", "band", "min_dof")
        Stage settings the measure reads (shown in :func:`measures_table`).
    prefix : str, default ""
        Register a family of measures: every name starting with ``prefix``.
    examples : tuple of str, default ()
        Family members listed in :data:`MEASURES`.
    **settings
        The measure's fixed settings, passed to the function as keyword arguments.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged, so one function can be registered
        under several names with different ``settings``.

    Raises
    ------
    ValueError
        ``name`` is already registered (unregister it first), or ``prefix`` does not start ``name``.
    """
    if name in _REGISTRY:
        raise ValueError(
            f"measure {name!r} is already registered (by {_REGISTRY[name].func.__module__}); "
            "rule: a measure registers once"
        )
    if prefix and not name.startswith(prefix):
        raise ValueError(f"measure family {name!r}: its name must start with its prefix {prefix!r}")

    def decorator(func: Callable) -> Callable:
        _REGISTRY[name] = Measure(
            name, description, family, func, tuple(uses), dict(settings), prefix, tuple(examples)
        )
        return func

    return decorator


def unregister(name: str) -> None:
    """Remove the measure ``name`` from the registry (KeyError if it is not registered).

    Parameters
    ----------
    name : str
        The registered name (a family by its placeholder name).
    """
    del _REGISTRY[name]


def get_measure(name: str) -> Measure:
    """The registered :class:`Measure` computing ``name`` (a family member resolves to its family).

    Parameters
    ----------
    name : str
        A measure name, e.g. ``"weighted_hrf"`` or ``"nilearn_motion"``.

    Raises
    ------
    ValueError
        No registered measure computes ``name`` (the message lists the choices).
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    for measure in _REGISTRY.values():
        if measure.matches(name):
            return measure
    raise ValueError(f"unknown measure {name!r}; choose from {tuple(_REGISTRY)}")


def is_measure(name: str) -> bool:
    """Whether a registered measure computes ``name``.

    Parameters
    ----------
    name : str
        A measure name.
    """
    return any(m.matches(name) for m in _REGISTRY.values())


class _Names(Sequence):
    """Live, read-only view of the registered measure names (families by their ``examples``)."""

    def _names(self) -> tuple:
        return tuple(n for m in _REGISTRY.values() for n in (m.examples if m.prefix else (m.name,)))

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(self._names())


#: The registered measures (a live view of the registry; families by their example members).
MEASURES = _Names()


def check_measures(measures) -> list[str]:
    """``measures`` as a list, every name checked against the registry.

    Parameters
    ----------
    measures : iterable of str
        Measure names (family members such as ``nilearn_<strategy>`` included).

    Raises
    ------
    ValueError
        A name no registered measure computes (the message lists them and the choices).
    """
    measures = list(measures)
    unknown = [m for m in measures if not is_measure(m)]
    if unknown:
        raise ValueError(
            f"unknown measure(s) {unknown}; choose from {tuple(MEASURES)} or "
            + " or ".join(m.name for m in _REGISTRY.values() if m.prefix)
        )
    return measures


def describe_measure(name: str) -> str:
    """One-line description of the measure ``name``; an unregistered name is returned as it is.

    Parameters
    ----------
    name : str
        A measure name (a family member gets its variant in the text).
    """
    if not is_measure(name):
        return name
    measure = get_measure(name)
    if not measure.prefix:
        return measure.description
    variant = name.removeprefix(measure.prefix)
    return measure.description.replace(measure.name.removeprefix(measure.prefix), variant)


def measures_table() -> pd.DataFrame:
    """The registered measures as the chapter and the docs show them.

    Returns
    -------
    DataFrame
        One row per registered measure (a family once, by its placeholder name), in registration
        order: ``measure, family, description, settings, uses``.
    """
    rows = [
        (
            m.name,
            m.family,
            m.description,
            ", ".join(f"{k} = {v}" for k, v in m.settings.items()),
            ", ".join(m.uses),
        )
        for m in _REGISTRY.values()
    ]
    return pd.DataFrame(rows, columns=["measure", "family", "description", "settings", "uses"])


# --------------------------------------------------------------------------- what a measure receives
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


def compute_measure(name: str, data: MeasureData) -> pd.DataFrame:
    """Rows ``condition, source, target, r, z`` of the measure ``name`` through the registry.

    Parameters
    ----------
    name : str
        A registered measure name.
    data : MeasureData
        The participant's runs and the stage settings.
    """
    measure = get_measure(name)
    variant = {"variant": name.removeprefix(measure.prefix)} if measure.prefix else {}
    return measure.func(data, **measure.settings, **variant)
