"""Benchmark: where the normalisation's ROI error comes from, on the realistic twin (issue 15).

For each participant the structural → MNI normalisation (the stage's own settings,
:func:`helpers.preprocess.participant.normalise_structural`) is run on four images of the same head,
on the participant's own structural grid, pose and warp, each adding one thing to the one before:

* ``brain``: the source brain alone (T2 contrast from its tissue maps), no head, no noise;
* ``head_no_csf``: in the head (skull, scalp, eyes, neck) but with no CSF outside the brain;
* ``head``: the twin's head as configured (``anatomy.head.csf_mm`` of CSF around the brain);
* ``acquired``: the participant's structural as written (bias field and Rician noise added).

Each run's MNI → structural map is written on the stage's 3 mm MNI grid (as its points image) and
scored as the book scores it (:func:`helpers.preprocess.spatial_accuracy.roi_scores`): per atlas ROI,
the mean error (mm) over its 1 mm voxels and the Dice, against the truth and the template
correspondence, coregistration left out (the structural's true pose is used), and the mean signed
displacement ``dx, dy, dz`` (mm, MNI axes) over each ROI, summarised across participants as in
``bench_registration_bias.py`` (mean vector, its norm, mean of the norms).  ``--conditions``
chooses the images; ``--variants`` adds runs of the acquired image (or of the ``--variants-on``
conditions) with other normalisation settings (keys of :data:`helpers.preprocess.participant.DEFAULTS`, or of
:data:`helpers.preprocess.normalise.NORMALISE_DEFAULTS` that the stage does not set, e.g.
``{"csf_layer": "none"}``; or ``{"template_csf_mm": 2.0}``: the template given a CSF layer of that
thickness (:func:`helpers.preprocess.normalise.with_csf_layer`) instead of the measured one).

The field's reference: with ``--ants-python`` (default ``$ANTS_PYTHON``; an interpreter with antspyx,
which pins older numpy/scipy and so lives in its own virtual environment) every condition is also
registered by ANTs (``ants.registration``, one thread, fixed seed; ``_ants_points.py`` run in that
interpreter), rows ``ants_<type>`` for each ``--ants-types`` (default: antspyx's ``SyN`` (affine +
SyN 40×20×0 iterations, MI), ``SyNRA`` (rigid + affine + the same SyN) and
``antsRegistrationSyN[s]`` (the antsRegistrationSyN.sh recipe: rigid + affine + SyN
100×70×50×20, CC radius 2)).  ANTs is given what our normalisation registers: the structural masked
by the dilated brain mask, fixed on the same template image
(:func:`helpers.preprocess.normalise.template_for_contrast` at ``template_resolution``, or at
``--ants-template-mm``), and maps the grid's points to the structural through its forward
transforms (LPS ↔ RAS handled in ``_ants_points.py``).  Seconds are the registration alone.  The
template correspondence ``r`` is our own registration of the noise-free source brain, so a method's
systematic reading of the template pair counts as error for ANTs but not for us: rows
``ants_<type>_own_r`` score ANTs against ANTs's own ``r`` (the same image registered by ANTs, same
type and template).

The point convention was checked on sub-09 (``brain``): at the three ROI centroids ANTs's
(``antsRegistrationSyN[s]``) and our structural points agreed within 0.3–1.0 mm; without the LPS
flip, or through the inverse transforms, they were 38–50 mm apart.

Measured with the template's CSF layer (``csf_layer`` = "estimate", the default since): see
:mod:`helpers.preprocess.normalise` (eight participants, acquired) and ``bench_registration_bias.py``;
with the layer drawn at 1 mm and the field-of-view mask (``--conditions acquired``, all 19
participants): :mod:`helpers.preprocess.normalise`.

Measured before it (``csf_layer`` = "none"; sub-09/11/16/17, mean; error in mm and Dice, VMPFC /
left / right amygdala; seconds on one core): ``brain``: ours 0.98 / 0.34 / 0.40 mm (Dice .93 /
.98 / .98, 14 s), ANTs ``SyN`` 3.55 / 3.83 / 3.13 mm (3 s), ``antsRegistrationSyN[s]`` 1.76 /
0.99 / 0.91 mm (Dice .87 / .87 / .89, 98 s); ``acquired``: ours 1.83 / 0.68 / 0.51 mm (Dice .86 /
.92 / .95, 14 s), ANTs ``SyN`` 3.92 / 6.51 / 6.64 mm (Dice .68 / .43 / .40, 3 s), ``SyNRA`` 4.03 /
6.75 / 6.37 mm,
``antsRegistrationSyN[s]`` 3.54 / 2.59 / 1.86 mm (Dice .76 / .74 / .78, 94 s); against its own
``r`` 4.14 / 2.05 / 1.48 mm (Dice .76 / .77 / .82; on ``brain`` 2.38 / 0.56 / 0.56).  With a 2 mm
template (``--ants-template-mm 2``, sub-09 and sub-11, acquired) ``antsRegistrationSyN[s]`` gives
2.90 / 2.04 / 1.48 mm (309 s) against ours 2.03 / 0.74 / 0.55.  On the same 3 mm template ANTs is
not closer to the truth than ours at any ROI of any of the four acquired heads, whichever ``r``; with
the 2 mm template only at sub-11's VMPFC (2.35 against 2.39 mm).

Usage::

    .venv/bin/python benchmarks/bench_registration_budget.py [--bids build/data/twin]
        [--participants sub-09,sub-11,sub-16] [--conditions brain,acquired]
        [--variants '[{"cc_sigma_mm": 18.0}]'] [--ants-python ants-venv/bin/python]
        [--ants-types SyN,antsRegistrationSyN[s]]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from unittest import mock

import nibabel as nib
import numpy as np
import pandas as pd
import yaml
from bench_registration_bias import bias_summary, roi_shifts  # benchmarks/ is on the path
from nibabel.affines import apply_affine

from helpers.atlas import load_template, roi_masks, roi_points
from helpers.preprocess import participant as stage
from helpers.preprocess.brain import brain_mask, dilate, masked
from helpers.preprocess.inputs import find_inputs
from helpers.preprocess.normalise import (
    NORMALISE_DEFAULTS,
    T2_CONTRAST,
    template_for_contrast,
    with_csf_layer,
)
from helpers.preprocess.participant import DEFAULTS, load_structural, normalise_structural
from helpers.preprocess.resample import grid_points, mni_grid
from helpers.preprocess.spatial_accuracy import roi_scores, source_brain, template_correspondence
from helpers.simulate import anatomy, space


def head_images(config: dict) -> dict:
    """The noise-free 1 mm images of the conditions before ``acquired`` (name -> (array, affine))."""
    anat = config["anatomy"]
    contrast = anat["contrast"]
    tissue = anatomy.source_tissue(anat["source"])
    head = anat["head"]
    shape, affine = anatomy.head_grid(1.0)
    on_grid = space.tissue_on_grid(tissue, shape, affine)
    brain = sum(anat["intensity"][contrast][k] * on_grid[k] for k in ("gm", "wm", "csf"))
    return {
        "brain": (brain.astype(np.float32), affine),
        "head_no_csf": anatomy.head_image(tissue, 1.0, anat["intensity"][contrast], {**head, "csf_mm": 0.0}),
        "head": anatomy.head_image(tissue, 1.0, anat["intensity"][contrast], head),
    }


def template_with_csf(contrast: str, resolution: int, csf_mm: float) -> nib.Nifti1Image:
    """The stage's template with a CSF layer of a given thickness (the ``template_csf_mm`` check)."""
    if contrast != "T2w":
        raise ValueError(f"template_csf_mm: only for a T2w structural, not {contrast}")
    fine = template_for_contrast(contrast, NORMALISE_DEFAULTS["csf_layer_resolution"])  # as the stage
    return with_csf_layer(template_for_contrast(contrast, resolution), csf_mm, T2_CONTRAST["csf"], fine)


