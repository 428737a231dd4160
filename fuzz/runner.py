"""Run the fuzzing machine within a budget and report like the other engines.

The budget is split into batches of examples, each with its own seed derived
from the user's seed, so a run is reproducible (same seed, same budget, same
result) and the time limit is honoured between batches. Failures are stored
in a Hypothesis example database, and a later run replays them first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import get_state_machine_test

from bftcheck.checker.result import Path
from bftcheck.config import Config
from bftcheck.fuzz.machine import PropertyViolation, machine_for

DEFAULT_DATABASE = ".hypothesis/bftcheck-fuzz"
BATCH = 100


@dataclass
class FuzzOutcome:
    max_steps: int = 0
    examples: int = 0
    steps: int = 0
    distinct_states: int = 0
    seconds: float = 0.0
    violated: str | None = None
    path: Path | None = None
    reproduce: str | None = None
    stopped: str = "example budget used"
    highest_round: int = 0
    decisions: int = 0
    progress: list[dict] = field(default_factory=list)


def default_max_steps(cfg: Config) -> int:
    """Steps per run: enough for every correct validator to go through a couple
    of rounds at every height (8 steps each), between 16 and 200. Shorter runs
    are cheaper, and a run that is done only stutters."""
    return max(16, min(200, 8 * (cfg.n - cfg.byzantine) * cfg.heights))


def fuzz(cfg: Config, *, max_examples: int = 1000, max_steps: int | None = None,
         max_seconds: float | None = None, seed: int = 0, database: str | None = None,
         properties: list[str] | None = None,
         progress: Callable[[dict], None] | None = None) -> FuzzOutcome:
    """Fuzz `cfg` until a property fails or the budget (examples, seconds) is used."""
    if max_steps is None:
        max_steps = default_max_steps(cfg)
    machine = machine_for(cfg, properties=properties, max_steps=max_steps)
    out = FuzzOutcome(max_steps=max_steps)
    seen: set[bytes] = set()
    original_teardown = machine.teardown

    def teardown(self) -> None:  # count what each run covered
        out.examples += 1
        if self.state is not None:
            out.steps += len(self.path.steps)
            out.highest_round = max(out.highest_round, self.max_round)
            out.decisions = max(out.decisions, self.decided())
            seen.add(self.state)
        original_teardown(self)

    machine.teardown = teardown
    db = DirectoryBasedExampleDatabase(database) if database else None
    start = time.perf_counter()
    batch_index = 0
    while out.examples < max_examples:
        if max_seconds is not None and time.perf_counter() - start >= max_seconds:
            out.stopped = f"time limit of {max_seconds:g} s reached"
            break
        n = min(BATCH, max_examples - out.examples)
        # every setting explicit: a loaded Hypothesis profile must not change a run
        conf = settings(max_examples=n, stateful_step_count=max_steps, deadline=None,
                        derandomize=False,
                        database=db, suppress_health_check=list(HealthCheck),
                        print_blob=True, verbosity=Verbosity.quiet, report_multiple_bugs=False,
                        # no "explain" phase: a bftcheck trace explains the failure
                        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target,
                                Phase.shrink])
        test = get_state_machine_test(machine, settings=conf)
        batch_seed = seed * 1_000_003 + batch_index
        if db is None:
            test = hypothesis_seed(batch_seed)(test)
        else:
            # hypothesis.seed() switches the database off, so set the seed the way it
            # does, and key the database by configuration (all machines share one test
            # function, whose digest would mix their failures).
            test._hypothesis_internal_use_seed = batch_seed
            test._hypothesis_internal_database_key = (
                b"bftcheck-fuzz:" + machine.__name__.encode())
        before = out.examples
        try:
            test()
        except PropertyViolation as exc:
            out.violated = exc.prop
            out.path = _copy(machine.last_run)
            out.reproduce = _reproduce_line(exc)
            out.stopped = "a property was violated"
            break
        batch_index += 1
        if out.examples == before:  # Hypothesis ran nothing new: the space is exhausted
            out.stopped = "Hypothesis found nothing more to try"
            break
        out.distinct_states = len(seen)
        out.seconds = time.perf_counter() - start
        info = {"examples": out.examples, "steps": out.steps, "elapsed": out.seconds,
                "highest_round": out.highest_round, "decisions": out.decisions}
        out.progress.append(info)
        if progress is not None:
            progress(info)
    out.distinct_states = len(seen)
    out.seconds = time.perf_counter() - start
    return out


def _copy(path: Path | None) -> Path | None:
    return None if path is None else Path(path.init, list(path.steps))


def _reproduce_line(exc: BaseException) -> str | None:
    for note in getattr(exc, "__notes__", []) or []:
        m = re.search(r"@reproduce_failure\([^)]*\)", note)
        if m:
            return m.group(0)
    return None


def database_path(value: str | None) -> str | None:
    """`--db none` disables the database; otherwise the directory is created."""
    if value is None:
        value = DEFAULT_DATABASE
    if value.lower() == "none":
        return None
    FsPath(value).mkdir(parents=True, exist_ok=True)
    return value
