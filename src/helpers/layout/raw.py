"""Raw BIDS as it is found in the wild: participants, BOLD runs, structurals, phenotype files.

What the contract accepts (file names are parsed by :mod:`.entities`, never spelled out)::

    [participants.tsv]                         optional; else the sub-* folders
    phenotype/<name>.tsv                       e.g. scs.tsv
    sub-<p>/[ses-<s>/]anat/sub-<p>[_ses-<s>][_acq-<a>][_run-<r>]_<T2w|T1w>.nii[.gz]
    sub-<p>/[ses-<s>/]func/sub-<p>[_ses-<s>]_task-<t>[_acq-<a>][_run-<r>]_bold.nii[.gz]
                                               + _events.tsv (beside it or inherited, e.g.
                                                 task-<t>_events.tsv at the top level)
                                               + sidecar fields merged by the inheritance principle
                                                 (task-<t>_bold.json at the top level, …)

A participant may have several sessions, acquisitions and runs of a task; each is one
:class:`RawRun`, sorted by (session, acq, run).  Multi-echo (``echo-``) or complex (``part-``) BOLD
and two files for the same (session, acq, run) — e.g. ``.nii`` beside ``.nii.gz``, or runs told apart
only by ``rec-``/``dir-``/``ce-`` — are outside the contract: ``ValueError`` naming the files.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .derivatives import entity_stem
from .entities import inherited_metadata, nearest_file, parse_entities

__all__ = [
    "RawRun",
    "NIFTI_EXTENSIONS",
    "STRUCTURAL_SUFFIXES",
    "participants",
    "raw_runs",
    "repetition_time",
    "structural",
    "phenotype_file",
    "raw_paths",
    "with_sub",
    "near_misses",
]

#: Image extensions accepted, preferred first.
NIFTI_EXTENSIONS = (".nii.gz", ".nii")
#: Structural suffixes accepted, in order of preference (the paper's coplanar T2w first).
STRUCTURAL_SUFFIXES = ("T2w", "T1w")
#: A RepetitionTime above this many seconds is taken for milliseconds (no BOLD protocol has TR > 100 s).
_MAX_TR_S = 100.0
#: Entities that make a BOLD file something other than one run of a task.
_UNSUPPORTED = {
    "echo": "multi-echo BOLD (combine the echoes first, e.g. with tedana)",
    "part": "magnitude/phase BOLD (use the magnitude image only)",
}


def with_sub(label: str) -> str:
    """``"sub-<label>"`` whether or not ``label`` already has the prefix (``"01"``, ``"sub-01"``).

    Parameters
    ----------
    label : str
        A participant label or id (converted with ``str`` and stripped of surrounding spaces).

    Returns
    -------
    str
    """
    label = str(label).strip()
    return label if label.startswith("sub-") else f"sub-{label}"


@dataclass(frozen=True)
class RawRun:
    """One BOLD run of a participant and task, with its events and inherited metadata."""

    participant: str
    task: str
    session: str | None
    acq: str | None
    run: str | None
    bold: Path
    events: Path | None
    metadata: dict = field(hash=False, compare=False)
    #: For each metadata field, the sidecar it came from (messages name that file).
    sources: dict = field(default_factory=dict, hash=False, compare=False, repr=False)

    @property
    def label(self) -> str:
        """Entities telling the run apart: ``"ses-1_run-2"``, ``"run-1"``, ``""`` for a plain single run."""
        return "_".join(
            f"{k}-{v}"
            for k, v in (("ses", self.session), ("acq", self.acq), ("run", self.run))
            if v is not None
        )

    @property
    def tr(self) -> float:
        """``RepetitionTime`` in seconds; ``ValueError`` naming the sidecar when absent or implausible."""
        return repetition_time(self.metadata, self.sources, self.bold)


def repetition_time(metadata: dict, sources: dict | Path | None, bold: Path) -> float:
    """Validated ``RepetitionTime`` (s) of ``metadata``; the message names the sidecar that set it.

    Parameters
    ----------
    metadata : dict
        The run's merged sidecar metadata.
    sources : dict, path or None
        Each field's sidecar (:func:`helpers.layout.entities.inherited_metadata`), or the one sidecar
        every field came from (a path), or None (no sidecar).
    bold : pathlib.Path
        The BOLD run, named in messages when no sidecar gave the field.

    Returns
    -------
    float
        The repetition time in seconds.

    Raises
    ------
    ValueError
        The field is absent, a string, not a positive finite number, or larger than a plausible TR in
        seconds (then it looks like milliseconds).
    """
    if not isinstance(sources, dict):
        sources = dict.fromkeys(metadata, Path(sources)) if sources is not None else {}
    if "RepetitionTime" not in metadata:
        read = sorted({Path(p).name for p in sources.values()})
        found = (
            f"the sidecar(s) {', '.join(read)} have no field RepetitionTime"
            if read
            else "no JSON sidecar applies"
        )
        raise ValueError(
            f"{bold}: {found} (rule: the run's _bold.json, or a task-<task>_bold.json above it, "
            "gives RepetitionTime as a positive number of seconds)"
        )
    where = sources.get("RepetitionTime", bold)
    tr = metadata["RepetitionTime"]
    if isinstance(tr, str):
        raise ValueError(
            f"{where}: field RepetitionTime is the text {tr!r}, not a number "
            f'(rule: a JSON number of seconds, e.g. "RepetitionTime": 2.0 — remove the quotes)'
        )
    if isinstance(tr, bool) or not isinstance(tr, (int, float)) or not math.isfinite(tr) or tr <= 0:
        raise ValueError(f"{where}: field RepetitionTime is {tr!r} (rule: a positive number of seconds)")
    if tr > _MAX_TR_S:
        raise ValueError(
            f"{where}: field RepetitionTime is {tr:g}, which would be {tr / 60:g} minutes; it looks "
            f"like milliseconds (rule: BIDS gives RepetitionTime in seconds, e.g. {tr / 1000:g})"
        )
    return float(tr)


def participants(bids_dir: str | os.PathLike) -> list[str]:
    """Participants of a dataset: ``participants.tsv`` order if present, else the sorted ``sub-*`` folders.

    IDs written without ``sub-`` in ``participants.tsv`` get it (``01`` → ``sub-01``); duplicates are
    listed once.

    Parameters
    ----------
    bids_dir : path-like
        The raw BIDS dataset.

    Returns
    -------
    list of str
        ``sub-<label>`` ids.

    Raises
    ------
    ValueError
        The folder does not exist, ``participants.tsv`` has no ``participant_id`` column, or there is
        neither a ``participants.tsv`` nor a ``sub-*`` folder.
    """
    root = Path(bids_dir)
    if not root.is_dir():
        raise ValueError(f"{root}: BIDS folder does not exist")
    table = root / "participants.tsv"
    if table.is_file():
        from ..bids import read_tsv  # one TSV reader (BOM, CRLF, n/a) for the whole project

        ids = read_tsv(table)
        if "participant_id" not in ids:
            raise ValueError(f"{table}: no participant_id column (rule: the first column is participant_id)")
        return list(dict.fromkeys(with_sub(p) for p in ids["participant_id"].dropna().astype(str)))
    subs = sorted(p.name for p in root.glob("sub-*") if p.is_dir())
    if not subs:
        raise ValueError(
            f"{root}: no participants.tsv and no sub-* folders (rule: one sub-<label> folder per participant)"
        )
    return subs


def _data_dirs(root: Path, participant: str, datatype: str) -> list[Path]:
    """``sub-<p>/<datatype>`` and every ``sub-<p>/ses-*/<datatype>`` that exist."""
    sub = root / participant
    dirs = [sub / datatype] + sorted(s / datatype for s in sub.glob("ses-*") if s.is_dir())
    return [d for d in dirs if d.is_dir()]


def _images(root: Path, participant: str, datatype: str, suffixes) -> list[tuple[dict, Path]]:
    """(entities, path) of the NIfTI images of ``participant`` in ``datatype`` with one of ``suffixes``."""
    found = []
    for folder in _data_dirs(root, participant, datatype):
        for name in sorted(os.listdir(folder)):
            ent = parse_entities(name)
            if (
                ent
                and ent["suffix"] in suffixes
                and ent["extension"] in NIFTI_EXTENSIONS
                and ent.get("sub") == participant[4:]
            ):
                found.append((ent, folder / name))
    return found


def _sort_key(value: str | None) -> tuple:
    """None first, then numeric labels by value (run-2 before run-10), then text."""
    if value is None:
        return (0, 0, "")
    return (1, int(value), value) if value.isdigit() else (2, 0, value)


def raw_runs(bids_dir: str | os.PathLike, participant: str, task: str) -> list[RawRun]:
    """Every BOLD run of ``participant`` for ``task``, sorted by (session, acq, run).

    Parameters
    ----------
    bids_dir : path-like
        The dataset folder.
    participant : str
        ``"sub-<label>"`` (or the bare label).
    task : str
        Task label (without ``task-``).

    Returns
    -------
    list of RawRun
        Empty when the participant has no BOLD run of ``task`` (the caller names the rule).

    Raises
    ------
    ValueError
        A multi-echo (``echo-``) or magnitude/phase (``part-``) run, or two BOLD files for one run.
    """
    root = Path(bids_dir)
    participant = with_sub(participant)
    runs: dict[tuple, RawRun] = {}
    for ent, bold in _images(root, participant, "func", ("bold",)):
        if ent.get("task") != task:
            continue
        for key, why in _UNSUPPORTED.items():
            if key in ent:
                raise ValueError(
                    f"{bold}: entity {key}-{ent[key]}: {why} is outside the contract "
                    "(rule: one 4-D BOLD image per run)"
                )
        key = (ent.get("ses"), ent.get("acq"), ent.get("run"))
        if key in runs:
            raise ValueError(
                f"{runs[key].bold} and {bold}: two BOLD files for the same run of {participant} "
                f"(rule: one image per session, acq and run; remove one, or tell the runs apart "
                f"with run-<index>)"
            )
        metadata, sources = inherited_metadata(bold, root)
        runs[key] = RawRun(
            participant,
            task,
            *key,
            bold=bold,
            events=nearest_file(bold, root, "events", ".tsv"),
            metadata=metadata,
            sources=sources,
        )
    return [runs[k] for k in sorted(runs, key=lambda k: tuple(_sort_key(v) for v in k))]


def near_misses(bids_dir: str | os.PathLike, participant: str, task: str | None = None) -> list[str]:
    """Files of ``participant`` that look like its BOLD runs (or its structural) but are not taken.

    So that a message never calls a file missing that exists under a name or in a folder outside the
    contract: ``sub-01_T1W.nii.gz``, ``sub-01_T1w.img``, ``anat/sub-01_task-x_bold.nii.gz``,
    ``sub-1_T1w.nii.gz`` in ``sub-01/``, ``sub-01_task_x_bold.nii.gz`` …

    Parameters
    ----------
    bids_dir : path-like
        The raw BIDS dataset.
    participant : str
        Participant id, with or without ``sub-``.
    task : str, default None
        The task label of the BOLD runs; default None: look for the structural instead.

    Returns
    -------
    list of str
        ``"<path in the dataset>: <why it is not taken>"``, sorted by path.
    """
    root = Path(bids_dir)
    participant = with_sub(participant)
    suffixes, datatype = (("bold",), "func") if task else (STRUCTURAL_SUFFIXES, "anat")
    words = [s.lower() for s in suffixes]
    found = []
    for path in sorted(p for p in (root / participant).rglob("*") if p.is_file()):
        low = path.name.lower()
        if not any(w in low for w in words) or low.endswith(".json") or (task and task.lower() not in low):
            continue
        ent = parse_entities(path.name)
        if ent is None:
            why = "not a BIDS name (rule: <key>-<label>_…_<suffix>.nii[.gz], labels of letters and digits)"
        elif ent["suffix"] not in suffixes:
            why = f"suffix {ent['suffix']!r} (rule: {' or '.join(suffixes)}, with this capitalisation)"
        elif ent["extension"] not in NIFTI_EXTENSIONS:
            why = f"extension {ent['extension']!r} (rule: .nii or .nii.gz)"
        elif ent.get("sub") != participant[4:]:
            other = f"sub-{ent.get('sub')}"
            why = f"names participant {other} (rule: files of {participant} are named {participant}_…)"
        elif path.parent.name != datatype:
            where = path.parent.relative_to(root).as_posix()
            why = f"in {where}/ (rule: in {participant}/[ses-<s>/]{datatype}/)"
        elif task and ent.get("task") != task:
            why = f"task {ent.get('task')!r}, not {task!r} (the task parameter must match the label exactly)"
        else:
            continue  # a file the contract takes
        found.append(f"{path.relative_to(root).as_posix()}: {why}")
    return found


def structural(bids_dir: str | os.PathLike, participant: str) -> tuple[Path, str] | None:
    """The structural image of ``participant`` and its contrast: ``(path, "T2w" | "T1w")``, None if none.

    T2w is preferred (the paper's coplanar T2w); among several images of one contrast (sessions,
    ``acq-``, ``run-``) the first by (session, acq, run) is used, ``.nii.gz`` before ``.nii``.

    Parameters
    ----------
    bids_dir : path-like
        The raw BIDS dataset.
    participant : str
        Participant id, with or without ``sub-``.

    Returns
    -------
    tuple of (pathlib.Path, str) or None
    """
    root = Path(bids_dir)
    participant = with_sub(participant)
    images = _images(root, participant, "anat", STRUCTURAL_SUFFIXES)
    for suffix in STRUCTURAL_SUFFIXES:
        matching = [
            (
                tuple(_sort_key(ent.get(k)) for k in ("ses", "acq", "run")),
                NIFTI_EXTENSIONS.index(ent["extension"]),
                path,
            )
            for ent, path in images
            if ent["suffix"] == suffix
        ]
        if matching:
            return min(matching)[2], suffix
    return None


def phenotype_file(bids_dir: str | os.PathLike, name: str = "scs") -> Path:
    """``phenotype/<name>.tsv`` of a dataset.

    Parameters
    ----------
    bids_dir : path-like
        The raw BIDS dataset.
    name : str, default "scs"
        The phenotype table's name.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        The file is absent (the message names the folder and what it holds).
    """
    folder = Path(bids_dir) / "phenotype"
    path = folder / f"{name}.tsv"
    if path.is_file():
        return path
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    holds = f"it holds {', '.join(present)}" if present else "it is missing or empty"
    raise ValueError(
        f"{path}: missing (rule: phenotype/{name}.tsv, tab-separated, one row per participant; {holds})"
    )


def raw_paths(
    root: str | os.PathLike,
    participant: str,
    task: str,
    *,
    session: str | None = None,
    acq: str | None = None,
    run: str | None = None,
) -> dict[str, Path]:
    """The raw BIDS paths of one run as the twin writes them.

    Parameters
    ----------
    root : path-like
        Dataset folder.
    participant : str
        ``"sub-<label>"``.
    task : str
        Task label.
    session, acq, run : str, default None
        Labels without prefix; default None leaves the entity (and the ``ses-`` folder) out.

    Returns
    -------
    dict
        ``bold``, ``bold_json``, ``events`` (the run's files in ``[ses-<s>/]func``) and ``t2w``,
        ``t2w_json`` (the session's structural in ``[ses-<s>/]anat``).
    """
    sub = Path(root) / participant
    base = sub / f"ses-{session}" if session is not None else sub
    stem = entity_stem(participant, task, session=session, acq=acq, run=run)
    anat = entity_stem(participant, session=session)
    return {
        "bold": base / "func" / f"{stem}_bold.nii.gz",
        "bold_json": base / "func" / f"{stem}_bold.json",
        "events": base / "func" / f"{stem}_events.tsv",
        "t2w": base / "anat" / f"{anat}_T2w.nii.gz",
        "t2w_json": base / "anat" / f"{anat}_T2w.json",
    }
