"""Parameters that follow the data: the effective parameters of a run (:func:`resolve_params`), decided
before any chapter executes, and the phrase that names the data in a chapter's prose."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from .schema import SCHEMA

log = logging.getLogger(__package__)

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
    from ..paths import project_root

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
    from .. import layout

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
    from ..bids import is_twin

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
