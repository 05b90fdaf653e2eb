"""The runner: parameter selection and checks, caching, failure handling."""

import os
import shutil
import signal
from pathlib import Path

import nbformat
import pytest

from helpers import runner

ROOT = Path(__file__).resolve().parents[1]
#: A params file's data keys for the minimal project (its own dataset, not the twin).
USER = "bids_dir: study\nderivatives_dir: study\nexample_participant: sub-01\n"


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
        "format: jb-book\nroot: intro\nchapters:\n  - file: build/notebooks/a\n  - file: build/notebooks/b\n"
    )
    shutil.copytree(
        ROOT / "src" / "helpers", tmp_path / "src" / "helpers", ignore=shutil.ignore_patterns("__pycache__")
    )
    _notebook(tmp_path / "notebooks" / "a.ipynb", "out = 'x.txt'\nn = 2", "open(out, 'w').write(str(n * 21))")
    _notebook(
        tmp_path / "notebooks" / "b.ipynb", "out = 'x.txt'", "v = int(open(out).read())\nassert v == 42, v"
    )
    (tmp_path / "study" / "sub-01").mkdir(parents=True)
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
    assert ["injected-parameters", "hide-cell"] in tags and ["parameters", "hide-cell"] in tags
    assert runner.execute_all(params, project) == []  # nothing changed: nothing re-executed
    params.write_text(USER + "n: 3\n")  # a changes, so b (downstream) reruns too
    with pytest.raises(runner.NotebookFailed, match=r"notebooks/b.ipynb failed .*AssertionError: 63"):
        runner.execute_all(params, project)
    assert (project / "build" / "failed" / "b.ipynb").is_file()
    assert not (project / "build" / "notebooks" / "b.ipynb").exists()  # not put into the book


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
    params.write_text(USER + "n: 3\n")  # a changes: c (declared on a) must re-execute and fail
    with pytest.raises(runner.NotebookFailed, match="notebooks/b.ipynb"):
        runner.execute_all(params, project)
    assert runner._upstream("c", ["zz"], {"a": "1"}, ["a", "c"]) == []  # outside this book: ignored
    with pytest.raises(ValueError, match="depends on c, which _toc.yml lists after it"):
        runner._upstream("a", ["c"], {}, ["a", "c"])


@pytest.mark.parametrize("lanes", [1, 2])
def test_a_chapter_no_other_reads_runs_beside_the_others(project, monkeypatch, lanes):
    """With two lanes, c (which nothing reads) runs while a runs: a waits for c's flag to finish."""
    monkeypatch.chdir(project)
    _notebook(
        project / "notebooks" / "a.ipynb",
        "out = 'x.txt'\nn = 2\nparallel_chapters = 1",
        "import os, time\n"
        "start = time.monotonic()\n"
        "while parallel_chapters > 1 and not os.path.exists('c.flag') and time.monotonic() - start < 120:\n"
        "    time.sleep(0.1)\n"
        "assert parallel_chapters == 1 or os.path.exists('c.flag'), 'c did not run beside a'\n"
        "assert parallel_chapters > 1 or not os.path.exists('c.flag'), 'c ran before a'\n"
        "open(out, 'w').write(str(n * 21))",
    )
    with open(project / "_toc.yml", "a") as fh:
        fh.write("  - file: build/notebooks/c\n")
    c = _notebook(project / "notebooks" / "c.ipynb", "n = 2", "open('c.flag', 'w').write('c')")
    nb = nbformat.read(c, as_version=4)
    nb.metadata["helpers"] = {"depends_on": []}
    nbformat.write(nb, c)
    (project / "p.yml").write_text(USER + f"n: 2\nparallel_chapters: {lanes}\n")
    assert runner.execute_all(project / "p.yml", project) == ["a", "b", "c"]  # reported in book order
    assert (project / "c.flag").read_text() == "c"


def test_bad_params_file(tmp_path):
    f = tmp_path / "p.yml"
    f.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        runner.load_params(f)
    with pytest.raises(ValueError, match="does not exist"):
        runner.load_params(tmp_path / "nope.yml")


def test_cells_for_other_data_are_dropped_before_execution(project, monkeypatch):
    """On a user's data a twin-only cell neither runs nor appears; a user-data-only cell does both."""
    monkeypatch.chdir(project)
    nb = nbformat.read(project / "notebooks" / "a.ipynb", as_version=4)
    twin_code = nbformat.v4.new_code_cell("raise RuntimeError('twin code ran on user data')")
    twin_code.metadata["tags"] = ["twin-only"]
    twin_text = nbformat.v4.new_markdown_cell("In the twin, the motion is planted.")
    twin_text.metadata["tags"] = ["twin-only"]
    user_text = nbformat.v4.new_markdown_cell("These numbers come from your data.")
    user_text.metadata["tags"] = ["user-data-only"]
    nb.cells += [twin_code, twin_text, user_text]
    nbformat.write(nb, project / "notebooks" / "a.ipynb")
    (project / "p.yml").write_text(USER + "n: 2\n")
    assert runner.execute_all(project / "p.yml", project) == ["a", "b"]
    text = (project / "build" / "notebooks" / "a.ipynb").read_text()
    assert "your data" in text and "planted" not in text and "twin code" not in text


