"""Normalisation of the structural image to the MNI152 template (affine, then SyN nonlinear).

The template is the ICBM 2009 MNI152 image that nilearn ships (via :func:`helpers.atlas.load_template`).
Affine stage (``affine_init`` = "least_squares"): centres of mass → a least-squares affine fit of the
structural to the template and its GM and WM maps, as SPM's ``spm_affreg``
(:mod:`.affine_least_squares`) → the 12-parameter affine maximising Mattes mutual information on every
template voxel at the finest level (dipy ``AffineRegistration``; on a random quarter of them its result
hung on the last bits of the input, see the end).  With ``affine_init`` = "centres_of_mass" (the stage
before; see the end) dipy's rigid then 12-parameter steps run the whole pyramid instead.  Nonlinear
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
on those participants (sub-06: 2.0 against 1.7 mm), so the three levels stay.  Re-measured with the
CSF layer and the view mask: the 3 mm T2 template registered to itself with the stage's settings
still moves the ROIs by 1.29 / 1.36 / 1.78 mm (VMPFC / left / right amygdala; 0.015 mm with two
levels), yet on 15 participants of the twin (sub-01 to -16 but -10; acquired, true pose) two levels
gave a mean VMPFC error of 1.07 mm (50, 25 iterations; VMPFC Dice below .90 in 6) or 1.07 mm
(100, 50; 3 below, 1.5 times slower) against 1.08 mm (4 below) with three: the coarsest level also
catches large deformations (sub-09: 1.08 mm with three levels, 2.1–2.3 mm with two).  The drift
comes from dipy scaling every SyN update to ``step_length`` (0.25 voxel, 3 mm at the coarsest
level), however small the gradient: a step of 0.1 voxel cut it to 0.64–0.80 mm (0.05: 0.15–0.19),
but did not lower the error on sub-01, -06, -08 and -14 (VMPFC 0.95, 1.06, 1.76, 1.26 mm, or 0.90,
1.47, 0.98, 1.44 with 100, 50, 50 iterations, against 0.76, 1.38, 1.38, 1.27 mm at 0.25).

Where the VMPFC error comes from (``benchmarks/bench_registration_budget.py``, sub-09/11/16/17, mean
error over the ROI in mm, VMPFC / left / right amygdala): the source brain alone on the participant's
grid, pose and warp 0.98 / 0.35 / 0.41; in the head without extra-cerebral CSF 1.10 / 0.44 / 0.37;
with the twin's 2 mm of CSF around the brain 1.63 / 0.66 / 0.62; as acquired (bias, noise) 1.83 /
0.69 / 0.51.  The bright CSF layer over the frontal pole, which the template built from tissue maps
barely has, pulls the VMPFC ~1–2 mm forward (it grows with the layer: 0.85, 2.0, 3.3 mm for 0, 2 and
4 mm on sub-11; these numbers are without the CSF layer below).  Tried and not kept, each changing
single participants by ±0.5 mm without lowering the mean at all three ROIs: a CSF rim added to the
template (before its thickness was measured in each structural), the outer CSF band suppressed in both
images, registering GM+WM maps instead of intensities, smoothing of 8, 18 or 24 mm (18 mm: 1.62 /
0.42 / 0.45 on those four, 1.40 / 0.53 / 0.52 against 1.24 / 0.79 / 0.42 on six others), CC radius
2, more or four pyramid levels, every voxel sampled in the affine stage (kept later, for stability: see
the end), a tighter brain mask.

The extra-cerebral CSF layer (``csf_layer`` = "estimate", T2w structurals). The error is mostly a bias
shared by the participants (``benchmarks/bench_registration_bias.py``; MNI axes, mm, x right, y
anterior, z superior). Over the 19 participants of a cold build (coregistration included) the mean
signed displacement ``p(y) − y`` at the VMPFC is (−0.31, +0.60, −0.43), norm 0.80 against a mean
per-participant norm of 1.20 (mean error 1.48); at the left amygdala (+0.43, +0.17, −0.31), 0.56 of
0.65; at the right (−0.27, +0.09, −0.12), 0.31 of 0.41: the VMPFC is read forward and down, both
amygdalae medially and down. On nine participants (sub-01/04/07/08/09/11/12/16/17, budget benchmark) the
shared part is small for the source brain alone (norm of the mean vector 0.32 / 0.15 / 0.10 mm against
mean norms 0.81 / 0.26 / 0.28, VMPFC / left / right amygdala) and in the head without CSF (0.47 / 0.15 /
0.08), so neither the reference ``r`` nor the head is its source; it appears with the 2 mm CSF layer
(1.01 / 0.63 / 0.40 of 1.43 / 0.66 / 0.46): the template's edge is matched to the outer edge of the
bright CSF, so template points are sent outward. The left amygdala scores worse than the right because
its brain-alone bias (+0.14 mm in x, medial) adds to the layer's medial pull. A layer of the right
thickness in the template removes most of it (2 mm, the twin's own value, used for this check only;
acquired sub-09 1.67 / 0.71 / 0.61 mm without a layer, sub-11 2.39 / 0.76 / 0.50): built at 1 mm around
nilearn's brain mask and resampled, 0.82 / 0.28 / 0.25 and 0.92 / 0.45 / 0.31; built by
:func:`with_csf_layer` on the 3 mm grid, 1.16 / 0.25 / 0.37 and 1.19 / 0.23 / 0.35
(``bench_registration_budget.py --variants '[{"template_csf_mm": 2.0}]'``). So the template gets a layer
of the thickness measured in each structural: its surface CSF (:func:`surface_csf_mm`: CSF fraction over
the outer ``csf_layer_depth_mm`` = 10 mm of the brain mask, times that depth) minus the template's,
added around the template's tissue (:func:`with_csf_layer`), before both stages. Partial volume with the
dark skull makes it read 1.1–1.4 mm on acquired twin structurals (1.6–1.7 noise-free) for the twin's 2
mm. On eight participants (sub-01/04/07/08/09/11/12/16, acquired, one core) the mean (worst) error
without → with the layer: VMPFC 1.77 (2.48) → 1.35 (1.92) mm, left amygdala 0.82 (1.30) → 0.53 (0.74),
right 0.50 (0.61) → 0.39 (0.55); mean (lowest) Dice .86 (.81) → .88 (.85), .90 (.86) → .94 (.90), .96
(.93) → .97 (.95); the shared VMPFC bias 1.07 → 0.74 mm; every participant better at every ROI but
sub-04's VMPFC (1.86 → 1.92 mm, read backward already in the brain alone); 14.6 s per normalisation on
one core (0.14 s of it for the layer). The VMPFC Dice target (.90) is still missed by five of the eight.
Single participants are sensitive to details: a first version (the template's tissue by Otsu's threshold
instead of half its WM intensity) gave the same means (1.39 / 0.55 / 0.43) but moved sub-09 and sub-11
by ±0.5 mm at the VMPFC. Tried and not kept: T2 intensities folded at grey matter so that CSF is dark as
in a T1w (sub-11 VMPFC 2.39 → 3.35 mm: CSF in partial volume with bone reads as grey matter), dipy's
``EMMetric`` (sub-11 amygdalae 2.6 and 5.0 mm). A T1w structural gets no layer (its CSF is dark like
bone).

The layer is drawn on the 1 mm template (``csf_layer_resolution`` = 1) and averaged over each 3 mm
voxel (:func:`with_csf_layer` with ``fine``): on the 3 mm grid alone a layer of 1.1–1.4 mm, under half a
voxel, lost ~20 % of its volume and followed the coarse tissue's staircase.  And the template is cut to
the structural's field of view before SyN (:func:`in_view`, ``field_of_view`` = "mask"): 36 slices of
4 mm end above the vertex or through the cerebellum in most twin heads, and the template's brain beyond
them pulled the edge of the image.  Together, on all 19 participants of the default twin (acquired,
true pose, ``bench_registration_budget.py --conditions acquired``; mean error in mm, VMPFC / left /
right amygdala): 1.26 / 0.57 / 0.42 → 1.08 / 0.44 / 0.35 (largest 1.92 / 0.82 / 0.68 → 1.54 / 0.84 /
0.55); mean Dice .889 / .937 / .965 → .912 / .974 / .987; Dice below .90 at the VMPFC in 11 → 5
participants; better / worse at the VMPFC in 14 / 5 participants (sub-16 0.86 → 1.28 mm the most
worse), at the amygdalae 16 / 2 and 13 / 5.  The 1 mm layer alone (drawn as the larger of layer and
tissue instead of their sum, no mask): 1.14 / 0.54 / 0.40.

The measured thickness is the weak part, and a better measure did not help.  The estimate reads 0.8–1.4
mm on acquired twin structurals, 1.5–1.8 on the same heads noise- and bias-free (all have the twin's 2
mm): the bias field (±15 %) and the CSF mixed with bone at the mask's edge each lower it.  Dividing
out a class-based bias field (60 mm FWHM) and counting the CSF of a 4 mm band outside the mask against
the bone level beyond it brought sub-08 from 0.78 to 1.41 (noise-free 1.82) but, in the 19
participants, left the VMPFC error where it was (1.08 → 1.09 mm; left amygdala 0.44 → 0.38, right
0.35; VMPFC Dice below .90 in 5 → 4, its largest error 1.54 → 1.90 mm, sub-13/15/17 worse by 0.4–0.5
mm, sub-06/07/16/18 better by 0.3–0.6).  A fixed layer of 1.6 mm for everyone gave 0.96 / 0.33 / 0.33
mm and two VMPFC Dice below .90, the twin's own 2 mm 0.99 / 0.39 / 0.40, three VMPFC and one right
amygdala Dice below .90 (sub-14's right amygdala 0.24 → 1.20 mm).  Single participants move by
±0.5 mm with a few tenths of a millimetre of layer, so none was kept (a fixed value would be tuned
to the twin).

All the comparisons above are within the stage's own rounding sensitivity (:mod:`.stability`): a
change of one part in a million of the structural moves the map by 1.0–1.2 mm at the VMPFC (0.2–0.5 mm
at the amygdalae; sub-04, sub-05), through the affine stage (1.4–1.6 mm alone: L-BFGS-B stops after
10 evaluations at the finest level, on a sampled metric) and SyN (0.6–1.0 mm with the affine held:
dipy's coarsest level stops early after a varying number of iterations, and every update is scaled to
``step_length`` however close to the optimum).  So the 19 participants' numbers differ between
machines: the same code, lock and twin gave a mean error of 1.08 / 0.44 / 0.35 mm and 5 VMPFC Dice
below .90 on one machine, 1.25 / 0.48 / 0.40 mm and 9 on another (``bench_registration_budget.py``,
acquired, true pose).  On the second machine: every voxel sampled in the affine stage cut its own
sensitivity to 0.2–0.6 mm; SyN's step decreased linearly to 4 % of ``step_length`` over each level
halved SyN's (0.2–0.6 mm) but moved the VMPFC error to 1.56 mm (amygdalae 0.40 / 0.36; 1.47 / 0.37 /
0.36 mm with dense affine sampling), over the finest level only 1.36 / 0.43 / 0.39 mm.  Neither schedule
is kept: differences of ±0.2 mm in a mean over 19 participants are within what rounding alone moves it.

So the affine stage samples every voxel (``sampling_proportion`` = None): a sampled metric is a
different function of the parameters for every input, and L-BFGS-B's ten evaluations stop wherever
that function led them.  Measured on the second machine: the affine stage alone moves 0.23 mm at the
VMPFC for a change of 1e-6 (sub-04; 1.61 mm sampled), and on the 19 participants the mean error went
from 1.25 / 0.48 / 0.40 to 1.09 / 0.44 / 0.34 mm, VMPFC Dice below .90 from 9 to 5 participants.  A
second run that differed from it only in a few of SyN's steps (scaled below ``step_length``) gave
1.09 / 0.42 / 0.41 mm and 3 below .90, so the lower mean holds, while single participants still move
with SyN's own sensitivity (sub-04: 2.21 and 1.40 mm in the two runs).  It costs 6–10 s per
participant on one core (the affine stage 4.6–5.7 → 10.4–16.4 s, sub-04 and sub-05, same process).
The whole stage now moves 0.60 / 0.43 / 0.31 mm for a change of 1e-6 (mean of sub-04 and sub-05; the
VMPFC 1.19 and 1.03 mm before), SyN's part the larger (``bench_registration_stability.py``).  Scaling
SyN's steps by the update's largest norm relative to its first one (gradient descent with a fixed rate,
so that the field would settle) changes nothing: on sub-05 no update of the 168 was smaller than the
first, so every step stayed at ``step_length``.  The affine stage on a coarser template
(``affine_template_resolution``) is faster but loses that stability: at 6 mm the normalisation of
sub-04 took 19.4 s instead of 26.8 (same process) and the 19 participants' mean error was unchanged
(1.08 / 0.43 / 0.35 mm), but the affine stage alone moved 5.2 mm at the VMPFC for a change of 1e-6
(sub-04; 1.8 mm at 4 mm, 0.23 mm at 3 mm), so the 3 mm template stays.

SyN on the box of the template's signal (above 1e-3 of its peak, after the view mask) grown by a few
voxels, instead of the whole 3 mm grid, is faster but was not kept.  With 3 voxels the box holds 63 %
of the grid, and SyN took 11.3–11.9 s instead of 16.0–17.7 (sub-01, sub-02, one core, alternating in
one process).  On the 19 participants (acquired, true pose; the reference ``r`` on the whole grid in
both) the mean error was 1.09 / 0.42 / 0.32 mm with 3 voxels and 1.07 / 0.47 / 0.35 mm with 4, against
1.09 / 0.44 / 0.34 on the whole grid, but single participants jumped: sub-04's VMPFC 2.21 → 3.05 mm
(3 voxels); sub-16's amygdalae 0.35 / 0.45 → 1.28 / 0.99 mm with 4 voxels (Dice .79 / .85), and
0.22–0.35 / 0.21–0.47 with 3, 5 or 6 voxels or the whole grid.  Dice printed (two decimals) at .89 or
lower in 5 participant-ROIs on the whole grid, 3 with 3 voxels, 8 with 4.  On the 4 mm template cut to
30 slices (five copies changed by 1e-5) SyN diverged in one of five with 3 voxels (12 mm), with the
view mask and without; with 4 voxels the view mask no longer helped (1.03 against 1.09 mm; the whole
grid 0.93 against 1.36).  The box's edge, where dipy holds the field at zero, is within a voxel of the
signal at SyN's coarsest level.
The structural's brain mask grown by 0 mm instead of ``brain_margin_mm`` = 2 (19 participants, same
conditions): 1.08 / 0.50 / 0.38 mm, the amygdalae worse in 14 and 11 participants; by 5 mm, sub-04's
VMPFC 4.26 mm and sub-07's 2.09 (stopped after 8 participants).

Two savings were measured and not kept, each refused by a test of this module.  The rigid step of the
affine stage stopped at the 6 mm level (the 12-parameter affine after it running all three levels;
the rigid step's 11 evaluations at 3 mm took 1.9 s of sub-01's 10.5 s affine stage): the affine stage
then moved by 0.09, 0.13 and 0.46 mm at the ROIs for a change of 1e-6 of three tiny-twin structurals
(the test asks for a median below 0.05).  SyN's four fixed-point inversions after every iteration
(6.4–6.8 s of its ~15 s on sub-01, one core, at dipy's ``inv_tol`` 1e-3) took 3.7–4.3 s at 1e-2, but
SyN then diverged on the cut 4 mm template, with and without the view mask (at 5e-3 as well).  On
the 19 participants (acquired, true pose; one run each in one benchmark; mean error VMPFC / left /
right amygdala, VMPFC Dice below .90) the defaults gave 1.09 / 0.44 / 0.34 mm and 5, the inversion at
1e-2 1.13 / 0.41 / 0.34 mm and 6, both changes 1.06 / 0.41 / 0.31 mm and 4.

The least-squares start (``affine_init`` = "least_squares", the default since).  dipy's rigid and
12-parameter steps over the 12, 6 and 3 mm levels took ~10 s of the ~25 s normalisation (its dense
mutual-information gradient 8.5 s); the least-squares fit takes 1–3 s, and mutual information then runs
only its 12-parameter step on the finest ``affine_mi_levels`` = 1 level.  Measured on the 19
participants in three runs of ``bench_registration_budget.py --conditions acquired`` (true pose; mean
error VMPFC / left / right amygdala, largest error, mean Dice, Dice printed below .90; seconds per
normalisation on one core, two processes on two cores); the reference ``r`` is the run's default's own
registration of the source brain, so rows compare only within a run:

==============================  ===================  ===================  ===================  ====  =====
run: start                      mean error (mm)      largest (mm)         mean Dice            <.90  s
==============================  ===================  ===================  ===================  ====  =====
1: centres of mass (before)     1.09 / 0.44 / 0.34   2.21 / 0.76 / 0.47   .911 / .968 / .989   5     27.5
1: least squares, MI 1 level    1.02 / 0.46 / 0.39   1.68 / 0.68 / 0.59   .911 / .966 / .984   3     22.1
2: least squares, MI 1 level    1.04 / 0.43 / 0.40   1.60 / 0.60 / 0.67   .910 / .971 / .979   4     21.9
2: least squares, MI 2 levels   1.05 / 0.41 / 0.37   1.70 / 0.60 / 0.54   .911 / .974 / .986   5     22.9
3: least squares alone          1.05 / 0.51 / 0.42   1.69 / 1.14 / 1.32   .906 / .959 / .974   5     24.6
==============================  ===================  ===================  ===================  ====  =====

(Run 3's "centres of mass" row was run 1's, bit for bit.)  In a cold ``make book`` (coregistration
estimated, ``r`` from the new default) the accuracy cell read 1.08 / 0.48 / 0.42 mm and 9 Dice below .90
(all VMPFC but sub-09's left amygdala), against 1.11 / 0.45 / 0.37 mm and 7 the day before: the VMPFC a
little better and the amygdalae a little worse in both comparisons with the stage before, the counts
within what rounding alone moves (see below).  The least-squares fit alone leaves the amygdalae worse
(sub-04: Dice .88 / .86): least squares trades a zoom of 1–2 % against contrast and blur (on smooth
two-tissue phantoms whose edges were blurred differently in the two images, its optimum lay 2–5 mm from
the truth), which mutual information does not.  On the cut 4 mm template of the view-mask test
(:func:`in_view`) the least-squares start lands within 0.06 mm of the planted shift, where dipy's rigid
and affine steps stopped 1.9 mm away; SyN then diverged on two of the five copies without the view mask,
and on none with it.

For a T2-weighted structural (the paper's coplanar EPI T2w) the template is given T2-like contrast
from the tissue maps (:func:`template_for_contrast`), so that the CC metric compares like with like.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import nibabel as nib
import numpy as np
from nibabel.affines import apply_affine, voxel_sizes

__all__ = [
    "NORMALISE_DEFAULTS",
    "Normalisation",
    "template_for_contrast",
    "surface_csf_mm",
    "with_csf_layer",
    "in_view",
    "normalise",
]

log = logging.getLogger(__name__)

#: dipy settings (recorded in the JSON sidecars).
NORMALISE_DEFAULTS = dict(
    template="MNI152 ICBM2009 (nilearn)",
    template_resolution=3,
    affine_template_resolution=3,
    brain_margin_mm=2.0,
    affine_init="least_squares",
    affine_mi_levels=1,
    affine_metric="MattesMI",
    nbins=32,
    sampling_proportion=None,
    affine_level_iters=(100, 30, 10),
    affine_sigmas=(3.0, 1.0, 0.0),
    affine_factors=(4, 2, 1),
    syn_metric="CC",
    cc_radius=1,
    cc_sigma_diff=4.0,
    syn_level_iters=(50, 25, 25),
    csf_layer="estimate",
    csf_layer_depth_mm=10.0,
    csf_layer_resolution=1,
    field_of_view="mask",
    field_of_view_margin_mm=0.0,
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

    Kept in memory and on disk (``build/cache/template``, keyed by contrast, resolution and code).

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
    if contrast not in ("T1w", "T2w"):
        raise ValueError(f"structural contrast {contrast!r} is not 'T1w' or 'T2w'")
    return _stored("template", lambda: _template(contrast, resolution), contrast, resolution)


def _stored(namespace: str, compute, *parts):
    """``compute()`` kept on disk (:class:`helpers.cache.Cache` ``namespace``), keyed by ``parts`` and
    this module's code (imports followed): every process of the stage would otherwise redo it (~3 s for
    nilearn's 1 and 3 mm templates and the 1 mm distance map, per process)."""
    from helpers.cache import Cache, make_key

    return Cache(namespace).memo(make_key(*parts, _code()), compute)


