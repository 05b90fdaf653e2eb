"""Benchmark: how the per-participant stages scale with participants and workers.

One command, two datasets:

* the 19-participant twin (``--twin``, default ``build/data/twin`` if complete, else generated);
* a larger twin of ``--large`` participants (default 60) generated on the fly at reduced cost
  (``--large-volumes`` volumes and 5 words per condition instead of 166 and 15; same 3 mm grid,
  so the cost per volume is the paper's).

For each dataset it measures, in the same run, wall time and peak memory (resident memory summed
over this process and its children, and the largest single process) of:

* ``floor``        decompress + read every image the stage reads (BOLD, WM, CSF) with nibabel;
* ``nilearn``      ``NiftiLabelsMasker`` (3 ROI means) + ``ConnectivityMeasure`` (correlation),
                   no denoising — the usual nilearn extraction;
* ``serial``       :func:`helpers.firstlevel.run_connectivity`, one process;
* ``processes x2`` the same with 2 local processes (joblib/loky);
* ``dask x2``      the same on a 2-worker ``LocalCluster`` (started and warmed beforehand; the
                   start-up time is printed separately);
* ``cached``       a re-run whose inputs, parameters and code are unchanged (cache hits only);
* ``simulate``     generating the larger twin (when it is not already on disk).

Then the growth with N: the serial stage on 1/4, 1/2 and all of the larger twin (seconds per
participant should stay constant), and the speed-up from 1 to 2 workers.  Ratios are to the
``floor`` of the same dataset.

Usage::

    .venv/bin/python benchmarks/bench_scale.py [--large 60] [--large-volumes 60] [--work /tmp/bench_scale]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import psutil

from helpers import firstlevel
from helpers.simulate import simulate

sys.path.insert(0, str(Path(__file__).parent))
from _baselines import nilearn_labels_masker  # noqa: E402


class Meter:
    """Wall time and peak resident memory (sum over the process tree, and largest process)."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak_sum = self.peak_one = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            rss = []
            for p in [me, *me.children(recursive=True)]:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.Error:
                    pass
            self.peak_sum, self.peak_one = max(self.peak_sum, sum(rss)), max(self.peak_one, max(rss))
            time.sleep(self.interval)

    def __enter__(self):
        gc.collect()
        self._thread.start()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self._stop.set()
        self._thread.join()


def twin_is_complete(path: Path, n: int | None = None) -> bool:
    table = path / "participants.tsv"
    if not table.is_file() or not (path / "derivatives" / "twin-truth" / "coupling.tsv").is_file():
        return False
    return n is None or len(table.read_text().strip().splitlines()) - 1 == n


def read_floor(files) -> None:
    """Decompress and read every image the connectivity stage reads."""
    for f in files:
        for path in (f.bold, f.wm, f.csf):
            np.asanyarray(nib.load(path).dataobj)


def nilearn_extraction(files) -> None:
    """nilearn's usual route: labels masker (ROI means) then a correlation matrix per participant."""
    from nilearn.connectome import ConnectivityMeasure

    masker = nilearn_labels_masker(files[0].bold)
    series = [masker.fit_transform(str(f.bold)) for f in files]
    ConnectivityMeasure(kind="correlation").fit_transform(series)


def stage_run(twin: Path, out: Path, **kwargs) -> None:
    firstlevel._ROI_CACHE.clear()  # every run pays its atlas resampling
    firstlevel.run_connectivity(twin, twin / "derivatives" / "twin-fmriprep", out, progress=False, **kwargs)


def warm_cluster(n_workers: int):
    """A started LocalCluster whose workers have imported the first level (start-up timed)."""
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster)
    client.run(lambda: __import__("helpers.firstlevel"))
    return cluster, client, time.perf_counter() - start


def measure_dataset(name: str, twin: Path, work: Path, client, rows: list) -> dict:
    deriv = twin / "derivatives" / "twin-fmriprep"
    ids = firstlevel.list_participants(twin, deriv)
    files = [firstlevel.find_participant_files(twin, deriv, p) for p in ids]
    read_floor(files)  # warm the OS file cache: every contender reads from memory
    out = work / f"out-{name}"
    cache_dir = work / f"cache-{name}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    runs = {
        "floor (nibabel read)": lambda: read_floor(files),
        "nilearn masker + correlation": lambda: nilearn_extraction(files),
        "serial": lambda: stage_run(twin, out, backend="serial"),
        "processes x2": lambda: stage_run(twin, out, backend="processes", n_jobs=2),
        "dask x2 (LocalCluster)": lambda: stage_run(twin, out, backend="dask", scheduler=client),
    }
    times = {}
    for label, run in runs.items():
        with Meter() as m:
            run()
        times[label] = m.seconds
        rows.append((name, len(ids), label, m.seconds, m.peak_sum, m.peak_one))
    stage_run(twin, out, backend="serial", cache=True, cache_dir=cache_dir)  # fill the cache
    with Meter() as m:
        stage_run(twin, out, backend="serial", cache=True, cache_dir=cache_dir)
    times["cached re-run"] = m.seconds
    rows.append((name, len(ids), "cached re-run", m.seconds, m.peak_sum, m.peak_one))
    return {"ids": ids, "times": times}


