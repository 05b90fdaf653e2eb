"""Key findings of the reproduction, read back from the tables the chapters wrote.

The discussion chapter states these numbers in prose; computing them here from the
saved tables (``<output_dir>/tables/*.tsv``) keeps every number in the discussion
traceable to a file listed on the book's checksum page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .paper import table1 as paper_table1

__all__ = ["key_findings", "TABLES"]

#: The tables the findings are read from (written by the results and robustness chapters).
TABLES = ("table1", "audit", "sensitivity", "specification_curve", "leave_one_out")


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.tsv"
    if not path.is_file():
        raise ValueError(f"{path} is missing: run the results and robustness chapters first "
                         f"(the discussion reads {', '.join(t + '.tsv' for t in TABLES)})")
    return pd.read_csv(path, sep="\t", na_values="n/a")


def key_findings(output_dir: str | os.PathLike, alpha: float = 0.05) -> dict[str, float | int | str]:
    """Summary numbers of the reproduction (plain Python values, ready to glue).

    Returns
    -------
    dict
        ``t1_rows``: rows of Table 1; ``t1_mean_abs_diff``: mean |r_ours − r_paper| over them;
        ``t1_max_abs_diff``; ``t1_sign_agree``: rows whose r has the paper's sign;
        ``t1_sig_ours`` / ``t1_sig_ours_two`` / ``t1_sig_paper``: rows with p < ``alpha``
        (ours one-tailed as the paper, ours two-tailed, the paper's);
        ``headline_r`` / ``headline_p`` / ``headline_p_two``: our self-compassion mean row;
        ``audit_n``, ``audit_one_tailed``, ``audit_two_tailed``, ``audit_neither``: classification of
        the paper's reported r/p pairs; ``audit_paper_sig_two``: reported pairs still below ``alpha``
        two-tailed; ``headline_power``, ``headline_n80_one``, ``headline_n80_two``: power of the
        paper's headline r at its n and the n needed for 80 % power;
        ``spec_n``, ``spec_r_min``, ``spec_r_max``, ``spec_n_sig``: the specification curve;
        ``loo_r_min``, ``loo_r_max``: leave-one-out range of the headline r.
    """
    folder = Path(output_dir) / "tables"
    ours = _read(folder, "table1").set_index("column")
    paper = paper_table1().set_index("scale").loc[ours.index]
    diff = (ours["r"] - paper["r"]).abs()
    audit = _read(folder, "audit")
    sens = _read(folder, "sensitivity")
    spec = _read(folder, "specification_curve")
    loo = _read(folder, "leave_one_out").set_index("key")
    headline = sens.iloc[0]
    return {
        "t1_rows": int(len(ours)),
        "t1_mean_abs_diff": float(diff.mean()),
        "t1_max_abs_diff": float(diff.max()),
        "t1_sign_agree": int(((ours["r"] > 0) == (paper["r"] > 0)).sum()),
        "t1_sig_ours": int((ours["p"] < alpha).sum()),
        "t1_sig_ours_two": int((ours["p_two_sided"] < alpha).sum()),
        "t1_sig_paper": int((paper["p"] < alpha).sum()),
        "headline_r": float(ours.loc["total", "r"]),
        "headline_p": float(ours.loc["total", "p"]),
        "headline_p_two": float(ours.loc["total", "p_two_sided"]),
        "audit_n": int(len(audit)),
        "audit_one_tailed": int((audit["consistent"] == "one-tailed").sum()),
        "audit_two_tailed": int((audit["consistent"] == "two-tailed").sum()),
        "audit_neither": int((audit["consistent"] == "neither").sum()),
        "audit_paper_sig_two": int((audit["p_two_tailed"] < alpha).sum()),
        "headline_power": float(headline["power_one_tailed"]),
        "headline_n80_one": int(headline["n_for_80_one_tailed"]),
        "headline_n80_two": int(headline["n_for_80_two_tailed"]),
        "spec_n": int(len(spec)),
        "spec_r_min": float(spec["r"].min()),
        "spec_r_max": float(spec["r"].max()),
        "spec_n_sig": int((spec["p"] < alpha).sum()),
        "loo_r_min": float(loo.loc["total", "r_min"]),
        "loo_r_max": float(loo.loc["total", "r_max"]),
    }