def test_a_glue_key_that_nothing_glued_fails_the_notebook(project, monkeypatch):
    monkeypatch.chdir(project)
    nb = nbformat.read(project / "notebooks" / "a.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell("from myst_nb import glue\nif n > 5:\n    glue('fig_motion', n)")
    )
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "Mean FD {glue:text}`fig_motion:.3f` mm; see "
            "{glue:text}`/build/notebooks/b.ipynb::other` (another page)."
        )
    )
    nbformat.write(nb, project / "notebooks" / "a.ipynb")
    (project / "p.yml").write_text(USER + "n: 2\n")
    with pytest.raises(
        runner.NotebookFailed,
        match=r"a.ipynb uses glue key\(s\) that nothing glued: 'fig_motion' "
        r"\(in the Markdown cell starting 'Mean FD",
    ):
        runner.execute_all(project / "p.yml", project)
    assert not (project / "build" / "notebooks" / "a.ipynb").exists()
    assert (project / "build" / "failed" / "a.ipynb").is_file()


def test_user_params_reach_every_chapter_explicitly(project, monkeypatch):
    """A chapter whose default is the twin's path gets the resolved path, never its default."""
    monkeypatch.chdir(project)
    _notebook(
        project / "notebooks" / "a.ipynb",
        "derivatives_dir = 'build/data/twin/derivatives/twin-fmriprep'\nn = 2",
        "open('x.txt', 'w').write(derivatives_dir)",
    )
    _notebook(project / "notebooks" / "b.ipynb", "out = 'x.txt'", "pass")
    (project / "p.yml").write_text("bids_dir: study\nexample_participant: sub-01\nn: 2\n")
    runner.execute_all(project / "p.yml", project)
    assert (
        project / "x.txt"
    ).read_text() == "build/studies/study/preproc"  # our preprocessing of *this* data


@pytest.mark.slow
def test_a_failed_or_killed_build_is_never_followed_by_a_silently_partial_one(tmp_path):
    """The issue's case: a page fails on a missing glue key; a second build must not exit 0 without it."""
    import subprocess
    import sys
    import time

    from nbclient import NotebookClient

    (tmp_path / "_config.yml").write_text(
        "title: t\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n"
    )
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: build/notebooks/a\n"
    )
    (tmp_path / "intro.md").write_text("# Intro\n")
    page = tmp_path / "build" / "notebooks" / "a.ipynb"
    page.parent.mkdir(parents=True)

    def executed(code: str) -> None:
        nb = nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_markdown_cell("# A\n\nMean FD {glue:text}`fd_mean` mm."),
                nbformat.v4.new_code_cell(code),
            ]
        )
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        NotebookClient(nb).execute()
        nbformat.write(nb, page)

    executed("1 + 1")  # nothing glued: the page cannot be rendered
    with pytest.raises(RuntimeError, match="jupyter-book build failed"):
        runner.build_book(tmp_path)
    with pytest.raises(RuntimeError, match="jupyter-book build failed"):  # and again: never exit 0 without it
        runner.build_book(tmp_path)
    executed("from myst_nb import glue\nglue('fd_mean', 0.123456, display=False)")
    runner.build_book(tmp_path)
    html = tmp_path / "_build" / "html" / "build" / "notebooks" / "a.html"
    assert "0.123456" in html.read_text() and not (tmp_path / runner.INCOMPLETE).exists()

    html.unlink()  # a build killed halfway ...
    executed("from myst_nb import glue\nglue('fd_mean', 0.654321, display=False)")
    cmd = [
        sys.executable,
        "-c",
        "from helpers.runner import build_book; from pathlib import Path; "
        f"build_book(Path({str(tmp_path)!r}))",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    runner.build_book(tmp_path)  # ... is followed by a complete one
    assert "0.654321" in html.read_text()
    assert (tmp_path / "_build" / "html" / "intro.html").is_file()


@pytest.mark.parametrize(
    "twin, ours, parcellation",
    [(True, True, False), (False, True, False), (False, False, False), (True, True, True)],
    ids=["twin", "raw user data", "fMRIPrep user data", "twin with a parcellation"],
)
def test_no_kind_of_data_leaves_a_reference_dangling(twin, ours, parcellation):
    """Dropping the cells meant for other data never removes a label that a kept cell cites (glue keys are
    checked after execution, by the runner itself)."""
    import re

    conditions = {
        "twin": twin,
        "user_data": not twin,
        "our_preprocessing": ours,
        "no_preprocessing": not ours,
        "parcellation": parcellation,
    }
    kept = {
        stem: runner.select_cells(
            nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4), conditions
        ).cells
        for stem in runner.book_notebooks(ROOT)
    }
    labels = {
        label
        for cells in kept.values()
        for c in cells
        if c.cell_type == "markdown"
        for label in re.findall(r":name: (\S+)|^\((\S+)\)=$", c.source, re.M)
        for label in label
        if label
    }
    labels |= {m for f in (ROOT / "book").glob("*.md") for m in re.findall(r":name: (\S+)", f.read_text())}
    cited = [
        (stem, ref)
        for stem, cells in kept.items()
        for c in cells
        if c.cell_type == "markdown"
        for ref in re.findall(r"\{numref\}`(?:[^`<]*<)?([^`>]+)>?`", c.source)
    ]
    assert len(cited) > 20
    dangling = [(stem, ref) for stem, ref in cited if ref not in labels]
    assert not dangling, f"cited, but their cells are dropped for this data: {dangling}"
