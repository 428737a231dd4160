"""Run the benchmark ladder; print the tables, or record them in benchmarks/RESULTS.md.

Each configuration runs in its own `bftcheck ... --json` process, so peak RSS
is that run's own. The processes run the installed bftcheck: they start in a
directory outside the source tree (whose `bftcheck/` folder has neither the
compiled extensions nor model/ and checker/ under it, and would shadow the
installed package), and a step that fails stops the run with one line naming
its real error. Usage:

    python benchmarks/run.py            # the whole ladder (a few minutes), printed
    python benchmarks/run.py --write    # ... and written to benchmarks/RESULTS.md
    python benchmarks/run.py --quick    # the small rungs only
    python benchmarks/run.py --smoke    # one row: does the installed package run?
    python benchmarks/run.py --tlc      # bftcheck vs TLC on the twin (its section only)
    python benchmarks/run.py --z3       # the Z3 engines beside the checker (its section only)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


class StepFailed(SystemExit):
    """A benchmark step failed: one line, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(f"benchmarks/run.py: {message}")


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a step: no source tree on the module path."""
    env = {**os.environ, **(extra or {})}
    env["PYTHONSAFEPATH"] = "1"  # `python -m` must not put its directory on sys.path
    if env.get("PYTHONPATH"):
        kept = [p for p in env["PYTHONPATH"].split(os.pathsep)
                if p and Path(p).resolve() != REPO]
        env["PYTHONPATH"] = os.pathsep.join(kept)
    return env


def _last_line(text: str) -> str:
    lines = [x.strip() for x in text.strip().splitlines() if x.strip()]
    return lines[-1] if lines else "(no output)"


def bftcheck_json(args: list[str], ok: tuple[int, ...] = (0, 1, 3),
                  env: dict[str, str] | None = None) -> dict:
    """`bftcheck ARGS` (which should include --json) in its own process, from a
    directory outside the source tree; its JSON object, or StepFailed."""
    command = "bftcheck " + " ".join(args)
    with tempfile.TemporaryDirectory(prefix="bftcheck-bench-") as cwd:
        proc = subprocess.run([sys.executable, "-m", "bftcheck.cli", *args], cwd=cwd,
                              capture_output=True, text=True, env=_environment(env))
    if proc.returncode not in ok:
        raise StepFailed(f"`{command}` failed (exit {proc.returncode}): "
                         f"{_last_line(proc.stderr or proc.stdout)}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise StepFailed(f"`{command}` printed no JSON object (exit {proc.returncode}): "
                         f"{_last_line(proc.stderr or proc.stdout)}") from None


def preflight() -> None:
    """The installed package, with its compiled parts, imports outside the tree."""
    code = ("import bftcheck.cli, bftcheck.model, bftcheck.checker, bftcheck.fuzz; "
            "import bftcheck.checker._core_c, bftcheck.model._rules_c")
    with tempfile.TemporaryDirectory(prefix="bftcheck-bench-") as cwd:
        proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                              text=True, env=_environment())
    if proc.returncode != 0:
        raise StepFailed(f"the installed bftcheck does not import outside the source tree "
                         f"({_last_line(proc.stderr)}); install it with `pip install .` "
                         f"(or `pip install -e .`) and run again")

# (label, arguments, environment overrides)
LADDER = [
    ("n4-f2 fork (agreement only)", ["--preset", "n4-f2", "--property", "agreement"], {}),
    ("n4-f2 (complete)", ["--preset", "n4-f2"], {}),
    ("n4-f1", ["--preset", "n4-f1"], {}),
    ("n4-f1, pure Python", ["--preset", "n4-f1"], {"BFTCHECK_NO_EXTENSIONS": "1"}),
    ("weighted 4,1,1,1 f1", ["--preset", "weighted"], {}),
    ("n3-f0, 2 heights", ["--preset", "n3-f0"], {}),
    ("n4-f0", ["--preset", "n4-f0"], {}),
    ("bench: n5-f1", ["--preset", "bench"], {}),
    ("n4-f1, 3 rounds (bounded 120 s)", ["--preset", "n4-f1", "--rounds", "3",
                                         "--max-seconds", "120"], {}),
    # partitions: every property, Recovery and fair-recovery included
    ("no-block-sync: Recovery counterexample", ["--mutant", "no-block-sync"], {}),
    ("n4-f1-split", ["--preset", "n4-f1-split"], {}),
    ("n4-split", ["--preset", "n4-split"], {}),
    ("n7-f2-split (bounded 300 s)", ["--preset", "n7-f2-split", "--max-seconds", "300"], {}),
]
QUICK = {"n4-f2 fork (agreement only)", "n4-f2 (complete)", "n4-f1", "n4-f1, pure Python"}
SMOKE = {"n4-f2 fork (agreement only)"}


def run(args: list[str], env: dict[str, str]) -> dict:
    # unreduced: the ladder's counts are the model's (benchmarks/reductions.py has the reduced)
    return bftcheck_json(["check", "--json", "--quiet", "--reduce", "none", *args], env=env)


FUZZ_RUNS = [
    ("n4-f2 fork, seed 1", ["--preset", "n4-f2", "--seed", "1"]),
    ("n4-f1 (safe), 2,000 examples", ["--preset", "n4-f1", "--max-examples", "2000"]),
    ("10 validators (3 Byzantine, budget 6), 3 heights, 1,000 examples",
     ["--validators", "10", "--byzantine", "3", "--byz-budget", "6", "--heights", "3",
      "--max-examples", "1000"]),
]


def fuzz_rows() -> list[str]:
    lines = ["## Fuzzing", "",
             "`bftcheck fuzz ... --db none --json` (no example database, so nothing is "
             "replayed from earlier runs).", "",
             "| run | verdict | examples | steps | seconds | examples/s | trace |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for label, args in FUZZ_RUNS:
        print(f"running fuzz {label} ...", file=sys.stderr, flush=True)
        d = bftcheck_json(["fuzz", "--json", "--quiet", "--db", "none", *args], ok=(0, 1))
        violated = [k for k, v in d["verdicts"].items() if v == "violated"]
        verdict = f"violated: {violated[0]}" if violated else "no violation found"
        trace = f"{d['depth']} steps" if d["trace"] else "-"
        rate = d["examples"] / d["seconds"] if d["seconds"] else 0
        lines.append(f"| {label} | {verdict} | {d['examples']:,} | {d['steps']:,} "
                     f"| {d['seconds']:.1f} | {rate:,.0f} | {trace} |")
    return lines


def mutant_matrix() -> list[str]:
    """`bftcheck mutants --json` as a table: time to catch and trace length per engine."""
    d = bftcheck_json(["mutants", "--json", "--quiet"], ok=(0, 1))
    engines = d["engines"]
    lines = ["## Mutant matrix", "",
             "`bftcheck mutants` (fuzzing: seed 1, budget 10,000 examples). Each cell: the "
             "property that caught the mutant, the length of the counterexample (the "
             "checker's is a shortest one; fuzzing's is Hypothesis-shrunk) and the time to "
             "catch it.", "",
             "| mutant | breaks | " + " | ".join(engines) + " |",
             "|---|---|" + "---|" * len(engines)]
    for row in d["rows"]:
        cells = []
        for e in engines:
            c = row["engines"][e]
            if row["control"] and c["caught"] is not None:
                cells.append(("clean" if not c["caught"] else f"VIOLATED {c['prop']}")
                             + f" ({c['detail']}, {c['seconds']:.1f} s)")
            elif c["caught"] is None:
                cells.append(f"n/a ({c['detail']})")
            elif c["caught"]:
                cells.append(f"{c['prop']}, {c['length']} steps, {c['seconds']:.1f} s")
            else:
                cells.append(f"not caught ({c['detail']}, {c['seconds']:.1f} s)")
        what = "control: keeps " + row["breaks"] if row["control"] and row["breaks"] else (
            row["breaks"] or "-")
        lines.append(f"| {row['mutant']} | {what} | " + " | ".join(cells) + " |")
    verdict = "yes" if d["all_caught_and_control_clean"] else "NO"
    lines += ["", f"Every mutant caught by every engine, control clean: {verdict}."]
    return lines


# bftcheck vs TLC on the TLA+ twin: configurations TLC finishes within minutes.
# Both engines check the same four properties, which hold on all of them, so
# TLC explores the whole space in one run (a violated property costs TLC a
# run of its own, see spec/tlc.py) and the figures compare exploration speed.
TLC_PROPERTIES = ["validity", "integrity", "accountability", "no-false-accusation"]
TLC_LADDER = [
    ("n4-f1, 1 round", ["--preset", "n4-f1", "--rounds", "1"]),
    ("n4-f0, 1 round", ["--preset", "n4-f0", "--rounds", "1"]),
    ("n3-f0, 2 heights, 1 round", ["--preset", "n3-f0", "--rounds", "1"]),
    ("weighted, 1 round", ["--preset", "weighted", "--rounds", "1"]),
    ("n4-f2", ["--preset", "n4-f2"]),
    ("n4-f1", ["--preset", "n4-f1"]),
    ("n3-f0, isolate-one, 1 round, 1 value", ["--preset", "n3-f0", "--rounds", "1",
                                              "--values", "1", "--partitions", "isolate-one"]),
    ("n4-f1, isolate-one, budget 1, 1 round, 1 value",
     ["--preset", "n4-f1", "--byz-budget", "1", "--rounds", "1", "--values", "1",
      "--partitions", "isolate-one"]),
    # partial synchrony: the timeout guards after GST (model/synchrony.py)
    ("n4-f1, budget 1, 3 rounds, GST at round 1",
     ["--preset", "n4-f1", "--byz-budget", "1", "--rounds", "3", "--gst", "1"]),
]
TLC_HEADING = "## bftcheck vs TLC"


def engine_run(command: str, args: list[str]) -> dict:
    props = [x for p in TLC_PROPERTIES for x in ("--property", p)]
    unreduced = ["--reduce", "none"] if command == "check" else []  # TLC's counts
    return bftcheck_json([command, "--json", "--quiet", *props, *unreduced, *args], ok=(0,))


def tlc_rows() -> list[str]:
    """Each TLC_LADDER configuration on bftcheck and on TLC with 1 and 2 workers."""
    load = os.getloadavg()[0]
    lines = [TLC_HEADING, "",
             f"Recorded {datetime.date.today()} on {os.cpu_count()} cores (load average "
             f"{load:.1f} before the runs: other processes share the cores, and then the "
             f"2-worker figures do not show TLC's scaling). "
             f"`bftcheck check` and `bftcheck tlc` (TLC 2.15 on spec/Tendermint.tla, "
             f"`-workers 1` and `2`), each checking {', '.join(TLC_PROPERTIES)}: one complete "
             "search per run. TLC's seconds include starting the JVM and parsing the spec "
             "(about 1.5 s). Ratio: bftcheck's states/s over TLC's with one worker.", "",
             "| configuration | distinct states (both) | bftcheck s | bftcheck states/s "
             "| TLC 1 worker s | TLC 1 worker states/s | TLC 2 workers s "
             "| TLC 2 workers states/s | bftcheck ÷ TLC |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, args in TLC_LADDER:
        print(f"running {label} on bftcheck and TLC ...", file=sys.stderr, flush=True)
        ours = engine_run("check", args)
        one = engine_run("tlc", args + ["--workers", "1"])
        two = engine_run("tlc", args + ["--workers", "2"])
        counts = {ours["distinct_states"], one["distinct_states"], two["distinct_states"]}
        if len(counts) != 1:
            raise SystemExit(f"{label}: the engines disagree on distinct states: "
                             f"bftcheck {ours['distinct_states']}, TLC {one['distinct_states']} "
                             f"and {two['distinct_states']}")
        ratio = ours["states_per_second"] / one["states_per_second"]
        lines.append(
            f"| {label} | {ours['distinct_states']:,} | {ours['seconds']:.2f} "
            f"| {ours['states_per_second']:,.0f} | {one['seconds']:.1f} "
            f"| {one['states_per_second']:,.0f} | {two['seconds']:.1f} "
            f"| {two['states_per_second']:,.0f} | {ratio:,.0f}x |")
    return lines


def _section(parts: list[str], heading: str) -> tuple[int, int] | None:
    """The line range [start, end) of the section under `heading`, if present."""
    if heading not in parts:
        return None
    start = parts.index(heading)
    end = next((i for i in range(start + 1, len(parts)) if parts[i].startswith("## ")),
               len(parts))
    return start, end


def replace_section(text: str, heading: str, lines: list[str]) -> str:
    """`text` with the section under `heading` replaced by `lines` (appended if absent)."""
    parts = text.rstrip("\n").split("\n")
    where = _section(parts, heading)
    if where is None:
        parts += [""] + lines
    else:
        start, end = where
        parts = parts[:start] + lines + ([""] + parts[end:] if end < len(parts) else [])
    return "\n".join(parts) + "\n"


# `--property` flags for every safety property of the Tendermint model
SAFETY = [x for p in ("agreement", "validity", "integrity", "ledger-consistency",
                      "accountability", "no-false-accusation") for x in ("--property", p)]


def section_options(extra: Callable[[argparse.ArgumentParser], None] | None = None
                    ) -> argparse.Namespace:
    """--write (into RESULTS.md) and --long (the rows that take minutes) of a
    benchmark script that records one section."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--long", action="store_true")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def recorded_by(script: str, long: bool) -> str:
    """The opening of a section's first line: when, where and by what."""
    return (f"Recorded {datetime.date.today()} on {os.cpu_count()} cores (load average "
            f"{os.getloadavg()[0]:.1f} before the runs) by `python benchmarks/{script}"
            f"{' --long' if long else ''}`")


