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
from conftest import copy_project

from helpers import paper
from helpers.runner import book_notebooks, expected_pages

GLUE_REF = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`|```\{glue:(?:figure|math|md)\}\s+(\S+)")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, book_cache) -> Path:
    root = copy_project(tmp_path_factory.mktemp("book"), cache=book_cache)
    assert (root / "book/_static/mathjax/tex-chtml.js").is_file(), (
        "run `make` first: MathJax is fetched by the Makefile"
    )
    env = {**os.environ, "HELPERS_PROJECT_ROOT": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "helpers.runner", "book", "--params", "notebooks/params/test.yml"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=2400,
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
    assert (
        "<table" in html
        and "Cronbach" in html
        and "Self-kindness" in html.replace("Self-Kindness", "Self-kindness")
    )


def test_no_page_shows_an_object_repr_instead_of_a_figure(built_book):
    for page in expected_pages(built_book):
        html = page.read_text()
        for bad in (
            "&lt;Figure size",
            "<Figure size",
            "&lt;matplotlib.",
            "&lt;IPython.core.display",
            "PosixPath(",
        ):
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
    caption = re.search(
        r'<caption><span class="caption-number">Table ([\d.]+) </span>'
        r'<span class="caption-text">(.*?)</span>',
        table,
        re.S,
    )
    assert caption, "Table 1 has no numbered caption"
    number = caption.group(1)
    assert number == "1", f"the paper's Table 1 is captioned Table {number}"
    assert re.match(r"\(recomputed\) Correlations of the self-compassion mean", caption.group(2))
    header = [_text(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", table.split("</thead>")[0], re.S)]
    assert header[:4] == ["SCS scale", "Paper r", "Paper p (one-tailed)", "Ours r"]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    first_cells = [_text(re.search(r"<td[^>]*>(.*?)</td>", row, re.S).group(1)) for row in rows]
    assert first_cells == list(paper.table1()["label"]), (
        "Table 1 does not list the paper's seven scales in order"
    )
    assert len(first_cells) == 7
    # the prose cites it by the same number, on its page and from the introduction
    assert f'href="#tbl-results-table1"><span class="std std-numref">Table {number}</span>' in html
    intro = (built_book / "_build/html/book/intro.html").read_text()
    assert re.search(
        rf'href="[^"]*04_results.html#tbl-results-table1"><span class="std std-numref">'
        rf"[^<]*\(Table {number}\)</span>",
        intro,
    ), "the introduction does not link to Table 1"


def test_tables_are_numbered_once_across_the_book_and_every_numref_resolved(built_book):
    """The book's own items are numbered per chapter ("Table 6.2"); only the paper's Table 1 and
    Figures 1-3 carry undotted numbers, so the two schemes cannot be confused."""
    numbers, labelled, paper_items = {}, [], []
    for page in expected_pages(built_book):
        html = page.read_text()
        for kind, number in re.findall(r'<span class="caption-number">(Table|Figure) ([\d.]+) </span>', html):
            if "." in number:
                chapter, k = map(int, number.split("."))
                numbers.setdefault((kind, chapter), []).append(k)
            else:
                paper_items.append(f"{kind} {number}")
        labelled += re.findall(r'<table[^>]*\bid="(tbl-[^"]+)"', html)
        figures = re.findall(r"<figure\b.*?</figure>", html, re.S)  # e.g. a table glued with {glue:figure}
        assert not [f for f in figures if "<table" in f], f"{page.name}: a table numbered as a figure"
        refs = re.findall(r'<span class="std std-numref">([^<]*)</span>', html)
        assert all(re.search(r"(Table|Figure) \d+", r) for r in refs), f"{page.name}: numrefs {refs}"
    assert sorted(paper_items) == ["Figure 1", "Figure 2", "Figure 3", "Table 1"]
    for (kind, chapter), ks in numbers.items():
        assert sorted(ks) == list(range(1, len(ks) + 1)), f"{kind}s of chapter {chapter} are numbered {ks}"
    n_tables = sum(len(ks) for (kind, _), ks in numbers.items() if kind == "Table") + 1
    assert n_tables >= 30
    assert len(labelled) == n_tables, (
        "a numbered table without a tbl- label, or a labelled one without a number"
    )


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
            f"{page.name}: the download button offers {downloads}, which the book does not contain"
        )
        edits = re.findall(r'<a href="([^"]+)"[^>]*class="btn btn-sm btn-source-edit-button', html)
        assert len(edits) == 1, f"{page.name}: no 'Suggest edit' link"
        source = edits[0].split("/edit/main/", 1)[1]
        assert (built_book / source).is_file(), (
            f"{page.name}: 'Suggest edit' opens {source}, which is not a source file"
        )


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
            text = "\n".join(
                "".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "markdown"
            )
        for m in GLUE_REF.finditer(text):
            key = (m.group(1) or m.group(2)).split("::")[-1].split(":")[0]  # [page::]key[:format]
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
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on(
            "request",
            lambda r: (
                external.append(r.url)
                if not r.url.startswith(("file:", "data:", "blob:", "about:"))
                else None
            ),
        )
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
                "Math.max(0, ...Array.from(document.images)"
                ".filter(i => i.src.endsWith('/logo.svg')).map(i => i.naturalWidth))"
            )
            favicon_width = page.evaluate(
                "() => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth);"
                " i.onerror = () => done(0); i.src = document.querySelector(\"link[rel~='icon']\").href; })"
            )
            assert logo_width > 0 and favicon_width > 0, (
                f"{html.name}: logo {logo_width} px, favicon {favicon_width} px"
            )
            shot = tmp_path / f"{html.stem}.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 10_000, f"{html.name}: screenshot is nearly empty"
        browser.close()
    assert not external, f"pages requested the internet: {sorted(set(external))[:10]}"
    assert not failed, f"requests failed: {sorted(set(failed))[:10]}"


# --- Reading the pages as a reader would, on a laptop and on a phone ---

#: Per page: tables too wide for the column without a scroll container, visible code cells that only
#: keep books, figures shown larger than their resolution allows, the paper's Table 1 caption.
_AUDIT = """() => {
  const article = document.querySelector('article') || document.body;
  const width = article.clientWidth;
  const tables = Array.from(article.querySelectorAll('table')).filter(t => t.offsetParent !== null);
  const wide = [];
  for (const t of tables) {
    if (t.getBoundingClientRect().width <= width + 1) continue;
    let el = t.parentElement, scroller = null;
    while (el && el !== article) {
      const o = getComputedStyle(el).overflowX;
      if ((o === 'auto' || o === 'scroll') && el.getBoundingClientRect().width <= width + 1) {
        scroller = el;
        break;
      }
      el = el.parentElement;
    }
    if (!scroller) wide.push((t.id || t.querySelector('caption')?.innerText || t.innerText).slice(0, 80));
  }
  const code = Array.from(article.querySelectorAll('.cell_input pre'))
    .filter(p => p.offsetParent !== null && p.getBoundingClientRect().height > 0).map(p => p.innerText);
  const blurry = Array.from(article.querySelectorAll('img'))
    .filter(i => i.offsetParent !== null && !/logo|favicon/.test(i.src))
    .filter(i => !i.src.split('?')[0].endsWith('.svg')
                 && i.naturalWidth < 1.5 * i.getBoundingClientRect().width)
    .map(i => {
      const shown = Math.round(i.getBoundingClientRect().width);
      return `${i.src.split('/').pop()}: ${i.naturalWidth}px shown at ${shown}px`;
    });
  const images = Array.from(article.querySelectorAll('img')).filter(i => !/logo|favicon/.test(i.src)).length;
  return {width, wide, code, blurry, images};
}"""


def _only_glue(code: str) -> bool:
    """Whether a cell's code does nothing but glue numbers (and import or loop around it)."""
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False

    def glue_only(stmt) -> bool:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return True
        if isinstance(stmt, ast.For):
            return all(glue_only(s) for s in stmt.body)
        return (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id == "glue"
        )

    return bool(tree.body) and all(glue_only(s) for s in tree.body) and "glue(" in code


def test_only_glue_recognises_bookkeeping():
    assert _only_glue("glue('a', 1, display=False)\nfor k in ks:\n    glue(k, 2)")
    assert not _only_glue("fig = figures.figure1(s, c)\nglue('f', fig)")
    assert not _only_glue("import pandas as pd")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1366, 400])
