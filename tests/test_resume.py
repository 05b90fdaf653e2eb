"""Kill-and-resume: a run killed at a random moment leaves only complete files, and re-running
completes the work without redoing what was finished.

* fast: a subprocess rewrites a large TSV and a folder of files in a loop through
  :mod:`helpers.io` (the atomic writers every stage uses); it is SIGKILLed at random moments, and
  every file under its final name must be complete (leftovers may only be hidden ``.tmp-*`` paths);
* slow: preprocessing of two tiny-twin participants is SIGKILLed at a random moment after the
  first participant is finished; its folder must be complete, the second absent or complete, and
  the re-run must skip the first;
* connectivity of the three tiny-twin participants (cache on) is SIGKILLed as soon as the first
  participant's cache entry appears; the re-run must compute only the participants without an
  entry and give tables identical to an uninterrupted run.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

WRITER = textwrap.dedent("""
    import sys, numpy as np, pandas as pd
    from pathlib import Path
    from helpers.io import atomic_path, write_tsv
    out = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    i = 0
    while True:
        i += 1
        n = 20000 + i
        table = pd.DataFrame({"k": np.arange(n), "v": rng.standard_normal(n)}).assign(last=n)
        write_tsv(table, out / "table.tsv")
        with atomic_path(out / "folder") as tmp:
            tmp.mkdir()
            for j in range(5):
                (tmp / f"part{j}.txt").write_text(f"{i}\\n" * 5000 + "end\\n")
        print(i, flush=True)
""")


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the process group this test started (the run and its workers)
    proc.wait(timeout=30)


def _visible(folder: Path) -> list[Path]:
    return [
        p
        for p in folder.rglob("*")
        if not any(part.startswith(".tmp-") for part in p.relative_to(folder).parts)
    ]


@pytest.mark.parametrize("delay", [0.35, 0.8, 1.7])
def test_killed_writer_leaves_only_complete_files(tmp_path, delay):
    proc = _start([WRITER, str(tmp_path)], tmp_path)
    assert proc.stdout.readline().strip() == "1"  # one full round written
    time.sleep(delay)
    _kill(proc)
    table = pd.read_csv(tmp_path / "table.tsv", sep="\t")
    assert len(table) == table["last"].iloc[0] and table["k"].iloc[-1] == len(table) - 1  # complete, not cut
    parts = sorted((tmp_path / "folder").iterdir())
    assert [p.name for p in parts] == [f"part{j}.txt" for j in range(5)]
    rounds = {p.read_text().splitlines()[0] for p in parts}
    assert len(rounds) == 1 and all(
        p.read_text().endswith("end\n") for p in parts
    )  # one whole folder version
    leftovers = {p.name for p in tmp_path.iterdir()} - {"table.tsv", "folder"}
    assert all(name.startswith(".tmp-") or name.startswith(".old-") for name in leftovers), leftovers


PREPROCESS = textwrap.dedent("""
    import sys
    from helpers.preprocess.pipeline import run_preprocessing
    run_preprocessing(sys.argv[1], sys.argv[2], participants=["sub-01", "sub-02"], progress=False,
                      resolution=6, template_resolution=4, syn_level_iters=[10, 5])
""")
TINY = dict(resolution=6, template_resolution=4, syn_level_iters=[10, 5])


def _check_complete(sub_dir: Path) -> None:
    """Every output of a participant's folder reads completely."""
    for path in _visible(sub_dir):
        if path.name.endswith(".nii.gz"):
            assert np.isfinite(np.asanyarray(nib.load(path).dataobj)).any(), path
        elif path.suffix == ".tsv":
            assert len(pd.read_csv(path, sep="\t")) > 0, path
        elif path.suffix == ".json":
            json.loads(path.read_text())