def record_section(heading: str, lines: list[str], write: bool) -> None:
    """Print a results section; with `write`, replace it in RESULTS.md."""
    print("\n".join(lines))
    if write:
        path = HERE / "RESULTS.md"
        path.write_text(replace_section(path.read_text(), heading, lines))


def kept_section(path: Path, heading: str) -> list[str]:
    """The section under `heading` of an existing results file, to carry over."""
    parts = path.read_text(encoding="utf-8").rstrip("\n").split("\n") if path.exists() else []
    where = _section(parts, heading)
    return [""] + parts[where[0]:where[1]] if where else []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="only the small rungs")
    mode.add_argument("--smoke", action="store_true",
                      help="one small row, to see that the installed package runs")
    mode.add_argument("--tlc", action="store_true",
                      help="only bftcheck vs TLC (that section of the results)")
    mode.add_argument("--z3", action="store_true",
                      help="only the Z3 engines (that section of the results)")
    mode.add_argument("--readme", action="store_true",
                      help="every README example, the slow ones included (its golden test)")
    ap.add_argument("--write", action="store_true",
                    help="write the results file (default: print the tables on stdout)")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"),
                    help="the results file --write writes (default benchmarks/RESULTS.md)")
    opts = ap.parse_args()
    out = Path(opts.out)
    preflight()
    if opts.readme:
        readme_examples()
        return
    if opts.tlc or opts.z3:
        import z3_engines

        heading, section = (TLC_HEADING, tlc_rows()) if opts.tlc else (
            z3_engines.TITLE, z3_engines.rows())
        if not opts.write:
            print("\n".join(section))
            return
        old = out.read_text(encoding="utf-8") if out.exists() else "# Benchmark results\n"
        _write(out, replace_section(old, heading, section))
        return
    rows = []
    for label, args, env in LADDER:
        if (opts.quick and label not in QUICK) or (opts.smoke and label not in SMOKE):
            continue
        print(f"running {label} ...", file=sys.stderr, flush=True)
        d = run(args, env)
        violated = [k for k, v in d["verdicts"].items() if v == "violated"]
        verdict = ("violated: " + ", ".join(violated)) if violated else (
            "all hold" if d["complete"] else "no violation (bounded)")
        rows.append((label, d, verdict))
    lines = ladder_lines(rows)
    if not (opts.quick or opts.smoke):
        lines += ["", *fuzz_rows()]
        print("running the mutant matrix ...", file=sys.stderr, flush=True)
        lines += ["", *mutant_matrix()]
    if not opts.write:
        print("\n".join(lines))
        return
    lines += kept_section(out, TLC_HEADING)  # recorded by --tlc, which takes minutes
    lines += kept_section(out, "## Z3 engines")  # recorded by --z3, which takes minutes
    lines += kept_section(out, BEFORE_AFTER)  # two installs side by side, by hand
    lines += kept_section(out, "## Compiled search engine")  # benchmarks/engine.py
    lines += kept_section(out, "## Reductions")  # benchmarks/reductions.py
    lines += kept_section(out, "## Partial-order reduction probe")  # benchmarks/por_probe.py
    lines += kept_section(out, "## Ray")  # benchmarks/ray_scaling.py
    lines += kept_section(out, "## Trace pictures")  # benchmarks/trace_pictures.py
    lines += kept_section(out, "## Liveness after GST")  # benchmarks/liveness.py
    _write(out, "\n".join(lines) + "\n")


