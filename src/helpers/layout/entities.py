"""BIDS file names: entity parsing and the inheritance principle (BIDS 1.9, "Common principles").

A BIDS file name is ``<key>-<value>[_<key>-<value>…]_<suffix><extension>``, e.g.
``sub-01_ses-2_task-faces_acq-mb_run-01_bold.nii.gz`` → ``{"sub": "01", "ses": "2", "task": "faces",
"acq": "mb", "run": "01", "suffix": "bold", "extension": ".nii.gz"}``.  Keys are the short entity
keys as written in the name; values are kept as written (``run-01`` stays ``"01"``).

**Inheritance principle**: a metadata file (``.json``) applies to a data file when it sits in the data
file's folder or one of its parents inside the dataset, has the same suffix, and every entity it names
has the data file's value (e.g. ``task-faces_bold.json`` at the top level applies to every
``*_task-faces_*_bold.nii.gz``).  The applicable sidecars are merged from the least specific (top
level, fewest entities) to the most specific, whose fields win.  BIDS ≥ 1.7 forbids two applicable
files at one level; older datasets have them, so — as pybids does — the one with more entities wins.
For a tabular file (``events.tsv``) the most specific applicable file is used, never a merge.

Why our own code and not pybids (``bids.layout.parse_file_entities``, ``BIDSLayout``,
``get_metadata``, ``get_nearest``), measured with pybids 0.22.0 in fresh processes on this machine
(2 shared cores), 19-participant twin (374 files):

* import: ``bids.layout`` adds ~0.9 s on top of pandas + nibabel (which we import anyway);
  this package adds < 0.1 s;
* indexing: ``BIDSLayout(root, validate=False)`` takes 0.45–0.65 s (it builds an SQLite index of every
  file, ``derivatives/`` included) — 1.25 s on bids-examples' ds000117 (2448 files) and 3.2 s on
  7t_trt — before the first query; finding every run of the 19 participants with its merged metadata
  takes ~15 ms here (no index: only the participant's folders and their parents are listed);
* answers: the merged metadata equal ``BIDSLayout.get_metadata``'s on all 412 BOLD runs of ds001,
  ds005, ds114, ds000117, 7t_trt and synthetic; but ``get_nearest(bold, suffix="events")`` returned
  nothing (strict) or another task's events (``strict=False``) for ds114, whose events are inherited
  from ``task-<task>_events.tsv`` — :func:`nearest_file` returns that file;
* weight: pybids brings eight more packages (bids-validator, bidsschematools, universal_pathlib, …)
  into every notebook and worker process for the two rules used here.

The rules are the specification's; tests/test_layout_raw.py checks them on layouts copied from
bids-standard/bids-examples (tests/data/bids_examples) and on hand-made edge cases.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

__all__ = ["parse_entities", "applicable", "inherited_metadata", "nearest_file", "read_json"]

_NAME = re.compile(
    r"^(?P<entities>(?:[a-zA-Z]+-[a-zA-Z0-9+]+_)*)(?P<suffix>[a-zA-Z0-9]+)(?P<extension>(?:\.[a-zA-Z0-9]+)*)$"
)
_PAIR = re.compile(r"([a-zA-Z]+)-([a-zA-Z0-9+]+)_")


def parse_entities(path: str | os.PathLike) -> dict[str, str] | None:
    """Entities, ``suffix`` and ``extension`` of a BIDS file name; None when the name is not BIDS.

    Parameters
    ----------
    path : path-like
        A file name or path (only the name is parsed).

    Returns
    -------
    dict or None
        Entity keys as written (``sub``, ``ses``, ``task``, ``acq``, ``run``, …) mapped to their values
        as written, plus ``suffix`` and ``extension`` (with its dot, ``""`` when absent).

    Examples
    --------
    >>> parse_entities("sub-01_ses-2_task-faces_run-01_bold.nii.gz")
    {'sub': '01', 'ses': '2', 'task': 'faces', 'run': '01', 'suffix': 'bold', 'extension': '.nii.gz'}
    >>> parse_entities("task-faces_bold.json")
    {'task': 'faces', 'suffix': 'bold', 'extension': '.json'}
    >>> parse_entities("notes.txt.bak~") is None
    True
    """
    match = _NAME.match(Path(path).name)
    if match is None:
        return None
    entities: dict[str, str] = {}
    for key, value in _PAIR.findall(match["entities"]):
        if key in entities:  # sub-01_run-1_run-2_bold: not a BIDS name
            return None
        entities[key] = value
    entities["suffix"] = match["suffix"]
    entities["extension"] = match["extension"]
    return entities


def applicable(candidate: dict[str, str], target: dict[str, str]) -> bool:
    """True if a metadata file with entities ``candidate`` applies to a data file with ``target``.

    It applies when it has the same suffix and every entity of the candidate is present in the target
    with the same value (BIDS inheritance principle).

    Parameters
    ----------
    candidate : dict of str to str
        Entities of the metadata file (:func:`parse_entities`).
    target : dict of str to str
        Entities of the data file.

    Returns
    -------
    bool
    """
    if candidate.get("suffix") != target.get("suffix"):
        return False
    return all(target.get(k) == v for k, v in candidate.items() if k not in ("suffix", "extension"))


def _levels(path: Path, root: Path) -> list[Path]:
    """Folders from ``root`` down to the folder holding ``path`` (inclusive)."""
    rel = path.parent.relative_to(root)
    levels = [root]
    for part in rel.parts:
        levels.append(levels[-1] / part)
    return levels


def _candidates(path: Path, root: Path, extension: str) -> list[Path]:
    """Applicable files with ``extension`` for ``path``, least specific first (level, then entities)."""
    target = parse_entities(path)
    if target is None:
        return []
    found = []
    for depth, folder in enumerate(_levels(path, root)):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.endswith(extension) or name == path.name:
                continue
            ent = parse_entities(name)
            if ent is not None and ent["extension"] == extension and applicable(ent, target):
                found.append((depth, len(ent), name, folder / name))
    return [p for *_, p in sorted(found)]


def read_json(path: str | os.PathLike) -> dict:
    """A JSON object from ``path``; ``ValueError`` naming the file, line and column of a syntax error.

    A UTF-8 byte-order mark (added by some Windows editors) is accepted.

    Parameters
    ----------
    path : path-like
        The JSON file.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        Not UTF-8, invalid JSON (with line and column), or not a JSON object.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {err.start}); rule: BIDS JSON files are UTF-8 — "
            "save the file as UTF-8"
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path}: line {err.lineno}, column {err.colno}: invalid JSON ({err.msg}); "
            'rule: a JSON object, e.g. {"RepetitionTime": 2.0} — check commas, quotes and '
            "brackets near that place"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(
            f"{path}: the JSON value is a {type(value).__name__}, not an object "
            '(rule: a sidecar is one {"Key": value, …} object)'
        )
    return value


