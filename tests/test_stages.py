"""The stage skeleton (helpers.participant_stage): plan → stored or computed → stored → exclusions.

One test per store kind (the pickle cache, the provenance folder) with a compute that fails for one
participant: under "skip" the exclusion is recorded and the others are stored; a re-run computes only
what is missing (the calls are counted); under "stop" a ParticipantError names the participant.
"""

import json

import pandas as pd
import pytest

from helpers.cache import Cache, make_key
from helpers.execution import ParticipantError
from helpers.io import atomic_path, write_json
from helpers.participant_stage import ProvenanceStore, Task, run_stage

PARTICIPANTS = ["sub-01", "sub-02", "sub-03"]


class Counting:
    """A compute that records its calls and raises for the participants in ``broken``."""

    def __init__(self, broken=()):
        self.calls, self.broken = [], set(broken)

    def __call__(self, work, scale=10):
        self.calls.append(work)
        if work in self.broken:
            raise ValueError(f"{work}: no BOLD run")
        return int(work[-2:]) * scale


def _plan(version=1):
    return lambda p: Task(p, p, make_key(p, {"version": version}))


def test_cache_store_skip_records_then_resumes_only_what_is_missing(tmp_path):
    cache = Cache("demo", tmp_path)
    compute = Counting(broken={"sub-02"})
    run = run_stage("demo", PARTICIPANTS, _plan(), compute, cache, on_error="skip", progress=False)
    assert compute.calls == PARTICIPANTS
    assert run.results == {"sub-01": 10, "sub-03": 30} and run.computed == PARTICIPANTS
    table = run.exclusions()
    assert table.values.tolist() == [["sub-02", "demo", "ValueError: sub-02: no BOLD run"]]

    compute = Counting(broken={"sub-02"})  # a failure is not stored: the next run tries it again
    again = run_stage("demo", PARTICIPANTS, _plan(), compute, cache, on_error="skip", progress=False)
    assert compute.calls == ["sub-02"] and again.results == run.results and again.excluded == run.excluded

    cache.path(make_key("sub-03", {"version": 1})).unlink()  # a lost entry: only it (and sub-02) run
    compute = Counting()  # sub-02's cause went away (memory, a file still being copied)
    again = run_stage("demo", PARTICIPANTS, _plan(), compute, cache, on_error="skip", progress=False)
    assert compute.calls == ["sub-02", "sub-03"] and again.results == {
        "sub-01": 10,
        "sub-02": 20,
        "sub-03": 30,
    }
    assert again.exclusions().empty

    compute = Counting()
    fresh = run_stage("demo", PARTICIPANTS, _plan(version=2), compute, cache, progress=False)
    assert compute.calls == PARTICIPANTS and fresh.results == {"sub-01": 10, "sub-02": 20, "sub-03": 30}


def test_cache_store_stop_names_the_participant_and_keeps_the_finished_ones(tmp_path):
    cache = Cache("demo", tmp_path)
    compute = Counting(broken={"sub-02"})
    with pytest.raises(
        ParticipantError, match=r"^participant sub-02: ValueError: sub-02: no BOLD run \(hint\)$"
    ):
        run_stage("demo", PARTICIPANTS, _plan(), compute, cache, hint="hint", progress=False)
    assert compute.calls == ["sub-01", "sub-02"]  # serial: stopped at the failure
    compute = Counting()
    run = run_stage("demo", PARTICIPANTS, _plan(), compute, cache, progress=False)
    assert compute.calls == ["sub-02", "sub-03"]  # sub-01 was stored before the stop (resume)
    assert run.results == {"sub-01": 10, "sub-02": 20, "sub-03": 30} and run.exclusions().empty


def test_a_failure_of_a_skip_run_is_tried_again_by_a_stop_run(tmp_path):
    cache = Cache("demo", tmp_path)
    run_stage(
        "demo", PARTICIPANTS, _plan(), Counting(broken={"sub-03"}), cache, on_error="skip", progress=False
    )
    compute = Counting(broken={"sub-03"})
    with pytest.raises(ParticipantError, match="participant sub-03: ValueError: sub-03: no BOLD run"):
        run_stage("demo", ["sub-04", "sub-03"], _plan(), compute, cache, progress=False)
    assert compute.calls == ["sub-04", "sub-03"]  # sub-04 is new; sub-03 is tried, not read back


def test_a_failing_plan_is_an_exclusion_or_a_stop():
    def plan(p):
        if p == "sub-03":
            raise FileNotFoundError(f"{p}: no confounds file")
        return Task(p, p)

    run = run_stage("demo", PARTICIPANTS, plan, Counting(), on_error="skip", progress=False)
    assert run.excluded == {"sub-03": "FileNotFoundError: sub-03: no confounds file"}
    assert list(run.results) == ["sub-01", "sub-02"] and set(run.tasks) == {"sub-01", "sub-02"}
    with pytest.raises(ParticipantError, match=r"participant sub-03: FileNotFoundError: .* \(try skip\)"):
        run_stage("demo", PARTICIPANTS, plan, Counting(), hint="try skip", progress=False)
    with pytest.raises(ValueError, match="on_error must be one of"):
        run_stage("demo", PARTICIPANTS, plan, Counting(), on_error="ignore")


