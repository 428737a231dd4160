"""Exit codes, the interface CI reads, and the errors that map onto them.

One table for every command (README, "Exit codes"):

0  the claim holds: a complete search, a proof, a witness with its run
1  a violation, with a counterexample
2  bad input, usage or environment: one line naming the problem and the fix
3  incomplete: a limit, an interrupt, an unknown solver answer, memory
4  internal error: a bug in bftcheck; one line says where the details are
5  replay only: a legal run of the model whose claimed violation does not occur

An unexpected exception is never 0 or 1: `bftcheck.cli.main` turns it into 4.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERNAL = 4
EXIT_CLAIM_REFUTED = 5


class UsageError(Exception):
    """Bad command-line usage; reported as one line, exit 2."""


class OutputError(OSError):
    """An output file that cannot be written; one line naming it, exit 2."""


class Incomplete(Exception):
    """The work stopped before an answer (memory, a tool's limit); exit 3.
    Raised only where no partial summary can be given; engines that can
    report what they did return a result marked incomplete instead."""
