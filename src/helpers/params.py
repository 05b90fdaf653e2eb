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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "Param",
    "SCHEMA",
    "validate_params",
    "validate_value",
    "schema_table",
    "check_output_dir",
    "load_params_file",
    "resolve_params",
    "twin_requested",
    "describe_data",
    "PATH_KEYS",
    "RESOLVED_KEYS",
    "TWIN_DEFAULTS",
]

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
            text = {
                "list[str]": "a non-empty list of distinct strings",
                "path": "a non-empty path",
                "str|dict": "a string or mapping",
            }.get(self.kind, self.kind)
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
    from .firstlevel.measures import is_measure  # the registry: numpy/pandas only, no nibabel or nilearn

    return None if is_measure(value) else "is not a connectivity measure"


def _outliers(value) -> str | None:
    from .outliers import parse_outliers

    try:
        parse_outliers(value, where="outliers")
    except ValueError as err:
        return f"is not an outlier choice ({str(err).removeprefix('outliers: ')})"
    return None


def _measures_text() -> str:
    return (
        "a registered connectivity measure (helpers.firstlevel.measures_table(); nilearn_<strategy> included)"
    )


_PATH = "a path relative to the project root"

#: The declared parameters of every notebook (and of the runner: twin_*, execution_timeout).
SCHEMA: dict[str, Param] = {
    # --- data (CONTRACTS.md)
    "bids_dir": Param("path", f"BIDS dataset ({_PATH})"),
    "derivatives_dir": Param("path", f"fMRIPrep-style derivatives ({_PATH})"),
    "output_dir": Param(
        "path", f"where tables, figures and exclusions.tsv are written ({_PATH}; must be writable)"
    ),
    "preproc_dir": Param("path", f"where preprocessing writes its derivatives ({_PATH}; must be writable)"),
    "task": Param(
        "str",
        "BIDS task label of the functional run (letters and digits)",
        check=_bids_label,
        rule_text="letters and digits only",
    ),
    "conditions": Param("list[str]", "trial_type values of the events to model"),
    "seed": Param("int", "seed of the random number generators (twin, bootstrap, simulations)", low=0),
    "example_participant": Param(
        "str", "participant shown in the data chapter", check=_participant_label, rule_text="like sub-01"
    ),
    # --- questionnaire
    "item_pattern": Param(
        "str",
        "regular expression matching the SCS item columns; its one group captures the item number",
        check=_item_pattern,
        rule_text="a regular expression with exactly one group",
    ),
    "total_rule": Param("str", "rule for the SCS total score", choices=("subscale_mean", "item_mean")),
    "max_missing_per_subscale": Param(
        "int", "skipped items tolerated per subscale (prorated); 0: every item needed", low=0, high=3
    ),
    # --- preprocessing
    "fd_threshold": Param(
        "float", "mean framewise displacement (mm) above which a participant is excluded", low=0
    ),
    "run_preprocessing": Param("bool", "False: only inspect derivatives already in preproc_dir"),
    "preproc_resolution": Param(
        "float", "isotropic voxel size (mm) of the derivatives' MNI grid", low=0.5, high=10
    ),
    "template_resolution": Param(
        "float", "voxel size (mm) of the MNI template used for registration", low=0.5, high=10
    ),
    "on_error": Param(
        "str",
        "what a participant's failure does: stop the run, or skip the participant and record it "
        "in exclusions.tsv",
        choices=("stop", "skip"),
    ),
    # --- connectivity
    "weighting": Param(
        "str",
        "condition weights of the weighted correlation (CONN.md §2)",
        choices=("hrf", "hanning", "none"),
    ),
    "smoothed": Param("bool", "use the smoothed images for the ROI signals"),
    "multiverse": Param("bool", "also compute every alternative connectivity measure"),
    "n_jobs": Param(
        "int", "participants processed in parallel (-1: every core)", check=_n_jobs, rule_text="≥ 1 or -1"
    ),
    "backend": Param(
        "str", "execution backend for per-participant work", choices=("serial", "processes", "dask")
    ),
    "scheduler": Param("str", "Dask scheduler address or scheduler file; empty: a local cluster"),
    "cache": Param(
        "bool", "reuse cached per-participant results when inputs, parameters and code are unchanged"
    ),
    "outliers": Param(
        "str|dict",
        "outlier scans found by CONN's ART (helpers.outliers): 'none' (the paper's pipeline), a CONN "
        "preset applied by scrubbing, or thresholds {gs_z, fd_mm, method: scrub|censor, fd: conn|power}",
        check=_outliers,
        rule_text="'none', 'liberal', 'intermediate', 'conservative' or such a mapping",
    ),
    "max_outlier_fraction": Param(
        "float",
        "largest share of a condition's scans a participant may lose to outlier scans; above it the "
        "participant is excluded",
        low=0,
        high=1,
    ),
    "min_trials": Param(
        "int",
        "beta series: fewest trials of a condition entering its correlation (fewer: the "
        "participant gets no beta-series value, reason in exclusions.tsv)",
        low=2,
    ),
    "lss": Param(
        "str",
        "beta series: the other trials of each trial's model, one regressor per condition "
        "(separate) or one for all (lumped)",
        choices=("separate", "lumped"),
    ),
    "beta_outliers": Param(
        "str",
        "beta series: trials with outlying betas only counted (flag) or also left out of "
        "the correlation (censor)",
        choices=("flag", "censor"),
    ),
    "beta_outlier_z": Param(
        "float", "beta series: modified z score (median/MAD) above which a trial's beta is an outlier", low=0
    ),
    "gppi_max_vif": Param(
        "float",
        "gPPI: largest variance inflation factor of a condition's interaction term "
        "(above it: no gPPI value, reason in exclusions.tsv; .inf: no limit)",
        low=1,
    ),
    # --- results and robustness
    "measure": Param("str", "connectivity measure analysed", check=_measure, rule_text=_measures_text()),
    "alternative": Param(
        "str",
        "alternative hypothesis of the correlation tests",
        choices=("directional", "less", "greater", "two-sided"),
    ),
    "n_boot": Param("int", "bootstrap resamples", low=1),
    "n_sim": Param("int", "simulated replications", low=1),
    "n_draws": Param(
        "int",
        "re-simulated runs per participant for the reliability of the connectivity estimate (twin only)",
        low=2,
    ),
    "population_rho": Param(
        "float",
        "population correlation for the replication simulation (None: the twin's planted "
        "value, else the paper's)",
        low=-1,
        high=1,
        nullable=True,
    ),
    # --- the second study
    "n_compassion": Param("int", "participants in the compassion-training group", low=2),
    "n_memory": Param("int", "participants in the memory-training group", low=2),
    "null_effect": Param("bool", "simulate the training study without a training effect"),
    "grid_resolution": Param("float", "voxel size (mm) of the training study's MNI grid", low=0.5, high=10),
    # --- the runner
    "twin_participants": Param(
        "int",
        "generate a digital twin of this many participants at bids_dir "
        "(0 or None: use the data already there)",
        low=0,
        nullable=True,
    ),
    "twin_config": Param("path", f"YAML overrides of the twin's configuration ({_PATH})", nullable=True),
    "execution_timeout": Param("int", "seconds a notebook cell may run", low=1),
    # --- registration QC gates (helpers.preprocess.gates; the FD gate uses fd_threshold)
    "qc_policy": Param(
        "str",
        "participants flagged by the registration QC gates: exclude them (exclusions.tsv) "
        "or only report them",
        choices=("exclude", "report"),
    ),
    "qc_min_coreg_nmi": Param(
        "float",
        "lowest EPI-structural normalised mutual information after coregistration "
        "(1 = independent, 2 = identical)",
        low=1,
        high=2,
        nullable=True,
    ),
    "qc_min_norm_r": Param(
        "float",
        "lowest correlation of the normalised structural with the template",
        low=-1,
        high=1,
        nullable=True,
    ),
    "qc_min_brain_cover": Param(
        "float",
        "lowest fraction of each ROI inside the participant's brain mask",
        low=0,
        high=1,
        nullable=True,
    ),
    "qc_min_signal_cover": Param(
        "float",
        "lowest fraction of each ROI with usable EPI signal (tSNR ≥ qc_tsnr_fraction × the brain's median)",
        low=0,
        high=1,
        nullable=True,
    ),
    "qc_tsnr_fraction": Param(
        "float",
        "tSNR, as a fraction of the brain's median, below which a voxel's EPI signal is not usable",
        low=0,
        high=1,
    ),
    "qc_max_voxel_mm": Param("float", "largest BOLD voxel edge (mm) accepted", low=0, nullable=True),
    # --- denoising quality (helpers.denoise_qc; thresholds of its one-line verdicts)
    "qcfc_n_perm": Param(
        "int",
        "permutations of the QC-FC null (mean FD shuffled over participants; all when n! is smaller)",
        low=1,
    ),
    "qcfc_alpha": Param("float", "level of the QC-FC permutation tests", low=0, high=1),
    "qcfc_max_pct_significant": Param(
        "float",
        "largest % of edges whose QC-FC may reach p < qcfc_alpha for its verdict to pass",
        low=0,
        high=100,
    ),
    "denoise_min_dof": Param(
        "float", "smallest effective degrees of freedom of a condition for the dof verdict to pass", low=0
    ),
    "denoise_min_r_reduction": Param(
        "float",
        "smallest drop of the median |r| between ROIs (raw − denoised) for its verdict to pass",
        low=-1,
        high=1,
    ),
    "carpet_voxels": Param("int", "brain voxels drawn at random for the carpet plot", low=10),
    "parcellation": Param(
        "str",
        "atlas whose labels also serve as ROIs in a whole-brain view of the first level and its QC "
        "(None: only the paper's ROIs)",
        choices=("aal", "harvard_oxford"),
        nullable=True,
    ),
    "parcellation_labels": Param(
        "list[str]", "labels of the parcellation to use, as the atlas spells them (None: all)", nullable=True
    ),
    # --- who is analysed (helpers.exclusions)
    "exclusions_file": Param(
        "path",
        "your own exclusions: a TSV with columns participant_id and reason; "
        "those participants are left out of every group table and figure",
        nullable=True,
    ),
}

