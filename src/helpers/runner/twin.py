"""The data step: generate the digital twin when the params ask for it and it is out of date."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from .fingerprints import _tree_hash

log = logging.getLogger(__package__)


def ensure_twin(params: dict, root: Path) -> None:
    """Generate the digital twin at ``bids_dir`` when the params ask for it and it is out of date.

    Nothing happens unless ``twin_participants`` is set.  The twin is current when its stamp (the
    simulator's code with ``atlas.py`` and ``resample.py``, ``twin_participants``, ``seed``,
    ``twin_config`` and that file's text) is unchanged.

    Parameters
    ----------
    params : dict
        The resolved parameters (``twin_participants``, ``bids_dir``, ``seed`` (default 2018),
        ``twin_config``).
    root : pathlib.Path
        The project root (the folder holding ``_config.yml``).
    """
    n = params.get("twin_participants")
    if not n:
        return
    from ..simulate import simulate

    out = root / params.get("bids_dir", "build/data/twin")
    seed = params.get("seed", 2018)
    config = params.get("twin_config")
    key = hashlib.sha256(
        json.dumps(
            [
                _tree_hash(root / "src" / "helpers" / "simulate"),
                _tree_hash(root / "src" / "helpers", ("atlas.py", "resample.py")),
                n,
                seed,
                config,
                (root / config).read_text() if config else None,
            ]
        ).encode()
    ).hexdigest()
    stamp_file = out.parent / f".{out.name}.stamp"
    if out.is_dir() and stamp_file.is_file() and stamp_file.read_text().strip() == key:
        log.info("twin at %s is current", out)
        return
    log.info("generating the digital twin (%s participants, seed %s) at %s", n, seed, out)
    simulate(out, participants=int(n), seed=int(seed), config=(root / config) if config else None)
    stamp_file.write_text(key + "\n")
