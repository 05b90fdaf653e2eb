"""NIfTI images read to their end (a damaged gzip is caught): :func:`read_image`."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np


# --------------------------------------------------------------------------------------------- images
def read_image(path: str | os.PathLike) -> nib.Nifti1Image:
    """Load a NIfTI image with its data in memory, every byte checked.

    A ``.nii.gz`` is decompressed to its end, so a damaged file fails gzip's CRC-32 and length check
    (nibabel alone reads only as many bytes as the header asks for and can return wrong values
    silently); a ``.nii`` must hold as many bytes as its header says.

    Parameters
    ----------
    path : path-like
        A ``.nii`` or ``.nii.gz`` file.

    Returns
    -------
    nibabel.Nifti1Image
        With its data read.

    Raises
    ------
    ValueError
        The compressed data are damaged or the file is not a complete NIfTI-1 image (names the file).
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
            raise ValueError(
                f"{path}: the compressed data are damaged ({type(err).__name__}: {err}); the file "
                "is truncated or corrupt (rule: a complete NIfTI file; copy or export it again)"
            ) from None
    try:
        img = nib.Nifti1Image.from_bytes(raw)
        np.asanyarray(img.dataobj)  # reads every voxel: a short .nii fails here
    except Exception as err:  # nibabel raises many types for bad headers or short data
        raise ValueError(
            f"{path}: not a readable NIfTI-1 image ({type(err).__name__}: {err}) (rule: a complete "
            "NIfTI file; copy or export it again)"
        ) from None
    return img
