"""The fMRIPrep-style derivatives folder inside a raw dataset (fMRIPrep's, ours or the twin's)."""

from __future__ import annotations

from pathlib import Path

from ..entities import read_json
from .names import _NIFTI

#: Names of the pipelines whose derivatives :func:`find_fmriprep` accepts (``GeneratedBy``), fMRIPrep first.
GENERATORS = ("fmriprep", "helpers.preprocess", "helpers.simulate")


def _generator(description: Path) -> str | None:
    """The pipeline name of a derivatives ``dataset_description.json``.

    From ``GeneratedBy``, or fMRIPrep 1.x's ``PipelineDescription``.
    """
    if not description.is_file():
        return None
    meta = read_json(description)  # a broken file is an error naming its line, never a silent "not found"
    names = [g.get("Name", "") for g in meta.get("GeneratedBy", []) if isinstance(g, dict)]
    names.append((meta.get("PipelineDescription") or {}).get("Name", ""))
    for name in names:
        if str(name).lower() in GENERATORS:
            return str(name).lower()
    return None


def find_fmriprep(bids_dir) -> Path | None:
    """fMRIPrep-style derivatives inside a raw dataset, or None.

    Looks at ``<bids_dir>/derivatives/*/`` (and ``derivatives/`` itself, where fMRIPrep ≥ 21 writes
    when given it as output folder): a folder qualifies when its ``dataset_description.json`` names
    fMRIPrep, our preprocessing or the twin (:data:`GENERATORS`, ``GeneratedBy`` or fMRIPrep 1.x's
    ``PipelineDescription``) **and** it holds at least one ``desc-preproc`` BOLD.  fMRIPrep's
    output wins over ours.

    Parameters
    ----------
    bids_dir : path-like
        The raw BIDS dataset.

    Returns
    -------
    pathlib.Path or None
        The qualifying folder.

    Raises
    ------
    ValueError
        Two fMRIPrep folders (or two of ours) qualify; the message names them and the parameter
        ``derivatives_dir``.
    """
    root = Path(bids_dir) / "derivatives"
    if not root.is_dir():
        return None
    found: dict[str, list[Path]] = {}
    for folder in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        name = _generator(folder / "dataset_description.json")
        has_bold = any(
            p.name.endswith(_NIFTI)
            for pattern in ("sub-*/func/*desc-preproc_bold*", "sub-*/ses-*/func/*desc-preproc_bold*")
            for p in folder.glob(pattern)
        )
        if name and has_bold:
            found.setdefault("ours" if name != "fmriprep" else name, []).append(folder)
    for kind in ("fmriprep", "ours"):
        if len(found.get(kind, [])) > 1:
            raise ValueError(
                f"{root}: {len(found[kind])} derivatives folders qualify "
                f"({', '.join(map(str, found[kind]))}); "
                "choose one with the parameter derivatives_dir"
            )
        if found.get(kind):
            return found[kind][0]
    return None
