"""Ways to break a copy of a dataset, one per kind of mistake.

Kinds: questionnaire, images, events, derivatives, parameters.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

TASK = "feedback"
DERIV = Path("derivatives") / "twin-fmriprep"


# --------------------------------------------------------------------------- copies and edits
def _subjects(dataset: Path, n: int) -> list[str]:
    table = pd.read_csv(dataset / "participants.tsv", sep="\t", dtype=str)
    return sorted(table["participant_id"])[:n]


def _mini_dataset(dataset: Path, work: Path, n: int = 1) -> tuple[Path, list[str]]:
    """A raw BIDS copy with the first ``n`` participants (no derivatives)."""
    subs = _subjects(dataset, n)
    root = work / "bids"
    root.mkdir(parents=True)
    shutil.copy(dataset / "dataset_description.json", root)
    for rel in ("participants.tsv", "phenotype/scs.tsv"):
        table = pd.read_csv(dataset / rel, sep="\t", dtype=str, keep_default_na=False)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        table[table["participant_id"].isin(subs)].to_csv(root / rel, sep="\t", index=False)
    for sub in subs:
        shutil.copytree(dataset / sub, root / sub)
    return root, subs


def _edit_tsv(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Path:
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    edit(table).to_csv(path, sep="\t", index=False)
    return path


def _edit_image(path: Path, edit: Callable[[nib.Nifti1Image, np.ndarray], nib.Nifti1Image]) -> Path:
    img = nib.load(path)
    new = edit(img, np.asanyarray(img.dataobj))
    nib.save(new, path)
    return path


def _like(img, data, dtype=None) -> nib.Nifti1Image:
    header = img.header.copy()
    if dtype is not None:
        header.set_data_dtype(dtype)
    out = nib.Nifti1Image(data, img.affine, header)
    out.header.set_data_shape(data.shape)
    return out


def _bold(root: Path, sub: str) -> Path:
    return root / sub / "func" / f"{sub}_task-{TASK}_bold.nii.gz"


def _events(root: Path, sub: str) -> Path:
    return root / sub / "func" / f"{sub}_task-{TASK}_events.tsv"


def _validate(root: Path) -> None:
    from ..bids import validate_dataset

    validate_dataset(root, task=TASK)


def _raw(n: int, breaker: Callable[[Path, list[str]], object]) -> Callable[[Path, Path], None]:
    """A case that breaks a raw mini dataset of ``n`` participants, then validates it."""

    def run(dataset: Path, work: Path) -> None:
        root, subs = _mini_dataset(dataset, work, n)
        breaker(root, subs)
        _validate(root)

    return run


def _set_cell(column: str, value: str, row: int = 0):
    def edit(table):
        table.loc[table.index[row], column] = value
        return table

    return edit


# --------------------------------------------------------------------------- questionnaire
def _scs(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path, Path], object]:
    """Score a copy of phenotype/scs.tsv after ``edit`` (as the questionnaire chapter does)."""

    def run(dataset: Path, work: Path):
        from ..scs import read_scs, score_scs

        path = work / "phenotype" / "scs.tsv"
        path.parent.mkdir(parents=True)
        shutil.copy(dataset / "phenotype" / "scs.tsv", path)
        _edit_tsv(path, edit)
        return score_scs(read_scs(path))

    return run


def _scs_text(edit: Callable[[list[str]], list[str]]):
    """Read a copy of phenotype/scs.tsv whose lines were edited as text (what a spreadsheet export does)."""

    def run(dataset: Path, work: Path):
        from ..scs import read_scs, score_scs

        path = work / "phenotype" / "scs.tsv"
        path.parent.mkdir(parents=True)
        lines = (dataset / "phenotype" / "scs.tsv").read_text().splitlines()
        path.write_text("\n".join(edit(lines)) + "\n")
        return score_scs(read_scs(path))

    return run


def _text_cell(line: str, column: int, value: str) -> str:
    """``line`` of a TSV with cell ``column`` replaced by ``value``."""
    cells = line.split("\t")
    cells[column] = value
    return "\t".join(cells)


def _drop(column: str):
    return lambda t: t.drop(columns=[column])


def _duplicate_first(table):
    return pd.concat([table, table.iloc[[0]]], ignore_index=True)


def _extra_scs_row(root: Path, subs: list[str]) -> None:
    path = root / "phenotype" / "scs.tsv"
    _edit_tsv(path, lambda t: pd.concat([t, t.iloc[[0]].assign(participant_id="sub-99")], ignore_index=True))


def _drop_scs_row(root: Path, subs: list[str]) -> None:
    _edit_tsv(root / "phenotype" / "scs.tsv", lambda t: t[t["participant_id"] != subs[-1]])


def _stats(scores_ids: list[str], conn_ids: list[str]):
    """Pair SCS scores with connectivity (group statistics): mismatched participants are warned about."""

    def run(dataset: Path, work: Path):
        from ..stats import paired_values

        scores = pd.DataFrame({"participant_id": scores_ids, "total": np.linspace(2, 4, len(scores_ids))})
        conn = pd.DataFrame(
            {
                "participant_id": conn_ids,
                "measure": "weighted_hrf",
                "condition": "negative-neutral",
                "source": "vmpfc",
                "target": "amygdala_r",
                "r": np.nan,
                "z": np.linspace(-0.2, 0.3, len(conn_ids)),
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return paired_values(scores, conn, "total", "negative-neutral", ("vmpfc", "amygdala_r"))

    return run


def _small_group(dataset: Path, work: Path):
    """The group read for the results (group statistics) after the connectivity stage skipped two of
    four participants whose runs were too short for the denoising design."""
    from ..execution import record_exclusions
    from ..robustness import synthetic_study
    from ..stats import read_inputs

    scores, conn = synthetic_study(n=4, rho=-0.4, seed=5)
    out = work / "outputs"
    out.mkdir(parents=True)
    scores.to_csv(out / "scores.tsv", sep="\t", index=False)
    conn.to_csv(out / "connectivity.tsv", sep="\t", index=False)
    reason = "ValueError: regress_and_filter: 30 regressors for {} scans leave no degrees of freedom"
    failed = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-03"],
            "stage": "connectivity",
            "reason": [reason.format(25), reason.format(28)],
        }
    )
    record_exclusions(failed, out / "exclusions.tsv", "connectivity")
    return read_inputs(out, min_participants=3)


# --------------------------------------------------------------------------- images
def _bold_edit(edit, which: int = 0):
    def breaker(root: Path, subs: list[str]) -> None:
        _edit_image(_bold(root, subs[which]), edit)

    return breaker


def _three_d(img, data):
    return _like(img, np.ascontiguousarray(data[..., 0]))


def _all_zero(img, data):
    return _like(img, np.zeros_like(data))


def _with_nan(img, data):
    out = data.astype(np.float32)
    out[1, 2, 3, 4] = np.nan
    return _like(img, out, np.float32)


def _other_tr(img, data):
    out = _like(img, data)
    out.header.set_zooms(img.header.get_zooms()[:3] + (2.0,))
    return out


def _one_slice_less(img, data):
    return _like(img, np.ascontiguousarray(data[:, :, :-1]))


def _no_orientation(img, data):
    header = img.header.copy()
    header["sform_code"] = 0
    header["qform_code"] = 0
    return nib.Nifti1Image(data, None, header)  # no affine: nibabel keeps the codes at 0


def _cut_file(keep: float):
    def breaker(root: Path, subs: list[str]) -> None:
        path = _bold(root, subs[0])
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return breaker


def _scramble_middle(root: Path, subs: list[str]) -> None:
    path = _bold(root, subs[0])
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 2000] = np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def _flip_bit(root: Path, subs: list[str]) -> None:
    path = _bold(root, subs[0])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _zooms(zooms):
    def edit(img, data):
        out = _like(img, data)
        out.header.set_zooms(tuple(zooms) + img.header.get_zooms()[3:])
        return nib.Nifti1Image(data, None, out.header)  # the header's pixdim and qform/sform as written

    return edit


def _uncompressed_copy(root: Path, subs: list[str]) -> None:
    nib.save(nib.load(_bold(root, subs[0])), _bold(root, subs[0]).with_suffix(""))


def _rename_task(root: Path, subs: list[str]) -> None:
    for path in (root / subs[0] / "func").iterdir():
        path.rename(path.with_name(path.name.replace(f"task-{TASK}", "task-faces")))


def _echo(root: Path, subs: list[str]) -> None:
    bold = _bold(root, subs[0])
    bold.rename(bold.with_name(bold.name.replace("_bold", "_echo-1_bold")))


def _sidecar(fields: dict):
    def breaker(root: Path, subs: list[str]) -> None:
        path = _bold(root, subs[0]).with_name(f"{subs[0]}_task-{TASK}_bold.json")
        path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))

    return breaker


def _trailing_comma(root: Path, subs: list[str]) -> None:
    path = _bold(root, subs[0]).with_name(f"{subs[0]}_task-{TASK}_bold.json")
    path.write_text('{\n  "RepetitionTime": 3.0,\n}\n')


def _anat_upper_case(root: Path, subs: list[str]) -> None:
    for path in (root / subs[0] / "anat").iterdir():
        path.rename(path.with_name(path.name.replace("_T2w", "_T2W")))


def _anat_no_orientation(root: Path, subs: list[str]) -> None:
    _edit_image(next((root / subs[0] / "anat").glob("*.nii*")), _no_orientation)


def _drop_tr(root: Path, subs: list[str]) -> None:
    path = root / subs[0] / "func" / f"{subs[0]}_task-{TASK}_bold.json"
    meta = json.loads(path.read_text())
    meta.pop("RepetitionTime")
    path.write_text(json.dumps(meta))


def _preprocessing_structural(dataset: Path, work: Path):
    """Preprocessing's input check (helpers.preprocess.inputs) on a structural without orientation."""
    from ..preprocess.inputs import find_inputs, load_structural

    root, subs = _mini_dataset(dataset, work, 1)
    _anat_no_orientation(root, subs)
    return load_structural(find_inputs(root, subs[0], TASK))