@functools.cache
def _code() -> str:
    """This module's code fingerprint, imports followed (once per process: importing the modules it
    follows takes ~1 s in a fresh one)."""
    from helpers.cache import code_fingerprint

    return code_fingerprint(__name__, follow_imports=True)


def _template(contrast: str, resolution: int) -> nib.Nifti1Image:
    """:func:`template_for_contrast`, computed."""
    from helpers.atlas import load_template

    if contrast == "T1w":
        return load_template(resolution, "t1")
    gm = load_template(resolution, "gm")
    wm = load_template(resolution, "wm").get_fdata()
    mask = load_template(resolution, "mask").get_fdata()
    gmd = gm.get_fdata()
    csf = np.clip(mask - gmd - wm, 0, 1)
    data = T2_CONTRAST["csf"] * csf + T2_CONTRAST["gm"] * gmd + T2_CONTRAST["wm"] * wm
    return nib.Nifti1Image(data.astype(np.float32), gm.affine)


def _csf_fraction(data: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Fraction of CSF of each voxel of a T2w image between its GM and CSF class means (0–1).

    Class means: three-level Otsu thresholds (Otsu 1979) of the voxels ``inside``, the mean of each class.
    """
    from skimage.filters import threshold_multiotsu

    values = data[inside]
    label = np.digitize(values, threshold_multiotsu(values, classes=3, nbins=256), right=True)
    gm, csf = (values[label == k].mean() for k in (1, 2))
    return np.clip((data - gm) / (csf - gm), 0, 1)


def surface_csf_mm(image: nib.Nifti1Image, inside: np.ndarray, depth_mm: float) -> float:
    """CSF under the surface of a T2w brain (mm): ``D · mean f`` over the outer shell of depth ``D``.

    ``f`` is each voxel's CSF fraction (between the image's own GM and CSF class means), the shell the
    voxels of ``inside`` within ``D`` = ``depth_mm`` of its outside (Euclidean distance in mm).  A
    brain with a layer of ``t`` mm of CSF on its surface scores ``t`` more than the same brain
    without (to the curvature of the shell).

    Parameters
    ----------
    image : Nifti1Image
        T2-weighted image (CSF brightest).
    inside : ndarray of bool
        The brain, extra-cerebral CSF included (its outer surface is the CSF's).
    depth_mm : float
        Depth ``D`` of the shell (mm).

    Returns
    -------
    float
    """
    from scipy import ndimage

    data = np.asarray(image.get_fdata(dtype=np.float32))
    depth = ndimage.distance_transform_edt(inside, sampling=_zooms(image))
    shell = inside & (depth <= depth_mm)
    return float(depth_mm * _csf_fraction(data, inside)[shell].mean())


def with_csf_layer(
    template: nib.Nifti1Image, thickness_mm: float, csf: float, fine: nib.Nifti1Image | None = None
) -> nib.Nifti1Image:
    """``template`` with a layer of ``thickness_mm`` of CSF (intensity ``csf``) around its tissue.

    The layer covers the voxels outside the template's tissue (above half the intensity of its darkest
    tissue, :data:`T2_CONTRAST`) by the part of each voxel within ``thickness_mm`` of the tissue's
    surface (the surface half a voxel beyond the outermost tissue voxels' centres).  With ``fine``, the
    same template on a finer grid, the layer is drawn on that grid and averaged over each voxel of
    ``template`` (its partial volume at the finer grid's precision): on the 3 mm grid alone a layer
    thinner than a voxel is placed to within a voxel, and the surface follows the coarse tissue.

    Parameters
    ----------
    template : Nifti1Image
        T2-like template (tissue on a zero background).
    thickness_mm : float
        Layer thickness (mm).
    csf : float
        CSF intensity of the template.
    fine : Nifti1Image or None, default None
        The same template on a grid of smaller voxels whose size divides ``template``'s (e.g.
        :func:`template_for_contrast` at 1 mm); None: the layer is drawn on ``template``'s grid.

    Returns
    -------
    Nifti1Image
    """
    from scipy import ndimage

    data = np.asarray(template.get_fdata(dtype=np.float32))
    if fine is None:
        return nib.Nifti1Image(np.maximum(data, csf * _layer(template, thickness_mm)), template.affine)
    # the intensity the layer adds on the fine grid, averaged over each template voxel
    fine_data = np.asarray(fine.get_fdata(dtype=np.float32))
    added = np.maximum(csf * _layer(fine, thickness_mm) - fine_data, 0)
    size = np.maximum(np.rint(_zooms(template) / _zooms(fine)).astype(int), 1)
    added = ndimage.uniform_filter(added, size=tuple(size), mode="constant")
    ijk = np.indices(data.shape).reshape(3, -1).T
    at = apply_affine(np.linalg.inv(fine.affine) @ template.affine, ijk) + (size % 2 == 0) * 0.5
    added = ndimage.map_coordinates(added, at.T, order=1, mode="constant").reshape(data.shape)
    return nib.Nifti1Image((data + added).astype(np.float32), template.affine)


def _layer(template: nib.Nifti1Image, thickness_mm: float) -> np.ndarray:
    """The fraction of each voxel outside the tissue within ``thickness_mm`` of its surface."""
    dist, tissue, res = _outside_tissue(template)
    return (np.clip((thickness_mm - (dist - res)) / res, 0, 1) * ~tissue).astype(np.float32)


def _zooms(image: nib.Nifti1Image) -> np.ndarray:
    return np.sqrt((image.affine[:3, :3] ** 2).sum(axis=0))


def _outside_tissue(template: nib.Nifti1Image) -> tuple[np.ndarray, np.ndarray, float]:
    """Distance (mm) of each voxel to the nearest tissue voxel's centre, the tissue, the voxel size."""
    import hashlib

    data = np.asarray(template.get_fdata(dtype=np.float32))
    key = hashlib.sha1(data.tobytes() + template.affine.tobytes()).hexdigest()
    if key not in _DISTANCES:  # the stage draws a layer on the same 1 mm template for every participant

        def compute():
            from scipy import ndimage

            tissue, zooms = _tissue(data), _zooms(template)
            return ndimage.distance_transform_edt(~tissue, sampling=zooms), tissue, zooms.mean()

        _DISTANCES.clear()  # one template at a time: the 1 mm map is 70 MB (float64)
        _DISTANCES[key] = _stored("template_distance", compute, key)
    return _DISTANCES[key]


_DISTANCES: dict = {}


def in_view(
    template: nib.Nifti1Image, prealign: np.ndarray, structural: nib.Nifti1Image, margin_mm: float = 0.0
) -> np.ndarray:
    """Template voxels that ``prealign`` sends inside the structural's field of view.

    A structural often ends above the vertex or through the cerebellum (36 slices of 4 mm cover
    144 mm; a brain is ~150 mm tall): template voxels beyond it have no counterpart, and SyN's CC
    metric would pull the brain's edge towards the end of the image.  :func:`normalise` sets them to 0
    before SyN, so that they carry no signal (the structural reads 0 there as well).  On the 4 mm T2
    template cut to 30 of its slices and shifted by (2, −3, 4) mm, the mean error of the map over the
    tissue away from the cut was 0.64 mm with the mask and 1.17 mm without.  On another machine the
    same gave 0.81 and 0.74 mm (:mod:`.stability`: one run hangs on its rounding path), and averaged
    over five copies changed by 1e-5, 0.79 and 0.94 mm.

    Parameters
    ----------
    template : Nifti1Image
        The fixed image (MNI).
    prealign : ndarray, shape (4, 4)
        MNI world → structural world (the affine stage's result).
    structural : Nifti1Image
        The moving image; its field of view is its voxels' extent (centres ± half a voxel).
    margin_mm : float, default 0.0
        Distance (mm) inside the field of view's faces a voxel must be.

    Returns
    -------
    ndarray of bool, template's shape
    """
    ijk = np.indices(template.shape).reshape(3, -1).T
    vox = apply_affine(np.linalg.inv(structural.affine) @ prealign @ template.affine, ijk)
    margin = margin_mm / _zooms(structural)
    shape = np.asarray(structural.shape[:3])
    inside = np.all((vox >= -0.5 + margin) & (vox <= shape - 0.5 - margin), axis=1)
    return inside.reshape(template.shape)


def _tissue(data: np.ndarray) -> np.ndarray:
    """The T2 template's tissue: voxels more than half filled with its darkest tissue (not its soft edge)."""
    return data > 0.5 * min(T2_CONTRAST.values())


def _affine_stage(static, static_aff, moving, moving_aff, params):
    """The affine stage: template world → structural world (module docstring)."""
    from dipy.align.imaffine import AffineRegistration, MutualInformationMetric, transform_centers_of_mass
    from dipy.align.transforms import AffineTransform3D, RigidTransform3D

    current = transform_centers_of_mass(static, static_aff, moving, moving_aff).affine
    levels, transforms = slice(None), (RigidTransform3D(), AffineTransform3D())
    if params["affine_init"] == "least_squares":
        from .affine_least_squares import affine_least_squares

        components = [static, *_tissue_maps(static.shape, static_aff)]
        current, steps = affine_least_squares(components, static_aff, moving, moving_aff, current)
        log.info("least-squares affine: %s Gauss-Newton steps per level", steps)
        levels, transforms = slice(-params["affine_mi_levels"], None), transforms[1:]  # MI's 12 parameters
    reg = AffineRegistration(
        metric=MutualInformationMetric(
            nbins=params["nbins"], sampling_proportion=params["sampling_proportion"]
        ),
        level_iters=list(params["affine_level_iters"])[levels],
        sigmas=list(params["affine_sigmas"])[levels],
        factors=list(params["affine_factors"])[levels],
        verbosity=0,
    )
    for transform in transforms:
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


def _tissue_maps(shape, affine) -> list:
    """The template's GM and WM maps on the grid of ``shape`` and ``affine`` (the affine template's)."""
    from helpers.atlas import load_template

    resolution = int(round(voxel_sizes(affine).mean()))
    # kept on disk as the template is: nilearn resamples its 1 mm maps again on every call (~0.8 s)
    maps = _stored(
        "tissue_maps", lambda: [load_template(resolution, kind) for kind in ("gm", "wm")], resolution
    )
    for image in maps:
        if image.shape != tuple(shape) or not np.allclose(image.affine, affine):
            raise ValueError(
                f"normalise: the affine template is not on the grid of nilearn's {resolution} mm tissue "
                "maps, which the least-squares start fits with it; use affine_init='centres_of_mass' for "
                "another grid"
            )
    return [np.asarray(image.get_fdata(dtype=np.float32)) for image in maps]


def _syn(static, static_affine, moving, moving_affine, prealign, params):
    """dipy's SyN (CC metric) of ``moving`` to ``static`` from ``prealign``: its ``DiffeomorphicMap``."""
    from dipy.align.imwarp import SymmetricDiffeomorphicRegistration
    from dipy.align.metrics import CCMetric

    metric = CCMetric(3, sigma_diff=params["cc_sigma_diff"], radius=params["cc_radius"])
    sdr = SymmetricDiffeomorphicRegistration(metric, level_iters=list(params["syn_level_iters"]))
    dipy_log = logging.getLogger("dipy")
    level = dipy_log.level
    dipy_log.setLevel(logging.WARNING)  # dipy logs every pyramid level at INFO
    try:
        return sdr.optimize(
            static,
            moving,
            static_grid2world=static_affine,
            moving_grid2world=moving_affine,
            prealign=prealign,
        )
    finally:
        dipy_log.setLevel(level)


def _finite(mapping) -> bool:
    """Whether both of a ``DiffeomorphicMap``'s displacement fields are finite everywhere."""
    return bool(np.isfinite(mapping.forward).all() and np.isfinite(mapping.backward).all())


def normalise(
    structural: nib.Nifti1Image,
    template: nib.Nifti1Image,
    *,
    affine_template: nib.Nifti1Image | None = None,
    brain: nib.Nifti1Image | None = None,
    nonlinear: bool = True,
    contrast: str | None = None,
    seed: int = 0,
    **overrides,
) -> Normalisation:
    """Register ``template`` (fixed, MNI) and ``structural`` (moving): affine (least squares, MI), SyN (CC).

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
    contrast : {"T2w", "T1w"} or None, default None
        The structural's contrast; with "T2w", a ``brain`` and ``csf_layer`` = "estimate", the
        template gets the structural's extra-cerebral CSF layer (module docstring).
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
        If an override is not a key of :data:`NORMALISE_DEFAULTS`, ``csf_layer`` is not "estimate"
        or "none", ``affine_init`` is not "least_squares" or "centres_of_mass" (or is the first with an
        affine template off the grid of nilearn's tissue maps), the structural is not 3-D, or SyN's
        displacement field is not finite (after one more run without the field-of-view mask, when it
        was used).
    """
    unknown = set(overrides) - set(NORMALISE_DEFAULTS)
    if unknown:
        raise ValueError(
            f"normalise: unknown setting(s) {sorted(unknown)}; allowed: {sorted(NORMALISE_DEFAULTS)}"
        )
    params = {**NORMALISE_DEFAULTS, **overrides}
    if params["csf_layer"] not in ("estimate", "none"):
        raise ValueError(f"normalise: csf_layer {params['csf_layer']!r} is not 'estimate' or 'none'")
    if params["affine_init"] not in ("least_squares", "centres_of_mass"):
        raise ValueError(
            f"normalise: affine_init {params['affine_init']!r} is not 'least_squares' or 'centres_of_mass'"
        )
    if params["field_of_view"] not in ("mask", "none"):
        raise ValueError(f"normalise: field_of_view {params['field_of_view']!r} is not 'mask' or 'none'")
    if brain is not None:
        from .brain import dilate, masked

        structural = masked(structural, dilate(brain, params["brain_margin_mm"]))
    moving = np.asarray(structural.get_fdata(dtype=np.float32))
    if moving.ndim != 3:
        raise ValueError(f"normalise: structural image must be 3-D, got shape {moving.shape}")
    coarse = template if affine_template is None else affine_template
    if contrast == "T2w" and params["csf_layer"] == "estimate" and brain is not None:
        depth = params["csf_layer_depth_mm"]
        extra = surface_csf_mm(structural, np.asarray(brain.dataobj) > 0, depth) - surface_csf_mm(
            template, _tissue(np.asarray(template.get_fdata(dtype=np.float32))), depth
        )
        log.info("extra-cerebral CSF of the structural beyond the template's: %.2f mm", extra)
        if extra > 0:
            fine = template_for_contrast(contrast, params["csf_layer_resolution"])
            layered = with_csf_layer(template, extra, T2_CONTRAST["csf"], fine)
            # the stage's affine template is usually the SyN one (both 3 mm): draw the layer once
            coarse = (
                layered if coarse is template else with_csf_layer(coarse, extra, T2_CONTRAST["csf"], fine)
            )
            template = layered
    static = np.asarray(template.get_fdata(dtype=np.float32))
    np.random.seed(seed)  # dipy draws its samples from numpy's global generator
    prealign = _affine_stage(
        np.asarray(coarse.get_fdata(dtype=np.float32)), coarse.affine, moving, structural.affine, params
    )
    if not nonlinear:
        return Normalisation(prealign, None)
    viewed = static
    if params["field_of_view"] == "mask":
        viewed = static * in_view(template, prealign, structural, params["field_of_view_margin_mm"])
    mapping = _syn(viewed, template.affine, moving, structural.affine, prealign, params)
    if not _finite(mapping) and viewed is not static:
        # dipy's CC step can overflow at the hard edge the view mask cuts (seen once in five on the
        # 4 mm template cut to 30 slices, its input changed by 1e-5): the whole template instead
        log.warning("normalise: SyN diverged with the field-of-view mask (non-finite field); run without it")
        mapping = _syn(static, template.affine, moving, structural.affine, prealign, params)
    if not _finite(mapping):
        raise ValueError(
            "normalise: SyN diverged (non-finite displacement field) for the structural of shape "
            f"{moving.shape}; check its intensities and orientation"
        )
    log.info("normalisation done")
    return Normalisation(prealign, mapping)
