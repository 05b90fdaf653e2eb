"""``python -m helpers.runner``: see :func:`helpers.runner.cli.main`."""

import sys

from .cli import main

sys.exit(main())
