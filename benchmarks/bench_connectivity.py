"""Benchmark: the whole connectivity stage against the floor of reading its images.

Times, in one run on the 19-participant twin:

* floor — decompress and read every image the stage reads (preprocessed BOLD, WM and
  CSF probability maps) with nibabel, nothing else;
* stage — :func:`helpers.firstlevel.run_connectivity` (default measure, n_jobs=1):
  file lookup, atlas resampling, one read per BOLD, CompCor, denoising, weights,
  correlations, contrasts and the atomic write of connectivity.tsv;
* nilearn — ``NiftiLabelsMasker`` extracting only the three ROI means.

Prints stage/floor (target ≤ 1.2) and nilearn/floor, plus the correlation between
recovered and planted per-participant coupling (target r ≥ 0.8 for Negative).

Usage: ``python benchmarks/bench_connectivity.py [--twin build/data/twin] [--repeats 2]``
(generates the twin with ``python -m helpers.simulate`` if it is missing).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _baselines import nilearn_labels_masker  # noqa: E402


def ensure_twin(path: Path, participants: int, seed: int) -> None:
    if not (path / "participants.tsv").is_file():
        print(f"generating the twin in {path} …", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "helpers.simulate",
                "--out",
                str(path),
                "--participants",
                str(participants),
                "--seed",
                str(seed),
            ],
            check=True,
        )


def read_floor(files, scaled: bool = True) -> float:
    """Seconds to decompress and read every BOLD/WM/CSF image (``scaled``: nibabel's usual
    read, NIfTI slope/intercept applied; else the stored integers only)."""
    start = time.perf_counter()
    for f in files:
        for path in (f.bold, f.wm, f.csf):
            proxy = nib.load(path).dataobj
            np.asanyarray(proxy) if scaled else proxy.get_unscaled()
    return time.perf_counter() - start


def nilearn_masker(files) -> float:
    masker = nilearn_labels_masker(files[0].bold)
    start = time.perf_counter()
    for f in files:
        masker.fit_transform(str(f.bold))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twin", type=Path, default=Path("build/data/twin"))
    parser.add_argument("--participants", type=int, default=19)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from helpers import firstlevel

    ensure_twin(args.twin, args.participants, args.seed)
    derivatives = args.twin / "derivatives" / "twin-fmriprep"
    ids = firstlevel.list_participants(args.twin, derivatives)
    files = [firstlevel.find_participant_files(args.twin, derivatives, p) for p in ids]
    read_floor(files)  # warm the OS file cache so every contender reads from memory

    floors, raws, stages = [], [], []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeats):
            floors.append(read_floor(files))
            raws.append(read_floor(files, scaled=False))
            firstlevel._ROI_CACHE.clear()  # the stage pays its atlas resampling every time
            start = time.perf_counter()
            result, excluded = firstlevel.run_connectivity(args.twin, derivatives, out, progress=False)
            stages.append(time.perf_counter() - start)
    masker = nilearn_masker(files)
    floor, raw, stage = min(floors), min(raws), min(stages)
    print(f"participants: {len(ids)} (excluded: {len(excluded)})")
    print(f"floor: nibabel read of BOLD + WM + CSF      {floor:7.2f} s")
    print(f"floor: decompression only (unscaled ints)   {raw:7.2f} s")
    print(
        f"connectivity stage (incl. atlas resampling) {stage:7.2f} s   "
        f"ratio {stage / floor:.2f} to the read floor (target <= 1.2), {stage / raw:.2f} to decompression"
    )
    print(
        f"nilearn NiftiLabelsMasker (3 ROI means)     {masker:7.2f} s   "
        f"ratio {masker / floor:.2f} to the read floor"
    )

    truth_path = args.twin / "derivatives" / "twin-truth" / "coupling.tsv"
    if truth_path.is_file():
        truth = pd.read_csv(truth_path, sep="\t")
        joined = firstlevel.planted_vs_recovered(result, truth)
        for cond, part in joined.groupby("condition", sort=False):
            rs = {t: np.corrcoef(p["z_planted"], p["z_recovered"])[0, 1] for t, p in part.groupby("target")}
            pooled = np.corrcoef(part["z_planted"], part["z_recovered"])[0, 1]
            detail = ", ".join(f"{t} {r:.3f}" for t, r in rs.items())
            print(f"planted vs recovered z, {cond:16s}: pooled r = {pooled:.3f} ({detail})")
    else:
        print(f"no ground truth at {truth_path}; planted-vs-recovered skipped")


if __name__ == "__main__":
    main()
