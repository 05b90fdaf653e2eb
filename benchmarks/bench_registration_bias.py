"""Benchmark: is the ROI registration error on the realistic twin a shared bias? (issue 15)

For each participant and atlas ROI, the mean *signed* displacement ``mean_y (p(y) − y)`` over the
ROI's 1 mm voxels, with ``p(y) = T(C·N(y)) − r(y)`` as scored by
:func:`helpers.preprocess.spatial_accuracy.roi_scores` (our normalisation ``N`` and coregistration
``C`` read from the preprocessing derivatives, the twin's true map ``T``, the template
correspondence ``r``).  Across participants: the mean vector, its norm, and the mean of the
per-participant norms.  A mean vector whose norm is close to the mean norm is a shared bias (the
same direction in everyone), which per-participant random warps cannot produce; it comes from the
pipeline or from the reference ``r``.  Also printed: the mean ``r`` over the ROI (the reference's
own shift) and the mean error ``mean_y |p(y) − y|`` for comparison.

Vectors in MNI axes (mm): +x right, +y anterior, +z superior; ``+y`` means that our registration
sends the template ROI to a point of the participant's brain anterior to the true one.

Measured on the 19 participants of a cold build of the book before the template's CSF layer
(``csf_layer`` = "none"; mean vector (dx, dy, dz) mm; its norm / mean of the per-participant norms /
mean error): VMPFC (−0.31, +0.60, −0.43), 0.80 / 1.20 / 1.48; left amygdala (+0.43, +0.17, −0.31),
0.56 / 0.65 / 0.75; right amygdala (−0.27, +0.09, −0.12), 0.31 / 0.41 / 0.51.  The mean ``r`` over
the ROIs: (0.21, 0.01, 1.37), (0.76, −0.97, 0.66), (−0.15, 0.54, 0.65).  The amygdala errors are
nearly all shared; what causes the bias is told apart by ``bench_registration_budget.py`` (its
summary prints the same numbers per condition; findings in :mod:`helpers.preprocess.normalise`).

Usage::

    .venv/bin/python benchmarks/bench_registration_bias.py --bids build/data/twin
        --preproc build/data/preproc [--participants sub-01,sub-02]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from helpers.atlas import roi_points
from helpers.preprocess.pipeline import derivative_paths
from helpers.preprocess.spatial_accuracy import correspondence_at, mapped_points, template_correspondence
from helpers.simulate import space


def roi_shifts(points_field, coreg, truth, points: dict, correspondence) -> dict:
    """Per ROI: mean signed displacement (3,), mean ``r`` (3,) and mean error (mm) over its voxels
    (``points``: :func:`helpers.atlas.roi_points`)."""
    out = {}
    for name, y in points.items():
        r = correspondence_at(correspondence, y)
        p = mapped_points(points_field, coreg, truth, y) - r
        d = p - y
        out[name] = {"shift": d.mean(0), "r": r.mean(0), "error_mm": np.linalg.norm(d, axis=1).mean()}
    return out


def bias_summary(table: pd.DataFrame, keys: list, rois: list) -> pd.DataFrame:
    """Per group of ``keys`` and ROI: mean shift vector, its norm, the mean of the per-row norms.

    ``table`` has one row per participant (and group) with columns ``d{x,y,z}_<roi>`` and
    ``error_mm_<roi>``.
    """
    out = []
    for group, rows in table.groupby(keys, sort=False):
        for roi in rois:
            shifts = rows[[f"d{a}_{roi}" for a in "xyz"]].to_numpy()
            mean = shifts.mean(0)
            out.append(
                dict(zip(keys, group if isinstance(group, tuple) else (group,)))
                | {"roi": roi, "n": len(rows)}
                | dict(zip(("mean_dx", "mean_dy", "mean_dz"), mean))
                | {
                    "norm_of_mean": np.linalg.norm(mean),
                    "mean_norm": np.linalg.norm(shifts, axis=1).mean(),
                    "mean_error_mm": rows[f"error_mm_{roi}"].mean(),
                    "max_error_mm": rows[f"error_mm_{roi}"].max(),
                }
            )
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", default="build/data/twin")
    parser.add_argument("--preproc", default="build/data/preproc")
    parser.add_argument("--participants", default="", help="comma-separated; default: all")
    parser.add_argument("--task", default="feedback")
    args = parser.parse_args()
    truth_root = Path(args.bids) / "derivatives" / "twin-truth"
    participants = (
        args.participants.split(",")
        if args.participants
        else sorted(p.name for p in Path(args.preproc).glob("sub-*") if p.is_dir())
    )
    points = roi_points()
    rows = []
    for participant in participants:
        ours = derivative_paths(args.preproc, participant, args.task, 3)
        transform = json.loads((truth_root / participant / f"{participant}_transform.json").read_text())
        pose = np.asarray(transform["pose_mni_to_scanner"])

        def truth(q, pose=pose, transform=transform):
            return space.native_to_mni(q, pose, transform["warp"])

        correspondence = template_correspondence(transform.get("anatomy_source", "template"))
        shifts = roi_shifts(
            nib.load(ours["norm_xfm"]), np.loadtxt(ours["coreg_xfm"]), truth, points, correspondence
        )
        row = {"set": "derivatives", "participant": participant}
        for roi, s in shifts.items():
            row |= {f"d{a}_{roi}": v for a, v in zip("xyz", s["shift"])}
            row |= {f"r{a}_{roi}": v for a, v in zip("xyz", s["r"])}
            row |= {f"error_mm_{roi}": s["error_mm"]}
        rows.append(row)
        print(pd.DataFrame([row]).round(2).to_string(index=False, header=len(rows) == 1), flush=True)
    table = pd.DataFrame(rows)
    print("\nmean r over each ROI (mm):")
    print(table.filter(regex=r"^r[xyz]_").iloc[:1].round(2).to_string(index=False))
    print("\nacross participants:")
    print(bias_summary(table, ["set"], list(points)).round(2).to_string(index=False))


if __name__ == "__main__":
    main()