def test_pages_read_well_on_a_laptop_and_a_phone(built_book, tmp_path, width):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    problems, errors, figures = [], [], 0
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on(
            "console",
            lambda m: errors.append(f"{page.url.split('/')[-1]}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: errors.append(f"{page.url.split('/')[-1]}: {e}"))
        for html in expected_pages(built_book):
            page.goto(html.as_uri(), wait_until="load")
            page.wait_for_timeout(200)
            audit = page.evaluate(_AUDIT)
            figures += audit["images"]
            problems += [
                f"{html.name} at {width}px: table wider than the column, no scroll: {t}"
                for t in audit["wide"]
            ]
            problems += [
                f"{html.name}: visible bookkeeping cell: {c[:80]!r}" for c in audit["code"] if _only_glue(c)
            ]
            problems += [f"{html.name}: low-resolution figure {b}" for b in audit["blurry"]]
            if html.name == "04_results.html":
                caption = page.inner_text("#tbl-results-table1 caption")
                assert caption.startswith("Table 1"), f"the paper's Table 1 is captioned {caption[:40]!r}"
                page.screenshot(path=str(tmp_path / f"results_{width}.png"), full_page=True)
        browser.close()
    assert figures >= 10, "the pages should show the book's figures"
    assert not errors, f"console errors: {errors[:10]}"
    assert not problems, "\n".join(problems[:20])
