"""Run the fuzzing machine within a budget and report like the other engines.

The budget is counted in runs of the machine, by the machine, and enforced
exactly: the search runs at most `max_examples` runs (fewer only if
Hypothesis has nothing more to try, the time limit passes, or the work is
interrupted). Hypothesis' own `max_examples` counts only "valid" examples, so
the machine ends the search itself: the run after the last one raises
`FuzzStop`, a BaseException, which Hypothesis neither records as a failure
nor shrinks. Shrinking a failure takes more runs; they are counted apart
(`shrink_runs`) and are not part of the budget.

Reproducible: the search depends only on the configuration, the properties,
the step limit, the seed and the budget. It never sees the example database
(a database makes Hypothesis keep a Pareto front of targets, which draws
from the same random stream, so the same seed would give another search), and
Hypothesis' "local constants" (literals it collects from the source files of
loaded modules, which differ between an editable and a normal install, or
between the CLI and pytest) are switched off while it runs.

The database is a separate phase before the search: each stored failure is
replayed once; one that still fails is reported (and the seeded search still
runs, unchanged); one that no longer fails is removed. A failure the search
finds and shrinks is stored afterwards. With `database=None` nothing at all
is written.

Interrupts (bftcheck/stop.py) and the time limit are polled at every step of
every run, the shrinking included; the outcome then says what was done so
far. A violation found before the stop is real: its run is complete, so it is
reported even when the shrinking was cut short (`shrunk` is False).
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, reproduce_failure, settings
from hypothesis import __version__ as hypothesis_version
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    choices_from_bytes,
    choices_to_bytes,
)
from hypothesis.errors import HypothesisException
from hypothesis.stateful import get_state_machine_test

from bftcheck import stop
from bftcheck.checker.result import Path
from bftcheck.fuzz.machine import PropertyViolation, machine_for
from bftcheck.model.config import Config
from bftcheck.outcome import OutputError

DEFAULT_DATABASE = ".hypothesis/bftcheck-fuzz"
BUDGET_USED = "example budget used"
EXHAUSTED = "Hypothesis found nothing more to try"
PROGRESS_EVERY = 100  # runs between progress reports (and at least one a second)


class FuzzStop(BaseException):
    """Ends a Hypothesis run from inside the machine: the budget is used, the
    time limit passed, or a stop was requested. A BaseException, so Hypothesis
    neither takes it for a failure of the test nor shrinks it."""

    def __init__(self, reason: str, *, interrupt: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.interrupt = interrupt


class _OutOfMemory(BaseException):
    """A MemoryError inside a run, carried past Hypothesis (which would take an
    Exception for a failure and shrink it); the runner raises MemoryError."""


@dataclass
class FuzzOutcome:
    max_steps: int = 0
    examples: int = 0  # runs of the machine in the seeded search (the budget)
    steps: int = 0  # steps over those runs
    distinct_states: int = 0  # distinct final states of those runs
    seconds: float = 0.0
    violated: str | None = None
    path: Path | None = None
    reproduce: str | None = None
    stopped: str = BUDGET_USED
    highest_round: int = 0
    decisions: int = 0
    # with termination: runs of the search that reached a state with no step
    # (their ends were judged), and of those, the runs the round bound cut
    ended_runs: int = 0
    cut_runs: int = 0
    progress: list[dict] = field(default_factory=list)
    shrink_runs: int = 0  # runs spent shrinking a failure (not part of the budget)
    shrunk: bool = False  # `path` is Hypothesis' shrunk failure (False: cut short)
    found_by: str | None = None  # "search", or "database" for a stored failure
    replayed: int = 0  # stored failures replayed from the database before the search
    replay_violated: str | None = None  # a stored failure that still fails
    replay_path: Path | None = None
    interrupted: str | None = None  # why the work was stopped ("interrupted (SIGINT)")
    saved: bool = False  # the shrunk failure was stored in the database

    @property
    def incomplete(self) -> bool:
        """Stopped by an interrupt before the budget was used."""
        return self.interrupted is not None


def default_max_steps(cfg: Config, to_the_end: bool = False) -> int:
    """Steps per run: enough for every correct validator to go through a couple
    of rounds at every height (8 steps each), between 16 and 200. Shorter runs
    are cheaper, and a run that is done only stutters. Termination is judged
    only where a run ends (`to_the_end`): then 8 per correct validator, height
    and round, between 16 and 400."""
    per_round = 8 * (cfg.n - cfg.byzantine) * cfg.heights
    if to_the_end:
        return max(16, min(400, per_round * cfg.rounds))
    return max(16, min(200, per_round))


class _Control:
    """What the machine reports to, and what stops it."""

    def __init__(self, out: FuzzOutcome, max_examples: int, max_seconds: float | None,
                 progress: Callable[[dict], None] | None) -> None:
        self.out = out
        self.max_examples = max_examples
        self.max_seconds = max_seconds
        self.progress = progress
        self.phase = "replay"  # then "search", then "shrink" once a run failed
        self.start = time.perf_counter()
        self.last_report = self.start
        self.stopping = False
        self.raised: FuzzStop | None = None
        self.seen: set[bytes] = set()
        self.best: tuple[int, str, Path] | None = None  # shortest failing run so far
        self.last_failure: tuple[str, Path] | None = None

    def halt(self, reason: str, interrupt: bool = False) -> None:
        """End the Hypothesis run from inside the machine. Hypothesis may turn
        the exception into another one on its way out (a run cut short where an
        earlier one went on looks "flaky" to it), so the runner goes by
        `self.raised`, not by what comes out."""
        self.stopping = True
        self.raised = FuzzStop(reason, interrupt=interrupt)
        raise self.raised

    def poll(self) -> None:
        """Stop if a stop was requested or the time limit passed."""
        why = stop.requested()
        if why is not None:
            self.halt(why, interrupt=True)
        if (self.max_seconds is not None
                and time.perf_counter() - self.start >= self.max_seconds):
            self.halt(f"time limit of {self.max_seconds:g} s reached")

    def end(self, run: Any, violated: str | None) -> None:
        if self.stopping:  # the run was cut short: not counted
            return
        out = self.out
        if violated is not None:
            path = Path(run.path.init, list(run.path.steps))
            self.last_failure = (violated, path)
            key = (len(path.steps), violated, path)
            if self.best is None or len(path.steps) < self.best[0]:
                self.best = key
        if self.phase == "replay":
            return
        if self.phase == "shrink":
            out.shrink_runs += 1
            if out.shrink_runs % PROGRESS_EVERY == 0:
                self.report(force=False)
            return
        out.examples += 1
        if run.state is not None:
            out.steps += len(run.path.steps)
            out.highest_round = max(out.highest_round, run.max_round)
            out.decisions = max(out.decisions, run.decided())
            out.ended_runs += bool(getattr(run, "ended", False))
            out.cut_runs += bool(getattr(run, "cut", False))
            self.seen.add(run.state)
        if violated is not None:
            self.phase = "shrink"
            self.report(force=True)
            return
        self.report(force=out.examples % PROGRESS_EVERY == 0)
        if out.examples >= self.max_examples:
            # Ends the search after the run that used the budget up, when that
            # run's draws are done: raised before a run, Hypothesis would see a
            # run that drew nothing where earlier runs drew.
            self.halt(BUDGET_USED)

    def report(self, force: bool) -> None:
        now = time.perf_counter()
        if not force and now - self.last_report < 1.0:
            return
        self.last_report = now
        out = self.out
        out.distinct_states = len(self.seen)
        info = {"examples": out.examples, "steps": out.steps, "elapsed": now - self.start,
                "highest_round": out.highest_round, "decisions": out.decisions,
                "phase": self.phase, "shrink_runs": out.shrink_runs}
        out.progress.append(info)
        if self.progress is not None:
            self.progress(info)


def _controlled(machine: type, ctl: _Control) -> type:
    """The machine, reporting each run to `ctl` and polling it at every step."""

    class Controlled(machine):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            ctl.poll()
            try:
                super().__init__()
            except MemoryError:
                raise _OutOfMemory() from None

        def options(self, family: str) -> list:
            try:
                return super().options(family)
            except MemoryError:
                raise _OutOfMemory() from None

        def take(self, family: str, data: Any) -> None:
            ctl.poll()
            try:
                super().take(family, data)
            except MemoryError:
                raise _OutOfMemory() from None

        def before_step(self) -> None:
            ctl.poll()

        def teardown(self) -> None:
            # a termination run is taken on to its end first (machine.finish)
            try:
                super().teardown()
            except MemoryError:
                raise _OutOfMemory() from None
            finally:
                ctl.end(self, machine.last_violation)

    Controlled.__name__ = Controlled.__qualname__ = machine.__name__
    return Controlled


@contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hypothesis mixes literals from the source of "local" modules (loaded,
    outside site-packages) into its draws and caches them under .hypothesis/:
    which modules those are depends on how bftcheck is installed and run, so a
    seed would not mean one search, and --db none would still write files."""
    try:
        from hypothesis.internal.conjecture import providers

        saved = providers._get_local_constants
        empty = providers.Constants()
        cache = providers.CONSTANTS_CACHE
    except (ImportError, AttributeError):  # another Hypothesis: nothing to switch off
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = saved
        cache.cache.clear()


