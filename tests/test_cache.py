"""Tests for helpers.cache: stable keys, atomic entries, and re-runs that redo only what changed."""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import firstlevel as fl
from helpers.cache import Cache, code_fingerprint, file_fingerprint, make_key
from helpers.firstlevel import stage
from helpers.participant_stage import Task, run_stage

pytestmark = pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")


def test_keys_are_canonical():
    assert make_key({"a": 1, "b": (1, 2)}, Path("x/y")) == make_key({"b": [1, 2], "a": 1}, "x/y")
    assert make_key(np.float64(0.5), np.int64(3)) == make_key(0.5, 3)
    assert make_key(np.random.SeedSequence(5).spawn(3)[1]) == make_key(np.random.SeedSequence(5).spawn(2)[1])
    assert make_key(np.random.SeedSequence(5).spawn(3)[1]) != make_key(np.random.SeedSequence(5).spawn(3)[2])
    assert make_key(np.arange(3)) != make_key(np.arange(3.0))  # dtype is part of an array's key
    assert make_key({"band": (0.008, np.inf)}) != make_key({"band": (0.008, 0.09)})
    assert len(make_key(1)) == 64
    with pytest.raises(TypeError, match="cannot canonicalise a object"):
        make_key(object())


def test_file_fingerprints(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("same")
    b.write_text("same")
    assert file_fingerprint(a, content=True) == file_fingerprint(b, content=True)
    assert file_fingerprint(a) != file_fingerprint(b)  # path is part of the cheap fingerprint
    before = file_fingerprint(a)
    os.utime(a, ns=(1, 1))
    assert file_fingerprint(a) != before  # a touched file counts as changed
    with pytest.raises(FileNotFoundError, match="missing.nii"):
        file_fingerprint(tmp_path / "missing.nii")


def test_code_fingerprint_follows_the_source(tmp_path, monkeypatch):
    (tmp_path / "cachemod_probe.py").write_text("def f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import cachemod_probe

    first = code_fingerprint(cachemod_probe, packages=())
    assert code_fingerprint("cachemod_probe", packages=()) == first
    # documentation is not code: a new docstring or comment keeps the fingerprint (and the cached work)
    (tmp_path / "cachemod_probe.py").write_text(
        '"""Probe."""\n\n\ndef f():\n    """One."""\n    return 1  # one\n'
    )
    assert code_fingerprint(cachemod_probe, packages=()) == first
    (tmp_path / "cachemod_probe.py").write_text("def f():\n    return 2\n")
    assert code_fingerprint(cachemod_probe, packages=()) != first
    (tmp_path / "cachemod_probe.py").write_text('def f():\n    return "One."\n')  # a string that is a value
    assert code_fingerprint(cachemod_probe, packages=()) != first
    assert code_fingerprint(cachemod_probe, packages=("numpy",)) != code_fingerprint(
        cachemod_probe, packages=()
    )
    sys.modules.pop("cachemod_probe")


def test_stage_fingerprint_follows_the_imports_of_its_root(tmp_path, monkeypatch):
    """The modules are read from the sources (relative and function-local imports), not hand-listed."""
    from helpers.cache import imported_modules

    stage_modules = imported_modules("helpers.firstlevel.stage")
    assert stage_modules == sorted(stage_modules)
    assert {
        "helpers.firstlevel.stage",
        "helpers.firstlevel.measures",
        "helpers.firstlevel.registry",
        "helpers.firstlevel.signals",
        "helpers.firstlevel.inputs",
        "helpers.connectivity",
        "helpers.denoise",
        "helpers.atlas",
        "helpers.layout.derivatives",
    } <= set(stage_modules)
    assert "helpers.firstlevel.figures" not in stage_modules  # the stage does not draw

    pkg = tmp_path / "probepkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "root.py").write_text(
        "from . import direct\n\ndef f():\n    from .sub.deep import g\n    return g\n"
    )
    (pkg / "direct.py").write_text("import os\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("from ..leaf import x\n")
    (pkg / "leaf.py").write_text("x = 1\n")
    (pkg / "unused.py").write_text("y = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert imported_modules("probepkg.root", package="probepkg") == [
        "probepkg",
        "probepkg.direct",
        "probepkg.leaf",
        "probepkg.root",
        "probepkg.sub",
        "probepkg.sub.deep",
    ]
    first = code_fingerprint("probepkg.root", packages=(), follow_imports=True)
    (pkg / "unused.py").write_text("y = 3\n")
    assert code_fingerprint("probepkg.root", packages=(), follow_imports=True) == first
    (pkg / "leaf.py").write_text("x = 2\n")  # two imports away, inside a function
    assert code_fingerprint("probepkg.root", packages=(), follow_imports=True) != first
    for name in [m for m in sys.modules if m.startswith("probepkg")]:
        sys.modules.pop(name)


def test_cache_round_trip_is_atomic_and_tolerates_bad_entries(tmp_path, caplog):
    cache = Cache("stage", tmp_path)
    key = make_key("participant", 1)
    assert cache.get(key) == (False, None)
    frame = pd.DataFrame({"z": [0.25, -1.5]})
    cache.put(key, frame)
    hit, value = cache.get(key)
    assert hit
    pd.testing.assert_frame_equal(value, frame)
    assert (cache.hits, cache.misses) == (1, 1)
    assert [p.name for p in (tmp_path / "stage").rglob("*")] == [key[:2], f"{key}.pkl"]  # no temporary left
    cache.path(key).write_bytes(b"truncated")
    with caplog.at_level("WARNING", logger="helpers.cache"):
        assert cache.get(key) == (False, None)  # unreadable entry: a miss, not a crash
    assert "unreadable" in caplog.text
    off = Cache("stage", tmp_path, enabled=False)
    off.put(make_key("x"), 1)
    assert off.get(make_key("x")) == (False, None)


def test_memo_computes_once_then_reads_and_a_disabled_cache_always_computes(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return np.arange(3.0) * len(calls)

    store = Cache("memo", tmp_path)
    first = store.memo(make_key("a"), compute)
    again = Cache("memo", tmp_path).memo(make_key("a"), compute)  # another process: read from disk
    assert len(calls) == 1 and np.array_equal(first, again) and np.array_equal(again, [0.0, 1.0, 2.0])
    Cache("memo", tmp_path).memo(make_key("b"), compute)  # another key: computed
    off = Cache("memo", tmp_path, enabled=False)
    assert np.array_equal(off.memo(make_key("a"), compute), [0.0, 3.0, 6.0]) and len(calls) == 3


def test_stage_with_a_cache_recomputes_only_changed_keys(tmp_path):
    calls = []

    def work(x):
        calls.append(x)
        return x * 10

    cache = Cache("demo", tmp_path)
    items = [1, 2, 3]
    keys = {x: make_key("demo", x, {"scale": 10}) for x in items}

    def stage():
        run = run_stage("demo", items, lambda x: Task(str(x), x, keys[x]), work, cache, progress=False)
        return list(run.results.values())

    assert stage() == [10, 20, 30]
    assert calls == [1, 2, 3]
    calls.clear()
    assert stage() == [10, 20, 30]
    assert calls == []  # identical inputs: no work at all
    keys[2] = make_key("demo", 2, {"scale": 11})
    assert stage() == [10, 20, 30]
    assert calls == [2]  # only the item whose key changed


def test_connectivity_reruns_only_what_changed(tiny_twin, tmp_path, monkeypatch):
    """Second run: no work; a new measure: only that measure; a touched BOLD: only that participant."""
    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    calls = []
    original = stage._participant_tables

    def counting(files, **kwargs):
        calls.append((files.participant_id, tuple(kwargs["measures"])))
        return original(files, **kwargs)

    monkeypatch.setattr(stage, "_participant_tables", counting)
    run = dict(backend="serial", progress=False, cache=True, cache_dir=tmp_path / "cache")
    first, _ = fl.run_connectivity(tiny_twin, deriv, tmp_path / "a", **run)
    assert calls == [(f"sub-0{i}", ("weighted_hrf",)) for i in (1, 2, 3)]

    calls.clear()
    again, _ = fl.run_connectivity(tiny_twin, deriv, tmp_path / "b", **run)
    assert calls == []
    pd.testing.assert_frame_equal(again, first, check_exact=True)

    calls.clear()
    both, _ = fl.run_connectivity(
        tiny_twin, deriv, tmp_path / "c", measures=["weighted_hrf", "weighted_hanning"], **run
    )
    assert calls == [(f"sub-0{i}", ("weighted_hanning",)) for i in (1, 2, 3)]
    fresh, _ = fl.run_connectivity(
        tiny_twin,
        deriv,
        tmp_path / "d",
        measures=["weighted_hrf", "weighted_hanning"],
        backend="serial",
        progress=False,
    )
    pd.testing.assert_frame_equal(both, fresh, check_exact=True)  # cached + new rows = a fresh run

    calls.clear()
    bold = fl.find_participant_files(tiny_twin, deriv, "sub-02").bold
    stat = bold.stat()
    os.utime(bold, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    try:
        fl.run_connectivity(tiny_twin, deriv, tmp_path / "e", **run)
    finally:
        os.utime(bold, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the fixture is shared
    assert calls == [("sub-02", ("weighted_hrf",))]

    calls.clear()
    fl.run_connectivity(
        tiny_twin,
        deriv,
        tmp_path / "f",
        conditions=["negative", "neutral"],
        contrasts=[("negative", "neutral")],
        **run,
    )
    assert len(calls) == 3  # the conditions change every participant's design


@pytest.mark.slow  # the training grid alone takes ~6 s
def test_training_study_reuses_unchanged_participants(tmp_path, monkeypatch):
    """Adding a memory participant computes only that participant; the others come from the cache."""
    from helpers.training import design, pipeline

    calls = []
    original = pipeline.run_participant

    def counting(row, *args, **kwargs):
        calls.append(row["participant_id"])
        return original(row, *args, **kwargs)

    monkeypatch.setattr(pipeline, "run_participant", counting)
    small = {"groups": {"compassion": 2, "memory": 2}, "task": {"clips_per_type": 2}}
    run = dict(seed=3, backend="serial", cache=True, cache_dir=tmp_path)
    first = pipeline.run_study(design.load_config(small), **run)
    assert len(calls) == 4
    calls.clear()
    small["groups"]["memory"] = 3
    second = pipeline.run_study(design.load_config(small), **run)
    assert calls == [second.participants["participant_id"].iloc[-1]]
    np.testing.assert_array_equal(second.contrasts[:4], first.contrasts)
    fresh = pipeline.run_study(design.load_config(small), seed=3, backend="serial")
    np.testing.assert_array_equal(second.contrasts, fresh.contrasts)
    pd.testing.assert_frame_equal(second.ratings, fresh.ratings)
