"""Tests for helpers.execution: every backend gives the same, ordered results; errors name the participant."""

import math
import operator
import time

import numpy as np
import pandas as pd
import pytest

from helpers import firstlevel as fl
from helpers.execution import ParticipantError, map_participants, timed

pytestmark = pytest.mark.filterwarnings("ignore:.*one-step erosion:UserWarning")


def _slow_square(x):
    time.sleep(0.05 * (4 - x))  # the first items finish last
    return x * x


@pytest.fixture(scope="module")
def dask_client():
    """A 2-worker in-process Dask cluster (threads: starts in milliseconds, no pickling of test code)."""
    import distributed  # a declared dependency: a missing install must fail, not skip

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_results_are_in_input_order(backend):
    assert map_participants(_slow_square, [0, 1, 2, 3], backend=backend, n_jobs=2, progress=False) == [
        0,
        1,
        4,
        9,
    ]


def test_dask_cluster_keeps_input_order(dask_client, tmp_path):
    assert map_participants(
        _slow_square, [0, 1, 2, 3], backend="dask", scheduler=dask_client, progress=False
    ) == [0, 1, 4, 9]
    # a scheduler given by its address, or by a scheduler file (as written for a SLURM cluster)
    assert map_participants(
        operator.neg, [3, 1], backend="dask", scheduler=dask_client.scheduler.address, progress=False
    ) == [-3, -1]
    dask_client.write_scheduler_file(str(tmp_path / "scheduler.json"))
    assert map_participants(
        operator.neg, [2], backend="dask", scheduler=str(tmp_path / "scheduler.json"), progress=False
    ) == [-2]


def _scaled(x, factor, offset):
    return x * factor + offset


@pytest.mark.parametrize("backend", ["serial", "processes", "dask"])
def test_shared_arguments_reach_every_call(backend, dask_client):
    scheduler = dask_client if backend == "dask" else ""
    out = map_participants(
        _scaled,
        [1, 2, 3],
        backend=backend,
        n_jobs=2,
        scheduler=scheduler,
        progress=False,
        shared={"factor": np.full(300_000, 2.0), "offset": 1},
    )  # a large array: memmapped/scattered
    assert [o[0] for o in out] == [3.0, 5.0, 7.0]


def test_default_local_cluster_uses_worker_processes():
    assert map_participants(operator.neg, [1, 2, 3], backend="dask", n_jobs=2, progress=False) == [-1, -2, -3]


@pytest.mark.parametrize("backend", ["serial", "processes"])
def test_errors_name_the_participant(backend):
    with pytest.raises(ParticipantError, match=r"participant sub-02: ValueError: math domain error") as info:
        map_participants(
            math.sqrt,
            [4.0, -1.0, 9.0],
            ids=["sub-01", "sub-02", "sub-03"],
            backend=backend,
            n_jobs=2,
            progress=False,
        )
    assert info.value.participant == "sub-02"


def test_dask_errors_name_the_participant(dask_client):
    with pytest.raises(ParticipantError, match="participant sub-b: ValueError"):
        map_participants(
            math.sqrt,
            [1.0, -1.0],
            ids=["sub-a", "sub-b"],
            backend="dask",
            scheduler=dask_client,
            progress=False,
        )


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="backend must be one of"):
        map_participants(abs, [1], backend="threads")
    with pytest.raises(ValueError, match="n_jobs must be"):
        map_participants(abs, [1], backend="processes", n_jobs=0)
    with pytest.raises(ValueError, match="2 ids for 1 items"):
        map_participants(abs, [1], ids=["a", "b"])
    assert map_participants(abs, [], backend="dask") == []  # no cluster for no work


def test_timed_records_stages():
    class Recorder:
        stages = {}

        def stage(self, label, seconds):
            self.stages[label] = seconds

    seen, recorder = {}, Recorder()
    with timed(seen, "a"):
        time.sleep(0.02)
    with timed(seen, "a"):
        pass
    with timed(recorder, "b"):
        pass
    assert 0.02 <= seen["a"] < 1.0
    assert list(recorder.stages) == ["b"]


def test_connectivity_identical_serial_and_dask(tiny_twin, tmp_path, dask_client):
    deriv = tiny_twin / "derivatives" / "twin-fmriprep"
    measures = ["weighted_hrf", "beta_series", "gppi_regression"]
    # cache=False: both backends compute (the shared cache would answer the second run from the first)
    serial, _ = fl.run_connectivity(
        tiny_twin,
        deriv,
        tmp_path / "serial",
        measures=measures,
        backend="serial",
        progress=False,
        cache=False,
    )
    dask, _ = fl.run_connectivity(
        tiny_twin,
        deriv,
        tmp_path / "dask",
        measures=measures,
        backend="dask",
        scheduler=dask_client,
        progress=False,
        cache=False,
    )
    assert len(serial) == 3 * 3 * 5 * 6  # participants × measures × (3 conditions + 2 contrasts) × ROI pairs
    pd.testing.assert_frame_equal(serial, dask, check_exact=True)
    assert (tmp_path / "serial" / "connectivity.tsv").read_bytes() == (
        tmp_path / "dask" / "connectivity.tsv"
    ).read_bytes()


def _blas_threads(_item) -> set:
    from threadpoolctl import threadpool_info

    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.mark.parametrize("backend", ["serial", "dask"])
def test_participants_compute_on_one_blas_thread(backend, dask_client):
    """CI saw the serial and the threaded-Dask connectivity differ in the last bits: BLAS on 2 threads
    takes other kernels (up to 3e-12 on the tiny twin), and a per-worker limit in one worker thread
    was lifted by another. The limit is set once per call, in the calling thread."""
    import scipy.linalg  # noqa: F401  (BLAS libraries load lazily; limits apply to loaded ones)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2):  # a process that would otherwise use 2 BLAS threads
        seen = map_participants(
            _blas_threads, range(4), backend=backend, scheduler=dask_client, progress=False
        )
        assert seen == [{1}] * 4
        assert _blas_threads(None) == {2}  # restored after the call


@pytest.mark.slow  # two tiny twins (~10 s)
def test_twin_is_identical_on_dask_and_local_processes(tiny_twin, tmp_path, dask_client):
    from conftest import TINY_CONFIG, TINY_PARTICIPANTS, TINY_SEED

    from helpers.simulate import simulate

    def files(root):
        return {
            p.relative_to(root): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "config.yaml"
        }  # the config records the backend

    reference = files(tiny_twin)  # built serially (n_jobs=1)
    for output in (
        {"n_jobs": 2, "backend": "processes"},
        {"n_jobs": 2, "backend": "dask", "scheduler": dask_client.scheduler.address},
    ):
        root = simulate(
            tmp_path / output["backend"],
            participants=TINY_PARTICIPANTS,
            seed=TINY_SEED,
            config={**TINY_CONFIG, "output": output},
        )
        assert files(root) == reference
