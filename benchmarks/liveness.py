"""Liveness after GST: the historical Tendermint liveness bugs and consensus
latency, measured with the explicit checker.

    python benchmarks/liveness.py [--write] [--long]

The bug table: each catalogue variant that breaks termination or
valid-block, on its own configuration (`Mutant.catch`), with the real
protocol checked on the same configuration in the same run (it must hold). The latency table: the
presets made partially synchronous (GST at round 1, enough rounds for
Algorithm 1's guarantee), the worst and best case over every run of the
rounds and steps from GST until every correct validator has decided; --long
adds the rows that take minutes. --write replaces the "## Liveness after
GST" section of RESULTS.md.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import record_section, recorded_by, section_options  # noqa: E402

from bftcheck.checker import search  # noqa: E402
from bftcheck.model import MUTANTS, TendermintModel  # noqa: E402
from bftcheck.model.config import Config  # noqa: E402
from bftcheck.model.story import describe_config  # noqa: E402
from bftcheck.presets import preset  # noqa: E402

HEADING = "## Liveness after GST"
# (preset, changes): GST at round 1 and 5 rounds, Algorithm 1's guarantee
# round included (model/synchrony.py); the weighted preset's proposer p1
# holds 4/7 of the power.
LATENCY = [("n4-f0", {"gst": 1, "rounds": 5}), ("n4-f1", {"gst": 1, "rounds": 5, "byz_budget": 1}),
           ("weighted", {"gst": 1, "rounds": 5, "byz_budget": 1})]
LONG = [("n4-f1", {"gst": 1, "rounds": 5})]
# The properties after GST a historical bug breaks: termination, and the
# validValue lemma it rests on (tendermint#2583).
LIVENESS = ("termination", "valid-block")
FUZZ_BUDGET = 10_000  # the mutant matrix's, with seed 1


def judge(cfg: Config, prop: str = "termination",
          latency: bool = False) -> tuple[object, float]:
    """One property on the explicit checker: the compiled engine for a state
    property, the reference loop for termination (a property of the graph)."""
    model = TendermintModel(cfg)
    props = [p for p in model.properties() if p.name == prop]
    start = time.perf_counter()
    result = search.check(model, props, latency=prop if latency else None)
    return result, time.perf_counter() - start


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bug_rows() -> list[str]:
    rows = ["| variant | rule | property | configuration | real protocol | variant caught | "
            "trace | states | time |",
            "| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: |"]
    for name, m in MUTANTS.items():
        if m.breaks not in LIVENESS:
            continue
        cfg = Config(**m.catch)
        real, real_s = judge(cfg, m.breaks)
        bad, bad_s = judge(cfg.with_changes(mutant=name), m.breaks)
        caught = bad.verdicts[m.breaks]
        steps = len(bad.paths[m.breaks].steps) if m.breaks in bad.paths else "-"
        rows.append(f"| `{name}` | {m.rule} | {m.breaks} | "
                    f"{describe_config(cfg).split(': ', 1)[1]} | "
                    f"{real.verdicts[m.breaks]} ({real.distinct_states:,} states, "
                    f"{real_s:.1f} s) | {caught} | {steps} steps | {bad.distinct_states:,} | "
                    f"{bad_s:.1f} s |")
    return rows


def fuzz_rows() -> list[str]:
    """The bugs again, by fuzzing with the mutant matrix's seed and budget,
    termination judged at each run's end; the real protocol alongside."""
    from bftcheck.fuzz import fuzz
    from bftcheck.trace import from_path

    rows = ["| variant | property | real protocol | variant | examples | trace | time |",
            "| --- | --- | --- | --- | ---: | ---: | ---: |"]
    for name, m in MUTANTS.items():
        if m.breaks not in LIVENESS:
            continue
        cfg = Config(**m.catch)
        real = fuzz(cfg, max_examples=FUZZ_BUDGET, seed=1, properties=[m.breaks])
        start = time.perf_counter()
        bad_cfg = cfg.with_changes(mutant=name)
        bad = fuzz(bad_cfg, max_examples=FUZZ_BUDGET, seed=1, properties=[m.breaks])
        seconds = time.perf_counter() - start
        clean = (f"no violation in {real.examples:,} examples" if real.violated is None
                 else f"VIOLATED ({real.violated})")
        if bad.violated and bad.path is not None:
            steps = len(from_path(TendermintModel(bad_cfg), bad_cfg, bad.path, bad.violated))
            found, trace = f"violated at example {bad.examples:,}", f"{steps} steps"
        else:
            found, trace = f"missed in {bad.examples:,} examples", "-"
        rows.append(f"| `{name}` | {m.breaks} | {clean} | {found} | {bad.examples:,} | "
                    f"{trace} | {seconds:.1f} s |")
    return rows


def case(cfg: Config, measure: int, steps: int) -> str:
    """A latency case: the last decision's height and round, the rounds from GST."""
    h, r = divmod(measure, cfg.rounds)
    return f"h{h} r{r}, {max(0, r - cfg.gst + 1)} rounds from GST, {steps} steps"


def latency_rows(long: bool) -> list[str]:
    rows = ["| configuration | termination | worst case | best case | worst run | states | "
            "time | peak RSS so far |", "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for name, changes in LATENCY + (LONG if long else []):
        cfg = preset(name).with_changes(name=name, **changes)
        result, seconds = judge(cfg, latency=True)
        lat = result.latency
        verdict = result.verdicts["termination"]
        if lat is None:
            rows.append(f"| {describe_config(cfg)} | {verdict} | - | - | - | "
                        f"{result.distinct_states:,} | {seconds:.1f} s | {peak_mib():.0f} MiB |")
            continue
        rows.append(f"| {describe_config(cfg)} | {verdict} | "
                    f"{case(cfg, lat['worst_measure'], lat['worst_steps'])} | "
                    f"{case(cfg, lat['best_measure'], lat['best_steps'])} | "
                    f"{len(lat['worst_path'].steps)} steps | {result.distinct_states:,} | "
                    f"{seconds:.1f} s | {peak_mib():.0f} MiB |")
    return rows


def main() -> None:
    opts = section_options()
    latency = latency_rows(opts.long)  # first: its peak RSS column is the process's so far
    lines = [HEADING, "",
             f"{recorded_by('liveness.py', opts.long)}: the explicit checker, no reduction: "
             f"the reference loop on the compiled rules and core for termination (a property "
             f"of the state graph), the compiled engine with one worker for valid-block. Each "
             f"variant and the real protocol run on the same configuration, one after the "
             f"other.", "",
             "### The historical liveness bugs", ""] + bug_rows() + [
             "", f"### The same bugs by fuzzing (seed 1, at most {FUZZ_BUDGET:,} examples)", "",
             "Termination is judged at the end of each run (a run stopped early is taken on "
             "to its end by random steps seeded by the run); the time is the variant's "
             "search with its shrinking.", ""] + fuzz_rows() + [
             "", "### Consensus latency (worst and best case over every run)", ""] + latency
    record_section(HEADING, lines, opts.write)


if __name__ == "__main__":
    main()