# --------------------------------------------------------------------------- events
def _events_edit(edit):
    def breaker(root: Path, subs: list[str]) -> None:
        _edit_tsv(_events(root, subs[0]), edit)

    return breaker


def _events_csv(root: Path, subs: list[str]) -> None:
    path = _events(root, subs[0])
    path.rename(path.with_suffix(".csv"))


def _relabel(old: str, new: str):
    def edit(table):
        table.loc[table["trial_type"] == old, "trial_type"] = new
        return table

    return edit


def _effects(edit):
    """CONN's Effect regressors (helpers.connectivity) from a participant's edited events."""

    def run(dataset: Path, work: Path):
        from ..bids import read_tsv
        from ..connectivity import condition_effects
        from ..layout import raw_runs

        sub = _subjects(dataset, 1)[0]
        (run,) = raw_runs(dataset, sub, TASK)
        events = edit(read_tsv(run.events))
        events.attrs["source"] = str(run.events)
        n_scans = nib.load(run.bold).shape[3]
        tr = run.tr
        return condition_effects(
            events, n_scans=n_scans, tr=tr, conditions=["negative", "neutral", "positive"]
        )

    return run


# --------------------------------------------------------------------------- derivatives
def _files(dataset: Path):
    from ..firstlevel import find_participant_files

    sub = _subjects(dataset, 1)[0]
    return find_participant_files(dataset, dataset / DERIV, sub, task=TASK)