def inherited_metadata(path: str | os.PathLike, root: str | os.PathLike) -> tuple[dict, dict[str, Path]]:
    """Metadata of a data file merged by the inheritance principle.

    Parameters
    ----------
    path : path-like
        The data file (e.g. ``sub-01/func/sub-01_task-x_run-1_bold.nii.gz``), inside ``root``.
    root : path-like
        The dataset folder.

    Returns
    -------
    metadata : dict
        Fields of every applicable ``.json`` sidecar, the most specific winning.
    sources : dict
        For each field, the sidecar it was taken from (for messages naming the file).
    """
    path, root = Path(path), Path(root)
    metadata: dict = {}
    sources: dict[str, Path] = {}
    for sidecar in _candidates(path, root, ".json"):
        fields = read_json(sidecar)
        metadata.update(fields)
        sources.update(dict.fromkeys(fields, sidecar))
    return metadata, sources


def nearest_file(
    path: str | os.PathLike, root: str | os.PathLike, suffix: str, extension: str
) -> Path | None:
    """The most specific applicable file with ``suffix`` and ``extension`` for ``path`` (None if none).

    Used for tabular companions inherited rather than merged, e.g. the ``events.tsv`` of a BOLD run,
    which may be ``sub-01_task-x_run-1_events.tsv`` beside it or ``task-x_events.tsv`` at the top.

    Parameters
    ----------
    path : path-like
        The data file (a BIDS name; otherwise None is returned).
    root : path-like
        The dataset root (the top of the inheritance).
    suffix : str
        Suffix of the companion, e.g. ``"events"``.
    extension : str
        Its extension, e.g. ``".tsv"``.

    Returns
    -------
    pathlib.Path or None
        The file beside ``path`` with the same entities if it exists, else the most specific
        applicable candidate.
    """
    path = Path(path)
    ent = parse_entities(path)
    if ent is None:
        return None
    stem = "_".join(f"{k}-{v}" for k, v in ent.items() if k not in ("suffix", "extension"))
    probe = path.with_name(f"{stem}_{suffix}{extension}")
    candidates = _candidates(probe, Path(root), extension)
    exact = probe if probe.is_file() else None
    return exact or (candidates[-1] if candidates else None)