def growth(twin: Path, ids: list[str], work: Path) -> list[tuple[int, float]]:
    """Serial stage on the first N/4, N/2 and N participants."""
    out = []
    for n in (len(ids) // 4, len(ids) // 2, len(ids)):
        with Meter() as m:
            stage_run(twin, work / "out-growth", backend="serial", participants=ids[:n])
        out.append((n, m.seconds))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twin", type=Path, default=Path("build/data/twin"), help="the paper-sized twin")
    parser.add_argument("--participants", type=int, default=19, help="participants of the paper-sized twin")
    parser.add_argument("--large", type=int, default=60, help="participants of the larger twin")
    parser.add_argument("--large-volumes", type=int, default=60, help="volumes per run of the larger twin")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench_scale",
        help="where the larger twin and outputs go (the twin is reused if present)",
    )
    parser.add_argument("--seed", type=int, default=2018)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.environ["PYTHONWARNINGS"] = "ignore"  # worker processes too
    logging.disable(logging.ERROR)  # also the cluster's shutdown chatter
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list = []

    n = args.participants
    twin19 = args.twin if twin_is_complete(args.twin, n) else args.work / f"twin{n}"
    if not twin_is_complete(twin19, n):
        with Meter() as m:
            simulate(twin19, participants=n, seed=args.seed)
        rows.append((f"twin{n}", n, "simulate", m.seconds, m.peak_sum, m.peak_one))
    large = args.work / f"twin{args.large}-v{args.large_volumes}"
    if not twin_is_complete(large, args.large):
        shutil.rmtree(large, ignore_errors=True)
        config = {"timing": {"n_volumes": args.large_volumes}, "events": {"per_condition": 5}}
        with Meter() as m:
            simulate(large, participants=args.large, seed=args.seed, config=config)
        rows.append((large.name, args.large, "simulate", m.seconds, m.peak_sum, m.peak_one))
    else:
        print(f"(reusing the larger twin at {large}; delete it to time its simulation)")

    with Meter() as m:  # start the local worker processes and import the first level in them
        stage_run(
            twin19,
            args.work / "out-warm",
            backend="processes",
            n_jobs=2,
            participants=firstlevel.list_participants(twin19, twin19 / "derivatives" / "twin-fmriprep")[:2],
        )
    loky_startup = m.seconds
    cluster, client, startup = warm_cluster(2)
    try:
        results = {
            name: measure_dataset(name, path, args.work, client, rows)
            for name, path in ((f"twin{n}", twin19), (large.name, large))
        }
    finally:
        client.close()
        cluster.close()
    grow = growth(large, results[large.name]["ids"], args.work)

    print(
        f"\n{'dataset':<14}{'N':>4}  {'stage':<30}{'wall s':>8}{'s/part.':>9}{'/floor':>8}"
        f"{'peak GB':>9}{'max proc GB':>12}"
    )
    for name, n, label, seconds, peak_sum, peak_one in rows:
        floor = results.get(name, {}).get("times", {}).get("floor (nibabel read)")
        ratio = f"{seconds / floor:8.2f}" if floor and label != "simulate" else f"{'':8}"
        print(
            f"{name:<14}{n:>4}  {label:<30}{seconds:8.2f}{seconds / n:9.3f}{ratio}"
            f"{peak_sum / 2**30:9.2f}{peak_one / 2**30:12.2f}"
        )
    print(
        f"\nstart-up, not included above: 2 local processes {loky_startup:.1f} s (incl. 2 participants), "
        f"Dask LocalCluster of 2 workers {startup:.1f} s"
    )
    for name, res in results.items():
        t = res["times"]
        print(
            f"{name}: speed-up 1 -> 2 workers: processes {t['serial'] / t['processes x2']:.2f}x, "
            f"dask {t['serial'] / t['dask x2 (LocalCluster)']:.2f}x; "
            f"cached re-run {t['cached re-run'] / t['serial']:.3f} of the serial time"
        )
    base_n, base_t = grow[0]
    print(
        f"growth with N ({large.name}, serial): "
        + ", ".join(
            f"N={n}: {t:.1f} s ({t / n:.3f} s/part., x{t / base_t:.2f} for x{n / base_n:.0f} participants)"
            for n, t in grow
        )
    )
    slope, intercept = np.polyfit([n for n, _ in grow], [t for _, t in grow], 1)
    print(f"linear fit: {slope:.3f} s per participant + {intercept:.2f} s fixed")
    print(f"cores: {os.cpu_count()}, load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
