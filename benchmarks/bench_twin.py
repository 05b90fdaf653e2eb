"""Benchmark: the full digital twin (19 participants, paper grid) — wall time, CPU time, peak memory.

Target (issue 3): <= 120 s wall on 2 cores, peak memory <= 4 GB.  The baseline measured in the same
run is the floor of any writer of these files: gzip-compressing (level 1, as written) the same
uncompressed image bytes.  Prints the ratio twin / floor.

Usage: .venv/bin/python benchmarks/bench_twin.py [--participants 19] [--seed 2018] [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import psutil

from helpers.simulate import simulate


class PeakMemory:
    """Samples the resident memory of this process and all its children every 0.2 s."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            procs = [me, *me.children(recursive=True)]
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def gzip_floor(root: Path) -> tuple[float, int]:
    """Seconds to gzip (level 1) the uncompressed bytes of every image of the dataset, and total bytes."""
    payloads = [gzip.decompress(p.read_bytes()) for p in sorted(root.rglob("*.nii.gz"))]
    start = time.perf_counter()
    for data in payloads:
        gzip.compress(data, compresslevel=1, mtime=0)
    return time.perf_counter() - start, sum(len(d) for d in payloads)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=19)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "twin"
        cpu0 = os.times()
        with PeakMemory() as mem:
            start = time.perf_counter()
            simulate(out, participants=args.participants, seed=args.seed)
            wall = time.perf_counter() - start
        cpu1 = os.times()
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system) + \
              (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
        floor, nbytes = gzip_floor(out)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"participants           {args.participants}")
    print(f"wall time              {wall:8.1f} s   (target <= 120 s on 2 cores)")
    print(f"CPU time (all procs)   {cpu:8.1f} s   ({cpu / args.participants:.1f} s per participant)")
    print(f"peak memory (RSS sum)  {mem.peak / 2**30:8.2f} GB  (target <= 4 GB)")
    print(f"self max RSS           {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:8.2f} GB")
    print(f"dataset size           {size / 2**20:8.0f} MB  ({nbytes / 2**20:.0f} MB of uncompressed image data)")
    print(f"gzip floor (1 core)    {floor:8.1f} s   ratio twin wall / floor = {wall / floor:.2f}")
    print(f"load average (1 min)   {os.getloadavg()[0]:8.1f}   (other processes slow the wall time)")


if __name__ == "__main__":
    main()