def _confounds(edit):
    """Read the realignment parameters of an edited confounds TSV (first level)."""

    def run(dataset: Path, work: Path):
        from ..firstlevel import read_motion

        files = _files(dataset)
        path = work / files.confounds.name
        shutil.copy(files.confounds, path)
        n_scans = nib.load(files.bold).shape[3]
        _edit_tsv(path, edit)
        return read_motion(path, n_scans, participant=files.participant_id)

    return run


def _roi_signal(fill: Callable[[np.ndarray], float]):
    """ROI signals (first level) from a BOLD copy whose vmPFC voxels are set to ``fill(data)``."""

    def run(dataset: Path, work: Path):
        from ..atlas import roi_masks
        from ..firstlevel import extract_signals

        files = _files(dataset)
        path = work / files.bold.name
        img = nib.load(files.bold)
        data = np.asanyarray(img.dataobj).astype(np.float32)
        mask = np.asanyarray(roi_masks(img)["vmpfc"].dataobj).astype(bool)
        data[mask] = fill(data)
        nib.save(_like(img, data, np.float32), path)
        return extract_signals(dataclasses.replace(files, bold=path))

    return run


def _all_zero_weights(dataset: Path, work: Path):
    """Weighted correlation with a condition whose weights are 0 in every scan (every scan censored)."""
    from ..connectivity import roi_to_roi

    rng = np.random.default_rng(0)
    series = pd.DataFrame(rng.standard_normal((40, 3)), columns=["vmpfc", "amygdala_l", "amygdala_r"])
    weights = pd.DataFrame({"negative": np.zeros(40), "neutral": np.ones(40)})
    return roi_to_roi(series, weights)


# --------------------------------------------------------------------------- parameters and output
def _params(values: dict):
    def run(dataset: Path, work: Path):
        from ..params import validate_params

        return validate_params(values, source="params file my_params.yml")

    return run


def _chapter_output_under_file(dataset: Path, work: Path):
    """A notebook's Chapter with output_dir below a regular file (tests run as root, where chmod does
    not stop writes; a path below a file cannot be created by anyone)."""
    from ..provenance import Chapter

    blocker = work / "results.txt"
    blocker.write_text("a file, not a folder\n")
    out = str(blocker / "outputs")
    return Chapter("03_connectivity", params={"output_dir": out}, output_dir=out)


def _chapter_bad_value(dataset: Path, work: Path):
    from ..provenance import Chapter

    out = str(work / "outputs")
    return Chapter("03_connectivity", params={"output_dir": out, "weighting": "gaussian"}, output_dir=out)
