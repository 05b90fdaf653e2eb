"""Benchmark: preprocessing of the twin — seconds per step, whole stage, peak memory, accuracy, ratio to ANTs.

Targets (issue 15): ≤ 45 s per participant on one core in total, coregistration ≤ 5 s, normalisation
≤ 20 s, peak memory ≤ 2 GB; realignment error ≤ 0.1 mm RMS, ROI time-series r ≥ 0.95 and ROI Dice ≥ 0.9
against the twin's truth (on the realistic twin: skull, bias field, a brain from another template).
The one-participant run is limited to one thread (``threadpoolctl``) so that it measures one core.

Baseline measured in the same run: ANTs with its defaults (antspyx ``motion_correction``, ``registration``
``Rigid`` for coregistration and ``SyN`` for normalisation to the same template, ``apply_transforms`` to
MNI 3 mm).  antspyx pins numpy/scipy below the project's versions, so it lives in a separate virtual
environment given by ``--ants-python`` (default: ``$ANTS_PYTHON``; make one with
``python3 -m venv ants-venv && ants-venv/bin/pip install antspyx``); without it the ratio is
skipped and the output says so.  ANTs gets the raw structural (with skull) as its defaults expect.

Measured (2026-11-27, AMD EPYC with AVX2, idle; every voxel sampled in the affine stage; trilinear
reslicing to MNI as SPM8; realignment on SPM's quality-0.9 sample points, its means resliced by
``affine_transform``): sub-01 on one core 52.5 s (realign 10.7, coregister 5.2, normalise 24.1,
resample 3.7, smooth 1.9, write 4.4), peak memory 0.88 GB; ANTs defaults 244.4 s (realign 219.8,
coregister 5.0, normalise 5.6, resample 8.3), ratio 0.215 (normalise 4.3, coregister 1.0).  The
same benchmark before the realignment change: 50.5 s (realign 11.7, normalise 23.6, write 3.5):
single runs differ by several seconds in steps the change does not touch (this machine's noise);
alternating in one process, realignment went from 14.0 to 10.6 s on sub-01.  The whole stage,
19 participants on two processes: 564 s (this benchmark); 534-567 s in three cold ``make book``
builds (480-519 s in session 16's, before the change: the same noise).  The next day, with the
realignment's spline coefficients kept for its second pass (since reverted: no measurable saving, see
:mod:`helpers.preprocess.realign`), machine idle (load average 0.9): sub-01 57.6 s (realign 13.2,
coregister 5.1, normalise 27.4, resample 3.4, smooth 1.6, write 3.9), peak memory 0.91 GB; ANTs
247.9 s, ratio 0.232; the whole stage 551.9 s.  Against the day before, realignment took 23 % and
normalisation (unchanged) 14 % longer, the other steps 2-16 % less, ANTs 1 % longer.  The day after,
with the normalisation's least-squares affine start (:mod:`helpers.preprocess.normalise`), machine idle:
sub-01 54.8 s (realign 14.2, coregister 5.3, normalise 23.2, resample 4.1, smooth 1.7, write 3.2), peak
memory 0.88 GB; ANTs 230.7 s, ratio 0.238; the whole stage 469.6 s.  The normalisation alone,
alternating the two starts in one process (one core, idle, median of three): sub-01 25.1 → 21.0 s,
sub-04 25.1 → 24.3 s (its least-squares fit took 30 steps at the finest level; affine stage 5.7 s on
sub-01, 8.4 s on sub-04, 5.9 s on sub-08).

Usage::

    .venv/bin/python benchmarks/bench_preprocess.py [--bids build/data/twin] [--participant sub-01]
        [--stage-participants 0] [--n-jobs 2] [--ants-python /tmp/antsvenv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from helpers.preprocess.inputs import find_inputs, find_participants
from helpers.preprocess.normalise import template_for_contrast
from helpers.preprocess.participant_accuracy import score_participant
from helpers.preprocess.pipeline import DEFAULTS, mni_grid, preprocess_participant, run_preprocessing

ANTS_SCRIPT = r"""
import json, sys, time
import ants
bold, struct, template, out_json = sys.argv[1:5]
seconds = {}
clock = time.perf_counter()
def lap(step):
    global clock
    now = time.perf_counter(); seconds[step] = round(now - clock, 2); clock = now
