"""Execute the book's notebooks with Papermill, then build the HTML book.

``python -m helpers.runner book --params notebooks/params/default.yml`` does the
whole job that ``make book`` asks for:

1. **data** — if the params file asks for the digital twin (``twin_participants``
   set), generate it at ``bids_dir`` unless an identical one (same simulator code,
   participants and seed) is already there;
2. **execute** — run every notebook listed in ``_toc.yml`` (in the book's order)
   from ``notebooks/<stem>.ipynb`` into ``build/notebooks/<stem>.ipynb`` with the
   parameters its ``parameters`` cell declares, without the cells whose tags say they are for
   other data (:data:`CELL_CONDITIONS`: twin-only prose on your data, and so on); every glue key
   the notebook's prose uses must exist after execution; a notebook is skipped when its
   source, its parameters, the helpers' code and the chapters it reads are unchanged (a stamp
   file records this).  A chapter no other chapter reads (``helpers.depends_on`` in the notebooks'
   metadata: the training study, the bad-input catalogue) runs beside the others in a second
   process, so that it uses the time the main chapters leave a core idle (``parallel_chapters``:
   2, the default; 1 runs every chapter in the book's order);
3. **build** — ``jupyter-book build`` with warnings as errors, then check that
   every page of the table of contents exists as HTML. A build that failed or was
   interrupted leaves a marker, and the next build re-renders every page (never a
   silently partial book).

On a failing notebook the partial output is kept in ``build/failed/`` for
inspection, removed from the book, and the runner exits non-zero naming the
notebook and its failing cell.

The package's modules, in the order of a run: :mod:`~helpers.runner.parameters` (the params file
and each notebook's parameters), :mod:`~helpers.runner.twin` (the data step),
:mod:`~helpers.runner.toc` (the book's notebooks and pages), :mod:`~helpers.runner.cells` (cells
for this data, glue references), :mod:`~helpers.runner.fingerprints` (when a notebook is current),
:mod:`~helpers.runner.execute`, :mod:`~helpers.runner.build` and :mod:`~helpers.runner.cli`.
"""

from __future__ import annotations

from .build import INCOMPLETE, build_book
from .cells import CELL_CONDITIONS, GLUE_REF, missing_glue_keys, run_conditions, select_cells
from .cells import (
    _hide_parameter_cells as _hide_parameter_cells,  # private, read by tests/test_cell_tags.py
)
from .cli import main
from .execute import (
    FAILED,
    SELECTED,
    NotebookFailed,
    declared_dependencies,
    execute_all,
    execute_notebook,
)
from .execute import _upstream as _upstream  # private, read by tests/test_runner.py
from .fingerprints import CODE_PATTERNS, code_version, data_fingerprint
from .parameters import RUNNER_KEYS, check_unknown_keys, declared_parameters, load_params, params_for
from .toc import EXECUTED, book_notebooks, expected_pages, toc_files
from .twin import ensure_twin

__all__ = [
    "load_params",
    "book_notebooks",
    "params_for",
    "execute_all",
    "build_book",
    "expected_pages",
    "main",
    # and the rest of the runner's public names
    "EXECUTED",
    "FAILED",
    "SELECTED",
    "RUNNER_KEYS",
    "INCOMPLETE",
    "CELL_CONDITIONS",
    "CODE_PATTERNS",
    "GLUE_REF",
    "NotebookFailed",
    "toc_files",
    "declared_parameters",
    "check_unknown_keys",
    "code_version",
    "run_conditions",
    "select_cells",
    "missing_glue_keys",
    "execute_notebook",
    "ensure_twin",
    "data_fingerprint",
    "declared_dependencies",
]