# Speed before and after a change: two checkouts installed side by side and
# run alternately in one session (see the section for the commands).
BEFORE_AFTER = "## Before and after"


def readme_examples() -> None:
    """Run the README's golden test with its slow examples (tests/shared/test_readme.py)."""
    env = {**os.environ, "BFTCHECK_README_SLOW": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0",
                           str(HERE.parent / "tests" / "shared" / "test_readme.py")],
                          cwd=HERE.parent, env=env)
    if proc.returncode != 0:
        raise StepFailed(f"the README's examples do not all hold (pytest exit {proc.returncode})")


def _write(out: Path, text: str) -> None:
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StepFailed(f"could not write {out} ({exc.strerror or exc})") from None
    print(f"wrote {out}", file=sys.stderr)


def ladder_lines(rows: list[tuple[str, dict, str]]) -> list[str]:
    lines = [
        "# Benchmark results",
        "",
        f"Recorded {datetime.date.today()} by `python benchmarks/run.py` on "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}. "
        "Explicit-state checker (`bftcheck check`), one process per row; peak RSS is the "
        "whole process. \"complete\" means every reachable state was explored.",
        "",
        "| configuration | complete | distinct states | generated | depth | seconds "
        "| states/s | peak RSS MiB | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, d, verdict in rows:
        lines.append(
            f"| {label} | {'yes' if d['complete'] else 'no'} | {d['distinct_states']:,} "
            f"| {d['generated_states']:,} | {d['depth']} | {d['seconds']:.2f} "
            f"| {d['states_per_second']:,.0f} | {d['peak_rss_mib']:.0f} | {verdict} |")
    by_label = {label: d for label, d, _ in rows}
    fork = by_label.get("n4-f2 fork (agreement only)")
    n4f1 = by_label.get("n4-f1")
    pure = by_label.get("n4-f1, pure Python")
    lines += ["", "Targets of the foundation issue, on this machine:", ""]
    if n4f1:
        lines.append(f"- complete search of n4-f1 in under 60 s: {n4f1['seconds']:.2f} s")
    if fork:
        lines.append(f"- the n4-f2 fork found in under 10 s: {fork['seconds']:.2f} s "
                     f"(shortest counterexample, depth {fork['found_at_depth'].get('agreement')})")
    if n4f1 and pure:
        lines.append(f"- compiled rules and core vs pure Python on n4-f1: "
                     f"{pure['seconds'] / n4f1['seconds']:.1f}x faster, identical counts")
    split = by_label.get("n4-split")
    if split:
        lines += ["", "Partitions (every property, Recovery and fair-recovery included: the "
                  "graph checks store the edges between states of a whole network):", "",
                  f"- n4-split complete, Agreement and Recovery hold: {split['seconds']:.0f} s, "
                  f"{split['distinct_states']:,} states, peak RSS {split['peak_rss_mib']:,.0f} MiB"]
    return lines


if __name__ == "__main__":
    main()