def _settings(max_examples: int, max_steps: int, phases: list[Phase]) -> settings:
    # every setting explicit: a loaded Hypothesis profile must not change a run;
    # never a database (see the module's docstring)
    return settings(max_examples=max_examples, stateful_step_count=max_steps, deadline=None,
                    derandomize=False, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True,
                    verbosity=Verbosity.quiet, report_multiple_bugs=False, phases=phases)


def database_key(machine: type, max_steps: int, properties: list[str] | None) -> bytes:
    """Stored failures are kept per configuration (the machine's name), step
    limit and property selection: a failure stored under one is no failure
    under another, and would be removed as fixed."""
    model = machine.model  # type: ignore[attr-defined]
    always = sorted(p.name for p in model.properties() if p.kind == "always")
    chosen = always if properties is None else sorted(set(properties) & set(always))
    props = "all" if chosen == always else ",".join(chosen)
    return f"bftcheck-fuzz:{machine.__name__}:steps{max_steps}:{props}".encode()


def fuzz(cfg: Any, *, max_examples: int = 1000, max_steps: int | None = None,
         max_seconds: float | None = None, seed: int = 0, database: str | None = None,
         properties: list[str] | None = None,
         progress: Callable[[dict], None] | None = None,
         machine: type | None = None) -> FuzzOutcome:
    """Fuzz `cfg` until a property fails or the budget (runs, seconds) is used.

    Returns what was done, also when interrupted (`stop.request`): then
    `interrupted` says why. A MemoryError is raised as MemoryError. `machine`
    is the state machine of another model (fuzz/any_model.py; its steps and
    properties are its own); by default Tendermint's for `cfg`."""
    if machine is None:
        if max_steps is None:
            max_steps = default_max_steps(cfg, "termination" in (properties or ()))
        machine = machine_for(cfg, properties=properties, max_steps=max_steps)
        machine.report_failures = False  # this runner writes its own trace and story
    elif max_steps is None:
        raise ValueError("give max_steps with a machine")
    out = FuzzOutcome(max_steps=max_steps)
    ctl = _Control(out, max_examples, max_seconds, progress)
    controlled = _controlled(machine, ctl)
    db = DirectoryBasedExampleDatabase(database) if database else None
    key = database_key(machine, max_steps, properties)
    try:
        with _no_local_constants():
            if db is None or _replay_stored(controlled, db, key, max_steps, ctl):
                _search(controlled, machine, max_examples, max_steps, seed, ctl)
    except _OutOfMemory:
        raise MemoryError("out of memory while fuzzing") from None
    finally:
        out.distinct_states = len(ctl.seen)
        out.seconds = time.perf_counter() - ctl.start
    if out.violated is None and out.replay_violated is not None:
        out.violated, out.path = out.replay_violated, out.replay_path
        out.found_by, out.shrunk = "database", True
    if db is not None and out.found_by == "search" and out.shrunk and out.reproduce:
        choices = _choices_of(out.reproduce)
        if choices is not None:
            try:
                db.save(key, choices_to_bytes(choices))
                out.saved = True
            except OSError:
                pass  # the run's result stands; the failure is only not stored
    return out