_NAMES = {
    "str": "str",
    "path": "str",
    "int": "int",
    "float": "float (or int)",
    "bool": "bool",
    "list[str]": "list of str",
    "str|dict": "str or mapping",
}


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
    if kind == "str|dict":
        return isinstance(value, (str, dict))
    return isinstance(value, str)


def _problem(spec: Param, value: Any) -> tuple[type[Exception], str] | None:
    """(exception type, what is wrong) for ``value`` under ``spec``, or None if it is allowed."""
    if value is None:
        return None if spec.nullable else (TypeError, "is None")
    if spec.kind == "list[str]" and isinstance(value, str):
        items = [v.strip() for v in re.split(r"[,\s]+", value) if v.strip()]
        return TypeError, f"is one string, expected list of str (write a list: [{', '.join(items)}])"
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
    """Check one declared parameter; see :func:`validate_params`.

    Parameters
    ----------
    name : str
        A key of :data:`SCHEMA`.
    value : Any
        Its value.
    source : str, default "parameters"
        Where the value comes from; it starts the message.

    Raises
    ------
    TypeError, ValueError
        The value has the wrong type or breaks its rule; the message names the source, the
        parameter, the value and the rule.
    """
    spec = SCHEMA[name]
    found = _problem(spec, value)
    if found:
        exc, what = found
        raise exc(
            f"{source}: parameter {name!r} = {value!r} {what} (rule: {spec.rule()}); "
            f"{name}: {spec.description}"
        )