def _parts(work, missing, calls):
    calls.append((work, missing))
    if work == "sub-02" and "b" in missing:
        raise RuntimeError("part b cannot be computed")
    return {part: f"{work}/{part}" for part in missing}


def test_parted_results_compute_only_the_missing_parts(tmp_path):
    cache = Cache("parts", tmp_path)
    calls = []

    def plan(parts):
        return lambda p: Task(p, p, {part: make_key(p, part) for part in parts})

    first = run_stage(
        "parts", PARTICIPANTS, plan("a"), _parts, cache, progress=False, shared={"calls": calls}
    )
    assert calls == [(p, ("a",)) for p in PARTICIPANTS]
    assert first.results["sub-02"] == {"a": "sub-02/a"}
    calls.clear()
    both = run_stage(
        "parts",
        PARTICIPANTS,
        plan("ab"),
        _parts,
        cache,
        on_error="skip",
        progress=False,
        shared={"calls": calls},
    )
    assert calls == [(p, ("b",)) for p in PARTICIPANTS]  # "a" came from the store
    assert both.results == {p: {"a": f"{p}/a", "b": f"{p}/b"} for p in ("sub-01", "sub-03")}
    assert both.excluded == {"sub-02": "RuntimeError: part b cannot be computed"}
    assert cache.get(make_key("sub-02", "b"))[0] is False  # failures are not stored


# --- the provenance-folder store (preprocessing) ------------------------------------------------------


def _write_folder(work, out, broken=(), calls=None):
    """A participant's folder: two outputs and a provenance record, renamed into place when complete."""
    participant, params = work
    calls.append(participant)
    with atomic_path(out / participant) as tmp:
        (tmp / "anat").mkdir(parents=True)
        (tmp / "anat" / "brain.txt").write_text(f"{participant} {params}\n")
        if participant in broken:
            raise OSError(f"{participant}: disk full")
        (tmp / "bold.txt").write_text("data\n")
        write_json({"parameters": params, "outputs": ["anat/brain.txt", "bold.txt"]}, tmp / "provenance.json")
    return {"participant": participant}


def _folder_stage(out, params, compute_kwargs, on_error="skip"):
    store = ProvenanceStore(
        lambda p: out / p / "provenance.json", lambda record: make_key(record["parameters"])
    )
    return run_stage(
        "folders",
        PARTICIPANTS,
        lambda p: Task(p, (p, params), make_key(params)),
        _write_folder,
        store,
        on_error=on_error,
        progress=False,
        shared=dict(out=out, **compute_kwargs),
    )


def test_provenance_store_skip_leaves_no_folder_and_the_rerun_does_only_it(tmp_path):
    calls = []
    run = _folder_stage(tmp_path, {"fwhm": 8}, dict(broken={"sub-02"}, calls=calls))
    assert calls == PARTICIPANTS and list(run.results) == ["sub-01", "sub-03"]
    assert run.exclusions().values.tolist() == [["sub-02", "folders", "OSError: sub-02: disk full"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub-01", "sub-03"]  # nothing partial

    calls.clear()
    again = _folder_stage(tmp_path, {"fwhm": 8}, dict(calls=calls))
    assert calls == ["sub-02"]  # a failure leaves no folder: it is tried again, the others are complete
    assert again.computed == ["sub-02"] and again.results["sub-01"]["outputs"] == [
        "anat/brain.txt",
        "bold.txt",
    ]

    (tmp_path / "sub-03" / "bold.txt").unlink()  # an incomplete folder is not a result
    record = json.loads((tmp_path / "sub-01" / "provenance.json").read_text())
    calls.clear()
    _folder_stage(tmp_path, {"fwhm": 8}, dict(calls=calls))
    assert calls == ["sub-03"]
    assert json.loads((tmp_path / "sub-01" / "provenance.json").read_text()) == record

    calls.clear()
    _folder_stage(tmp_path, {"fwhm": 6}, dict(calls=calls))  # other parameters: every folder is stale
    assert calls == PARTICIPANTS


def test_provenance_store_stop_names_the_participant(tmp_path):
    calls = []
    with pytest.raises(ParticipantError, match=r"^participant sub-02: OSError: sub-02: disk full$"):
        _folder_stage(tmp_path, {"fwhm": 8}, dict(broken={"sub-02"}, calls=calls), on_error="stop")
    assert calls == ["sub-01", "sub-02"] and [p.name for p in tmp_path.iterdir()] == ["sub-01"]


def test_no_store_computes_everything_in_order_on_every_backend():
    run = run_stage(
        "demo", PARTICIPANTS[::-1], _plan(), Counting(), backend="processes", n_jobs=2, progress=False
    )
    assert list(run.results.items()) == [("sub-03", 30), ("sub-02", 20), ("sub-01", 10)]
    assert isinstance(run.exclusions(), pd.DataFrame) and run.exclusions().empty
