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
import tempfile
import threading
import time
from pathlib import Path

import psutil

from helpers.simulate import simulate


class PeakMemory:
    """Samples resident memory (sum over this process and its children) and CPU time every 0.2 s.

    CPU time of worker processes is read while they live (``os.times`` misses un-reaped workers).
    """

    def __init__(self):
        self.peak = 0
        self.cpu: dict[int, float] = {}
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
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
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
    """Seconds to gzip (zlib level 1) the uncompressed bytes of every image of the dataset, and total bytes.

    One file in memory at a time; only the compression is timed.
    """
    seconds, nbytes = 0.0, 0
    for path in sorted(root.rglob("*.nii.gz")):
        data = gzip.decompress(path.read_bytes())
        start = time.perf_counter()
        gzip.compress(data, compresslevel=1, mtime=0)
        seconds += time.perf_counter() - start
        nbytes += len(data)
    return seconds, nbytes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=19)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "twin"
        with PeakMemory() as mem:
            start = time.perf_counter()
            simulate(out, participants=args.participants, seed=args.seed)
            wall = time.perf_counter() - start
            time.sleep(0.5)
        cpu = sum(mem.cpu.values())
        floor, nbytes = gzip_floor(out)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"participants           {args.participants}")
    print(f"wall time              {wall:8.1f} s   (target <= 120 s on 2 cores)")
    print(
        f"CPU time (all procs)   {cpu:8.1f} s   ({cpu / args.participants:.1f} s per participant; "
        f"uncontended 2-core estimate ~{cpu / 2:.0f} s)"
    )
    print(f"peak memory (RSS sum)  {mem.peak / 2**30:8.2f} GB  (target <= 4 GB)")
    print(
        f"dataset size           {size / 2**20:8.0f} MB  ({nbytes / 2**20:.0f} MB of uncompressed image data)"
    )
    print(
        f"gzip floor (1 core)    {floor:8.1f} s   ratio twin wall / floor = {wall / floor:.2f}, "
        f"twin CPU / floor = {cpu / floor:.2f}"
    )
    print(f"load average (1 min)   {os.getloadavg()[0]:8.1f}   (other processes slow the wall time)")


if __name__ == "__main__":
    main()
