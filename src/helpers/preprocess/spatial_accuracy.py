"""Spatial accuracy of the registration against the twin's truth: ROI Dice and ROI error in mm.

Each 1 mm atlas voxel ``y`` of an ROI is sent through *our* MNI → structural map ``N``
(normalisation) and structural → functional matrix ``C`` (coregistration), then back to MNI through
the *true* functional → MNI map ``T`` of the twin, and corrected by the template correspondence
``r`` (below):

    p(y) = T(C·N(y)) − r(y)

A perfect registration gives ``p(y) = y``.  Two scores per ROI:

* Dice between the ROI and the ROI mapped through ``p`` (2|A ∩ B| / (|A| + |B|), Dice 1945);
* the mean displacement error ``mean_y |p(y) − y|`` (mm) over the ROI's voxels.  Dice depends on
  the ROI's size (a 1 mm shift already costs a 2 cm³ amygdala ~.15, :func:`shift_dice`), the error in
  mm does not, and compares with the 3 mm voxels of the analysis.

The twin's brains come from another template than the one we register to
(:mod:`helpers.simulate.anatomy`): FSL's MNI152 and nilearn's ICBM 2009 differ by 1–2 mm around the
amygdalae and the VMPFC, so even a perfect registration to the template lands there, not at the
source's own coordinates.  ``r(y) = R(y) − y`` (:func:`template_correspondence`) is that gap: ``R``
is one careful normalisation of the noise-free, skull-free source brain to the template, computed once.
"""

from __future__ import annotations

import functools

import nibabel as nib
import numpy as np
from nibabel.affines import apply_affine
from scipy import ndimage

__all__ = [
    "template_correspondence",
    "structural_points",
    "source_brain",
    "correspondence_at",
    "mapped_points",
    "roi_scores",
    "shift_dice",
]


