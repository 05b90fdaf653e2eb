"""The measures the registration QC gates read (:mod:`.gates`): similarity after registration, ROI coverage.

* :func:`nmi` — normalised mutual information (Studholme et al. 1999) of paired samples;
* :func:`coreg_similarity` — NMI of the mean EPI and the structural through the coregistration;
* :func:`norm_similarity` — correlation of the normalised structural with the template;
* :func:`roi_coverage` — each ROI's share inside the brain mask and with usable EPI signal (tSNR);
* :func:`first_run_derivatives`, :func:`on_grid`, :func:`template_on_grid` — what they are computed on.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from nibabel.affines import apply_affine
from scipy import ndimage
from skimage.filters import threshold_otsu

from .pipeline import derivative_paths
from .voxels import masked_series, temporal_mean_sd

__all__ = [
    "nmi",
    "coreg_similarity",
    "norm_similarity",
    "roi_coverage",
    "first_run_derivatives",
    "on_grid",
    "template_on_grid",
]


def nmi(a: np.ndarray, b: np.ndarray, bins: int = 32) -> float:
    """Normalised mutual information ``(H(a) + H(b)) / H(a, b)`` of two equally long samples (1–2).

    Studholme et al. (1999); entropies (natural log) of the joint histogram and its marginals.

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        Paired samples.
    bins : int, default 32
        Histogram bins per sample.

    Returns
    -------
    float
        1 for independent samples, 2 for identical ones.
    """
    joint, _, _ = np.histogram2d(a, b, bins=bins)
    p = joint / joint.sum()

    def entropy(q):
        q = q[q > 0]
        return -float((q * np.log(q)).sum())

    return (entropy(p.sum(axis=1)) + entropy(p.sum(axis=0))) / entropy(p.ravel())


def coreg_similarity(boldref: nib.Nifti1Image, structural: nib.Nifti1Image, coreg: np.ndarray) -> float:
    """NMI of the mean EPI and the structural sampled at ``coreg⁻¹ · x`` for the EPI's head voxels x.

    Head voxels: above Otsu's threshold of the non-zero EPI values; the structural is sampled
    trilinearly (0 outside).

    Parameters
    ----------
    boldref : Nifti1Image
        Mean (reference) EPI volume.
    structural : Nifti1Image
        The participant's structural image.
    coreg : ndarray, shape (4, 4)
        Maps structural world points to functional world points (our ``coreg_xfm``).

    Returns
    -------
    float
    """
    ref = np.asarray(boldref.get_fdata(dtype=np.float32))
    head = ref > threshold_otsu(ref[ref > 0])
    x = apply_affine(boldref.affine, np.argwhere(head))
    ijk = apply_affine(np.linalg.inv(structural.affine) @ np.linalg.inv(coreg), x)
    struct = ndimage.map_coordinates(
        np.asarray(structural.get_fdata(dtype=np.float32)), ijk.T, order=1, mode="constant", cval=0.0
    )
    return nmi(ref[head], struct)


def norm_similarity(anat_mni: nib.Nifti1Image, template: nib.Nifti1Image, brain: np.ndarray) -> float:
    """Pearson r of the normalised structural and the template (same grid) inside ``brain``.

    Parameters
    ----------
    anat_mni : Nifti1Image
        Structural normalised to MNI.
    template : Nifti1Image
        Template of the same contrast, on the same grid.
    brain : ndarray of bool
        Voxels compared (the template's brain mask).

    Returns
    -------
    float
    """
    a = np.asarray(anat_mni.get_fdata(dtype=np.float32))[brain]
    b = np.asarray(template.get_fdata(dtype=np.float32))[brain]
    return float(np.corrcoef(a, b)[0, 1])


def roi_coverage(
    bold: nib.Nifti1Image, mask: np.ndarray, rois: dict[str, np.ndarray], tsnr_fraction: float
) -> dict[str, float]:
    """``brain_cover_<roi>`` and ``signal_cover_<roi>`` (module docstring) on the derivatives' grid.

    tSNR = mean / SD over volumes (0 where SD = 0); a voxel has usable signal if it is in ``mask``
    and its tSNR ≥ ``tsnr_fraction`` × the median tSNR inside ``mask``.

    Parameters
    ----------
    bold : Nifti1Image
        Unsmoothed preprocessed 4-D run.
    mask : ndarray of bool
        The participant's MNI brain mask.
    rois : dict
        ROI name -> boolean array on the same grid.
    tsnr_fraction : float
        Fraction of the brain's median tSNR a voxel must reach.

    Returns
    -------
    dict of str to float
    """
    mean, sd = temporal_mean_sd(masked_series(bold, mask))  # only the mask's voxels are read as floats
    tsnr = np.divide(mean, sd, out=np.zeros_like(mean), where=sd > 0)
    usable = tsnr >= tsnr_fraction * np.median(tsnr)  # per voxel of the mask, in its order
    out = {}
    for name, roi in rois.items():
        n = roi.sum()
        out[f"brain_cover_{name}"] = float((roi & mask).sum() / n)
        out[f"signal_cover_{name}"] = float((roi[mask] & usable).sum() / n)
    return out


def first_run_derivatives(bids_dir, preproc_dir, participant: str, task: str, resolution):
    """A participant's raw inputs and the derivative paths of its first run (what the QC reads).

    With several runs the QC scores and figures describe the first run's derivatives; the structural
    is the participant's.

    Parameters
    ----------
    bids_dir, preproc_dir : path-like
        The raw dataset and our derivatives.
    participant : str
        ``sub-…`` label.
    task : str
        Task label.
    resolution : float
        Derivative grid (mm).

    Returns
    -------
    (helpers.preprocess.inputs.RawInputs, dict)
        The inputs (:func:`helpers.preprocess.inputs.find_inputs`) and
        :func:`helpers.layout.derivative_paths` of the first run.
    """
    from .inputs import find_inputs

    inputs = find_inputs(bids_dir, participant, task)
    first = inputs.runs[0]
    paths = derivative_paths(
        preproc_dir,
        participant,
        task,
        resolution,
        inputs.contrast,
        session=first.session,
        acq=first.acq,
        run=first.run,
    )
    return inputs, paths


def on_grid(img: nib.Nifti1Image, like: nib.Nifti1Image, interpolation: str = "linear") -> nib.Nifti1Image:
    """``img`` resampled onto the grid of ``like`` when the grids differ (else ``img`` itself).

    Parameters
    ----------
    img, like : Nifti1Image
        The image and the image whose grid it is put on.
    interpolation : {"linear", "nearest", "continuous"}, default "linear"
        nilearn's interpolation.

    Returns
    -------
    Nifti1Image
    """
    if img.shape[:3] == like.shape[:3] and np.allclose(img.affine, like.affine):
        return img
    from nilearn import image as nimg

    return nimg.resample_to_img(img, like, interpolation=interpolation, force_resample=True, copy_header=True)


def template_on_grid(like: nib.Nifti1Image, contrast: str, resolution) -> tuple[nib.Nifti1Image, np.ndarray]:
    """The template of ``contrast`` and its brain mask (bool) on the grid of ``like``: what norm_r compares.

    Parameters
    ----------
    like : Nifti1Image
        The normalised structural (``anat_mni``).
    contrast : {"T2w", "T1w"}
        Its contrast (:func:`helpers.preprocess.normalise.template_for_contrast`).
    resolution : int
        Voxel size (mm) of the derivatives' MNI grid.

    Returns
    -------
    (Nifti1Image, ndarray of bool)
    """
    from helpers.atlas import load_template

    from .normalise import template_for_contrast

    template = on_grid(template_for_contrast(contrast, resolution), like)
    brain = on_grid(load_template(int(resolution), "mask"), like, "nearest").get_fdata() > 0.5
    return template, brain
