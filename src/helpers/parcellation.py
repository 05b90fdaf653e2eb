"""An atlas parcellation as ROIs: connectivity between every label of an atlas the book reads offline.

The paper's three ROIs stay the analysis of record (:data:`helpers.atlas.DEFAULT_ROIS`); a
parcellation is an additional, whole-brain view of the same first level (same denoising, same
condition weights, same weighted correlation): :func:`parcellation_rois` turns the labels of the
AAL atlas (116 labels, Tzourio-Mazoyer et al. 2002) or of the Harvard-Oxford cortical
maximum-probability atlas (48 bilateral labels at 25 %) into ROI specifications for
:func:`helpers.atlas.roi_masks`; :func:`run_parcellation` computes the first level and the
denoising QC (:func:`helpers.denoise_qc.run_denoise_qc`) for them in a folder of their own
(``<output_dir>/parcellation-<atlas>/``), so that the chapters reading ``connectivity.tsv`` are
unchanged; :func:`plot_matrices` shows the group-mean connectivity matrix of each condition.
"""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
import pandas as pd

from . import atlas
from . import firstlevel as fl
from .style import OKABE_ITO, counted, styled

__all__ = [
    "ATLASES",
    "parcellation_rois",
    "run_parcellation",
    "summary_sentence",
    "plot_matrices",
]

log = logging.getLogger(__name__)

#: Atlases whose labels can serve as a parcellation (read offline by :mod:`helpers.atlas`).
ATLASES = {"aal": atlas.aal_atlas, "harvard_oxford": atlas.harvard_oxford_maxprob}


def parcellation_rois(
    name: str = "aal", labels=None, reference_img=None, min_voxels: int = 2
) -> tuple[dict, pd.DataFrame]:
    """ROI specifications for every (or the chosen) label of an atlas, and the labels left out.

    Parameters
    ----------
    name : {"aal", "harvard_oxford"}, default "aal"
    labels : list of str, default None
        Label names (as the atlas spells them, e.g. ``"Precuneus_L"``); default None: all.
    reference_img : Nifti1Image or path, default None
        A preprocessed BOLD image: labels with fewer than ``min_voxels`` voxels on its grid where its
        first volume is non-zero (outside the field of view or the brain) are left out, and listed.
    min_voxels : int, default 2

    Returns
    -------
    (dict, DataFrame)
        ``{label: {"atlas": name, "label": label}}`` in the atlas' order; ``label, reason`` of the
        labels left out.

    Raises
    ------
    ValueError
        Unknown atlas or label (names them), or no label left.
    """
    if name not in ATLASES:
        raise ValueError(f"parcellation {name!r} is not available (rule: one of {', '.join(ATLASES)})")
    known = list(ATLASES[name]()[1])
    chosen = known if labels is None else list(labels)
    unknown = [lab for lab in chosen if lab not in known]
    if unknown:
        raise ValueError(
            f"parcellation {name!r}: unknown label(s) {unknown} (rule: labels as the atlas spells them, "
            f"e.g. {', '.join(known[:3])})"
        )
    rois = {lab: {"atlas": name, "label": lab} for lab in chosen}
    dropped = []
    if reference_img is not None:
        ref = (
            reference_img
            if isinstance(reference_img, nib.spatialimages.SpatialImage)
            else nib.load(reference_img)
        )
        inside = np.asanyarray(ref.dataobj[..., 0]) != 0
        grid = nib.Nifti1Image(np.zeros(ref.shape[:3], np.uint8), ref.affine)
        for lab in list(rois):
            try:
                n = int((np.asanyarray(atlas.roi_masks(grid, {lab: rois[lab]})[lab].dataobj) & inside).sum())
            except ValueError:  # no voxel at all on this grid
                n = 0
            if n < min_voxels:
                dropped.append(
                    (
                        lab,
                        f"{counted(n, 'voxel')} with signal on the BOLD grid (rule: at least {min_voxels})",
                    )
                )
                del rois[lab]
    if not rois:
        raise ValueError(
            f"parcellation {name!r}: no label has {min_voxels} voxels with signal on the BOLD grid"
        )
    for lab, reason in dropped:
        log.warning("parcellation %s: label %s left out: %s", name, lab, reason)
    return rois, pd.DataFrame(dropped, columns=["label", "reason"])


