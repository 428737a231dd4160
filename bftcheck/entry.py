"""The `bftcheck` console script: catch signals first, then import the rest.

Importing the command line takes a noticeable fraction of a second (Z3,
NumPy, the model); a Ctrl-C in that window must be a stop request (exit 3),
not a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import os
import sys

# bftcheck/outcome.py's codes, not imported: nothing may fail before these lines
EXIT_USAGE, EXIT_INCOMPLETE = 2, 3


def run() -> None:
    from bftcheck import stop

    stop.catch_early()
    # bftcheck does no linear algebra; OpenBLAS's per-thread buffers would make
    # NumPy's import fail (and exit 1) under a small `ulimit -v`
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        from bftcheck.cli import main
    except (MemoryError, ImportError) as exc:
        text = str(exc).lower()
        if isinstance(exc, MemoryError) or "failed to map" in text or "cannot allocate" in text:
            os.write(2, (f"bftcheck: out of memory while loading bftcheck: the work is "
                         f"incomplete; give it more memory (exit {EXIT_INCOMPLETE})\n").encode())
            sys.exit(EXIT_INCOMPLETE)
        first = (str(exc).splitlines() or [""])[0][:200]
        os.write(2, (f"bftcheck: error: the installation is broken ({first}): reinstall "
                     f"with 'pip install .' (exit {EXIT_USAGE})\n").encode())
        sys.exit(EXIT_USAGE)
    sys.exit(main())