def validate_params(params: dict, source: str = "parameters", unknown: str = "error") -> dict:
    """Check parameters against :data:`SCHEMA`; return them unchanged.

    Parameters
    ----------
    params : dict
        Parameter name → value.
    source : str, default "parameters"
        Where the parameters come from (``"params file notebooks/params/default.yml"``,
        ``"notebook 03_connectivity"``); it starts every message.
    unknown : {"error", "warn", "ignore"}, default "error"
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
            hint = (
                f"did you mean {', '.join(close)}?"
                if close
                else "see helpers.params.SCHEMA for the known names"
            )
            raise ValueError(
                f"{source}: unknown parameter {name!r} (rule: every parameter is declared in "
                f"helpers.params.SCHEMA); {hint}"
            )
        elif unknown == "warn":
            log.warning(
                "%s: parameter %r is not declared in helpers.params.SCHEMA (not validated)", source, name
            )
    return params


def check_output_dir(path: str | os.PathLike, name: str = "output_dir", source: str = "parameters") -> None:
    """Create the output folder ``path`` if needed and check that it is writable.

    Parameters
    ----------
    path : path-like
        The output folder.
    name : str, default "output_dir"
        The parameter's name, for the message.
    source : str, default "parameters"
        Where the value comes from; it starts the message.

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
        raise PermissionError(
            f"{source}: parameter {name!r} = {folder!r}: cannot create the output folder "
            f"({err.strerror}); point {name} at a writable folder"
        ) from err
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"{source}: parameter {name!r} = {folder!r}: the output folder is not writable; "
            f"point {name} at a writable folder"
        )


