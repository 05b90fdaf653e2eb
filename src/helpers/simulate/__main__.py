"""Command line: ``python -m helpers.simulate --out DIR --participants N --seed S [--config FILE]``."""

from __future__ import annotations

import argparse
import logging

from . import simulate


def main(argv=None) -> None:
    """Command-line entry point: parse the arguments, write the twin with :func:`helpers.simulate.simulate`.

    Parameters
    ----------
    argv : list of str or None, default None
        Arguments (None: ``sys.argv[1:]``): ``--out DIR`` (required), ``--participants N``
        (default 19), ``--seed S`` (default 2018), ``--config FILE`` (YAML overrides).
    """
    parser = argparse.ArgumentParser(
        prog="python -m helpers.simulate",
        description="Write the digital twin of Parrish et al. (2018) as a BIDS dataset.",
    )
    parser.add_argument("--out", required=True, help="output dataset folder (replaced atomically)")
    parser.add_argument("--participants", type=int, default=19, help="number of participants (default 19)")
    parser.add_argument("--seed", type=int, default=2018, help="random seed (default 2018)")
    parser.add_argument("--config", default=None, help="YAML file with overrides of the default config")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path = simulate(args.out, participants=args.participants, seed=args.seed, config=args.config)
    logging.getLogger("helpers.simulate").info("twin written to %s", path)


if __name__ == "__main__":
    main()