def run_parcellation(
    bids_dir,
    derivatives_dir,
    output_dir,
    name: str = "aal",
    labels=None,
    participants=None,
    task: str = "feedback",
    conditions=("negative", "neutral", "positive"),
    measure: str = "weighted_hrf",
    smoothed: bool = False,
    cache: bool = False,
    **qc,
):
    """First level and denoising QC of a parcellation, in ``<output_dir>/parcellation-<name>/``.

    The labels are checked on the first participant's BOLD grid (:func:`parcellation_rois`); the
    first level is :func:`helpers.firstlevel.run_connectivity` with those ROIs and ``measure`` only;
    the QC is :func:`helpers.denoise_qc.run_denoise_qc` (``**qc``: its thresholds, ``n_perm``, ``seed``).

    Parameters
    ----------
    bids_dir : path-like
        Raw BIDS dataset.
    derivatives_dir : path-like
        fMRIPrep-style derivatives.
    output_dir : path-like
        The parcellation's tables go to ``<output_dir>/parcellation-<name>/``.
    name : {"aal", "harvard_oxford"}, default "aal"
    labels : list of str, default None
        Default None: every label with signal (:func:`parcellation_rois`).
    participants : list of str, default None
        Default None: every participant of the dataset (pass the group sample).
    task : str, default "feedback"
    conditions : sequence of str, default ("negative", "neutral", "positive")
    measure : str, default "weighted_hrf"
        The only measure computed for the parcellation.
    smoothed : bool, default False
    cache : bool, default False
        Reuse per-participant first-level results (:mod:`helpers.cache`).
    **qc
        Passed to :func:`helpers.denoise_qc.run_denoise_qc` (thresholds, ``n_perm``, ``seed``).

    Returns
    -------
    (connectivity DataFrame, :class:`helpers.denoise_qc.DenoiseQC`, DataFrame of the labels left out)
    """
    from .denoise_qc import run_denoise_qc
    from .io import write_tsv
    from .layout import outputs

    participants = list(participants) if participants is not None else fl.list_participants(bids_dir)
    first = fl.find_participant_files(bids_dir, derivatives_dir, participants[0], task, smoothed=smoothed)
    rois, dropped = parcellation_rois(name, labels, reference_img=first.bold)
    folder = outputs(output_dir).parcellation(name).root
    write_tsv(dropped, folder / "labels_left_out.tsv")
    connectivity, _ = fl.run_connectivity(
        bids_dir,
        derivatives_dir,
        folder,
        task=task,
        conditions=conditions,
        measures=(measure,),
        smoothed=smoothed,
        participants=participants,
        rois=rois,
        contrasts=(),
        cache=cache,
        progress=False,
    )
    result = run_denoise_qc(
        bids_dir,
        derivatives_dir,
        folder,
        participants=participants,
        task=task,
        conditions=conditions,
        measure=measure,
        rois=rois,
        smoothed=smoothed,
        progress=False,
        **qc,
    )
    return connectivity, result, dropped


def summary_sentence(
    name: str | None, result=None, dropped: pd.DataFrame | None = None, alpha: float = 0.05
) -> str:
    """One sentence for the prose: the parcellation's QC-FC summary, or that none was requested.

    Parameters
    ----------
    name : str or None
        The atlas (None: no parcellation was requested).
    result : helpers.denoise_qc.DenoiseQC, default None
        The parcellation's QC (:func:`run_parcellation`).
    dropped : DataFrame, default None
        The labels left out (``label, reason``).
    alpha : float, default 0.05
        Level of the QC-FC permutation tests.

    Returns
    -------
    str
    """
    from .style import format_p, format_r

    if name is None:
        return "No parcellation was requested in this run."
    table = result.qc_fc
    n_rois = len(set(table["source"]) | set(table["target"]))
    s = result.summary
    left = 0 if dropped is None else len(dropped)
    return (
        f"Here the parcellation is {name} with {n_rois} regions "
        f"({counted(left, 'label')} left out for lack of signal "
        f"on the BOLD grid, listed in labels_left_out.tsv): {s['pct_significant']:.1f} % of its "
        f"{s['n_edges']} connection–condition values reach p < {f'{alpha:g}'.lstrip('0')}, and the median "
        f"|QC-FC| is {format_r(s['median_abs_qc_fc'], 2)} (permutation p = {format_p(s['p_median'])})."
    )


@styled
def plot_matrices(connectivity: pd.DataFrame, measure: str = "weighted_hrf", conditions=None):
    """Figure: group-mean connectivity (Fisher z) matrix of every condition, ROIs in atlas order.

    One panel per condition, a shared diverging colour scale symmetric about 0 (blue negative, red
    positive); with more than 30 ROIs the labels are left out (the order is the atlas').

    Parameters
    ----------
    connectivity : DataFrame
        The parcellation's ``connectivity.tsv`` rows.
    measure : str, default "weighted_hrf"
        Measure drawn.
    conditions : sequence of str, default None
        Panels, in this order; None: the conditions of ``connectivity``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap

    data = connectivity[connectivity["measure"] == measure]
    conditions = list(dict.fromkeys(data["condition"])) if conditions is None else list(conditions)
    rois = list(dict.fromkeys([*data["source"], *data["target"]]))
    means = {}
    for cond in conditions:
        mean = data[data["condition"] == cond].groupby(["source", "target"])["z"].mean().unstack()
        means[cond] = mean.reindex(index=rois, columns=rois).to_numpy(float)
    limit = max(float(np.nanmax(np.abs(m))) for m in means.values())
    cmap = LinearSegmentedColormap.from_list(
        "blue_white_vermillion", [OKABE_ITO["blue"], "#FFFFFF", OKABE_ITO["vermillion"]]
    )
    fig, axes = plt.subplots(1, len(conditions), figsize=(4.6, 4.6 / len(conditions) + 1.6), squeeze=False)
    for ax, cond in zip(axes[0], conditions):
        image = ax.imshow(means[cond], cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(cond)
        if len(rois) <= 30:
            ax.set_xticks(range(len(rois)), rois, rotation=90, fontsize=6)
            ax.set_yticks(range(len(rois)), rois, fontsize=6)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"{len(rois)} ROIs")
    fig.colorbar(
        image, ax=axes[0].tolist(), orientation="horizontal", fraction=0.08, pad=0.12, label="mean Fisher z"
    )
    return fig