@functools.lru_cache(maxsize=2)
def template_correspondence(source: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Displacement ``r(y) = R(y) − y`` (x, y, z, 3 array, mm) and its grid affine.

    ``R(y)`` is the point of the twin's source brain that corresponds to template point ``y``; None
    when the source is the template.  ``R`` is one normalisation
    (:func:`helpers.preprocess.normalise.normalise`, 2 mm template, SyN iterations doubled) of the
    source brain's noise-free T2-contrast image (tissue maps of
    :func:`helpers.simulate.anatomy.source_tissue`, no skull, no warp) to the T2 template.  Cached
    in-process.  Its own uncertainty, measured for the FSL source and the 19-participant twin: the same
    procedure run on the template's own tissue maps (where ``r`` should be 0) returns a mean ``|r|``
    over the VMPFC and the amygdalae of 0.09, 0.07 and 0.07 mm; but other reasonable settings (the
    stage's own 3 mm settings, with or without longer SyN, or two pyramid levels at 2 mm) move ``r`` by
    0.3–1.0 mm at the VMPFC and 0.1–0.4 mm at the amygdalae (their self-test drifts are 0.2–0.5 mm,
    and their scores of the 19 twin participants are no better).  Scores relative to ``r`` are
    therefore uncertain by up to ~1 mm at the VMPFC, ~0.4 mm at the amygdalae.

    The registration takes ~50 s, so its result is also kept on disk (:class:`helpers.cache.Cache`
    namespace ``template_correspondence`` under ``build/cache``), keyed by the source and the code
    that computes it (this module's imports, followed): the book's and the tests' runs share it.

    Parameters
    ----------
    source : str or None
        The twin's ``anatomy_source`` (None or ``"template"``: no correspondence).

    Returns
    -------
    (ndarray, ndarray) or None
        The displacement field (float32, mm) on the 2 mm MNI grid and that grid's affine.
    """
    if source in (None, "template"):
        return None
    from helpers.cache import Cache, code_fingerprint, make_key

    key = make_key(source, code_fingerprint(__name__, follow_imports=True))
    return Cache("template_correspondence").memo(key, lambda: _correspondence(source))


def source_brain(source: str, resolution: int = 2) -> nib.Nifti1Image:
    """The twin's source brain as :func:`template_correspondence` registers it.

    Noise-free, skull-free, unwarped, in MNI space: ``Σ_k c_k·P_k`` over the source's tissue maps
    (:func:`helpers.simulate.anatomy.source_tissue`) with the T2 weights
    :data:`helpers.preprocess.normalise.T2_CONTRAST`.

    Parameters
    ----------
    source : str
        The twin's ``anatomy_source``.
    resolution : int, default 2
        Voxel size (mm) of the MNI grid.

    Returns
    -------
    Nifti1Image
        float32.
    """
    from helpers.simulate import anatomy, space

    from .normalise import T2_CONTRAST

    shape, affine = space.mni_grid(resolution)
    tissue = space.tissue_on_grid(anatomy.source_tissue(source), shape, affine)
    return nib.Nifti1Image(
        sum(T2_CONTRAST[k] * tissue[k] for k in ("gm", "wm", "csf")).astype(np.float32), affine
    )


def _correspondence(source: str) -> tuple[np.ndarray, np.ndarray]:
    """The registration behind :func:`template_correspondence` (uncached)."""
    from .normalise import normalise, template_for_contrast

    image = source_brain(source)
    shape, affine = image.shape, image.affine
    norm = normalise(
        image,
        template_for_contrast("T2w", 2),
        affine_template=template_for_contrast("T2w", 3),
        cc_sigma_diff=6.0,
        syn_level_iters=(100, 50, 50),
    )
    y = apply_affine(affine, np.indices(shape).reshape(3, -1).T)
    return (norm.to_structural(y) - y).reshape(*shape, 3).astype(np.float32), affine


def correspondence_at(correspondence, points: np.ndarray) -> np.ndarray:
    """``r`` (N, 3) of :func:`template_correspondence` at template points (N, 3); zeros without one.

    Parameters
    ----------
    correspondence : tuple or None
        The output of :func:`template_correspondence` (field and its affine), or None.
    points : ndarray, shape (N, 3)
        Template (MNI) points (mm), interpolated trilinearly (nearest value beyond the field's grid).

    Returns
    -------
    ndarray, shape (N, 3)
    """
    if correspondence is None:
        return np.zeros_like(points)
    field, affine = correspondence
    vox = apply_affine(np.linalg.inv(affine), points).T
    return np.stack(
        [ndimage.map_coordinates(field[..., k], vox, order=1, mode="nearest") for k in range(3)], axis=1
    )


def mapped_points(
    points_field: nib.Nifti1Image, coreg: np.ndarray, native_to_mni, points: np.ndarray, correspondence=None
) -> np.ndarray:
    """``p(y) = T(C·N(y)) − r(y)`` (N, 3) at MNI points ``y`` (N, 3): where our registration sends them.

    ``r`` to first order in ``∇r`` (≪ 1): the template point of a source point near ``R(y)`` is that
    point minus ``r(y)``.

    Parameters
    ----------
    points_field : Nifti1Image
        4-D (x, y, z, 3) image of structural world coordinates ``N(y)`` on the MNI grid
        (our ``from-T2w_to-MNI…_mode-points_xfm``), interpolated trilinearly at ``points``.
    coreg : ndarray, shape (4, 4)
        Structural → functional matrix ``C``.
    native_to_mni : callable
        The true map ``T`` of functional (volume 1) scanner points to MNI points, on (N, 3) arrays.
    points : ndarray, shape (N, 3)
        MNI points ``y`` (mm).
    correspondence : tuple or None, default None
        The output of :func:`template_correspondence` (None: ``r = 0``).

    Returns
    -------
    ndarray, shape (N, 3)
    """
    struct = structural_points(points_field, points)
    return native_to_mni(apply_affine(coreg, struct)) - correspondence_at(correspondence, points)


def structural_points(points_field: nib.Nifti1Image, points: np.ndarray) -> np.ndarray:
    """``N(y)`` (N, 3) at MNI points ``y`` (N, 3): a points image interpolated trilinearly.

    Parameters
    ----------
    points_field : Nifti1Image
        4-D (x, y, z, 3) image of structural world coordinates on an MNI grid (our
        ``from-T2w_to-MNI…_mode-points_xfm``), read as float32.
    points : ndarray, shape (N, 3)
        MNI points (mm); beyond the grid the value is 0.

    Returns
    -------
    ndarray, shape (N, 3)
    """
    field = points_field.get_fdata(dtype=np.float32)  # nibabel caches it on the image: read once
    vox = apply_affine(np.linalg.inv(points_field.affine), points).T
    return np.stack([ndimage.map_coordinates(field[..., k], vox, order=1) for k in range(3)], axis=1)


def _box(mask: nib.Nifti1Image, margin_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The mask (bool array) and the voxel indices (N, 3) of a box around it, ``margin_mm`` wider."""
    data = np.asarray(mask.dataobj, bool)
    idx = np.argwhere(data)
    pad = int(np.ceil(margin_mm / abs(mask.affine[0, 0])))
    lo = np.maximum(idx.min(0) - pad, 0)
    hi = np.minimum(idx.max(0) + pad + 1, data.shape)
    return data, np.indices(hi - lo).reshape(3, -1).T + lo


def _dice_of_map(data: np.ndarray, affine: np.ndarray, box: np.ndarray, p: np.ndarray) -> float:
    """Dice of the mask ``data`` on ``box`` with the mask pulled back through ``p`` (nearest voxel)."""
    src = np.rint(apply_affine(np.linalg.inv(affine), p)).astype(int)
    ok = np.all((src >= 0) & (src < data.shape), axis=1)
    mapped = np.zeros(len(box), bool)
    mapped[ok] = data[tuple(src[ok].T)]
    truth = data[tuple(box.T)]
    return float(2 * (mapped & truth).sum() / (mapped.sum() + truth.sum()))


def roi_scores(
    points_field: nib.Nifti1Image,
    coreg: np.ndarray,
    native_to_mni,
    masks_1mm: dict,
    correspondence=None,
    margin_mm: float = 12.0,
) -> dict[str, dict[str, float]]:
    """Dice and mean error (mm) of each 1 mm atlas ROI mapped through :func:`mapped_points`.

    Each ROI's box (the ROI and ``margin_mm`` around it) is mapped once; from it:

    * ``dice``: Dice = 2|A ∩ B| / (|A| + |B|) of the ROI with the ROI pulled back through ``p``;
    * ``dice_abs``: the same without the template correspondence (``r = 0``: against the source's
      own coordinates, the error of taking one template's coordinates for another's);
    * ``error_mm``: ``mean_y |p(y) − y|`` over the ROI's voxels ``y``, 0 for a perfect registration.

    Parameters
    ----------
    points_field : Nifti1Image
        Our MNI → structural points image (see :func:`mapped_points`).
    coreg : ndarray, shape (4, 4)
        Structural → functional matrix.
    native_to_mni : callable
        The true map of functional (volume 1) scanner points to MNI points, on (N, 3) arrays.
    masks_1mm : dict
        ROI name -> mask image on a 1 mm MNI grid.
    correspondence : tuple or None, default None
        The output of :func:`template_correspondence` (None: source coordinates are template
        coordinates, and ``dice_abs`` equals ``dice``).
    margin_mm : float, default 12.0
        Margin (mm) of the box around each ROI where points are mapped.

    Returns
    -------
    dict of str to dict
        ROI name -> ``{"dice", "dice_abs", "error_mm"}``.
    """
    out = {}
    for name, mask in masks_1mm.items():
        data, box = _box(mask, margin_mm)
        y = apply_affine(mask.affine, box)
        absolute = mapped_points(points_field, coreg, native_to_mni, y)
        p = absolute - correspondence_at(correspondence, y)
        inside = data[tuple(box.T)]
        out[name] = {
            "dice": _dice_of_map(data, mask.affine, box, p),
            "dice_abs": _dice_of_map(data, mask.affine, box, absolute),
            "error_mm": float(np.linalg.norm(p[inside] - y[inside], axis=1).mean()),
        }
    return out


def shift_dice(mask: nib.Nifti1Image, shift_mm: float, n_directions: int = 26) -> float:
    """Mean Dice of an ROI with itself shifted rigidly by ``shift_mm`` (directions spread over the sphere).

    What a registration error of ``shift_mm`` everywhere costs this ROI's Dice: the yardstick for a
    Dice target.  Directions: a Fibonacci lattice of ``n_directions`` unit vectors (deterministic).

    Parameters
    ----------
    mask : Nifti1Image
        ROI mask (1 mm grid for the chapter's ROIs).
    shift_mm : float
        Length of the shift (mm).
    n_directions : int, default 26
        Number of shift directions averaged.

    Returns
    -------
    float
    """
    i = np.arange(n_directions) + 0.5
    polar, azimuth = np.arccos(1 - 2 * i / n_directions), np.pi * (1 + 5**0.5) * i
    dirs = np.column_stack([np.sin(polar) * np.cos(azimuth), np.sin(polar) * np.sin(azimuth), np.cos(polar)])
    data, box = _box(mask, shift_mm + 2)
    y = apply_affine(mask.affine, box)
    return float(np.mean([_dice_of_map(data, mask.affine, box, y + shift_mm * d) for d in dirs]))
