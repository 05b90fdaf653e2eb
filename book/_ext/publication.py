"""A publication's parts, from the repository's own files at build time (no network).

* **Authors** come from ``CITATION.cff`` (the one place a fork fills in its names and
  affiliations): they become the book's ``author``.
* **Footer** of every page: the package version (``pyproject.toml``), the git commit the book
  was built from (``git rev-parse``; "not a git checkout" in a copy without history), the licence
  (``CITATION.cff``) and a link to the how-to-cite box.
* **Scripts**: an inline script added twice (sphinx-thebe's ``THEBE_JS_URL``) is kept once, and the
  theme's default colour mode is set in ``_config.yml`` (``html_context.default_mode``); both used to
  log a JavaScript error on every page.
* **How to cite** box: the directive ``{how-to-cite}`` renders a reference and a BibTeX entry for
  the book, the original study's reference, and a plain Binder link built from the repository URL
  (Binder installs ``environment.yml``; the link is a link, nothing is fetched when a page loads).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

log = logging.getLogger(__name__)

#: The page that holds the how-to-cite box (linked from every footer).
CITE_PAGE = "book/intro"
CITE_ANCHOR = "how-to-cite"


def citation(root: Path) -> dict:
    """``CITATION.cff`` as a dict (``{}`` if absent)."""
    path = root / "CITATION.cff"
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def author_names(cff: dict) -> list[str]:
    """``"Given Family"`` (or an entity's ``name``) per author of a CFF record."""
    out = []
    for a in cff.get("authors", []):
        name = a.get("name") or " ".join(p for p in (a.get("given-names"), a.get("family-names")) if p)
        out.append(name.strip())
    return [n for n in out if n]


def _apa_author(a: dict) -> str:
    if a.get("family-names"):
        initials = " ".join(f"{part[0]}." for part in re.split(r"[\s.]+", a.get("given-names", "")) if part)
        return f"{a['family-names']}, {initials}".rstrip(", ")
    return a.get("name", "")


def _apa_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + ", & " + names[-1]


def version(root: Path) -> str:
    """The package version declared in ``pyproject.toml``."""
    data = tomllib.loads((root / "pyproject.toml").read_text())
    return data["project"]["version"]


def commit(root: Path) -> str:
    """Short hash of ``HEAD`` (``+ local changes`` if tracked files differ).

    A note instead when there is no git.
    """
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=10", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return sha + (" + local changes" if dirty else "")


def bibtex(cff: dict, ver: str, year: str, url: str) -> str:
    """A BibTeX ``@software`` entry for the book."""
    authors = " and ".join(
        f"{a['family-names']}, {a.get('given-names', '')}".strip(", ")
        if a.get("family-names")
        else f"{{{a.get('name', '')}}}"
        for a in cff.get("authors", [])
    )
    return (
        f"@software{{book_{year},\n  author  = {{{authors}}},\n  title   = {{{cff.get('title', '')}}},\n"
        f"  version = {{{ver}}},\n  year    = {{{year}}},\n  url     = {{{url}}}\n}}"
    )


class HowToCite(SphinxDirective):
    """``{how-to-cite}``: the book's reference, its BibTeX, the original study and a Binder link."""

    has_content = False

    def run(self):
        env = self.env
        root = Path(env.srcdir)
        cff = citation(root)
        ver, year = version(root), str(env.config.copyright).split(",")[0].strip()
        url = cff.get("repository-code") or cff.get("url") or ""
        box = nodes.admonition(classes=["how-to-cite"], ids=[CITE_ANCHOR])
        box += nodes.title(text="How to cite")
        authors = _apa_list([_apa_author(a) for a in cff.get("authors", [])])
        ref = nodes.paragraph()
        ref += nodes.Text(f"{authors} ({year}). ")
        ref += nodes.emphasis(text=cff.get("title", ""))
        ref += nodes.Text(f" (Version {ver}) [Computer software and book]. ")
        if url:
            ref += nodes.reference(url, url, refuri=url)
        box += ref
        box += nodes.literal_block(text=bibtex(cff, ver, year, url), language="bibtex")
        for original in cff.get("references", [])[:1]:
            para = nodes.paragraph()
            names = _apa_list([_apa_author(a) for a in original.get("authors", [])])
            para += nodes.Text(
                f"Please cite the original study as well: {names} ({original.get('year')}). "
                f"{original.get('title')}. "
            )
            para += nodes.emphasis(text=f"{original.get('journal')}, {original.get('volume')}")
            para += nodes.Text(f"({original.get('issue')}). ")
            doi = f"https://doi.org/{original['doi']}" if original.get("doi") else ""
            if doi:
                para += nodes.reference(doi, doi, refuri=doi)
            box += para
        binder = binder_url(
            env.config.html_theme_options.get("repository_url", ""),
            env.config.html_theme_options.get("repository_branch", "main"),
        )
        if binder:
            para = nodes.paragraph()
            para += nodes.Text("Re-run it in your browser: ")
            para += nodes.reference("", "launch on Binder", refuri=binder)
            para += nodes.Text(
                " (Binder builds the environment from environment.yml; its machines are "
                "small, so start with the small twin, notebooks/params/test.yml)."
            )
            box += para
        return [box]


def binder_url(repository_url: str, branch: str = "main") -> str:
    """``https://mybinder.org/v2/gh/OWNER/REPO/BRANCH`` for a GitHub repository URL (else ``""``)."""
    m = re.match(r"https://github\.com/([^/]+)/([^/]+?)/?$", repository_url or "")
    return f"https://mybinder.org/v2/gh/{m.group(1)}/{m.group(2)}/{branch}" if m else ""


def _on_config_inited(app, config):
    root = Path(app.srcdir)
    cff = citation(root)
    names = author_names(cff)
    if names:
        config.author = ", ".join(names)
    config.publication_footer = {
        "version": version(root),
        "commit": commit(root),
        "license": cff.get("license", ""),
        "license_url": (cff.get("repository-code") or "").rstrip("/") + "/blob/main/LICENSE"
        if cff.get("repository-code")
        else "",
    }


def _dedupe_scripts(context) -> None:
    """Drop repeated inline scripts: sphinx-thebe adds its ``const THEBE_JS_URL`` twice when
    Jupyter Book reads the sources twice, and a second ``const`` is a JavaScript error on every page."""
    seen, kept = set(), []
    for js in context.get("script_files", []):
        # an inline script is added once with filename None and once with "": same script
        key = (str(getattr(js, "filename", js) or ""), repr(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def _on_page_context(app, pagename, templatename, context, doctree):
    _dedupe_scripts(context)
    info = app.config.publication_footer
    cite = context["pathto"](CITE_PAGE) + f"#{CITE_ANCHOR}"
    licence = (
        f'<a href="{info["license_url"]}">{info["license"]} licence</a>'
        if info["license_url"]
        else f"{info['license']} licence"
    )
    context["theme_extra_footer"] = (
        f'<p class="publication-footer">Version {info["version"]} · commit <code>{info["commit"]}</code> · '
        f'{licence} · <a href="{cite}">How to cite</a></p>'
    )


def setup(app):
    app.add_config_value("publication_footer", {}, "html")
    app.add_directive("how-to-cite", HowToCite)
    app.connect("config-inited", _on_config_inited)
    app.connect("html-page-context", _on_page_context, priority=990)  # after the handlers that add scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
