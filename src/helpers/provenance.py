"""Provenance of an executed chapter: parameters, inputs, outputs, versions, time.

Each notebook creates one :class:`Chapter` right after its parameters cell,
registers the files it reads and writes, and ends with ``chapter.footer()``,
which renders the provenance table and records it as JSON in
``<output_dir>/provenance/<chapter>.json`` (the book's checksum page reads these).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from .io import save_figure, write_json, write_tsv
from .mdtable import EMPTY, labelled_index, markdown_table
from .params import check_output_dir, validate_params
from .paths import project_root
from .versions import PACKAGES, package_versions, sha256

__all__ = ["Chapter", "SavedFigure", "FIGURE_DPI", "sha256", "package_versions", "outputs_table", "PACKAGES"]

#: Resolution of every saved PNG figure (dots per inch): sharp on high-density screens at column width.
FIGURE_DPI = 200


class SavedFigure:
    """A figure as saved on disk, displayed as its SVG (preferred by the HTML book) and its PNG."""

    def __init__(self, png: Path, svg: Path):
        self.png, self.svg = png, svg

    def _repr_mimebundle_(self, include=None, exclude=None):
        import base64

        svg = self.svg.read_text()
        svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: Jupyter wants the element
        return {
            "image/svg+xml": svg,
            "image/png": base64.b64encode(self.png.read_bytes()).decode("ascii"),
            "text/plain": f"<figure {self.png.stem}>",
        }


def _relative(path: str | os.PathLike) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(project_root()))
    except ValueError:
        return str(p)


@dataclass
class Chapter:
    """Collects the provenance of one executed chapter.

    Parameters
    ----------
    name : str
        The chapter's notebook stem, e.g. ``"01_questionnaire"``.
    params : dict
        The parameter values actually used (after Papermill's injection).
    output_dir : path-like
        Where the chapter writes its outputs; provenance goes to ``output_dir/provenance``.

    Raises
    ------
    TypeError, ValueError
        A parameter breaks its rule in :data:`helpers.params.SCHEMA` (checked at creation, so a
        notebook stops at its top before any work; names not in the schema are logged).
    PermissionError
        ``output_dir`` (or ``preproc_dir``) cannot be created or is not writable.
    """

    name: str
    params: dict
    output_dir: str | os.PathLike = "build/outputs"
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self):
        source = f"notebook {self.name}"
        validate_params(self.params, source=source, unknown="warn")
        for key in ("output_dir", "preproc_dir"):
            if self.params.get(key) is not None:
                check_output_dir(self.params[key], key, source)
        check_output_dir(self.output_dir, "output_dir", source)

    def input(self, path: str | os.PathLike) -> Path:
        """Register an input file or folder; returns it as a ``Path``.

        Parameters
        ----------
        path : path-like
            The input (recorded relative to the project root when inside it).

        Returns
        -------
        pathlib.Path
        """
        self.inputs.append(_relative(path))
        return Path(path)

    def output(self, *paths: str | os.PathLike) -> list[Path]:
        """Register output files (they must exist: checksums are taken at the footer).

        Parameters
        ----------
        *paths : path-like
            The files written.

        Returns
        -------
        list of pathlib.Path
        """
        for p in paths:
            self.outputs.append(_relative(p))
        return [Path(p) for p in paths]

    def figure(self, key: str, fig, stem: str | os.PathLike) -> None:
        """Save ``fig`` as ``stem``.png (at :data:`FIGURE_DPI`) and .svg; register, glue and close it.

        Both files are registered as outputs, and the figure is glued as ``key``.

        The glued figure carries the saved SVG (vector: sharp at any zoom, which the HTML book
        shows) and the high-resolution PNG (for formats without SVG), not the inline backend's
        low-resolution rendering. Closing matters: with the inline backend an open figure would
        also be shown under the code cell, uncaptioned, so the book would print it twice. Every
        open pyplot figure is therefore closed, not only ``fig``: a figure a helper returned for a
        later cell stays usable (a closed figure can still be saved) but is shown only where the
        prose places it. Nothing is returned, so the call can end a cell without printing anything.

        Parameters
        ----------
        key : str
            Glue key.
        fig : matplotlib.figure.Figure
            The figure.
        stem : path-like
            Destination without extension (:func:`helpers.io.save_figure`).
        """
        import matplotlib.pyplot as plt
        from myst_nb import glue

        png, svg = save_figure(fig, stem, dpi=FIGURE_DPI)
        self.output(png, svg)
        glue(key, SavedFigure(Path(png), Path(svg)), display=False)
        plt.close("all")

    def table(
        self,
        key: str,
        frame: pd.DataFrame | Styler,
        path: str | os.PathLike | None = None,
        *,
        empty: str = EMPTY,
    ) -> None:
        """Glue ``frame`` as ``key`` for a numbered table; write and register ``path`` if given.

        The cells are shown in the book's style (:func:`helpers.style.journal_cells`: human column
        labels, APA numbers such as ``−.19`` and ``p < .001``); the TSV keeps code names and full
        precision.

        The table is glued as Markdown (:func:`helpers.mdtable.markdown_table`, formatted by pandas),
        so that the prose can paste it inside a ``{table}`` directive, which numbers and captions it
        ("Table N: …") and makes it a ``{numref}`` target::

            ````{table} Caption.
            :name: tbl-label

            ```{glue:md} key
            :format: myst
            ```
            ````

        Parameters
        ----------
        key : str
            Glue key.
        frame : DataFrame or Styler
            The table as it should be shown (a ``Styler`` keeps its formats and hidden index).
        path : path-like, default None
            Also write the data (a Styler's underlying DataFrame, full precision) as a TSV there,
            with its index unless that is an unnamed ``RangeIndex``.
        empty : str, default :data:`helpers.mdtable.EMPTY`
            The sentence shown instead of rows when ``frame`` has none (e.g. ``"No participant was
            excluded."``).
        """
        from IPython.display import Markdown
        from myst_nb import glue

        if path is not None:
            data = frame.data if isinstance(frame, Styler) else frame
            self.output(write_tsv(data, path, index=labelled_index(data)))
        glue(key, Markdown(markdown_table(frame, empty=empty)), display=False)

    def stage(self, label: str, seconds: float) -> None:
        """Record the wall time of one stage (shown in the footer's timing table).

        Parameters
        ----------
        label : str
            Name of the stage; repeated labels add up.
        seconds : float
            Wall time.
        """
        self.stages[label] = self.stages.get(label, 0.0) + float(seconds)

    def record(self) -> dict:
        """The provenance as a JSON-serialisable dict (checksums computed now)."""
        root = project_root()
        files = []
        for rel in dict.fromkeys(self.outputs):
            p = root / rel if not Path(rel).is_absolute() else Path(rel)
            files.append({"path": rel, "sha256": sha256(p), "bytes": p.stat().st_size})
        return {
            "chapter": self.name,
            "parameters": {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in self.params.items()},
            "inputs": list(dict.fromkeys(self.inputs)),
            "outputs": files,
            "versions": package_versions(),
            "stages_seconds": {k: round(v, 2) for k, v in self.stages.items()},
            "run_seconds": round(time.perf_counter() - self.started, 2),
        }

    def footer(self):
        """Write ``provenance/<name>.json`` and return a displayable HTML summary."""
        from IPython.display import HTML

        rec = self.record()
        write_json(rec, Path(self.output_dir) / "provenance" / f"{self.name}.json")
        params = pd.DataFrame({"value": {k: repr(v) for k, v in rec["parameters"].items()}})
        versions = pd.DataFrame({"version": rec["versions"]})
        outputs = pd.DataFrame(rec["outputs"], columns=["path", "sha256", "bytes"])
        outputs["sha256"] = outputs["sha256"].str[:16] + "…"
        parts = [
            "<details class='provenance'><summary><b>Provenance of this chapter</b> "
            f"(run time {rec['run_seconds']:.1f} s)</summary>",
            "<p><b>Parameters</b></p>",
            params.to_html(),
            "<p><b>Inputs</b> (relative to the project root)</p>",
            "<ul>" + "".join(f"<li><code>{p}</code></li>" for p in rec["inputs"]) + "</ul>",
            "<p><b>Outputs</b></p>",
            outputs.to_html(index=False),
        ]
        if rec["stages_seconds"]:
            stages = pd.DataFrame({"seconds": rec["stages_seconds"]})
            parts += ["<p><b>Time per stage</b></p>", stages.to_html()]
        parts += ["<p><b>Software</b></p>", versions.to_html(), "</details>"]
        return HTML("\n".join(parts))


def outputs_table(output_dir: str | os.PathLike = "build/outputs") -> pd.DataFrame:
    """Every output file recorded by the chapters' provenance, with its checksum.

    Reads ``<output_dir>/provenance/*.json`` (written by :meth:`Chapter.footer`) and
    re-checks each file: ``status`` is ``"ok"`` when the file still has the recorded
    SHA-256, ``"changed"`` or ``"missing"`` otherwise.

    Parameters
    ----------
    output_dir : path-like, default "build/outputs"
        The book's output folder; recorded paths are relative to the project root.

    Returns
    -------
    DataFrame
        ``chapter, path, bytes, sha256, status``.
    """
    rows = []
    for rec_file in sorted((Path(output_dir) / "provenance").glob("*.json")):
        rec = pd.read_json(rec_file, typ="series")
        for out in rec["outputs"]:
            p = project_root() / out["path"]
            status = "missing" if not p.is_file() else ("ok" if sha256(p) == out["sha256"] else "changed")
            rows.append(
                {
                    "chapter": rec["chapter"],
                    "path": out["path"],
                    "bytes": out["bytes"],
                    "sha256": out["sha256"],
                    "status": status,
                }
            )
    return pd.DataFrame(rows, columns=["chapter", "path", "bytes", "sha256", "status"])
