"""CONN's default denoising: tissue masks, aCompCor, derivatives, regression, filter.

Follows ``book/spec_conn.md`` §4–§5 and the MATLAB sources read for it:
``conn_filter.m`` (mirror-extended brick-wall FFT filter), ``conn_designmatrix.m``
(first-order derivatives ``convn([x(1);x;x(end)],[1;0;-1],'valid')``, linear trend
``linspace(-1,1,N)``, constant term), ``conn_process.m`` (tissue-mask threshold and
erosion, ``DETRENDBEFOREPCA``) and ``conn_rex.m`` (mean + principal components of
the Gram matrix).  Arrays are scans × columns throughout.  One module per step:

* :mod:`helpers.denoise.temporal` — the temporal filter, derivatives and linear trend (§4–§5);
* :mod:`helpers.denoise.masks` — WM/CSF tissue masks and sampling the BOLD at their voxels (§4);
* :mod:`helpers.denoise.acompcor` — the aCompCor regressors of a mask (§4);
* :mod:`helpers.denoise.regression` — the denoising regression, then the filter ("RegBP"), and
  its residual degrees of freedom (§4–§5);
* :mod:`helpers.denoise.arrays` — scans × columns inputs checked, outputs labelled like them.

Everything is imported from here (``from helpers.denoise import regress_and_filter``).
"""

from __future__ import annotations

from .acompcor import compcor, compcor_from_voxels
from .masks import mask_voxels, sample_voxels, tissue_mask, tissue_probabilities
from .regression import regress_and_filter, regress_out, residual_dof
from .temporal import HIGHPASS, conn_filter, linear_trend, temporal_derivative

__all__ = [
    "conn_filter",
    "temporal_derivative",
    "linear_trend",
    "tissue_mask",
    "mask_voxels",
    "sample_voxels",
    "compcor",
    "compcor_from_voxels",
    "regress_and_filter",
    "regress_out",
    "residual_dof",
    "tissue_probabilities",
    "HIGHPASS",
]
