"""A methods paragraph a user can paste into a paper, generated from what was actually run.

Like fMRIPrep's and CONN's boilerplate, the text is written from the recorded parameters
(``<output_dir>/provenance/<chapter>.json``, written by :meth:`helpers.provenance.Chapter.footer`),
the stage defaults of the code (smoothing, denoising band, ROI definitions) and the package
versions recorded there, with a citation for each method and package. Two forms:
``"myst"`` (citations as ``{cite:p}`` roles, for the book) and ``"text"`` (author–year
citations written out, to paste).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["CITATIONS", "load_provenance", "methods_paragraph", "save"]

#: Bibliography key (book/references.bib) → author–year text for the plain form.
CITATIONS = {
    "friston2007spm": "Friston et al., 2007",
    "whitfield2012conn": "Whitfield-Gabrieli & Nieto-Castanon, 2012",
    "garyfallidis2014dipy": "Garyfallidis et al., 2014",
    "avants2008syn": "Avants et al., 2008",
    "styner2000bias": "Styner et al., 2000",
    "fonov2011mni": "Fonov et al., 2011",
    "behzadi2007": "Behzadi et al., 2007",
    "tzourio2002": "Tzourio-Mazoyer et al., 2002",
    "desikan2006": "Desikan et al., 2006",
    "neff2003": "Neff, 2003",
    "brett2024nibabel": "Brett et al., 2024",
    "abraham2014": "Abraham et al., 2014",
    "harris2020numpy": "Harris et al., 2020",
    "virtanen2020scipy": "Virtanen et al., 2020",
    "mckinney2010pandas": "McKinney, 2010",
    "vallat2018": "Vallat, 2018",
    "parrish2018": "Parrish et al., 2018",
}

_TESTS = {
    "directional": "one-tailed in the hypothesised direction for each scale",
    "two-sided": "two-tailed",
    "less": "one-tailed (r < 0)",
    "greater": "one-tailed (r > 0)",
}
_WEIGHTING = {
    "hrf": "condition weights convolved with the canonical haemodynamic response (CONN's default)",
    "hanning": "Hanning-windowed condition weights",
    "none": "unconvolved (boxcar) condition weights",
}
_SPLINE_NAMES = {0: "nearest-neighbour", 1: "trilinear", 2: "quadratic B-spline", 3: "cubic B-spline"}


def load_provenance(output_dir: str | os.PathLike) -> dict[str, dict]:
    """Every chapter's provenance record in ``<output_dir>/provenance``, keyed by chapter name.

    Parameters
    ----------
    output_dir : path-like
        The book's output folder.

    Returns
    -------
    dict of str to dict
        Chapter (file stem) → its JSON record, sorted by file name.

    Raises
    ------
    FileNotFoundError
        The folder holds no record (run the chapters first).
    """
    folder = Path(output_dir) / "provenance"
    records = {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
    if not records:
        raise FileNotFoundError(f"no provenance records in {folder}: execute the chapters first")
    return records


def _cite(keys: list[str], form: str) -> str:
    if form == "myst":
        return "{cite:p}`" + ",".join(keys) + "`"
    return "(" + "; ".join(CITATIONS[k] for k in keys) + ")"


def _derivatives_source(conn: dict, pre: dict) -> str:
    """Where the connectivity chapter's images came from: ``"ours"``, ``"twin"`` or ``"external"``.

    ``"ours"``: its ``derivatives_dir`` is the preprocessing chapter's ``preproc_dir`` (or not
    recorded); ``"twin"``: the digital twin's simulated derivatives (a ``twin`` folder); otherwise
    derivatives the user brought (e.g. fMRIPrep's).
    """
    derivs = conn.get("derivatives_dir")
    if not derivs or (
        pre.get("preproc_dir") and Path(derivs).resolve() == Path(pre["preproc_dir"]).resolve()
    ):
        return "ours"
    return "twin" if "twin" in Path(derivs).as_posix() else "external"


def _external_sentence(conn: dict) -> str:
    """The preprocessing of derivatives the user brought: their generator and the space as named."""
    from .layout.derivatives import derivative_runs
    from .layout.entities import parse_entities, read_json

    folder = Path(conn["derivatives_dir"])
    generated = {}
    if (folder / "dataset_description.json").is_file():
        generated = (read_json(folder / "dataset_description.json").get("GeneratedBy") or [{}])[0]
    tool = " ".join(str(generated[k]) for k in ("Name", "Version") if generated.get(k)) or "fMRIPrep"
    space = None
    for sub in sorted(folder.glob("sub-*")):
        try:
            runs = derivative_runs(folder, sub.name, conn.get("task", "feedback"), smoothed=False)
        except (FileNotFoundError, ValueError):
            continue
        space = (parse_entities(runs[0].bold) or {}).get("space")
        break
    where = f"in its {space} output space" if space else "in the MNI output space of its file names"
    return (
        f"The functional images had been preprocessed with {tool} (derivatives in {folder.name}); "
        f"connectivity was computed from its preprocessed images {where}, without further spatial "
        "processing."
    )


def methods_paragraph(output_dir: str | os.PathLike = "build/outputs", form: str = "text") -> str:
    """The preprocessing, connectivity and statistics of the book's run as one paragraph with citations.

    Parameters
    ----------
    output_dir : path-like, default "build/outputs"
        Where the chapters wrote their provenance records.
    form : {"text", "myst"}, default "text"
        ``"text"``: author–year citations written out (paste into a manuscript);
        ``"myst"``: ``{cite:p}`` roles resolved against the book's bibliography.

    Returns
    -------
    str
        The paragraph. Numbers come from the records (parameters and versions); stage defaults the
        chapters do not expose (smoothing kernel, aCompCor components, filter band, ROI atlases) come
        from the code that ran (:mod:`helpers.preprocess.pipeline`, :mod:`helpers.denoise`,
        :mod:`helpers.atlas`).

    Raises
    ------
    ValueError
        ``form`` is neither ``"text"`` nor ``"myst"``.
    FileNotFoundError
        No provenance records (see :func:`load_provenance`).
    """
    if form not in ("text", "myst"):
        raise ValueError(f"form must be 'text' or 'myst', got {form!r}")
    from . import atlas, denoise
    from .preprocess.pipeline import DEFAULTS, SPACE

    rec = load_provenance(output_dir)
    versions = next(iter(rec.values()))["versions"]
    pre = rec.get("02_preprocessing", {}).get("parameters", {})
    conn = rec.get("03_connectivity", {}).get("parameters", {})
    res = rec.get("04_results", {}).get("parameters", {})
    scs = rec.get("01_questionnaire", {}).get("parameters", {})

    def v(name: str) -> str:
        return versions.get(name, "not recorded")

    c = lambda *keys: _cite(list(keys), form)  # noqa: E731 - short local helper
    resolution = pre.get("preproc_resolution", DEFAULTS["resolution"])
    total = {
        "subscale_mean": "the mean of the six subscale means",
        "item_mean": "the mean of the 26 items",
    }.get(scs.get("total_rule", "subscale_mean"), "the total")
    highpass = denoise.HIGHPASS[0]
    source = _derivatives_source(conn, pre)
    preprocessing = (
        "Functional images were realigned (rigid body, "
        f"{'two passes' if DEFAULTS['two_pass'] else 'one pass'}), the structural image's smooth "
        f"intensity bias was divided out {c('styner2000bias')}, the mean functional image was "
        "coregistered to it (mutual information) and the structural image was "
        f"normalised to the MNI152 ICBM 2009a nonlinear asymmetric template distributed with nilearn "
        f"{c('fonov2011mni', 'abraham2014')} by an affine registration (a least-squares fit to the "
        "template and its tissue maps, as in SPM, then refined by mutual information) and a symmetric "
        f"diffeomorphic (SyN) registration {c('avants2008syn')}, the last two steps in DIPY "
        f"{c('garyfallidis2014dipy')}; the functional images were resampled once "
        f"({_SPLINE_NAMES.get(DEFAULTS['resample_order'], 'spline')} interpolation) to {resolution:g} mm "
        f"isotropic voxels (files labelled with fMRIPrep's space name {SPACE} so that fMRIPrep-aware tools "
        f"read them) and smoothed with a Gaussian kernel of {DEFAULTS['smoothing_fwhm']:g} mm FWHM."
    )
    parts = [
        f"The analysis re-implemented the SPM8 {c('friston2007spm')} and CONN {c('whitfield2012conn')} "
        f"pipeline of {'{cite:t}`parrish2018`' if form == 'myst' else 'Parrish et al. (2018)'} in Python "
        f"{v('python')}.",
        *(
            [_external_sentence(conn)]
            if source == "external"
            else [preprocessing]
            if source == "ours" or pre.get("run_preprocessing", True)
            else []
        ),
        "Regions of interest were the ventromedial prefrontal cortex (Harvard–Oxford 'Frontal Medial "
        f"Cortex', maximum-probability map thresholded at {atlas.HO_THRESHOLD} %) {c('desikan2006')} and "
        f"the left and right amygdala of the AAL atlas {c('tzourio2002')}.",
        "Following CONN's default denoising, the unsmoothed ROI-average signals were cleaned by regression "
        "of five aCompCor components each from white matter and cerebrospinal fluid "
        f"{c('behzadi2007')}, the six realignment parameters and their first-order derivatives, the task "
        f"effects and their derivatives, a constant and a linear trend, then high-pass filtered at "
        f"{highpass:g} Hz.",
        "Condition-specific ROI-to-ROI connectivity was the weighted Pearson correlation of the ROI time "
        f"series with {_WEIGHTING.get(conn.get('weighting', 'hrf'), conn.get('weighting', 'hrf'))}, Fisher z "
        "transformed; the contrast of interest was negative minus neutral feedback.",
        f"Self-compassion was scored from the 26-item Self-Compassion Scale {c('neff2003')} as {total}, and "
        "related to connectivity across participants with Pearson's r, "
        f"{_TESTS.get(res.get('alternative', 'directional'), res.get('alternative', ''))} "
        f"(connectivity measure: {res.get('measure', 'weighted_hrf')}).",
        *(
            [
                f"In this run, connectivity was computed from the preprocessed images in "
                f"{Path(conn['derivatives_dir']).name} (the digital twin's simulated derivatives); "
                + (
                    "the preprocessing above was applied to the raw images and compared with them."
                    if pre.get("run_preprocessing", True)
                    else "the book's own preprocessing did not run."
                )
            ]
            if source == "twin"
            else []
        ),
        f"Software: helpers {v('helpers')} (this book), NiBabel {v('nibabel')} {c('brett2024nibabel')}, "
        f"DIPY {v('dipy')}, nilearn {v('nilearn')} {c('abraham2014')}, NumPy {v('numpy')} "
        f"{c('harris2020numpy')}, SciPy {v('scipy')} {c('virtanen2020scipy')}, pandas {v('pandas')} "
        f"{c('mckinney2010pandas')} and Pingouin {v('pingouin')} {c('vallat2018')}.",
    ]
    return " ".join(parts)


def save(output_dir: str | os.PathLike = "build/outputs") -> Path:
    """Write the plain-text paragraph to ``<output_dir>/methods_paragraph.txt`` (atomically); return its path.

    Parameters
    ----------
    output_dir : path-like, default "build/outputs"
        The book's output folder (its provenance records are read by :func:`methods_paragraph`).

    Returns
    -------
    pathlib.Path
    """
    from .io import atomic_path

    dest = Path(output_dir) / "methods_paragraph.txt"
    with atomic_path(dest) as tmp:
        Path(tmp).write_text(methods_paragraph(output_dir, form="text") + "\n")
    return dest