def schema_table() -> pd.DataFrame:
    """The schema as a table (parameter, type, rule, description) for the book."""
    rows = [(name, spec.kind, spec.rule(), spec.description) for name, spec in SCHEMA.items()]
    return pd.DataFrame(rows, columns=["parameter", "type", "rule", "description"])


# --------------------------------------------------------------------------- params files
def load_params_file(path: str | os.PathLike) -> dict:
    """Read a flat YAML params file and check every declared key; ``{}`` for an empty file.

    Everything a person typing the file can get wrong stops here with one message naming the
    file, the line and the rule — never a bare YAML traceback:

    * a tab in the indentation (YAML indents with spaces only);
    * a syntax error (bad indentation, an unclosed bracket or quote), with YAML's own description;
    * a top level that is not ``name: value`` lines, or a name given twice;
    * a value of the wrong type or outside its rule (:data:`SCHEMA`), e.g. ``conditions: face, house``
      (one string where a list is expected: ``conditions: [face, house]``).

    Keys not in :data:`SCHEMA` are returned unchecked (the runner checks them against the
    notebooks' parameters cells).

    Parameters
    ----------
    path : path-like
        The YAML file.

    Returns
    -------
    dict
        Parameter name → value.

    Raises
    ------
    ValueError, TypeError
        As above; the message starts with ``params file <path>, line <n>``.
    """
    import yaml

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"params file {path} does not exist")
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise ValueError(
                f"params file {path}, line {number}: the line is indented with a tab "
                "(rule: YAML indents with spaces only; replace the tab by spaces)"
            )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(str(x) for x in (err.context, err.problem) if x)
        raise ValueError(
            f"params file {path}{where}: not valid YAML ({what}) (rule: one 'name: value' per "
            "line, lists as [a, b], text with ':' or '#' in quotes, indentation with spaces)"
        ) from None
    except yaml.YAMLError as err:
        raise ValueError(f"params file {path}: not valid YAML ({err})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(
            f"params file {path}: expected a mapping of name: value, got {type(data).__name__} "
            "(rule: one 'name: value' per line)"
        )
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        key, line = key_node.value, key_node.start_mark.line + 1
        if key in lines:
            raise ValueError(
                f"params file {path}, line {line}: {key!r} is given twice (also on line {lines[key]}) "
                "(rule: each name once)"
            )
        lines[key] = line
    for key, value in data.items():
        if key in SCHEMA:
            validate_value(key, value, f"params file {path}, line {lines.get(str(key), '?')}")
    return data


