"""The bad-input catalogue (helpers.catalogue): every entry raises the documented error type with a
message naming the file, the participant, the column/volume and the rule broken.

Each case breaks a small copy of the tiny twin in tmp_path.  Output-folder case: tests run as root,
where chmod does not stop writes, so the unwritable output folder is a path *below a regular file*
(no user can create it).
"""

from pathlib import Path

import pytest

from helpers import catalogue, params


def test_the_catalogue_is_large_and_ids_are_unique():
    ids = [case.id for case in catalogue.CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", catalogue.CASES, ids=lambda c: c.id)
def test_bad_input_gives_a_clear_error(case, tiny_twin, tmp_path):
    err = catalogue.run_case(case, tiny_twin, tmp_path)
    assert err is not None, f"{case.id}: no error raised"
    assert type(err) is case.error, f"{case.id}: {type(err).__name__}: {err}"
    message = str(err)
    for word in case.keywords:
        assert word in message, f"{case.id}: {word!r} not in message:\n{message}"
    assert catalogue.matches(case, err)


def test_roi_outside_the_brain_and_zero_variance_differ(tiny_twin, tmp_path):
    """Two different faults, two different messages (neither borrows the other's diagnosis)."""
    cases = {c.id: c for c in catalogue.CASES}
    outside = str(catalogue.run_case(cases["roi_outside_brain"], tiny_twin, tmp_path))
    flat = str(catalogue.run_case(cases["roi_zero_variance"], tiny_twin, tmp_path))
    assert "outside the brain" in outside and "zero variance" not in outside
    assert "zero variance" in flat and "outside the brain" not in flat


def test_the_untouched_copy_is_valid(tiny_twin, tmp_path):
    """The cases fail because of their one change: the same copies without it pass."""
    from helpers.bids import validate_dataset

    root, subs = catalogue.breakers._mini_dataset(tiny_twin, tmp_path, 2)
    validate_dataset(root)
    assert subs == ["sub-01", "sub-02"]


def test_catalogue_table_shows_the_real_messages(tiny_twin, tmp_path, monkeypatch):
    some = tuple(c for c in catalogue.CASES if c.id in ("scs_out_of_range", "params_wrong_type"))
    monkeypatch.setattr(catalogue, "CASES", some)
    table = catalogue.catalogue_table(tiny_twin, tmp_path)
    assert list(table["error"]) == ["ValueError", "TypeError"]
    assert table["as documented"].all()
    assert "participant sub-02, column scs_07: value 6 is outside 1–5" in table["message"][0]
    assert str(tmp_path) not in table["message"][0]


def test_catalogue_table_in_worker_processes_keeps_the_order_and_the_messages(tiny_twin, tmp_path):
    # workers find each case by id in their own CASES; rows come back in the catalogue's order
    table = catalogue.catalogue_table(tiny_twin, tmp_path, n_jobs=2)
    assert list(table["bad input"]) == [c.bad_input for c in catalogue.CASES]
    assert table["as documented"].all(), table.loc[~table["as documented"], ["bad input", "message"]]
    assert not table["message"].str.contains(str(tmp_path), regex=False).any()
    assert list(tmp_path.iterdir()) == []  # each case's copy removed


# --------------------------------------------------------------------------- the parameter schema
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_parameter_is_declared_and_its_default_valid(notebook):
    import ast

    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    defaults = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body}
    undeclared = sorted(set(defaults) - set(params.SCHEMA))
    assert not undeclared, f"{notebook.name}: declare {undeclared} in helpers.params.SCHEMA"
    params.validate_params(defaults, source=notebook.name)


@pytest.mark.parametrize("name", ["default.yml", "test.yml"])
def test_params_files_satisfy_the_schema(name):
    from helpers.runner import load_params

    params.validate_params(load_params(ROOT / "notebooks" / "params" / name), source=name)


def test_runner_checks_notebook_parameters_against_the_schema(tmp_path):
    import nbformat

    from helpers.runner import params_for

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('weighting = "hrf"\nn = 2')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    assert params_for(path, {"weighting": "none", "n": 3}) == {"weighting": "none", "n": 3}
    with pytest.raises(
        ValueError, match=r"parameters for a.ipynb: parameter 'weighting' = 'gaussian' is not allowed"
    ):
        params_for(path, {"weighting": "gaussian"})
    with pytest.raises(
        TypeError, match="parameter 'n' for a.ipynb: expected int"
    ):  # not in the schema: fallback
        params_for(path, {"n": "three"})


def test_schema_rules_read_as_stated():
    assert params.SCHEMA["n_jobs"].rule() == "int, ≥ 1 or -1"
    assert params.SCHEMA["population_rho"].rule() == "float in [-1, 1] or None"
    assert params.SCHEMA["weighting"].rule() == "one of 'hrf', 'hanning', 'none'"
    params.validate_params({"population_rho": None, "n_jobs": -1, "preproc_resolution": 3})
    with pytest.raises(TypeError, match="'seed' = True has type bool, expected int"):
        params.validate_params({"seed": True})
    with pytest.raises(ValueError, match="item_pattern.*has 0 groups"):
        params.validate_params({"item_pattern": "scs_[0-9]+"})
    table = params.schema_table()
    assert list(table.columns) == ["parameter", "type", "rule", "description"] and len(table) == len(
        params.SCHEMA
    )