def _replay_stored(controlled: type, db: DirectoryBasedExampleDatabase, key: bytes,
                   max_steps: int, ctl: _Control) -> bool:
    """Replay every stored failure once, smallest first; stop at one that fails.
    False if a stop or the time limit came first (then there is no search)."""
    out = ctl.out
    ctl.phase = "replay"
    try:
        stored = sorted(db.fetch(key), key=lambda b: (len(b), b))
    except OSError:
        return True
    for blob in stored:
        choices = choices_from_bytes(blob)
        if choices is None:  # written by another Hypothesis version
            _forget(db, key, blob)
            continue
        out.replayed += 1
        test = get_state_machine_test(controlled, settings=_settings(1, max_steps, []))
        test = reproduce_failure(hypothesis_version, _encode(choices))(test)
        ctl.last_failure = ctl.raised = None
        ctl.stopping = False
        try:
            test()
        except BaseException as exc:
            if _stopped(ctl, exc):  # an interrupt or the time limit: no search either
                return False
            if isinstance(exc, PropertyViolation) and ctl.last_failure is not None:
                out.replay_violated, out.replay_path = ctl.last_failure
                break
            if not isinstance(exc, HypothesisException):
                raise
            # DidNotReproduce: it no longer fails (fixed), or no longer runs
        _forget(db, key, blob)
    ctl.best = ctl.last_failure = None
    return True