img = ants.image_read(bold); anat = ants.image_read(struct); tmpl = ants.image_read(template)
lap("load")
mc = ants.motion_correction(img)
lap("realign")
mean = ants.get_average_of_timeseries(mc["motion_corrected"])
coreg = ants.registration(fixed=anat, moving=mean, type_of_transform="Rigid")
lap("coregister")
norm = ants.registration(fixed=tmpl, moving=anat, type_of_transform="SyN")
lap("normalise")
target = ants.resample_image(tmpl, (3, 3, 3), use_voxels=False, interp_type=1)
warped = ants.apply_transforms(fixed=target, moving=mc["motion_corrected"], imagetype=3,
                               transformlist=norm["fwdtransforms"] + coreg["invtransforms"],
                               interpolator="linear")
lap("resample")
json.dump(seconds, open(out_json, "w"))
"""


def ants_baseline(python: str, inputs, workdir: Path) -> dict | None:
    """Run the ANTs-defaults pipeline in its own interpreter; seconds per step (None if unavailable)."""
    if not python or not Path(python).exists():
        return None
    template = workdir / "template.nii.gz"
    template_for_contrast(inputs.contrast, DEFAULTS["template_resolution"]).to_filename(template)
    script, out = workdir / "ants_baseline.py", workdir / "ants_seconds.json"
    script.write_text(ANTS_SCRIPT)
    start = time.perf_counter()
    bold = inputs.runs[0].bold
    env = {
        **os.environ,
        "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "TMPDIR": str(workdir),  # ANTs writes every transform to the temp folder and leaves it there
    }  # one core, as ours
    subprocess.run(
        [python, str(script), str(bold), str(inputs.structural), str(template), str(out)], check=True, env=env
    )
    seconds = json.loads(out.read_text())
    seconds["total"] = round(time.perf_counter() - start, 2)
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bids", default="build/data/twin")
    parser.add_argument("--participant", default="sub-01")
    parser.add_argument(
        "--stage-participants",
        type=int,
        default=0,
        help="also run the whole stage on the first N participants (0 = all, -1 = skip)",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--ants-python", default=os.environ.get("ANTS_PYTHON", ""))
    args = parser.parse_args(argv)
    bids = Path(args.bids)
    with tempfile.TemporaryDirectory(prefix="bench_preproc_") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        with threadpool_limits(1):
            one = preprocess_participant(bids, tmp / "one", args.participant)
        total = time.perf_counter() - start
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"one participant ({args.participant}), seconds per step:")
        for step, s in one["seconds"].items():
            print(f"  {step:<11} {s:7.1f}")
        print(f"  {'total':<11} {total:7.1f}   (targets: total ≤ 45 s, coregister ≤ 5 s, normalise ≤ 20 s)")
        print(f"peak memory (this process): {peak_gb:.2f} GB (target ≤ 2 GB)")
        print(f"load average at the end (1, 5, 15 min): {os.getloadavg()}")
        score = score_participant(bids, tmp / "one", args.participant)
        print(
            "accuracy vs twin truth:",
            json.dumps({k: round(v, 4) for k, v in score.items() if k != "participant_id"}),
        )

        ants = ants_baseline(args.ants_python, find_inputs(bids, args.participant, DEFAULTS["task"]), tmp)
        if ants is None:
            print(
                f"ANTs baseline skipped: no interpreter with antspyx at {args.ants_python} "
                "(see --ants-python)"
            )
        else:
            print("ANTs defaults, seconds per step:", ants)
            ratios = {
                k: round(one["seconds"][k] / ants[k], 3)
                for k in ("realign", "coregister", "normalise", "resample")
                if ants.get(k)
            }
            print(f"ratio ours / ANTs: total {total / ants['total']:.3f}; per step {ratios}")

        if args.stage_participants >= 0:
            subs = find_participants(bids)
            subs = subs[: args.stage_participants] if args.stage_participants else subs
            start = time.perf_counter()
            run_preprocessing(bids, tmp / "stage", participants=subs, n_jobs=args.n_jobs)
            wall = time.perf_counter() - start
            print(
                f"whole stage: {len(subs)} participants, n_jobs={args.n_jobs}: {wall:.1f} s "
                f"({wall / len(subs):.1f} s per participant)"
            )
            scores = pd.DataFrame([score_participant(bids, tmp / "stage", s) for s in subs]).set_index(
                "participant_id"
            )
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(scores.round(3).to_string())
                print("minimum over participants:\n" + scores.min().round(3).to_string())
    print(
        f"grid: MNI {mni_grid(DEFAULTS['resolution'])[0]} at {DEFAULTS['resolution']} mm; "
        f"python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
