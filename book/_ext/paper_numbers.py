"""Give the paper's own tables and figures the paper's numbers ("Table 1", "Figure 1").

The book numbers its own tables and figures by chapter ("Table 6.2", "Figure 3.1": ``numbered`` in
``_toc.yml`` and Sphinx's ``numfig``). An item the book *recomputes* from the paper keeps the
paper's number instead, so "Table 1" always means the paper's Table 1 and cannot collide with a
book item (whose number always has a dot). ``_config.yml`` lists them::

    sphinx:
      config:
        paper_numbers: {tbl-results-table1: "1", fig-results-figure1: "1"}

After Sphinx assigns the numbers (``env-get-updated``, run after the toctree collector), each
listed label gets its fixed number, and the remaining items of its chapter close the gap (the
chapter's first own table stays "Table 6.1"). Captions and ``{numref}`` both read these numbers.
"""

from __future__ import annotations

from sphinx.util import logging

log = logging.getLogger(__name__)


def renumber(fignumbers: dict, fixed: dict[str, str]) -> list[str]:
    """Replace the numbers of ``fixed`` labels in Sphinx's ``env.toc_fignumbers`` (in place).

    Parameters
    ----------
    fignumbers : dict
        ``{docname: {figtype: {label: (chapter, ..., k)}}}`` as Sphinx assigns it.
    fixed : dict
        ``{label: number}``, the number as it should print (e.g. ``"1"``).

    Returns
    -------
    list of str
        The labels of ``fixed`` that were found (a missing one is logged by the caller).
    """
    found = {}  # (figtype, chapter prefix) -> last components of the fixed items it held
    for types in fignumbers.values():
        for figtype, ids in types.items():
            for label, number in ids.items():
                if label in fixed and isinstance(number[-1], int):
                    found.setdefault((figtype, number[:-1]), []).append(number[-1])
    for types in fignumbers.values():
        for figtype, ids in types.items():
            for label, number in list(ids.items()):
                if label in fixed:
                    ids[label] = (str(fixed[label]),)
                elif (figtype, number[:-1]) in found and isinstance(number[-1], int):
                    removed = sum(k < number[-1] for k in found[(figtype, number[:-1])])
                    ids[label] = (*number[:-1], number[-1] - removed)
    return [
        label for types in fignumbers.values() for ids in types.values() for label in ids if label in fixed
    ]


def _on_env_get_updated(app, env):
    fixed = app.config.paper_numbers or {}
    seen = renumber(env.toc_fignumbers, fixed)
    for label in sorted(set(fixed) - set(seen)):
        log.warning(f"paper_numbers: no numbered table or figure is labelled {label!r}")
    return []


def setup(app):
    app.add_config_value("paper_numbers", {}, "env")
    # priority > 500: after sphinx's TocTreeCollector has assigned the numbers of this build
    app.connect("env-get-updated", _on_env_get_updated, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
