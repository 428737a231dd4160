"""The `bftcheck` console script: catch signals first, then import the rest.

Importing the command line takes a noticeable fraction of a second (Z3,
NumPy, the model); a Ctrl-C in that window must be a stop request (exit 3),
not a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import errno
import os
import sys

# bftcheck/outcome.py's codes, not imported: nothing may fail before these lines
EXIT_USAGE, EXIT_INCOMPLETE = 2, 3

# Loading the command line with NumPy, SciPy and Z3 maps about 210 MiB of
# address space (VmPeak, measured). Below this floor a load fails in ways that
# cannot all be caught: OpenBLAS ends the process with exit 1 (which means a
# violation), a C extension returns an error without setting one.
ADDRESS_SPACE_FLOOR = 256 << 20


def run() -> None:
    from bftcheck import stop

    stop.catch_early()
    # bftcheck does no linear algebra; OpenBLAS's per-thread buffers would make
    # NumPy's import fail (and exit 1) under a small `ulimit -v`
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _refuse_a_too_small_address_space()
    try:
        from bftcheck.cli import main
    except (MemoryError, ImportError, OSError, SystemError) as exc:
        if _memory_ran_out(exc):
            _exit_out_of_memory("while loading bftcheck: the work is incomplete; give it more "
                                "memory")
        first = (str(exc).splitlines() or [""])[0][:200]
        os.write(2, (f"bftcheck: error: the installation is broken ({first}): reinstall "
                     f"with 'pip install .' (exit {EXIT_USAGE})\n").encode())
        sys.exit(EXIT_USAGE)
    sys.exit(main())


def _memory_ran_out(exc: BaseException) -> bool:
    """Whether a failed load is memory: MemoryError, a library that cannot be
    mapped, ENOMEM, or a C extension's error without an exception under a
    `ulimit -v`. Anything else is a broken installation."""
    from bftcheck.memory import address_space_limit

    text = str(exc).lower()
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOMEM
    if isinstance(exc, SystemError):
        return address_space_limit() is not None
    return isinstance(exc, MemoryError) or "failed to map" in text or "cannot allocate" in text


def _refuse_a_too_small_address_space() -> None:
    from bftcheck.memory import address_space_limit

    soft = address_space_limit()
    if soft is not None and soft < ADDRESS_SPACE_FLOOR:
        _exit_out_of_memory(f"before loading: `ulimit -v` allows {soft >> 20} MiB of address "
                            f"space and loading bftcheck needs {ADDRESS_SPACE_FLOOR >> 20} MiB; "
                            f"the work is not started; raise the limit")


def _exit_out_of_memory(why: str) -> None:
    os.write(2, f"bftcheck: out of memory {why} (exit {EXIT_INCOMPLETE})\n".encode())
    sys.exit(EXIT_INCOMPLETE)