# --------------------------------------------------------------------------- parameters that follow the data
#: Where ``make book`` puts the digital twin and its products; a user's params file never points here.
TWIN_DIR = "build/data/twin"
#: The twin's default locations (its data, derivatives, our preprocessing of it and its outputs).
TWIN_DEFAULTS = {
    "bids_dir": TWIN_DIR,
    "derivatives_dir": f"{TWIN_DIR}/derivatives/twin-fmriprep",
    "preproc_dir": "build/data/preproc",
    "output_dir": "build/outputs",
}
#: The declared path parameters: the runner passes each of them to every chapter that declares it.
PATH_KEYS = tuple(name for name, spec in SCHEMA.items() if spec.kind == "path")
#: Every key :func:`resolve_params` may set (the runner accepts them even if no chapter declares one).
RESOLVED_KEYS = (*PATH_KEYS, "example_participant", "task", "run_preprocessing")


def twin_requested(params: dict) -> bool:
    """True when the params ask for the digital twin (``twin_participants`` set and not 0).

    Parameters
    ----------
    params : dict
        Parameter name → value.

    Returns
    -------
    bool
    """
    return bool(params.get("twin_participants"))


def _twin_location(value, root) -> str | None:
    """The twin default that ``value`` points into, or None."""
    target = Path(value) if Path(value).is_absolute() else Path(root) / value
    for default in TWIN_DEFAULTS.values():
        home = Path(root) / default
        if target.resolve() == home.resolve() or home.resolve() in target.resolve().parents:
            return default
    if Path(root, TWIN_DIR).resolve().parent == target.resolve().parent and target.name.startswith("twin"):
        return TWIN_DIR  # build/data/twin-hard and other twins
    return None


