"""Cross-validation: bftcheck's checker and TLC on the twin, side by side.

The two engines must agree on the distinct-state count (when both searches
are complete), on every property's verdict and on the depth of its shortest
violation or witness; and each engine's counterexamples must be runs of the
other: TLC's are replayed against the Python model (through ITF, as
`bftcheck replay` reads them), bftcheck's are followed by TLC with the
trace-constrained TraceMC module. Recovery and fair-recovery, properties of
the whole state graph, are checked by bftcheck only and listed as such.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bftcheck import itf
from bftcheck.checker.bfs import DECIDED
from bftcheck.checker.result import UNKNOWN, Result
from bftcheck.model.config import Config
from bftcheck.replay import replay
from bftcheck.spec import mc, tlc
from bftcheck.trace import Trace, from_path

UNDECIDED = "undecided"


@dataclass
class Row:
    what: str
    ours: str
    theirs: str
    compared: bool  # whether a difference is a disagreement
    same: bool
    # False when an engine was stopped before it decided the row (an interrupt):
    # the row is then neither a match nor a mismatch
    decided: bool = True


@dataclass
class Replay:
    direction: str  # "TLC -> bftcheck" or "bftcheck -> TLC"
    prop: str
    steps: int
    confirmed: bool
    detail: str


@dataclass
class Report:
    ours: Result
    theirs: Result
    tlc_runs: int
    rows: list[Row] = field(default_factory=list)
    replays: list[Replay] = field(default_factory=list)
    # properties over the state graph (Recovery) that only bftcheck checks
    ours_only: list[str] = field(default_factory=list)
    # why the comparison stopped before its end (an interrupt), else None;
    # an incomplete report neither agrees nor disagrees
    stopped: str | None = None
    # counterexamples not replayed because of the stop: (direction, property)
    not_replayed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.stopped is None

    @property
    def mismatches(self) -> list[str]:
        """What differs among the decided rows and the replays done."""
        return [r.what for r in self.rows if r.compared and r.decided and not r.same] + [
            f"{rp.direction} {rp.prop}" for rp in self.replays if not rp.confirmed]

    @property
    def agree(self) -> bool | None:
        """True/False on a complete comparison; None when it was stopped."""
        if not self.complete:
            return None
        return not self.mismatches

    def render(self) -> str:
        width = max(len(r.what) for r in self.rows)
        cw = max(12, *(len(r.ours) for r in self.rows))
        lines = [f"  {'':<{width}}  {'bftcheck':<{cw}}  {'TLC':<{cw}}",]
        for r in self.rows:
            if not r.decided:
                mark = UNDECIDED
            else:
                mark = ("ok" if r.same else "MISMATCH") if r.compared else ""
            lines.append(f"  {r.what:<{width}}  {r.ours:<{cw}}  {r.theirs:<{cw}}  {mark}".rstrip())
        for name in self.ours_only:
            lines.append(f"  {name:<{width}}  {_verdict(self.ours, name):<{cw}}  "
                         f"{'not checked':<{cw}}  (a property of the state graph)".rstrip())
        for rp in self.replays:
            verdict = "confirmed" if rp.confirmed else "NOT CONFIRMED"
            lines.append(f"  {rp.direction}: {rp.prop} counterexample ({rp.steps} steps) "
                         f"{verdict}: {rp.detail}")
        for direction, prop in self.not_replayed:
            lines.append(f"  {direction}: {prop} counterexample not replayed ({UNDECIDED}: "
                         f"{self.stopped})")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "complete": self.complete,
            "stopped": self.stopped,
            "mismatches": self.mismatches,
            "not_replayed": [{"direction": d, "prop": p} for d, p in self.not_replayed],
            "engines": {"check": self.ours.summary(), "tlc": {**self.theirs.summary(),
                                                               "tlc_runs": self.tlc_runs}},
            "found_at_depth": {"check": self.ours.found_at, "tlc": self.theirs.found_at},
            "rows": [vars(r) for r in self.rows],
            "replays": [vars(r) for r in self.replays],
            "bftcheck_only": self.ours_only,
        }


def junit_cases(report: Report) -> list[Any]:
    """Each compared row and each replay as a JUnit case: a disagreement or an
    unconfirmed replay fails, a row or replay the stop left open is unknown."""
    from bftcheck.junit import Case

    cases = []
    differ = "failed" if report.complete else "unknown"  # an incomplete report claims nothing
    for r in report.rows:
        said = f"bftcheck {r.ours}, TLC {r.theirs}"
        if not r.compared:
            continue  # shown for information (times, completeness), not compared
        if not r.decided:
            cases.append(Case(r.what, "unknown", f"undecided: {said}"))
        elif not r.same:
            cases.append(Case(r.what, differ, f"the engines differ: {said}"))
        else:
            cases.append(Case(r.what, "passed", said))
    for rp in report.replays:
        name = f"replay {rp.direction}: {rp.prop}"
        cases.append(Case(name, "passed" if rp.confirmed else differ,
                          f"{rp.steps} steps: {rp.detail}"))
    cases += [Case(f"replay {direction}: {prop}", "unknown", f"not replayed ({report.stopped})")
              for direction, prop in report.not_replayed]
    return cases


def _verdict(result: Result, name: str) -> str:
    at = f" ({result.found_at[name]})" if name in result.found_at else ""
    return result.verdicts[name] + at


def compare(cfg: Config, model: Any, ours: Result, tools: tlc.Tools,
            progress: tlc.Progress | None = None) -> Report:
    """Run TLC (one worker: shortest traces) on `cfg` and compare it with
    bftcheck's result `ours` on the same configuration.

    A requested stop (bftcheck/stop.py; or `ours` itself interrupted) ends
    the comparison with what was decided: a row an engine did not decide is
    marked undecided, the counterexamples not yet replayed are listed, and
    the report's `stopped` says why (TLC is not started once a stop is
    requested)."""
    from bftcheck import stop

    names = [n for n in ours.verdicts if n in mc.PROPERTIES]
    out = tlc.check(cfg, names, tools, workers=1, model=model, progress=progress)
    theirs = out.result
    stopped = out.stopped or (None if ours.complete or ours.stopped == DECIDED
                              else ours.stopped)
    report = Report(ours, theirs, out.runs, stopped=stopped,
                    ours_only=[n for n in ours.verdicts if n not in mc.PROPERTIES])
    both = ours.complete and theirs.complete
    counted = out.runs > 0 and (stopped is None or both)
    report.rows.append(Row("distinct states", f"{ours.distinct_states:,}",
                           _count(theirs.distinct_states, counted), both,
                           ours.distinct_states == theirs.distinct_states, both or not stopped))
    report.rows.append(Row("generated states", f"{ours.generated_states:,}",
                           _count(theirs.generated_states, counted), False,
                           ours.generated_states == theirs.generated_states))
    report.rows.append(Row("depth", str(ours.depth), str(theirs.depth) if counted else "-",
                           both, ours.depth == theirs.depth, both or not stopped))
    report.rows.append(Row("complete", "yes" if ours.complete else f"no ({ours.stopped})",
                           "yes" if theirs.complete else f"no ({theirs.stopped})", False, True))
    report.rows.append(Row("seconds", f"{ours.seconds:.2f}",
                           f"{theirs.seconds:.2f} ({out.runs} runs)", False, True))
    for name in names:
        a, b = _verdict(ours, name), _verdict(theirs, name)
        decided = UNKNOWN not in (ours.verdicts[name], theirs.verdicts[name])
        report.rows.append(Row(name, a, b, True, a == b, decided))
    for name, trace in out.traces.items():
        report.replays.append(_replay_in_python(model, trace, name))
    for name in names:
        if name in ours.paths and mc.PROPERTIES[name].witness is False:
            if report.stopped is not None or stop.requested():
                report.stopped = report.stopped or stop.requested()
                report.not_replayed.append(("bftcheck -> TLC", name))
                continue
            trace = from_path(model, cfg, ours.paths[name], name)
            if progress:
                progress(f"TLC follows bftcheck's {name} counterexample")
            try:
                check = tlc.check_trace(cfg, model, trace, tools)
            except tlc.TlcInterrupted as exc:
                report.stopped = exc.reason
                report.not_replayed.append(("bftcheck -> TLC", name))
                continue
            report.replays.append(Replay("bftcheck -> TLC", name, len(trace), check.confirmed,
                                         check.detail))
    return report


def _count(n: int, known: bool) -> str:
    return f"{n:,}" if known else "-"


def _replay_in_python(model: Any, trace: Trace, name: str) -> Replay:
    """TLC's counterexample, written as ITF and read back, replayed against the model."""
    with tempfile.TemporaryDirectory(prefix="bftcheck-crossval-") as work:
        path = Path(work) / f"{name}.itf.json"
        path.write_text(json.dumps(itf.to_itf(model, trace)), encoding="utf-8")
        try:
            loaded = itf.read_itf(path)
            report = replay(model, loaded.config, loaded.steps, name, source=path.name)
        except itf.TraceError as exc:
            return Replay("TLC -> bftcheck", name, len(trace), False, str(exc))
    fails = report.failures.get(name)
    if fails == len(trace):
        return Replay("TLC -> bftcheck", name, len(trace), True,
                      f"every step is a transition of the model; {name} fails at the last")
    where = f"fails at step {fails}" if fails is not None else "never fails"
    return Replay("TLC -> bftcheck", name, len(trace), False,
                  f"every step is a transition of the model, but {name} {where}")
