"""The outlier choice: CONN's ART presets or explicit thresholds, the motion measure, the method.

**Presets** (``conn_setup_preproc.m``: ``art_global_thresholds=[9 5 3]``,
``art_motion_thresholds=[2 .9 .5]``; the dialog labels them by percentiles "in normative sample";
``conn_convertl12l1covariate.m`` names the pairs): :data:`PRESETS`.  CONN's default is
``intermediate`` (``art_useconservative=1`` picks the second pair).  The percentiles are CONN's
labels; the normative sample behind them is not described in the sources read.  (When CONN imports
fMRIPrep derivatives it builds its scrubbing covariate from fMRIPrep's ``std_dvars`` > 1.5 or
``framewise_displacement`` > 0.5 instead, ``conn.m``; not reproduced here.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: CONN's ART presets: global-signal z and composite-motion mm thresholds (``conn_setup_preproc.m``).
PRESETS = {
    "liberal": {"gs_z": 9.0, "fd_mm": 2.0},  # "99th percentiles in normative sample"
    "intermediate": {"gs_z": 5.0, "fd_mm": 0.9},  # "97th percentiles" (CONN's default)
    "conservative": {"gs_z": 3.0, "fd_mm": 0.5},
}  # "95th percentiles"
METHODS = ("scrub", "censor")
FD_KINDS = ("conn", "power")


@dataclass(frozen=True)
class OutlierRule:
    """One outlier choice: thresholds, the motion measure and how flagged scans are applied.

    Attributes
    ----------
    gs_z : float
        Global-signal change threshold (robust z; ``inf`` switches it off).
    fd_mm : float
        Scan-to-scan motion threshold in mm (``inf`` switches it off).
    method : {"scrub", "censor"}, default "scrub"
        CONN's spike regressors or nilearn-style censoring (:mod:`helpers.outliers.scrub_censor`).
    fd : {"conn", "power"}, default "conn"
        Motion measure: CONN's composite from the realignment parameters, or fMRIPrep's
        ``framewise_displacement`` column.
    name : str
        Label for tables and the multiverse (the preset's name, or ``"custom"``).
    """

    gs_z: float
    fd_mm: float
    method: str = "scrub"
    fd: str = "conn"
    name: str = "custom"

    @property
    def label(self) -> str:
        """``<name>-<method>``, e.g. ``intermediate-scrub``."""
        return f"{self.name}-{self.method}"


def _positive(key: str, value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value <= 0:
        raise ValueError(f"{where}: key {key!r} = {value!r} (rule: a number > 0; inf switches the test off)")
    return float(value)


def parse_outliers(spec, where: str = "parameter 'outliers'") -> OutlierRule | None:
    """The outlier choice from the ``outliers`` parameter.

    Parameters
    ----------
    spec : None, str or dict, default "none"
        ``"none"`` / None: no outlier scans (the paper's pipeline).  A preset name
        (:data:`PRESETS`: ``"liberal"``, ``"intermediate"``, ``"conservative"``), applied by
        scrubbing.  A dict: either ``{preset: <name>}`` or explicit ``{gs_z: <float>,
        fd_mm: <float>}``, each optionally with ``method: scrub|censor`` (default scrub) and
        ``fd: conn|power`` (default conn).
    where : str, default "parameter 'outliers'"
        Start of error messages.

    Returns
    -------
    OutlierRule or None
        The rule; None for no outlier scans.

    Raises
    ------
    ValueError
        Unknown preset, method, motion measure or key; a threshold that is not a positive number.
    """
    if spec is None or (isinstance(spec, str) and spec == "none"):
        return None
    if isinstance(spec, str):
        spec = {"preset": spec}
    if not isinstance(spec, dict):
        raise ValueError(
            f"{where} = {spec!r} (rule: 'none', a preset {sorted(PRESETS)} or a mapping "
            "{gs_z, fd_mm, method, fd})"
        )
    unknown = sorted(set(spec) - {"preset", "gs_z", "fd_mm", "method", "fd"})
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {unknown} (rule: preset, or gs_z and fd_mm; optional method and fd)"
        )
    method, fd = spec.get("method", "scrub"), spec.get("fd", "conn")
    if method not in METHODS:
        raise ValueError(f"{where}: method {method!r} (rule: one of {METHODS})")
    if fd not in FD_KINDS:
        raise ValueError(f"{where}: fd {fd!r} (rule: one of {FD_KINDS})")
    if "preset" in spec:
        if spec["preset"] not in PRESETS or {"gs_z", "fd_mm"} & set(spec):
            raise ValueError(
                f"{where}: preset {spec['preset']!r} (rule: one of {sorted(PRESETS)}, without gs_z or fd_mm)"
            )
        return OutlierRule(**PRESETS[spec["preset"]], method=method, fd=fd, name=spec["preset"])
    missing = [k for k in ("gs_z", "fd_mm") if k not in spec]
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing} (rule: explicit thresholds give gs_z and fd_mm)")
    return OutlierRule(
        _positive("gs_z", spec["gs_z"], where), _positive("fd_mm", spec["fd_mm"], where), method, fd
    )
