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

from helpers.runner import book_notebooks, expected_pages

ROOT = Path(__file__).resolve().parents[1]
COPY = ["_config.yml", "_toc.yml", "book", "notebooks", "src", "pyproject.toml", "tests/data"]
GLUE_REF = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)(?::[^`]*)?`|```\{glue:(?:figure|math)\}\s+(\S+)")

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
        for bad in ("&lt;Figure size", "<Figure size", "&lt;matplotlib.", "&lt;IPython.core.display"):
            assert bad not in html, f"{page.name} shows {bad!r} instead of rendering it"


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
            shot = tmp_path / f"{html.stem}.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 10_000, f"{html.name}: screenshot is nearly empty"
        browser.close()
    assert not external, f"pages requested the internet: {sorted(set(external))[:10]}"
    assert not failed, f"requests failed: {sorted(set(failed))[:10]}"
