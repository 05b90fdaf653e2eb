"""The runner: parameter selection and checks, caching, failure handling."""

import shutil
from pathlib import Path

import nbformat
import pytest

from helpers import runner

ROOT = Path(__file__).resolve().parents[1]
#: A params file's data keys for the minimal project (its own dataset, not the twin).
USER = "bids_dir: data\nderivatives_dir: data\nexample_participant: sub-01\n"


def _notebook(path: Path, params_src: str, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell(params_src)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Test chapter"), p, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def project(tmp_path):
    """A minimal project: two notebooks in a toc, the second reads what the first wrote."""
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n"
        "  - file: build/notebooks/a\n  - file: build/notebooks/b\n"
    )
    shutil.copytree(ROOT / "src" / "helpers", tmp_path / "src" / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    _notebook(tmp_path / "notebooks" / "a.ipynb", "out = 'x.txt'\nn = 2",
              "open(out, 'w').write(str(n * 21))")
    _notebook(tmp_path / "notebooks" / "b.ipynb", "out = 'x.txt'",
              "v = int(open(out).read())\nassert v == 42, v")
    (tmp_path / "data" / "sub-01").mkdir(parents=True)
    return tmp_path


def test_book_order_comes_from_the_toc(project):
    assert runner.book_notebooks(project) == ["a", "b"]


def test_params_are_selected_and_type_checked(project):
    nb = project / "notebooks" / "a.ipynb"
    assert runner.params_for(nb, {"n": 3, "out": "y", "other": 1}) == {"n": 3, "out": "y"}
    with pytest.raises(TypeError, match="parameter 'n' for a.ipynb: expected int"):
        runner.params_for(nb, {"n": "three"})


def test_unknown_keys_are_refused(project):
    nbs = [project / "notebooks" / "a.ipynb"]
    with pytest.raises(ValueError, match="unknown key\\(s\\) nn"):
        runner.check_unknown_keys({"nn": 2}, nbs, "p.yml")


def test_execute_then_skip_when_unchanged(project, monkeypatch):
    monkeypatch.chdir(project)
    params = project / "p.yml"
    params.write_text(USER + "n: 2\n")
    assert runner.execute_all(params, project) == ["a", "b"]
    executed = nbformat.read(project / "build" / "notebooks" / "a.ipynb", as_version=4)
    tags = [c.metadata.get("tags", []) for c in executed.cells]
    assert ["injected-parameters", "hide-cell"] in tags and ["parameters", "remove-cell"] in tags
    assert runner.execute_all(params, project) == []          # nothing changed: nothing re-executed
    params.write_text(USER + "n: 3\n")                                # a changes, so b (downstream) reruns too
    with pytest.raises(runner.NotebookFailed, match=r"notebooks/b.ipynb failed .*AssertionError: 63"):
        runner.execute_all(params, project)
    assert (project / "build" / "failed" / "b.ipynb").is_file()
    assert not (project / "build" / "notebooks" / "b.ipynb").exists()   # not put into the book


def test_only_dependent_chapters_rerun(project, monkeypatch):
    """c declares that it reads only a's outputs: editing b re-executes b, not c."""
    monkeypatch.chdir(project)
    with open(project / "_toc.yml", "a") as fh:
        fh.write("  - file: build/notebooks/c\n")
    c = _notebook(project / "notebooks" / "c.ipynb", "out = 'x.txt'", "assert open(out).read() == '42'")
    nb = nbformat.read(c, as_version=4)
    nb.metadata["helpers"] = {"depends_on": ["a"]}
    nbformat.write(nb, c)
    params = project / "p.yml"
    params.write_text(USER + "n: 2\n")
    assert runner.execute_all(params, project) == ["a", "b", "c"]
    b = nbformat.read(project / "notebooks" / "b.ipynb", as_version=4)
    b.cells.append(nbformat.v4.new_markdown_cell("An edit to b's prose."))
    nbformat.write(b, project / "notebooks" / "b.ipynb")
    assert runner.execute_all(params, project) == ["b"]
    params.write_text(USER + "n: 3\n")                     # a changes: c (declared on a) must re-execute and fail
    with pytest.raises(runner.NotebookFailed, match="notebooks/b.ipynb"):
        runner.execute_all(params, project)
    assert runner._upstream("c", ["zz"], {"a": "1"}, ["a", "c"]) == []   # outside this book: ignored
    with pytest.raises(ValueError, match="depends on c, which _toc.yml lists after it"):
        runner._upstream("a", ["c"], {}, ["a", "c"])


def test_bad_params_file(tmp_path):
    f = tmp_path / "p.yml"
    f.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        runner.load_params(f)
    with pytest.raises(ValueError, match="does not exist"):
        runner.load_params(tmp_path / "nope.yml")