def scores(struct_points: np.ndarray, grid: tuple, truth, correspondence, masks: dict) -> dict:
    """Error (mm) and Dice of each ROI for an MNI → structural map given on the MNI ``grid``.

    ``struct_points`` (N, 3): the structural mm of each grid point (C order), written as the stage's
    points image and scored as the book does (:func:`roi_scores`, structural pose from the truth).
    """
    shape, affine = grid
    field = nib.Nifti1Image(struct_points.reshape(*shape, 3).astype(np.float32), affine)
    roi = roi_scores(field, np.eye(4), truth, masks, correspondence=correspondence)
    out = {f"{score}_{k}": v[score] for score in ("error_mm", "dice") for k, v in roi.items()}
    for k, v in roi_shifts(field, np.eye(4), truth, roi_points(), correspondence).items():
        out |= {f"{axis}_{k}": value for axis, value in zip(("dx", "dy", "dz"), v["shift"])}
    return out


def ants_points(python: str, template, moving, points: np.ndarray, types: list, workdir: Path):
    """ANTs's map of ``points`` (MNI mm) to structural mm for each ``type_of_transform`` (_ants_points.py).

    Returns ``(points, seconds)``: arrays (types × N × 3) and (types,), registration time only.
    """
    paths = {name: workdir / f"{name}.nii.gz" for name in ("template", "moving")}
    template.to_filename(paths["template"])
    moving.to_filename(paths["moving"])
    np.save(workdir / "points.npy", points)
    out = workdir / "ants.npz"
    env = {  # one core; ANTs leaves every transform in the temp folder: make that ``workdir``
        **os.environ,
        "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "TMPDIR": str(workdir),
    }
    script = Path(__file__).with_name("_ants_points.py")
    arguments = [paths["template"], paths["moving"], workdir / "points.npy", out, ",".join(types)]
    subprocess.run([python, str(script), *map(str, arguments)], check=True, env=env)
    with np.load(out) as result:
        return result["points"], result["seconds"]


