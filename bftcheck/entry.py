"""The `bftcheck` console script: catch signals first, then import the rest.

Importing the command line takes a noticeable fraction of a second (Z3,
NumPy, the model); a Ctrl-C in that window must be a stop request (exit 3),
not a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import sys


def run() -> None:
    from bftcheck import stop

    stop.catch_early()
    from bftcheck.cli import main

    sys.exit(main())
