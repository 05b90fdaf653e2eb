"""Cross-references in the book's sources (fast: reads notebooks/*.ipynb and book/*.md, builds nothing).

Sphinx with ``--warningiserror`` already fails the build on an unresolved ``{numref}``; these tests
say which label is wrong without a build, and check what a build cannot: that every numbered
table is cited in the prose and gets its content from a ``Chapter.table`` call of its own notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?([^`<>]+)>?`")
NAME = re.compile(r"^:name:\s*(\S+)\s*$", re.M)
TARGET = re.compile(r"^\(([\w-]+)\)=\s*$", re.M)
TABLE = re.compile(r"^(`{3,}|:{3,})\{table\}[^\n]*\n(.*?)^\1\s*$", re.M | re.S)
GLUE_MD = re.compile(r"\{glue:md\}\s+(\S+)")
TABLE_CALL = re.compile(r"chapter\.table\(\s*[\"']([^\"']+)[\"']")


def _sources() -> dict[str, tuple[str, str]]:
    """Name -> (markdown prose, code) of every notebook and book page."""
    out = {}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        text = {
            kind: "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == kind)
            for kind in ("markdown", "code")
        }
        out[nb.name] = (text["markdown"], text["code"])
    for md in sorted((ROOT / "book").glob("*.md")):
        out[md.name] = (md.read_text(), "")
    return out


SOURCES = _sources()


#: Markdown cells kept only on a user's data: they repeat a twin-only cell's label with another
#: caption (never both in one run: tests/test_cell_tags.py), so they are not a second definition.
_ALTERNATIVE = "user-data-only"


def _labels() -> dict[str, list[str]]:
    defined: dict[str, list[str]] = {}
    for name, (prose, _) in SOURCES.items():
        if name.endswith(".ipynb"):  # the default (twin) run's prose
            cells = json.loads((ROOT / "notebooks" / name).read_text())["cells"]
            prose = "\n\n".join(
                "".join(c["source"])
                for c in cells
                if c["cell_type"] == "markdown" and _ALTERNATIVE not in c["metadata"].get("tags", [])
            )
        for label in NAME.findall(prose) + TARGET.findall(prose):
            defined.setdefault(label, []).append(name)
    return defined


def test_the_patterns_find_what_they_should():
    sample = (
        "See {numref}`tbl-a` and {numref}`Table %s <tbl-b>`.\n\n````{table} Caption.\n:name: tbl-a\n\n"
        "```{glue:md} key_a\n:format: myst\n```\n````\n"
    )
    assert NUMREF.findall(sample) == ["tbl-a", "tbl-b"]
    assert NAME.findall(sample) == ["tbl-a"]
    assert [GLUE_MD.findall(body) for _, body in TABLE.findall(sample)] == [["key_a"]]
    assert TABLE_CALL.findall('chapter.table("key_a", df)') == ["key_a"]


def test_every_numref_target_is_defined():
    defined = _labels()
    missing = {
        (name, label)
        for name, (prose, _) in SOURCES.items()
        for label in NUMREF.findall(prose)
        if label not in defined
    }
    assert not missing, f"{{numref}} to labels no page defines (page, label): {sorted(missing)}"


def test_labels_are_unique():
    twice = {label: pages for label, pages in _labels().items() if len(pages) > 1}
    assert not twice, f"labels defined more than once: {twice}"


def test_every_table_is_numbered_and_cited():
    tables = {}
    for name, (prose, _) in SOURCES.items():
        for fence, caption in re.findall(r"^(`{3,}|:{3,})\{table\}([^\n]*)$", prose, re.M):
            # CommonMark: a backtick fence's info string cannot contain a backtick (the table would vanish)
            assert not (fence.startswith("`") and "`" in caption), (
                f"{name}: backtick in the caption {caption!r}"
            )
        for _, body in TABLE.findall(prose):
            labels = NAME.findall(body.split("\n\n")[0])
            assert labels and labels[0].startswith("tbl-"), (
                f"{name}: a {{table}} without a :name: tbl-… label"
            )
            tables[labels[0]] = name
    cited = {label for prose, _ in SOURCES.values() for label in NUMREF.findall(prose)}
    assert len(tables) >= 30, f"only {len(tables)} numbered tables"
    assert {
        "tbl-results-table1",
        "tbl-results-table1-pipelines",
        "tbl-results-followups",
        "tbl-robustness-audit",
        "tbl-scs-reliability",
        "tbl-robustness-inference",
        "tbl-training-anova",
    } <= set(tables)
    uncited = sorted(set(tables) - cited)
    assert not uncited, f"numbered tables never cited with {{numref}}: {uncited}"


@pytest.mark.parametrize("name", [n for n in SOURCES if n.endswith(".ipynb")])
def test_every_pasted_table_is_glued_by_chapter_table_in_its_notebook(name):
    prose, code = SOURCES[name]
    pasted = [key for _, body in TABLE.findall(prose) for key in GLUE_MD.findall(body)]
    glued = TABLE_CALL.findall(code)
    assert sorted(pasted) == sorted(set(pasted)), f"{name}: a table key is pasted twice"
    assert set(pasted) == set(glued), (
        f"{name}: tables pasted but not glued {sorted(set(pasted) - set(glued))}, "
        f"glued but not pasted {sorted(set(glued) - set(pasted))}"
    )


# --- numbering and publication metadata (book/_ext; fast, nothing is built) ---

import sys  # noqa: E402

import yaml  # noqa: E402

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import paper_numbers  # noqa: E402
import publication  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def test_the_papers_items_keep_the_papers_numbers_and_the_chapter_closes_the_gap():
    fignumbers = {
        "build/notebooks/04_results": {
            "table": {
                "tbl-results-table1": (6, 1),
                "tbl-results-followups": (6, 2),
                "tbl-results-table1-pipelines": (6, 3),
            },
            "figure": {"fig-results-figure1": (6, 1), "fig-results-figure2": (6, 2)},
        },
        "build/notebooks/05_robustness": {"table": {"tbl-robustness-audit": (7, 1)}},
    }
    fixed = {"tbl-results-table1": "1", "fig-results-figure1": "1", "fig-results-figure2": "2"}
    found = paper_numbers.renumber(fignumbers, fixed)
    assert sorted(found) == sorted(fixed)
    results = fignumbers["build/notebooks/04_results"]
    assert results["table"] == {
        "tbl-results-table1": ("1",),
        "tbl-results-followups": (6, 1),
        "tbl-results-table1-pipelines": (6, 2),
    }
    assert results["figure"] == {"fig-results-figure1": ("1",), "fig-results-figure2": ("2",)}
    assert fignumbers["build/notebooks/05_robustness"]["table"] == {"tbl-robustness-audit": (7, 1)}


def test_the_config_numbers_the_papers_items_and_chapters():
    sphinx = CONFIG["sphinx"]["config"]
    assert sphinx["paper_numbers"] == {
        "tbl-results-table1": "1",
        "fig-results-figure1": "1",
        "fig-results-figure2": "2",
        "fig-results-figure3": "3",
    }
    assert sphinx["numfig"] and sphinx["numfig_secnum_depth"] == 1
    assert yaml.safe_load((ROOT / "_toc.yml").read_text())["defaults"]["numbered"]
    defined = _labels()
    assert set(sphinx["paper_numbers"]) <= set(defined), "a paper_numbers label no page defines"


def test_citation_cff_agrees_with_the_package_and_the_config():
    import tomllib

    cff = publication.citation(ROOT)
    assert cff["version"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert cff["repository-code"] == CONFIG["repository"]["url"]
    assert publication.author_names(cff) and all(a.get("affiliation") for a in cff["authors"])


def test_publication_helpers():
    cff = {"title": "T", "authors": [{"family-names": "Doe", "given-names": "Jane Q."}, {"name": "Lab X"}]}
    assert publication.author_names(cff) == ["Jane Q. Doe", "Lab X"]
    assert publication._apa_author(cff["authors"][0]) == "Doe, J. Q."
    entry = publication.bibtex(cff, "1.2.0", "2026", "https://github.com/o/r")
    assert "author  = {Doe, Jane Q. and {Lab X}}" in entry and "version = {1.2.0}" in entry
    assert (
        publication.binder_url("https://github.com/OWNER/REPOSITORY")
        == "https://mybinder.org/v2/gh/OWNER/REPOSITORY/main"
    )
    assert publication.binder_url("https://gitlab.com/o/r") == ""
    assert publication.commit(Path("/")) == "not a git checkout"
