"""End-to-end: execute every chapter on a tiny twin and build the book (slow).

The project is copied to a temporary folder so that a user's own ``build/`` and
``_build/`` are never touched; the notebooks import the installed ``helpers``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import paper
from helpers.runner import book_notebooks, expected_pages

ROOT = Path(__file__).resolve().parents[1]
COPY = ["_config.yml", "_toc.yml", "book", "notebooks", "src", "pyproject.toml", "tests/data"]
GLUE_REF = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)(?::[^`]*)?`|```\{glue:(?:figure|math|md)\}\s+(\S+)")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("book")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", "generated"))
        elif src.exists():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / name)
    assert (root / "book/_static/mathjax/tex-chtml.js").is_file(), "run `make` first: MathJax is fetched by the Makefile"
    env = {**os.environ, "HELPERS_PROJECT_ROOT": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.runner", "book", "--params", "notebooks/params/test.yml"],
        cwd=root, env=env, capture_output=True, text=True, timeout=2400,
    )
    assert proc.returncode == 0, f"book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return root


def test_every_toc_entry_has_a_page(built_book):
    pages = expected_pages(built_book)
    assert len(pages) >= 4
    for page in pages:
        assert page.is_file(), f"missing page {page.relative_to(built_book)}"
        assert page.stat().st_size > 5000, f"suspiciously small page {page.name}"


def test_questionnaire_page_has_the_reliability_table(built_book):
    html = (built_book / "_build/html/build/notebooks/01_questionnaire.html").read_text()
    assert "<table" in html and "Cronbach" in html and "Self-kindness" in html.replace("Self-Kindness", "Self-kindness")


def test_no_page_shows_an_object_repr_instead_of_a_figure(built_book):
    for page in expected_pages(built_book):
        html = page.read_text()
        for bad in ("&lt;Figure size", "<Figure size", "&lt;matplotlib.", "&lt;IPython.core.display", "PosixPath("):
            assert bad not in html, f"{page.name} shows {bad!r} instead of rendering it"


def _table(html: str, label: str) -> str:
    """The inside of the ``<table>`` element with id ``label``."""
    match = re.search(rf'<table[^>]*\bid="{label}"[^>]*>(.*?)</table>', html, re.S)
    assert match, f"no HTML <table> with id {label}"
    return match.group(1)


def _text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def test_table1_is_a_numbered_captioned_html_table_with_the_papers_rows(built_book):
    html = (built_book / "_build/html/build/notebooks/04_results.html").read_text()
    table = _table(html, "tbl-results-table1")
    caption = re.search(r'<caption><span class="caption-number">Table (\d+) </span>'
                        r'<span class="caption-text">(.*?)</span>', table, re.S)
    assert caption, "Table 1 has no numbered caption"
    number = caption.group(1)
    assert re.match(r"The paper.s Table 1 recomputed: correlations of the self-compassion mean", caption.group(2))
    header = [_text(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", table.split("</thead>")[0], re.S)]
    assert header[:4] == ["SCS scale", "Paper r", "Paper p (one-tailed)", "Ours r"]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    first_cells = [_text(re.search(r"<td[^>]*>(.*?)</td>", row, re.S).group(1)) for row in rows]
    assert first_cells == list(paper.table1()["label"]), "Table 1 does not list the paper's seven scales in order"
    assert len(first_cells) == 7
    # the prose cites it by the same number, on its page and from the introduction
    assert f'href="#tbl-results-table1"><span class="std std-numref">Table {number}</span>' in html
    intro = (built_book / "_build/html/book/intro.html").read_text()
    assert re.search(rf'href="[^"]*04_results.html#tbl-results-table1"><span class="std std-numref">'
                     rf'[^<]*\(Table {number}\)</span>', intro), "the introduction does not link to Table 1"


def test_tables_are_numbered_once_across_the_book_and_every_numref_resolved(built_book):
    numbers, labelled = [], []
    for page in expected_pages(built_book):
        html = page.read_text()
        numbers += [int(n) for n in re.findall(r'<span class="caption-number">Table (\d+) </span>', html)]
        labelled += re.findall(r'<table[^>]*\bid="(tbl-[^"]+)"', html)
        figures = re.findall(r"<figure\b.*?</figure>", html, re.S)  # e.g. a table glued with {glue:figure}
        assert not [f for f in figures if "<table" in f], f"{page.name}: a table numbered as a figure"
        refs = re.findall(r'<span class="std std-numref">([^<]*)</span>', html)
        assert all(re.search(r"(Table|Fig\.) \d+", r) for r in refs), f"{page.name}: numrefs {refs}"
    assert len(numbers) >= 30 and sorted(numbers) == list(range(1, len(numbers) + 1))
    assert len(labelled) == len(numbers), "a numbered table without a tbl- label, or a labelled one without a number"


def _static_refs(html: str) -> tuple[list[str], list[str]]:
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', html)
    logos = re.findall(r'<img src="([^"]+)" class="logo__image', html)
    return icons, logos


def test_logo_favicon_download_and_edit_links(built_book):
    for page in expected_pages(built_book):
        html = page.read_text()
        icons, logos = _static_refs(html)
        assert [Path(i).name for i in icons] == ["favicon.svg"], f"{page.name}: favicon {icons}"
        assert logos and {Path(src).name for src in logos} == {"logo.svg"}, f"{page.name}: logo {logos}"
        for ref in icons + logos:
            assert (page.parent / ref).resolve().is_file(), f"{page.name}: {ref} is not in the built book"
        downloads = re.findall(r'<a href="([^"]+)"[^>]*class="btn btn-sm btn-download-source-button', html)
        assert downloads and all((page.parent / d).resolve().is_file() for d in downloads), (
            f"{page.name}: the download button offers {downloads}, which the book does not contain")
        edits = re.findall(r'<a href="([^"]+)"[^>]*class="btn btn-sm btn-source-edit-button', html)
        assert len(edits) == 1, f"{page.name}: no 'Suggest edit' link"
        source = edits[0].split("/edit/main/", 1)[1]
        assert (built_book / source).is_file(), f"{page.name}: 'Suggest edit' opens {source}, which is not a source file"


def _glue_keys(notebook: Path) -> set[str]:
    nb = json.loads(notebook.read_text())
    keys = set()
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                keys.add(name)
    return keys


def test_every_glued_key_referenced_in_prose_exists(built_book):
    available = set()
    for stem in book_notebooks(built_book):
        available |= _glue_keys(built_book / "build/notebooks" / f"{stem}.ipynb")
    referenced = {}
    sources = list((built_book / "book").glob("*.md")) + [
        built_book / "build/notebooks" / f"{s}.ipynb" for s in book_notebooks(built_book)
    ]
    for src in sources:
        text = src.read_text()
        if src.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown")
        for m in GLUE_REF.finditer(text):
            key = (m.group(1) or m.group(2)).split("::")[-1]
            referenced.setdefault(key, src.name)
    missing = {k: v for k, v in referenced.items() if k not in available}
    assert referenced, "no glued numbers found in the prose"
    assert not missing, f"glued keys referenced but never glued: {missing}"


# --- Rendering in a real browser (skipped with a reason when Chromium is absent; .ci/run installs it) ---

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_pages_render_offline_with_figures(built_book, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    external, failed = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("file:", "data:", "blob:", "about:")) else None)
        page.on("requestfailed", lambda r: failed.append(r.url))
        for html in expected_pages(built_book):
            page.goto(html.as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            text = page.inner_text("article") if page.query_selector("article") else page.inner_text("body")
            assert len(text.strip()) > 200, f"{html.name} looks blank"
            assert "<Figure size" not in text, f"{html.name} shows a Figure repr"
            broken = page.evaluate(
                "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
            )
            assert not broken, f"{html.name}: images failed to load: {broken}"
            logo_width = page.evaluate(
                "Math.max(0, ...Array.from(document.images).filter(i => i.src.endsWith('/logo.svg')).map(i => i.naturalWidth))"
            )
            favicon_width = page.evaluate(
                "() => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth);"
                " i.onerror = () => done(0); i.src = document.querySelector(\"link[rel~='icon']\").href; })"
            )
            assert logo_width > 0 and favicon_width > 0, f"{html.name}: logo {logo_width} px, favicon {favicon_width} px"
            shot = tmp_path / f"{html.stem}.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 10_000, f"{html.name}: screenshot is nearly empty"
        browser.close()
    assert not external, f"pages requested the internet: {sorted(set(external))[:10]}"
    assert not failed, f"requests failed: {sorted(set(failed))[:10]}"
