"""Reduced and unreduced searches side by side, in one run: the reduction
factor per preset and variant, and the questions the reductions make
answerable (three rounds, seven validators, the partition benchmark).

    python benchmarks/reductions.py [--write] [--long]

--write replaces the "## Reductions" section of RESULTS.md; --long adds the
rows that take minutes (the questions). Each row runs `bftcheck check --json`
twice, with `--reduce none` and with the default (every sound reduction), and
stops with one line if the two disagree on a verdict or a depth.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    SAFETY,
    bftcheck_json,
    record_section,
    recorded_by,
    section_options,
)

HEADING = "## Reductions"
ROWS = [
    ("n4-f1", ["--preset", "n4-f1"]),
    ("n4-f2", ["--preset", "n4-f2"]),
    ("n3-f0", ["--preset", "n3-f0"]),
    ("weighted", ["--preset", "weighted"]),
    ("n4-f0", ["--preset", "n4-f0"]),
    ("bench", ["--preset", "bench"]),
    ("n4-f1-split", ["--preset", "n4-f1-split"]),
    ("n4-split, recovery and safety", ["--preset", "n4-split", *SAFETY,
                                       "--property", "recovery"]),
    ("ignore-lock-round (powers 2,1,1, 3 rounds)", ["--mutant", "ignore-lock-round"]),
    ("real protocol, same configuration", ["--powers", "2,1,1", "--byzantine", "1",
                                           "--byz-budget", "1", "--rounds", "3"]),
    ("no-block-sync, recovery", ["--mutant", "no-block-sync", "--property", "agreement",
                                 "--property", "recovery"]),
]
LONG = [
    ("n4-f1, 3 rounds", ["--preset", "n4-f1", "--rounds", "3"]),
    ("ignore-lock-round on n4-f1, 3 rounds", ["--preset", "n4-f1", "--rounds", "3",
                                              "--mutant", "ignore-lock-round"]),
    ("n7-f2-split, safety", ["--preset", "n7-f2-split", *SAFETY]),
    ("7 validators, 2 Byzantine, 2 rounds, safety",
     ["--validators", "7", "--byzantine", "2", "--byz-budget", "2", "--rounds", "2",
      *SAFETY]),
]


def check(args: list[str], reduce: str | None, limit: float | None) -> dict:
    extra = (["--reduce", reduce] if reduce else []) + \
        (["--max-seconds", str(limit)] if limit else [])
    return bftcheck_json(["check", "--json", "--quiet", "--workers", "2", *args, *extra])


def verdicts(r: dict) -> dict:
    return {k: v for k, v in r["verdicts"].items() if v != "unknown"}


def cells(r: dict) -> str:
    done = "yes" if r["complete"] else f"no ({r['stopped']})"
    return (f"{done} | {r['distinct_states']:,} | {r['seconds']:.1f} "
            f"| {r['peak_rss_mib']:.0f}")


def compare(label: str, full: dict, reduced: dict) -> str:
    both = full["complete"] and reduced["complete"]
    if both and (verdicts(full) != verdicts(reduced)
                 or full["found_at_depth"] != reduced["found_at_depth"]):
        raise SystemExit(f"{label}: the reduced search disagrees with the unreduced one: "
                         f"{verdicts(full)} vs {verdicts(reduced)}")
    factor = full["distinct_states"] / reduced["distinct_states"] if both else None
    shown = f"{factor:.2f}x" if factor else "-"
    found = ", ".join(f"{k} (depth {reduced['found_at_depth'][k]})"
                      for k, v in reduced["verdicts"].items() if v == "violated") or "none"
    used = ", ".join(reduced["reductions"]["used"]) or "none"
    return (f"| {label} | {cells(full)} | {cells(reduced)} | {used} | {shown} "
            f"| {found} |")


def main() -> None:
    opts = section_options(lambda parser: parser.add_argument(
        "--unreduced-limit", type=float, default=900.0,
        help="seconds an unreduced long row may run (default 900)"))
    lines = [HEADING, "",
             f"{recorded_by('reductions.py', opts.long)}, 2 workers. Each row: "
             "`--reduce none`, then "
             "the default (every sound reduction: symmetry, unless a liveness property is "
             "checked); the verdicts and depths of the two are equal on every row both "
             f"complete. Long unreduced rows stop after {opts.unreduced_limit:g} s.", "",
             "| configuration | unreduced complete | states | s | peak MiB "
             "| reduced complete | states | s | peak MiB | reductions | factor | violated |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---|---:|---|"]
    for label, args in ROWS + (LONG if opts.long else []):
        print(f"running {label} ...", file=sys.stderr, flush=True)
        limit = opts.unreduced_limit if (label, args) in LONG else None
        full = check(args, "none", limit)
        reduced = check(args, None, None)
        lines.append(compare(label, full, reduced))
    record_section(HEADING, lines, opts.write)


if __name__ == "__main__":
    main()
