"""One declared schema for the flat parameter namespace of every notebook.

Each name in ``notebooks/params/*.yml`` and in the notebooks' ``parameters`` cells means the same
thing everywhere (``notes/CONTRACTS.md``); :data:`SCHEMA` says, for each name, its type, the values
or range allowed and what it does.  :func:`validate_params` checks a dict of parameters against it
and raises at the first problem with a message naming the key, the value, the rule and the
parameter's meaning, e.g.::

    notebook 03_connectivity: parameter 'weighting' = 'gaussian' is not allowed
    (rule: one of 'hrf', 'hanning', 'none'); condition weights: ...

It is called by :class:`helpers.provenance.Chapter` (so every notebook checks its parameters at
the top, before any work) and by :mod:`helpers.runner` for every params file; names not in the
schema fall back to the runner's check against the notebook's own defaults.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

__all__ = ["Param", "SCHEMA", "validate_params", "validate_value", "schema_table", "check_output_dir"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Param:
    """Declaration of one parameter.

    Attributes
    ----------
    kind : {"str", "path", "int", "float", "bool", "list[str]"}
        ``float`` accepts integers; ``int`` and ``float`` never accept booleans; ``path`` is a
        non-empty string (relative to the project root) or a path object.
    description : str
        What the parameter does (shown in messages and on the book's bad-input page).
    choices : tuple, optional
        The allowed values.
    low, high : float, optional
        Inclusive bounds for numbers.
    nullable : bool
        ``None`` is allowed (meaning stated in ``description``).
    check : callable, optional
        ``check(value) -> str | None``: an extra rule; returns the problem or None.
    rule_text : str, optional
        How to state ``check``'s rule in messages.
    """

    kind: str
    description: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    check: Callable[[Any], str | None] | None = None
    rule_text: str = ""

    def rule(self) -> str:
        """The rule in words, e.g. ``"int ≥ 1"`` or ``"one of 'hrf', 'hanning', 'none'"``."""
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = {"list[str]": "a non-empty list of distinct strings", "path": "a non-empty path"}.get(self.kind, self.kind)
            if self.low is not None and self.high is not None:
                text += f" in [{self.low:g}, {self.high:g}]"
            elif self.low is not None:
                text += f" ≥ {self.low:g}"
            elif self.high is not None:
                text += f" ≤ {self.high:g}"
        if self.rule_text:
            text += f", {self.rule_text}"
        return text + (" or None" if self.nullable else "")


# --------------------------------------------------------------------------- extra rules
def _bids_label(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z0-9]+", value) else "is not a BIDS label"


def _participant_label(value: str) -> str | None:
    return None if re.fullmatch(r"sub-[A-Za-z0-9]+", value) else "is not a participant ID"


def _item_pattern(value: str) -> str | None:
    try:
        groups = re.compile(value).groups
    except re.error as err:
        return f"is not a valid regular expression ({err})"
    return None if groups == 1 else f"has {groups} groups"


def _n_jobs(value: int) -> str | None:
    return None if value >= 1 or value == -1 else "is neither ≥ 1 nor -1"


def _measure(value: str) -> str | None:
    from .firstlevel import MEASURES  # the measures the connectivity chapter can compute

    return None if value in MEASURES or value.startswith("nilearn_") else "is not a connectivity measure"


def _measures_text() -> str:
    return "one of the connectivity measures (helpers.firstlevel.MEASURES) or nilearn_<strategy>"


_PATH = "a path relative to the project root"

#: The declared parameters of every notebook (and of the runner: twin_*, execution_timeout).
SCHEMA: dict[str, Param] = {
    # --- data (CONTRACTS.md)
    "bids_dir": Param("path", f"BIDS dataset ({_PATH})"),
    "derivatives_dir": Param("path", f"fMRIPrep-style derivatives ({_PATH})"),
    "output_dir": Param("path", f"where tables, figures and exclusions.tsv are written ({_PATH}; must be writable)"),
    "preproc_dir": Param("path", f"where preprocessing writes its derivatives ({_PATH}; must be writable)"),
    "task": Param("str", "BIDS task label of the functional run (letters and digits)", check=_bids_label,
                  rule_text="letters and digits only"),
    "conditions": Param("list[str]", "trial_type values of the events to model"),
    "seed": Param("int", "seed of the random number generators (twin, bootstrap, simulations)", low=0),
    "example_participant": Param("str", "participant shown in the data chapter", check=_participant_label,
                                 rule_text="like sub-01"),
    # --- questionnaire
    "item_pattern": Param("str", "regular expression matching the SCS item columns; its one group captures the item number",
                          check=_item_pattern, rule_text="a regular expression with exactly one group"),
    "total_rule": Param("str", "rule for the SCS total score", choices=("subscale_mean", "item_mean")),
    "max_missing_per_subscale": Param("int", "skipped items tolerated per subscale (prorated); 0: every item needed",
                                      low=0, high=3),
    # --- preprocessing
    "fd_threshold": Param("float", "mean framewise displacement (mm) above which a participant is excluded", low=0),
    "run_preprocessing": Param("bool", "False: only inspect derivatives already in preproc_dir"),
    "preproc_resolution": Param("float", "isotropic voxel size (mm) of the derivatives' MNI grid", low=0.5, high=10),
    "template_resolution": Param("float", "voxel size (mm) of the MNI template used for registration", low=0.5, high=10),
    "on_error": Param("str", "what a participant's failure does: stop the run, or skip the participant and record it "
                             "in exclusions.tsv", choices=("stop", "skip")),
    # --- connectivity
    "weighting": Param("str", "condition weights of the weighted correlation (CONN.md §2)",
                       choices=("hrf", "hanning", "none")),
    "smoothed": Param("bool", "use the smoothed images for the ROI signals"),
    "multiverse": Param("bool", "also compute every alternative connectivity measure"),
    "n_jobs": Param("int", "participants processed in parallel (-1: every core)", check=_n_jobs,
                    rule_text="≥ 1 or -1"),
    "backend": Param("str", "execution backend for per-participant work", choices=("serial", "processes", "dask")),
    "scheduler": Param("str", "Dask scheduler address or scheduler file; empty: a local cluster"),
    "cache": Param("bool", "reuse cached per-participant results when inputs, parameters and code are unchanged"),
    # --- results and robustness
    "measure": Param("str", "connectivity measure analysed", check=_measure, rule_text=_measures_text()),
    "alternative": Param("str", "alternative hypothesis of the correlation tests",
                         choices=("directional", "less", "greater", "two-sided")),
    "n_boot": Param("int", "bootstrap resamples", low=1),
    "n_sim": Param("int", "simulated replications", low=1),
    "n_draws": Param("int", "re-simulated runs per participant for the reliability of the connectivity estimate "
                            "(twin only)", low=2),
    "population_rho": Param("float", "population correlation for the replication simulation (None: the twin's planted "
                                     "value, else the paper's)", low=-1, high=1, nullable=True),
    # --- the second study
    "n_compassion": Param("int", "participants in the compassion-training group", low=2),
    "n_memory": Param("int", "participants in the memory-training group", low=2),
    "null_effect": Param("bool", "simulate the training study without a training effect"),
    "grid_resolution": Param("float", "voxel size (mm) of the training study's MNI grid", low=0.5, high=10),
    # --- the runner
    "twin_participants": Param("int", "generate a digital twin of this many participants at bids_dir "
                                      "(0 or None: use the data already there)", low=0, nullable=True),
    "twin_config": Param("path", f"YAML overrides of the twin's configuration ({_PATH})", nullable=True),
    "execution_timeout": Param("int", "seconds a notebook cell may run", low=1),
    # --- registration QC gates (helpers.preprocess.gates; the FD gate uses fd_threshold)
    "qc_policy": Param("str", "participants flagged by the registration QC gates: exclude them (exclusions.tsv) "
                              "or only report them", choices=("exclude", "report")),
    "qc_min_coreg_nmi": Param("float", "lowest EPI-structural normalised mutual information after coregistration "
                                       "(1 = independent, 2 = identical)", low=1, high=2, nullable=True),
    "qc_min_norm_r": Param("float", "lowest correlation of the normalised structural with the template",
                           low=-1, high=1, nullable=True),
    "qc_min_brain_cover": Param("float", "lowest fraction of each ROI inside the participant's brain mask",
                                low=0, high=1, nullable=True),
    "qc_min_signal_cover": Param("float", "lowest fraction of each ROI with usable EPI signal (tSNR ≥ "
                                          "qc_tsnr_fraction × the brain's median)", low=0, high=1, nullable=True),
    "qc_tsnr_fraction": Param("float", "tSNR, as a fraction of the brain's median, below which a voxel's EPI "
                                       "signal is not usable", low=0, high=1),
    "qc_max_voxel_mm": Param("float", "largest BOLD voxel edge (mm) accepted", low=0, nullable=True),
}

_NAMES = {"str": "str", "path": "str", "int": "int", "float": "float (or int)", "bool": "bool", "list[str]": "list of str"}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, (int, float))
    if kind == "path":
        return isinstance(value, (str, os.PathLike))
    if kind == "list[str]":
        return isinstance(value, (list, tuple))
    return isinstance(value, str)


def _problem(spec: Param, value: Any) -> tuple[type[Exception], str] | None:
    """(exception type, what is wrong) for ``value`` under ``spec``, or None if it is allowed."""
    if value is None:
        return None if spec.nullable else (TypeError, "is None")
    if not _type_ok(spec.kind, value):
        return TypeError, f"has type {type(value).__name__}, expected {_NAMES[spec.kind]}"
    if spec.kind == "list[str]":
        if not value:
            return ValueError, "is empty"
        wrong = [v for v in value if not isinstance(v, str)]
        if wrong:
            return TypeError, f"holds {wrong[0]!r} of type {type(wrong[0]).__name__}, expected str"
        if len(set(value)) != len(value):
            return ValueError, "repeats a value"
    if spec.kind == "path" and not str(value).strip():
        return ValueError, "is empty"
    if spec.choices is not None and value not in spec.choices:
        return ValueError, "is not allowed"
    if spec.low is not None and value < spec.low or spec.high is not None and value > spec.high:
        return ValueError, "is out of range"
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            return ValueError, problem
    return None


def validate_value(name: str, value: Any, source: str = "parameters") -> None:
    """Check one declared parameter; see :func:`validate_params`."""
    spec = SCHEMA[name]
    found = _problem(spec, value)
    if found:
        exc, what = found
        raise exc(f"{source}: parameter {name!r} = {value!r} {what} (rule: {spec.rule()}); "
                  f"{name}: {spec.description}")


def validate_params(params: dict, source: str = "parameters", unknown: str = "error") -> dict:
    """Check parameters against :data:`SCHEMA`; return them unchanged.

    Parameters
    ----------
    params : dict
        Parameter name → value.
    source : str
        Where the parameters come from (``"params file notebooks/params/default.yml"``,
        ``"notebook 03_connectivity"``); it starts every message.
    unknown : {"error", "warn", "ignore"}
        What a name not in the schema does: ``ValueError`` (listing the close matches),
        a logged warning, or nothing (the caller checks it some other way).

    Raises
    ------
    TypeError
        A value of the wrong type (the message names the key, the value and the expected type).
    ValueError
        A value outside the allowed choices or range, or breaking the parameter's extra rule,
        or (``unknown="error"``) an undeclared name.
    """
    if not isinstance(params, dict):
        raise TypeError(f"{source}: parameters must be a mapping of name: value, got {type(params).__name__}")
    if unknown not in ("error", "warn", "ignore"):
        raise ValueError(f"unknown must be 'error', 'warn' or 'ignore', got {unknown!r}")
    for name, value in params.items():
        if name in SCHEMA:
            validate_value(name, value, source)
        elif unknown == "error":
            import difflib

            close = difflib.get_close_matches(str(name), SCHEMA, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "see helpers.params.SCHEMA for the known names"
            raise ValueError(f"{source}: unknown parameter {name!r} (rule: every parameter is declared in "
                             f"helpers.params.SCHEMA); {hint}")
        elif unknown == "warn":
            log.warning("%s: parameter %r is not declared in helpers.params.SCHEMA (not validated)", source, name)
    return params


def check_output_dir(path: str | os.PathLike, name: str = "output_dir", source: str = "parameters") -> None:
    """Create the output folder ``path`` if needed and check that it is writable.

    Raises
    ------
    PermissionError
        The folder cannot be created (a regular file is in the way, or no permission) or is not
        writable; the message names the parameter, the folder and how to fix it.
    """
    folder = os.fspath(path)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise PermissionError(f"{source}: parameter {name!r} = {folder!r}: cannot create the output folder "
                              f"({err.strerror}); point {name} at a writable folder") from err
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{source}: parameter {name!r} = {folder!r}: the output folder is not writable; "
                              f"point {name} at a writable folder")


def schema_table() -> pd.DataFrame:
    """The schema as a table (parameter, type, rule, description) for the book."""
    rows = [(name, spec.kind, spec.rule(), spec.description) for name, spec in SCHEMA.items()]
    return pd.DataFrame(rows, columns=["parameter", "type", "rule", "description"])
