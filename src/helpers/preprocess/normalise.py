"""Normalisation of the structural image to the MNI152 template (affine, then SyN nonlinear).

The template is the ICBM 2009 MNI152 image that nilearn ships (via :func:`helpers.atlas.load_template`).
Affine stage: centres of mass → rigid → 12-parameter affine, each maximising Mattes mutual
information on a random quarter of the template voxels (dipy ``AffineRegistration``).  Nonlinear
stage: symmetric diffeomorphic registration (SyN, Avants et al. 2008) with the cross-correlation metric (dipy
``SymmetricDiffeomorphicRegistration`` + ``CCMetric``), pre-aligned by the affine.

Settings, chosen on the digital twin against its true transforms (19 participants): the update field is
smoothed with a Gaussian of ``cc_sigma_diff`` = 4 voxels (12 mm at the 3 mm finest level), so the
warp stays smooth, as SPM8's low-frequency (DCT, 25 mm cutoff) normalisation that the paper used;
with the 4 mm slices of a coplanar T2w there is no information for finer deformations, and the
analysis' grid is 3 mm: SyN therefore runs on the 3 mm template (2 mm took 2.5 times longer).  The finest
level runs 25 iterations: with 10 the field had not converged and ROIs were off by up to ~1.2 mm
(amygdala Dice down to .85).  On the realistic twin (a brain from another template, in a head;
19 participants) the normalisation's error at the atlas ROIs, against the true transform and the
template correspondence (:mod:`.spatial_accuracy`), is 0.3–1.2 mm (mean over an amygdala's voxels)
and 0.9–1.6 mm at the VMPFC (measured on sub-05, -06, -08, -19): now the largest part of the ROI
registration error.  dipy's SyN drifts on its coarsest pyramid level (1.3–1.8 mm at the ROIs when an
image is registered to itself, 0.01 mm with two levels), but two levels did not lower the VMPFC error
on those participants (sub-06: 2.0 against 1.7 mm), so the three levels stay.

Where the VMPFC error comes from (``benchmarks/bench_registration_budget.py``, sub-09/11/16/17, mean
error over the ROI in mm, VMPFC / left / right amygdala): the source brain alone on the participant's
grid, pose and warp 0.98 / 0.35 / 0.41; in the head without extra-cerebral CSF 1.10 / 0.44 / 0.37;
with the twin's 2 mm of CSF around the brain 1.63 / 0.66 / 0.62; as acquired (bias, noise) 1.83 /
0.69 / 0.51.  The bright CSF layer over the frontal pole, which the template built from tissue maps
barely has, pulls the VMPFC ~1–2 mm forward (it grows with the layer: 0.85, 2.0, 3.3 mm for 0, 2 and
4 mm on sub-11).  Tried and not kept, each changing single participants by ±0.5 mm without lowering
the mean at all three ROIs: a CSF rim added to the template, the outer CSF band suppressed in both
images, registering GM+WM maps instead of intensities, smoothing of 8, 18 or 24 mm (18 mm: 1.62 /
0.42 / 0.45 on those four, 1.40 / 0.53 / 0.52 against 1.24 / 0.79 / 0.42 on six others), CC radius
2, more or four pyramid levels, every voxel sampled in the affine stage, a tighter brain mask.

For a T2-weighted structural (the paper's coplanar EPI T2w) the template is given T2-like contrast
from the tissue maps (:func:`template_for_contrast`), so that the CC metric compares like with like.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import nibabel as nib
import numpy as np

__all__ = ["NORMALISE_DEFAULTS", "Normalisation", "template_for_contrast", "normalise"]

log = logging.getLogger(__name__)

#: dipy settings (recorded in the JSON sidecars).
NORMALISE_DEFAULTS = dict(
    template="MNI152 ICBM2009 (nilearn)",
    template_resolution=3,
    affine_template_resolution=3,
    brain_margin_mm=2.0,
    affine_metric="MattesMI",
    nbins=32,
    sampling_proportion=0.25,
    affine_level_iters=(100, 30, 10),
    affine_sigmas=(3.0, 1.0, 0.0),
    affine_factors=(4, 2, 1),
    syn_metric="CC",
    cc_radius=1,
    cc_sigma_diff=4.0,
    syn_level_iters=(50, 25, 25),
)

#: Relative T2-weighted intensities of cerebrospinal fluid, grey and white matter (CSF brightest).
T2_CONTRAST = {"csf": 1.0, "gm": 0.65, "wm": 0.4}


@dataclass
class Normalisation:
    """A structural → MNI normalisation.

    ``affine`` maps MNI world points to structural world points (prealignment); ``mapping`` is
    dipy's ``DiffeomorphicMap`` whose ``transform_points`` maps MNI world points to structural world
    points through affine and warp.  :meth:`to_structural` is the composed point map.
    """

    affine: np.ndarray
    mapping: object

    def to_structural(self, points: np.ndarray) -> np.ndarray:
        """Structural world coordinates (N, 3) of MNI world points (N, 3).

        Through the affine alone when there is no nonlinear mapping, else through dipy's
        ``DiffeomorphicMap.transform_points`` (affine and warp).

        Parameters
        ----------
        points : ndarray, shape (N, 3)
            MNI world points (mm).

        Returns
        -------
        ndarray, shape (N, 3)
        """
        if self.mapping is None:
            hom = np.column_stack([points, np.ones(len(points))])
            return (hom @ self.affine.T)[:, :3]
        return np.asarray(self.mapping.transform_points(np.asarray(points, dtype=float)))


@functools.lru_cache(maxsize=8)
def template_for_contrast(contrast: str = "T2w", resolution: int = 2) -> nib.Nifti1Image:
    """The MNI152 template with the contrast of the structural to normalise (cached; do not modify it).

    ``T1w``: nilearn's T1 template.  ``T2w``: ``Σ_k c_k·P_k`` over tissue probability maps with
    :data:`T2_CONTRAST` weights, CSF = brain mask − GM − WM (clipped to [0, 1]), as SPM's T2 template.

    Parameters
    ----------
    contrast : {"T2w", "T1w"}, default "T2w"
        Contrast of the structural image.
    resolution : int, default 2
        Template voxel size (mm); nilearn resamples its 1 mm template to it.

    Returns
    -------
    Nifti1Image

    Raises
    ------
    ValueError
        If ``contrast`` is neither "T1w" nor "T2w".
    """
    from helpers.atlas import load_template

    if contrast == "T1w":
        return load_template(resolution, "t1")
    if contrast != "T2w":
        raise ValueError(f"structural contrast {contrast!r} is not 'T1w' or 'T2w'")
    gm = load_template(resolution, "gm")
    wm = load_template(resolution, "wm").get_fdata()
    mask = load_template(resolution, "mask").get_fdata()
    gmd = gm.get_fdata()
    csf = np.clip(mask - gmd - wm, 0, 1)
    data = T2_CONTRAST["csf"] * csf + T2_CONTRAST["gm"] * gmd + T2_CONTRAST["wm"] * wm
    return nib.Nifti1Image(data.astype(np.float32), gm.affine)


def _affine_stage(static, static_aff, moving, moving_aff, params):
    from dipy.align.imaffine import AffineRegistration, MutualInformationMetric, transform_centers_of_mass
    from dipy.align.transforms import AffineTransform3D, RigidTransform3D

    reg = AffineRegistration(
        metric=MutualInformationMetric(
            nbins=params["nbins"], sampling_proportion=params["sampling_proportion"]
        ),
        level_iters=list(params["affine_level_iters"]),
        sigmas=list(params["affine_sigmas"]),
        factors=list(params["affine_factors"]),
        verbosity=0,
    )
    current = transform_centers_of_mass(static, static_aff, moving, moving_aff).affine
    for transform in (RigidTransform3D(), AffineTransform3D()):
        current = reg.optimize(
            static,
            moving,
            transform,
            None,
            static_grid2world=static_aff,
            moving_grid2world=moving_aff,
            starting_affine=current,
        ).affine
    return np.asarray(current)


def normalise(
    structural: nib.Nifti1Image,
    template: nib.Nifti1Image,
    *,
    affine_template: nib.Nifti1Image | None = None,
    brain: nib.Nifti1Image | None = None,
    nonlinear: bool = True,
    seed: int = 0,
    **overrides,
) -> Normalisation:
    """Register ``template`` (fixed, MNI) and ``structural`` (moving): affine (MI) then SyN (CC).

    Parameters
    ----------
    structural : Nifti1Image
        The participant's structural image (3-D).
    template : Nifti1Image
        Template with matching contrast (:func:`template_for_contrast`), used by SyN.
    affine_template : Nifti1Image or None, default None
        A coarser copy of the template for the affine stage (3 mm is as accurate as 2 mm there,
        three times faster); None: ``template``.
    brain : Nifti1Image or None, default None
        Brain mask of the structural (:func:`helpers.preprocess.brain.brain_mask`): the structural is
        set to 0 outside it dilated by ``brain_margin_mm`` (the template is a brain; scalp, eyes and
        neck have no counterpart in it).  None: the structural is used as it is.
    nonlinear : bool, default True
        Run the SyN stage after the affine one.
    seed : int, default 0
        Seed for dipy's sampling (determinism).
    **overrides
        Any key of :data:`NORMALISE_DEFAULTS` (iterations, CC radius, …).

    Returns
    -------
    Normalisation
        Affine prealignment and (with ``nonlinear``) dipy's diffeomorphic map; both map MNI points to
        structural points.

    Raises
    ------
    ValueError
        If an override is not a key of :data:`NORMALISE_DEFAULTS`, or the structural is not 3-D.
    """
    from dipy.align.imwarp import SymmetricDiffeomorphicRegistration
    from dipy.align.metrics import CCMetric

    unknown = set(overrides) - set(NORMALISE_DEFAULTS)
    if unknown:
        raise ValueError(
            f"normalise: unknown setting(s) {sorted(unknown)}; allowed: {sorted(NORMALISE_DEFAULTS)}"
        )
    params = {**NORMALISE_DEFAULTS, **overrides}
    if brain is not None:
        from .brain import dilate, masked

        structural = masked(structural, dilate(brain, params["brain_margin_mm"]))
    moving = np.asarray(structural.get_fdata(dtype=np.float32))
    if moving.ndim != 3:
        raise ValueError(f"normalise: structural image must be 3-D, got shape {moving.shape}")
    static = np.asarray(template.get_fdata(dtype=np.float32))
    coarse = template if affine_template is None else affine_template
    np.random.seed(seed)  # dipy draws its samples from numpy's global generator
    prealign = _affine_stage(
        np.asarray(coarse.get_fdata(dtype=np.float32)), coarse.affine, moving, structural.affine, params
    )
    if not nonlinear:
        return Normalisation(prealign, None)
    metric = CCMetric(3, sigma_diff=params["cc_sigma_diff"], radius=params["cc_radius"])
    sdr = SymmetricDiffeomorphicRegistration(metric, level_iters=list(params["syn_level_iters"]))
    dipy_log = logging.getLogger("dipy")
    level = dipy_log.level
    dipy_log.setLevel(logging.WARNING)  # dipy logs every pyramid level at INFO
    try:
        mapping = sdr.optimize(
            static,
            moving,
            static_grid2world=template.affine,
            moving_grid2world=structural.affine,
            prealign=prealign,
        )
    finally:
        dipy_log.setLevel(level)
    log.info("normalisation done")
    return Normalisation(prealign, mapping)
