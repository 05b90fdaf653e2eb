"""The command line: ``python -m helpers.runner {execute,build,book} [--params FILE]``."""

from __future__ import annotations

import argparse
import logging
import sys

from ..paths import project_root
from .build import build_book
from .execute import NotebookFailed, execute_all

log = logging.getLogger(__package__)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.runner {execute,build,book} [--params FILE]``.

    Parameters
    ----------
    argv : list of str, default None
        Arguments; default None: ``sys.argv[1:]``.  ``--params`` defaults to
        ``notebooks/params/default.yml``.

    Returns
    -------
    int
        Exit status: 0, or 1 after logging a failed notebook, invalid parameters or a failed build.
    """
    parser = argparse.ArgumentParser(
        prog="python -m helpers.runner",
        description=sys.modules[__package__].__doc__.splitlines()[0],  # the runner's docstring
    )
    parser.add_argument(
        "command", choices=["execute", "build", "book"], help="execute notebooks, build the HTML, or both"
    )
    parser.add_argument("--params", default="notebooks/params/default.yml", help="flat YAML params file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        if args.command in ("execute", "book"):
            ran = execute_all(args.params)
            log.info("executed %d notebook(s): %s", len(ran), ", ".join(ran) or "none (all current)")
        if args.command in ("build", "book"):
            build_book()
            log.info("book built: %s", project_root() / "_build" / "html" / "index.html")
    except (NotebookFailed, ValueError, TypeError, RuntimeError) as err:
        log.error("%s", err)
        return 1
    return 0
