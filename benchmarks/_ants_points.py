"""ANTs registration and point mapping, run in antspyx's interpreter by bench_registration_budget.py.

Usage::

    ants-venv/bin/python benchmarks/_ants_points.py TEMPLATE MOVING POINTS.npy OUT.npz TYPE[,TYPE...]

``MOVING`` (the brain-extracted structural) is registered to ``TEMPLATE`` (fixed) with each antspyx
``type_of_transform``; the template points (N, 3, RAS mm) are mapped to structural RAS mm through the
forward transforms.  ANTs maps points the opposite way to images (``ants.apply_transforms_to_points``):
the transforms that pull the moving image onto the template grid send a template point to the moving
image's point.  ITK's physical space is LPS, so x and y are negated on the way in and on the way out.
``OUT.npz`` holds ``points`` (types × N × 3) and ``seconds`` (registration time per type).
One thread and a fixed seed (``set_ants_deterministic``; antsRegistration reads seed 0 as "from the
clock"): the same inputs give the same numbers.
"""

import sys
import time

import ants
import numpy as np
import pandas as pd
from ants.config import set_ants_deterministic

RAS_TO_LPS = np.array([-1.0, -1.0, 1.0])


def main(template: str, moving: str, points: str, out: str, types: str) -> None:
    set_ants_deterministic(True, 1)
    fixed, structural = ants.image_read(template), ants.image_read(moving)
    lps = pd.DataFrame(np.load(points) * RAS_TO_LPS, columns=["x", "y", "z"])
    mapped, seconds = [], []
    for kind in types.split(","):
        start = time.perf_counter()
        reg = ants.registration(fixed=fixed, moving=structural, type_of_transform=kind)
        seconds.append(time.perf_counter() - start)
        moved = ants.apply_transforms_to_points(3, lps, reg["fwdtransforms"])
        mapped.append(moved[["x", "y", "z"]].to_numpy() * RAS_TO_LPS)
    np.savez(out, points=np.stack(mapped), seconds=np.array(seconds))


if __name__ == "__main__":
    main(*sys.argv[1:])
