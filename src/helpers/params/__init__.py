"""One declared schema for the flat parameter namespace of every notebook.

Each name in ``notebooks/params/*.yml`` and in the notebooks' ``parameters`` cells means the same
thing everywhere (the data contract: ``book/spec_data_contract.md``); :data:`SCHEMA` says, for each
name, its type, the values or range allowed and what it does.  :func:`validate_params` checks a dict
of parameters against it and raises at the first problem with a message naming the key, the value,
the rule and the parameter's meaning, e.g.::

    notebook 03_connectivity: parameter 'weighting' = 'gaussian' is not allowed
    (rule: one of 'hrf', 'hanning', 'none'); condition weights: ...

It is called by :class:`helpers.provenance.Chapter` (so every notebook checks its parameters at
the top, before any work) and by :mod:`helpers.runner` for every params file; names not in the
schema fall back to the runner's check against the notebook's own defaults.

The package's modules: :mod:`~helpers.params.declaration` (:class:`Param`),
:mod:`~helpers.params.rules` (checks beyond type and range), :mod:`~helpers.params.schema`
(:data:`SCHEMA`), :mod:`~helpers.params.validation`, :mod:`~helpers.params.files` (params files) and
:mod:`~helpers.params.resolve` (parameters that follow the data).
"""

from __future__ import annotations

from .declaration import Param
from .files import load_params_file
from .resolve import (
    PATH_KEYS,
    RESOLVED_KEYS,
    TWIN_DEFAULTS,
    TWIN_DIR,
    describe_data,
    resolve_params,
    twin_requested,
)
from .schema import SCHEMA, schema_table
from .validation import check_output_dir, validate_params, validate_value

__all__ = [
    "Param",
    "SCHEMA",
    "validate_params",
    "validate_value",
    "schema_table",
    "check_output_dir",
    "load_params_file",
    "resolve_params",
    "twin_requested",
    "describe_data",
    "PATH_KEYS",
    "RESOLVED_KEYS",
    "TWIN_DEFAULTS",
    "TWIN_DIR",
]
