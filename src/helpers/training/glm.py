"""fMRI analysis of the training study: first-level GLMs, second-level maps, ROIs, figures.

Summary-statistics approach (Holmes & Friston 1998), as in SPM and nilearn:

1. **First level** (per participant and session): design matrix from nilearn's
   ``make_first_level_design_matrix`` (SPM canonical HRF, regressors distress, everyday, rating;
   cosine drift with high-pass 1/128 Hz; constant).  OLS estimates β = X⁺ Y and the contrast
   effect c = βᵀ w with w = distress − everyday.  ``method="ols"`` computes X⁺ Y directly (the same
   numbers as nilearn's ``run_glm(noise_model="ols")``, about 50x faster; tested); ``"nilearn-ols"``
   and ``"nilearn-ar1"`` call nilearn's ``run_glm`` (AR(1) prewhitening changes the first-level
   variance, which the summary-statistics second level does not use, and the effects only slightly).
2. **Smoothing**: the contrast maps are smoothed (Gaussian, ``smoothing_fwhm``).  Smoothing is
   linear and the design is the same in every voxel, so smoothing the OLS effect map equals
   estimating the effect on smoothed data (up to the brain-mask edge).
3. **Second level** (nilearn ``SecondLevelModel``): the group x session interaction is the
   two-sample t-test compassion vs memory on the per-participant change maps d = c_post − c_pre;
   the pre-training network is the one-sample t-test of c_pre over everybody.  Whole-brain maps
   are thresholded with ``threshold_stats_img`` (default: voxel-wise FDR q < .05, two-sided).
4. **ROIs**: the mean smoothed contrast in each ROI, per participant and session, then a mixed
   ANOVA group x session (pingouin) per ROI; p Bonferroni-corrected over the ROIs of a family.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
from nilearn import image as nimg
from nilearn.glm import threshold_stats_img
from nilearn.glm.contrasts import compute_contrast
from nilearn.glm.first_level import make_first_level_design_matrix, run_glm
from nilearn.glm.second_level import SecondLevelModel

from .behaviour import hedges_g_change

__all__ = [
    "design_matrix",
    "contrast_vector",
    "first_level",
    "smooth",
    "second_level_maps",
    "threshold_map",
    "roi_values",
    "roi_stats",
    "roi_onesample",
    "METHODS",
]

METHODS = ("ols", "nilearn-ols", "nilearn-ar1")


def design_matrix(ev: pd.DataFrame, n_vol: int, tr: float, glm_cfg: dict) -> pd.DataFrame:
    """nilearn's first-level design matrix for one run (frame times i·TR, i = 0 … n_vol − 1).

    Parameters
    ----------
    ev : DataFrame
        The run's events (``onset``, ``duration`` in s, ``trial_type``).
    n_vol : int
        Number of volumes.
    tr : float
        Repetition time (s).
    glm_cfg : dict
        The config's ``glm`` section: ``hrf_model`` (e.g. ``"spm"``), ``drift_model``
        (e.g. ``"cosine"``) and ``high_pass`` (Hz, e.g. 1/128).

    Returns
    -------
    DataFrame
        n_vol rows; one column per trial type, the drift regressors and ``constant``.
    """
    return make_first_level_design_matrix(
        np.arange(n_vol) * tr,
        ev[["onset", "duration", "trial_type"]],
        hrf_model=glm_cfg["hrf_model"],
        drift_model=glm_cfg["drift_model"],
        high_pass=glm_cfg["high_pass"],
    )


def contrast_vector(columns, positive: str = "distress", negative: str = "everyday") -> np.ndarray:
    """Weights w (+1 for ``positive``, −1 for ``negative``, 0 elsewhere) over the design's columns.

    Parameters
    ----------
    columns : iterable of str
        Design-matrix column names.
    positive : str, default "distress"
        Column weighted +1.
    negative : str, default "everyday"
        Column weighted −1.

    Returns
    -------
    ndarray, shape (n_columns,)

    Raises
    ------
    ValueError
        If either column is missing (the message lists the columns).
    """
    cols = list(columns)
    for name in (positive, negative):
        if name not in cols:
            raise ValueError(f"design matrix has no column {name!r} (columns: {cols})")
    return np.array([1.0 if c == positive else -1.0 if c == negative else 0.0 for c in cols])


def first_level(y: np.ndarray, X: pd.DataFrame, weights: np.ndarray, method: str = "ols") -> np.ndarray:
    """Contrast effect βᵀw per voxel, by OLS or nilearn's ``run_glm``.

    ``"ols"``: β = X⁺ y (pseudo-inverse); ``"nilearn-ols"``/``"nilearn-ar1"``: nilearn's ``run_glm``
    with that noise model and ``compute_contrast(...).effect_size()``.

    Parameters
    ----------
    y : ndarray, shape (n_volumes, n_voxels)
        BOLD data (percent signal).
    X : DataFrame, shape (n_volumes, n_regressors)
        Design matrix (:func:`design_matrix`).
    weights : ndarray, shape (n_regressors,)
        Contrast w (:func:`contrast_vector`).
    method : {"ols", "nilearn-ols", "nilearn-ar1"}, default "ols"
        Estimator (:data:`METHODS`).

    Returns
    -------
    ndarray of float32, shape (n_voxels,)

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`METHODS`.
    """
    if method == "ols":
        beta = np.linalg.pinv(X.to_numpy()) @ y
        return (weights @ beta).astype(np.float32)
    if method in ("nilearn-ols", "nilearn-ar1"):
        labels, results = run_glm(y, X.to_numpy(), noise_model=method.split("-")[1], n_jobs=1)
        return compute_contrast(labels, results, weights, stat_type="t").effect_size().astype(np.float32)
    raise ValueError(f"first-level method {method!r} is not one of {METHODS}")


def smooth(values: np.ndarray, grid, fwhm: float) -> np.ndarray:
    """Gaussian smoothing (FWHM mm, nilearn ``smooth_img``) of a map given over the brain mask.

    Parameters
    ----------
    values : ndarray, shape (n_voxels,)
        Values at the grid's mask voxels.
    grid : helpers.training.design.Grid
        Grid that turns the values into an image and back.
    fwhm : float
        Kernel full width at half maximum (mm); 0 or None returns ``values`` unchanged.

    Returns
    -------
    ndarray of float32, shape (n_voxels,)
    """
    if not fwhm:
        return values
    data = np.asarray(nimg.smooth_img(grid.image(values), fwhm).dataobj)
    return data[grid.mask].astype(np.float32)


def second_level_maps(contrasts: np.ndarray, groups: pd.Series, grid) -> dict:
    """The two whole-brain tests of the study (nilearn ``SecondLevelModel``), as z images.

    Parameters
    ----------
    contrasts : ndarray (n_participants, 2, n_voxels)
        Smoothed distress − everyday effects, sessions in order (pre, post).
    groups : Series
        Group per participant (``"compassion"``/``"memory"``), same order.
    grid : helpers.training.design.Grid
        Grid and brain mask of the maps.

    Returns
    -------
    dict
        ``"pre"``: one-sample z map of c_pre (everybody); ``"interaction"``: two-sample z map
        compassion − memory of d = c_post − c_pre.
    """
    groups = pd.Series(groups).reset_index(drop=True)
    mask = grid.mask_img()
    pre = [grid.image(c) for c in contrasts[:, 0]]
    one = SecondLevelModel(mask_img=mask).fit(
        pre, design_matrix=pd.DataFrame({"intercept": np.ones(len(pre))})
    )
    diff = [grid.image(c) for c in contrasts[:, 1] - contrasts[:, 0]]
    design = pd.DataFrame({g: (groups == g).astype(float).to_numpy() for g in ("compassion", "memory")})
    two = SecondLevelModel(mask_img=mask).fit(diff, design_matrix=design)
    return {
        "pre": one.compute_contrast("intercept", output_type="z_score"),
        "interaction": two.compute_contrast("compassion - memory", output_type="z_score"),
    }


def threshold_map(z_img, grid, alpha: float = 0.05, height_control: str = "fdr") -> tuple:
    """Corrected threshold of a z map (nilearn ``threshold_stats_img``, two-sided, no cluster threshold).

    Parameters
    ----------
    z_img : Nifti1Image
        z map (:func:`second_level_maps`).
    grid : helpers.training.design.Grid
        Supplies the brain mask.
    alpha : float, default 0.05
        Error rate: FDR q, family-wise rate (``"bonferroni"``) or voxel-wise p (``"fpr"``).
    height_control : {"fdr", "bonferroni", "fpr"}, default "fdr"
        Correction, passed to nilearn.

    Returns
    -------
    thresholded : Nifti1Image
    threshold : float
        The |z| threshold (``inf`` when nothing survives).
    n_voxels : int
        Voxels surviving.
    """
    with warnings.catch_warnings():
        # nilearn warns when no voxel survives (threshold = inf); that outcome is reported, not an error.
        warnings.filterwarnings("ignore", message="The given float value must not exceed")
        thr_img, thr = threshold_stats_img(
            z_img,
            mask_img=grid.mask_img(),
            alpha=alpha,
            height_control=height_control,
            cluster_threshold=0,
            two_sided=True,
        )
    n = int((np.asarray(thr_img.dataobj)[grid.mask] != 0).sum())
    return thr_img, float(thr), n


def roi_values(
    contrasts: np.ndarray, table: pd.DataFrame, grid, family: str, sessions=("pre", "post")
) -> pd.DataFrame:
    """Mean contrast in each ROI: long table ``participant_id, group, session, roi, effect``.

    Parameters
    ----------
    contrasts : ndarray, shape (n_participants, n_sessions, n_voxels)
        Contrast maps (:class:`.pipeline.Study`).
    table : DataFrame
        Participants (``participant_id``, ``group``), in the order of ``contrasts``.
    grid : helpers.training.design.Grid
        Supplies the ROI voxel indices.
    family : str
        ROI family of the grid (e.g. the network or the a-priori regions).
    sessions : sequence of str, default ("pre", "post")
        Session labels, in the order of the second axis.

    Returns
    -------
    DataFrame
    """
    rows = []
    for name, sel in grid.roi_index(family).items():
        means = contrasts[:, :, sel].mean(axis=2)
        for s_idx, session in enumerate(sessions):
            rows.append(
                pd.DataFrame(
                    {
                        "participant_id": table["participant_id"].to_numpy(),
                        "group": table["group"].to_numpy(),
                        "session": session,
                        "roi": name,
                        "effect": means[:, s_idx],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def roi_stats(values: pd.DataFrame) -> pd.DataFrame:
    """Per ROI: mixed ANOVA group x session (pingouin) and the training effect on the change.

    Parameters
    ----------
    values : DataFrame
        Long table from :func:`roi_values`.

    Returns
    -------
    DataFrame
        Columns ``roi, F, df1, df2, p, p_bonferroni, np2`` (interaction), ``change_compassion``,
        ``change_memory`` (mean post − pre), ``hedges_g`` (compassion vs memory on the change).
        Bonferroni over the ROIs in ``values``: p_bonferroni = min(1, p · n_rois).
    """
    rows = []
    rois = list(dict.fromkeys(values["roi"]))
    for roi in rois:
        sub = values[values["roi"] == roi]
        aov = pg.mixed_anova(
            data=sub, dv="effect", within="session", between="group", subject="participant_id"
        )
        inter = aov.set_index("Source").loc["Interaction"]
        change = hedges_g_change(sub, "effect")
        rows.append(
            {
                "roi": roi,
                "F": float(inter["F"]),
                "df1": int(inter["DF1"]),
                "df2": int(inter["DF2"]),
                "p": float(inter["p_unc"]),
                "np2": float(inter["np2"]),
                **change,
            }
        )
    out = pd.DataFrame(rows)
    out.insert(5, "p_bonferroni", np.minimum(out["p"] * len(rois), 1.0))
    return out


def roi_onesample(values: pd.DataFrame, session: str = "pre") -> pd.DataFrame:
    """Per ROI: one-sample t-test of the distress − everyday effect in one session, everybody.

    pingouin ``ttest`` against 0; Bonferroni over the ROIs: p_bonferroni = min(1, p · n_rois).

    Parameters
    ----------
    values : DataFrame
        Long table from :func:`roi_values`.
    session : str, default "pre"
        Session tested.

    Returns
    -------
    DataFrame
        Columns ``roi, mean, T, dof, p, p_bonferroni, cohen_d``.
    """
    rows = []
    sub = values[values["session"] == session]
    rois = list(dict.fromkeys(sub["roi"]))
    for roi in rois:
        x = sub.loc[sub["roi"] == roi, "effect"].to_numpy()
        res = pg.ttest(x, 0.0).iloc[0]
        rows.append(
            {
                "roi": roi,
                "mean": float(x.mean()),
                "T": float(res["T"]),
                "dof": int(res["dof"]),
                "p": float(res["p_val"]),
                "cohen_d": float(res["cohen_d"]),
            }
        )
    out = pd.DataFrame(rows)
    out.insert(5, "p_bonferroni", np.minimum(out["p"] * len(rois), 1.0))
    return out
