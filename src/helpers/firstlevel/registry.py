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

A measure function receives a :class:`MeasureData` (:mod:`helpers.firstlevel.measure_data`: the
participant's runs, each with its ROI series and CONN denoising design, and the stage settings) plus
its registered settings, and returns rows ``condition, source, target, r, z`` over all runs
(book/spec_conn.md §7: each run denoised on its own, then stacked).

This module, :mod:`~helpers.firstlevel.measure_data` and :mod:`helpers.firstlevel.measures` import
numpy, pandas, :mod:`helpers.connectivity` and :mod:`helpers.beta_series` only, so that the schema
can read the registry without loading nibabel or nilearn; the denoising code is imported where it
runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .measure_data import MeasureData

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
