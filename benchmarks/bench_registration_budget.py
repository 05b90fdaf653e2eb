"""Benchmark: where the normalisation's ROI error comes from, on the realistic twin (issue 15).

For each participant the structural → MNI normalisation (the stage's own settings,
:func:`helpers.preprocess.participant.normalise_structural`) is run on four images of the same head,
on the participant's own structural grid, pose and warp, each adding one thing to the one before:

* ``brain``: the source brain alone (T2 contrast from its tissue maps), no head, no noise;
* ``head_no_csf``: in the head (skull, scalp, eyes, neck) but with no CSF outside the brain;
* ``head``: the twin's head as configured (``anatomy.head.csf_mm`` of CSF around the brain);
* ``acquired``: the participant's structural as written (bias field and Rician noise added).

Each is scored by the mean error (mm) over each atlas ROI's 1 mm voxels against the truth and the
template correspondence (:mod:`helpers.preprocess.spatial_accuracy`), coregistration left out
(the structural's true pose is used).  ``--variants`` adds runs of the acquired image with other
normalisation settings (keys of :data:`helpers.preprocess.participant.DEFAULTS`).

Usage::

    .venv/bin/python benchmarks/bench_registration_budget.py [--bids build/data/twin]
        [--participants sub-09,sub-11,sub-16] [--variants '[{"cc_sigma_mm": 18.0}]']
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import yaml
from nibabel.affines import apply_affine

from helpers.atlas import load_template, roi_masks
from helpers.preprocess.brain import brain_mask
from helpers.preprocess.inputs import find_inputs
from helpers.preprocess.participant import DEFAULTS, load_structural, normalise_structural
from helpers.preprocess.spatial_accuracy import correspondence_at, template_correspondence
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


def roi_errors(norm, truth, correspondence, rois: dict) -> dict:
    """Mean |T(N(y)) − y − r(y)| (mm) over each ROI's voxels ``y``."""
    out = {}
    for name, y in rois.items():
        p = truth(norm.to_structural(y)) - correspondence_at(correspondence, y)
        out[name] = float(np.linalg.norm(p - y, axis=1).mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", default="build/data/twin")
    parser.add_argument("--participants", default="sub-09,sub-11,sub-16")
    parser.add_argument("--variants", default="[]", help="JSON list of DEFAULTS overrides")
    args = parser.parse_args()
    root = Path(args.bids)
    config = yaml.safe_load((root / "derivatives" / "twin-truth" / "config.yaml").read_text())
    images = head_images(config)
    rois = {
        name: apply_affine(m.affine, np.argwhere(np.asarray(m.dataobj, bool)))
        for name, m in roi_masks(load_template(1)).items()
    }
    correspondence = template_correspondence(config["anatomy"]["source"])
    rows = []
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
        runs["acquired"] = acquired
        settings = [("default", {})] + [(json.dumps(v), v) for v in json.loads(args.variants)]
        for condition, image in runs.items():
            for label, overrides in settings if condition == "acquired" else settings[:1]:
                if condition == "brain":  # no head to extract from: the brain is everything above noise
                    brain = nib.Nifti1Image((image.get_fdata() > 0).astype(np.uint8), image.affine)
                else:
                    brain = brain_mask(image, participant=participant)
                start = time.perf_counter()
                norm = normalise_structural(image, brain, inputs.contrast, {**DEFAULTS, **overrides})
                seconds = time.perf_counter() - start
                errors = roi_errors(norm, truth, correspondence, rois)
                rows.append(
                    {"participant": participant, "condition": condition, "settings": label}
                    | {f"error_mm_{k}": v for k, v in errors.items()}
                    | {"seconds": seconds}
                )
                line = pd.DataFrame(rows[-1:]).round(2).to_string(index=False, header=len(rows) == 1)
                print(line, flush=True)
    table = pd.DataFrame(rows)
    print("\nmean over participants:")
    print(table.groupby(["condition", "settings"], sort=False).mean(numeric_only=True).round(2).to_string())


if __name__ == "__main__":
    main()