def _forget(db: DirectoryBasedExampleDatabase, key: bytes, blob: bytes) -> None:
    try:
        db.delete(key, blob)
    except OSError:
        pass  # a read-only database still replays


def _within(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """`exc`, or an exception it was raised from or while handling, or one in
    its group, that is of `kinds` (Hypothesis may raise another exception, such
    as FlakyStrategyDefinition, while handling ours)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kinds):
            return e
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        todo.extend(x for x in (e.__cause__, e.__context__) if x is not None)
    return None


def _stopped(ctl: _Control, exc: BaseException) -> bool:
    """Handle what came out of Hypothesis when it is a stop, an interrupt or
    memory running out; True if the phase ended so."""
    out = ctl.out
    if _within(exc, (MemoryError, _OutOfMemory)) is not None:
        raise MemoryError("out of memory while fuzzing") from None
    abort = _within(exc, (stop.Abort,))
    if abort is not None:  # a second signal: stop at once (bftcheck.cli.main reports it)
        raise abort
    if ctl.raised is not None:
        out.stopped = ctl.raised.reason
        if ctl.raised.interrupt:
            out.interrupted = ctl.raised.reason
    elif _within(exc, (KeyboardInterrupt,)) is not None:  # no handler (a library caller)
        out.stopped = out.interrupted = "interrupted (KeyboardInterrupt)"
    else:
        return False
    ctl.stopping = False
    return True


def _search(controlled: type, machine: type, max_examples: int, max_steps: int, seed: int,
            ctl: _Control) -> None:
    out = ctl.out
    ctl.phase = "search"
    ctl.stopping = False
    ctl.best = ctl.last_failure = ctl.raised = None
    test = get_state_machine_test(controlled, settings=_settings(
        max_examples, max_steps,
        # no "explain" phase: a bftcheck trace explains the failure; no "reuse":
        # the database is replayed before, apart
        [Phase.generate, Phase.target, Phase.shrink]))
    test._hypothesis_internal_use_seed = seed
    try:
        test()
    except BaseException as exc:
        if not _stopped(ctl, exc):
            if isinstance(exc, PropertyViolation) and ctl.last_failure is not None:
                out.violated, out.path = ctl.last_failure
                out.found_by, out.shrunk = "search", True
                out.reproduce = _reproduce_line(exc)
                out.stopped = "a property was violated"
                return
            if ctl.best is None:
                raise
            # Hypothesis could not shrink the failure reliably (FlakyFailure)
            out.stopped = "a property was violated; Hypothesis did not finish shrinking it"
    else:
        if out.examples < max_examples:
            out.stopped = EXHAUSTED
    if ctl.best is not None:  # a failure was found; its shrinking was cut short
        _, out.violated, out.path = ctl.best
        out.found_by, out.shrunk = "search", False
        if "violated" not in out.stopped:
            out.stopped = f"a property was violated; shrinking stopped: {out.stopped}"
    elif out.interrupted is None:
        ctl.report(force=True)


def _encode(choices: Any) -> bytes:
    from hypothesis.core import encode_failure

    return encode_failure(choices)


def _choices_of(reproduce: str) -> Any:
    """The choice sequence in a `@reproduce_failure('version', b'...')` line."""
    from hypothesis.core import decode_failure

    m = re.search(r"@reproduce_failure\('[^']*', (b'[^']*')\)", reproduce)
    if not m:
        return None
    try:
        return decode_failure(ast.literal_eval(m.group(1)))
    except Exception:  # not a blob this Hypothesis can read
        return None


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
    try:
        FsPath(value).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--db {value}: cannot create the directory "
                          f"({exc.strerror or exc}); choose another one, or --db none") from None
    return value