def resolve_params(params: dict, root: str | os.PathLike | None = None, source: str = "parameters") -> dict:
    """The effective parameters of a run, decided before any chapter executes.

    **The twin** (``twin_participants`` set): the twin's locations (:data:`TWIN_DEFAULTS`) fill every
    path not given; ``derivatives_dir`` defaults to the twin's ideal derivatives under ``bids_dir``.

    **Your data** (no ``twin_participants``): nothing defaults to the twin, and a path that points
    into the twin's locations is refused (the twin's images would be paired with your events, or its
    exclusions with your participants). Defaults follow the data:

    * ``output_dir`` — ``build/studies/<name of bids_dir>``;
    * ``preproc_dir`` — ``<output_dir>/preproc`` (:attr:`helpers.layout.Outputs.preproc`);
    * ``derivatives_dir`` — fMRIPrep-style derivatives found inside ``bids_dir``
      (:func:`helpers.layout.find_fmriprep`), and then ``run_preprocessing`` defaults to False;
      otherwise ``preproc_dir`` (our preprocessing runs and the connectivity chapter reads its output);
    * ``run_preprocessing`` — False as well when ``derivatives_dir`` is given and is not ``preproc_dir``;
    * ``example_participant`` — the first participant found (:func:`helpers.layout.participants`);
    * ``task`` — the one task of the dataset's BOLD files when there is exactly one.

    Every declared path parameter (:data:`PATH_KEYS`) is present in the result (``None`` for
    optional ones), so the runner passes each explicitly and no chapter falls back to its default.

    Parameters
    ----------
    params : dict
        The params file's content (:func:`load_params_file`).
    root : path-like, default None
        Project root that relative paths refer to (default :func:`helpers.paths.project_root`).
    source : str, default "parameters"
        Start of every message (e.g. ``"params file my-study.yml"``).

    Raises
    ------
    ValueError
        No ``bids_dir`` for your data, a ``bids_dir`` that does not exist, or a path into the twin's
        locations (the message names the key).
    """
    from .paths import project_root

    root = Path(root) if root is not None else project_root()
    out = dict(params)
    for name in PATH_KEYS:
        if SCHEMA[name].nullable:
            out.setdefault(name, None)
    if twin_requested(params):
        out.setdefault("bids_dir", TWIN_DEFAULTS["bids_dir"])
        out.setdefault("derivatives_dir", f"{out['bids_dir']}/derivatives/twin-fmriprep")
        for name in ("preproc_dir", "output_dir"):
            out.setdefault(name, TWIN_DEFAULTS[name])
        out.setdefault("example_participant", "sub-01")
        return out
    if "bids_dir" not in params:
        raise ValueError(
            f"{source}: no bids_dir and no twin_participants (rule: set bids_dir to your BIDS dataset, "
            "or twin_participants to simulate the digital twin)"
        )
    for name in PATH_KEYS:
        value = out.get(name)
        twin = _twin_location(value, root) if value is not None else None
        if twin:
            raise ValueError(
                f"{source}: parameter {name!r} = {str(value)!r} points into the digital twin's "
                f"location {twin} while bids_dir is your data (rule: without twin_participants no "
                f"path may point at the twin; remove {name} to use its default for your data, "
                "or choose a folder of your own)"
            )
    from . import layout

    bids = Path(out["bids_dir"]) if Path(out["bids_dir"]).is_absolute() else root / out["bids_dir"]
    if not bids.is_dir():
        raise ValueError(
            f"{source}: parameter 'bids_dir' = {str(out['bids_dir'])!r}: no such folder "
            f"({bids}; relative paths start at the project root {root})"
        )
    out.setdefault("output_dir", f"build/studies/{bids.resolve().name}")
    out.setdefault("preproc_dir", layout.outputs(out["output_dir"]).preproc.as_posix())
    if "derivatives_dir" not in params:
        found = layout.find_fmriprep(bids)
        if found is not None:
            found = Path(found).resolve()
            out["derivatives_dir"] = (
                found.relative_to(root.resolve()).as_posix()
                if root.resolve() in found.parents
                else str(found)
            )
            log.info(
                "%s: derivatives found at %s; preprocessing is skipped (set run_preprocessing: true "
                "to preprocess anyway)",
                source,
                out["derivatives_dir"],
            )
            out.setdefault("run_preprocessing", False)
        else:
            out["derivatives_dir"] = out["preproc_dir"]
    elif Path(out["derivatives_dir"]) != Path(out["preproc_dir"]):
        out.setdefault("run_preprocessing", False)
    found = layout.participants(bids)
    if not found:
        raise ValueError(
            f"{source}: bids_dir {bids} holds no participants (rule: sub-<label> folders "
            "or a participants.tsv)"
        )
    out.setdefault("example_participant", found[0])
    if out["example_participant"] not in found:
        shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
        raise ValueError(
            f"{source}: parameter 'example_participant' = {out['example_participant']!r} is not a "
            f"participant of {bids} ({shown}) (rule: one of the dataset's participants; leave it "
            "out to show the first)"
        )
    if "task" not in params:
        tasks = sorted(
            {
                m.group(1)
                for f in bids.glob("sub-*/**/func/*_bold.nii*")
                if (m := re.search(r"_task-([A-Za-z0-9]+)_", f.name))
            }
        )
        if len(tasks) == 1:
            out["task"] = tasks[0]
        elif tasks:
            raise ValueError(
                f"{source}: bids_dir {bids} has BOLD runs of several tasks ({', '.join(tasks)}) "
                "(rule: set task to the one to analyse)"
            )
    return out


def describe_data(bids_dir, derivatives_dir=None) -> str:
    """A phrase naming the data a chapter read, for its prose.

    ``"the digital twin (simulated data)"`` for the twin, else ``"the dataset at <bids_dir>"``,
    followed by where the preprocessed images came from when ``derivatives_dir`` is given
    (the twin's ideal derivatives, fMRIPrep's, or ours).

    Parameters
    ----------
    bids_dir : path-like
        The BIDS dataset read.
    derivatives_dir : path-like, default None
        The preprocessed images read; None: not mentioned.

    Returns
    -------
    str
    """
    from .bids import is_twin

    if is_twin(bids_dir):
        text = "the digital twin (simulated data)"
        if derivatives_dir is not None:
            ideal = "twin-fmriprep" in Path(derivatives_dir).parts
            text += (
                " and its ideal derivatives (the images perfect preprocessing would give)"
                if ideal
                else f" preprocessed by this book's pipeline ({derivatives_dir})"
            )
        return text
    text = f"the dataset at {bids_dir}"
    if derivatives_dir is not None:
        text += f", with the preprocessed images at {derivatives_dir}"
    return text