@pytest.mark.slow
def test_preprocessing_resumes_after_a_kill(tiny_twin, tmp_path):
    from helpers.preprocess.pipeline import DEFAULTS, is_complete, run_preprocessing

    out = tmp_path / "preproc"
    proc = _start([PREPROCESS, str(tiny_twin), str(out)], tmp_path)
    first = out / "sub-01" / "provenance.json"
    deadline = time.monotonic() + 300
    while not first.is_file():
        assert proc.poll() is None, "preprocessing ended before finishing sub-01"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(
        np.random.default_rng().uniform(0, 4)
    )  # a random moment (unseeded on purpose: any moment must do)
    _kill(proc)

    params = {**DEFAULTS, **TINY}
    assert is_complete(out, "sub-01", params)
    _check_complete(out / "sub-01")
    second_done = (out / "sub-02").exists()
    if second_done:  # a participant folder appears only when complete (renamed into place)
        assert is_complete(out, "sub-02", params)
        _check_complete(out / "sub-02")
    assert {p.name for p in out.iterdir() if not p.name.startswith(".tmp-")} <= {
        "dataset_description.json",
        "sub-01",
        "sub-02",
    }

    before = (out / "sub-01" / "provenance.json").stat().st_mtime_ns
    summary, exclusions = run_preprocessing(
        tiny_twin, out, participants=["sub-01", "sub-02"], progress=False, **TINY
    )
    assert exclusions.empty
    assert summary.set_index("participant_id")["skipped"].to_dict() == {"sub-01": True, "sub-02": second_done}
    assert (out / "sub-01" / "provenance.json").stat().st_mtime_ns == before  # not redone
    assert is_complete(out, "sub-02", params)
    _check_complete(out / "sub-02")


CONNECTIVITY = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from helpers import firstlevel as fl
    from helpers.firstlevel import stage
    root, out, cache, backend = sys.argv[1:5]
    if backend == "serial":  # hold the later participants: sub-01's entry can only appear if saved at once
        original = stage._participant_tables

        def held(files, **kw):
            if files.participant_id != "sub-01":
                time.sleep(600)
            return original(files, **kw)

        stage._participant_tables = held
    fl.run_connectivity(root, Path(root) / "derivatives" / "twin-fmriprep", out, backend=backend, n_jobs=2,
                        cache=True, cache_dir=cache, progress=False)
""")


def _entries(cache: Path) -> list[Path]:
    return sorted(p for p in _visible(cache) if p.suffix == ".pkl")


@pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")  # the tiny twin's 6-mm CSF mask
@pytest.mark.parametrize("backend", ["serial", pytest.param("processes", marks=pytest.mark.slow)])  # 7–12 s
def test_connectivity_resumes_after_a_kill(tiny_twin, tmp_path, monkeypatch, backend):
    import pickle

    from helpers import firstlevel as fl
    from helpers.firstlevel import stage

    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    cache, out = tmp_path / "cache", tmp_path / "killed"
    proc = _start([CONNECTIVITY, str(tiny_twin), str(out), str(cache), backend], tmp_path)
    deadline = time.monotonic() + 60
    while not (cache.is_dir() and _entries(cache)):
        assert proc.poll() is None, "the connectivity run ended before caching a participant"
        if time.monotonic() > deadline:
            _kill(proc)
            pytest.fail("no participant was cached while the others were still running")
        time.sleep(0.01)
    _kill(proc)

    finished = {
        pickle.loads(p.read_bytes())[1]["participant_id"].iloc[0] for p in _entries(cache)
    }  # complete entries
    assert 0 < len(finished) < 3, finished  # killed part-way (in parallel, either worker may finish first)
    if backend == "serial":
        assert finished == {"sub-01"}
    assert not (out / "connectivity.tsv").exists()  # no table before every participant is done

    calls = []
    original = stage._participant_tables
    monkeypatch.setattr(
        stage,
        "_participant_tables",
        lambda files, **kw: calls.append(files.participant_id) or original(files, **kw),
    )
    resumed, excluded = fl.run_connectivity(
        tiny_twin, deriv, tmp_path / "resumed", backend="serial", cache=True, cache_dir=cache, progress=False
    )
    assert calls == sorted({"sub-01", "sub-02", "sub-03"} - finished)  # finished participants not recomputed
    assert excluded.empty and len(_entries(cache)) == 3

    fresh, _ = fl.run_connectivity(tiny_twin, deriv, tmp_path / "fresh", backend="serial", progress=False)
    pd.testing.assert_frame_equal(resumed, fresh, check_exact=True)
    assert (tmp_path / "resumed" / "connectivity.tsv").read_bytes() == (
        tmp_path / "fresh" / "connectivity.tsv"
    ).read_bytes()