def ants_correspondence(python: str, source: str, template, types: list, workdir: Path) -> list:
    """ANTs's own template correspondence ``r`` per type: :func:`template_correspondence`'s image
    (the source brain, noise-free, T2 contrast, on the 2 mm MNI grid) registered by ANTs instead of us.
    """
    brain = source_brain(source)
    shape, affine = brain.shape, brain.affine
    y = grid_points(shape, affine)
    points, _ = ants_points(python, template, brain, y, types, workdir)
    return [((p - y).reshape(*shape, 3).astype(np.float32), affine) for p in points]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", default="build/data/twin")
    parser.add_argument("--participants", default="sub-09,sub-11,sub-16")
    parser.add_argument("--conditions", default="brain,head_no_csf,head,acquired")
    parser.add_argument("--variants", default="[]", help="JSON list of (NORMALISE_)DEFAULTS overrides")
    parser.add_argument("--variants-on", default="acquired", help="conditions the variants run on")
    parser.add_argument("--ants-python", default=os.environ.get("ANTS_PYTHON", ""))
    parser.add_argument("--ants-types", default="SyN,SyNRA,antsRegistrationSyN[s]")
    parser.add_argument(
        "--ants-template-mm",
        type=int,
        default=DEFAULTS["template_resolution"],
        help="voxel size of ANTs's template (default: ours)",
    )
    args = parser.parse_args()
    if args.ants_python and not Path(args.ants_python).exists():
        parser.error(f"--ants-python {args.ants_python}: no such interpreter")
    root = Path(args.bids)
    conditions = args.conditions.split(",")
    config = yaml.safe_load((root / "derivatives" / "twin-truth" / "config.yaml").read_text())
    images = {k: v for k, v in head_images(config).items() if k in conditions}
    masks = roi_masks(load_template(1))
    correspondence = template_correspondence(config["anatomy"]["source"])
    grid = mni_grid(DEFAULTS["resolution"])
    mni_points = grid_points(*grid)
    ants_types = args.ants_types.split(",") if args.ants_python else []
    own = [None] * len(ants_types)  # ANTs's own correspondence: none when the source is the template
    if ants_types and correspondence is not None:
        template = template_for_contrast("T2w", args.ants_template_mm)  # as template_correspondence's
        with tempfile.TemporaryDirectory() as tmp:
            source = config["anatomy"]["source"]
            own = ants_correspondence(args.ants_python, source, template, ants_types, Path(tmp))
    rows = []

    def report(row: dict) -> None:
        rows.append(row)
        print(pd.DataFrame([row]).round(2).to_string(index=False, header=len(rows) == 1), flush=True)

    for participant in args.participants.split(","):
        inputs = find_inputs(root, participant, DEFAULTS["task"])
        acquired = load_structural(inputs)
        transform = json.loads(
            (root / "derivatives" / "twin-truth" / participant / f"{participant}_transform.json").read_text()
        )
        pose = np.asarray(transform["pose_mni_to_scanner"])

        def truth(q, pose=pose, transform=transform):
            return space.native_to_mni(q, pose, transform["warp"], transform["anat_motion"])

        scanner = apply_affine(acquired.affine, np.indices(acquired.shape).reshape(3, -1).T)
        source_points = truth(scanner)
        runs = {
            name: nib.Nifti1Image(
                space.resample_points(image, affine, source_points).reshape(acquired.shape), acquired.affine
            )
            for name, (image, affine) in images.items()
        }
        if "acquired" in conditions:
            runs["acquired"] = acquired
        settings = [("default", {})] + [(json.dumps(v), v) for v in json.loads(args.variants)]
        variant_conditions = args.variants_on.split(",")
        for condition, image in runs.items():
            if condition == "brain":  # no head to extract from: the brain is everything above noise
                brain = nib.Nifti1Image((image.get_fdata() > 0).astype(np.uint8), image.affine)
            else:
                brain = brain_mask(image, participant=participant)
            key = {"participant": participant, "condition": condition}
            for label, overrides in settings if condition in variant_conditions else settings[:1]:
                overrides = dict(overrides)
                csf_mm = overrides.pop("template_csf_mm", 0.0)
                if csf_mm:  # a given layer instead of the one measured in the structural
                    overrides["csf_layer"] = "none"
                own = {k: v for k, v in overrides.items() if k in DEFAULTS}
                inner = {k: v for k, v in overrides.items() if k not in DEFAULTS}  # normalise's own
                template = (
                    functools.partial(template_with_csf, csf_mm=csf_mm) if csf_mm else template_for_contrast
                )
                start = time.perf_counter()
                with (
                    mock.patch.dict(NORMALISE_DEFAULTS, inner),
                    mock.patch.object(stage, "template_for_contrast", template),
                ):
                    norm = normalise_structural(image, brain, inputs.contrast, {**DEFAULTS, **own})
                seconds = time.perf_counter() - start
                mapped = scores(norm.to_structural(mni_points), grid, truth, correspondence, masks)
                report(key | {"settings": label} | mapped | {"seconds": seconds})
            if not ants_types:
                continue
            # ANTs gets what our normalisation registers: the structural masked by the dilated brain mask
            moving = masked(image, dilate(brain, NORMALISE_DEFAULTS["brain_margin_mm"]))
            template = template_for_contrast(inputs.contrast, args.ants_template_mm)
            with tempfile.TemporaryDirectory() as tmp:
                points, seconds = ants_points(
                    args.ants_python, template, moving, mni_points, ants_types, Path(tmp)
                )
            for kind, struct_points, sec, own_r in zip(ants_types, points, seconds, own):
                for label, r in ((f"ants_{kind}", correspondence), (f"ants_{kind}_own_r", own_r)):
                    mapped = scores(struct_points, grid, truth, r, masks)
                    report(key | {"settings": label} | mapped | {"seconds": float(sec)})
    table = pd.DataFrame(rows)
    print("\nmean over participants:")
    print(table.groupby(["condition", "settings"], sort=False).mean(numeric_only=True).round(2).to_string())
    print("\nsigned shift across participants (mean vector, its norm, mean of the norms; mm):")
    print(bias_summary(table, ["condition", "settings"], list(masks)).round(2).to_string(index=False))


if __name__ == "__main__":
    main()
