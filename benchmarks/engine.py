"""The compiled search engine side by side with the reference loop and TLC,
in one run: states/s, bytes per state and peak RSS with 1 and 2 workers.

    python benchmarks/engine.py [--write] [--long]

--write replaces the "## Compiled search engine" section of RESULTS.md;
--long adds the configurations that were out of reach (bounded runs).
Each row is one `bftcheck check --json` process of the installed bftcheck.
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

HEADING = "## Compiled search engine"
ROWS = [
    ("n4-f1", ["--preset", "n4-f1"]),
    ("n4-f0", ["--preset", "n4-f0"]),
    ("bench", ["--preset", "bench"]),
]
LONG = [
    ("n4-f1, 3 rounds (bounded 120 s)", ["--preset", "n4-f1", "--rounds", "3",
                                         "--max-seconds", "120"]),
    ("7 validators, 2 Byzantine, 2 heights, 3 rounds (bounded 300 s)",
     ["--validators", "7", "--byzantine", "2", "--heights", "2", "--rounds", "3",
      "--max-seconds", "300"]),
    ("n7-f2-split, safety properties (bounded 300 s)", ["--preset", "n7-f2-split",
                                                        *SAFETY, "--max-seconds", "300"]),
]
TLC_PROPERTIES = ["validity", "integrity", "accountability", "no-false-accusation"]


def check(args: list[str], workers: int | None, reference: bool = False) -> dict:
    extra = ["--workers", str(workers)] if workers else []
    env = {"BFTCHECK_REFERENCE_LOOP": "1"} if reference else None
    # unreduced: the engine's own speed (benchmarks/reductions.py has the reduced)
    return bftcheck_json(["check", "--json", "--quiet", "--reduce", "none", *args, *extra],
                         env=env)


def row(label: str, engine: str, r: dict) -> str:
    # the reference loop does not measure its memory per state
    per_state = f"{r['bytes_per_state']:.1f}" if r["search_engine"] == "compiled" else "-"
    return (f"| {label} | {engine} | {'yes' if r['complete'] else 'no'} "
            f"| {r['distinct_states']:,} | {r['generated_states']:,} | {r['seconds']:.2f} "
            f"| {r['states_per_second']:,.0f} | {r['peak_rss_mib']:.0f} "
            f"| {per_state} |")


def main() -> None:
    opts = section_options()
    lines = [HEADING, "",
             f"{recorded_by('engine.py', opts.long)}: every property of each preset, one "
             "process per row. Bytes/state: peak RSS above the process's RSS when the "
             "search began (with 2 workers, the coordinator's plus what each worker grew "
             "by), per distinct state.", "",
             "| configuration | engine | complete | distinct | generated | seconds "
             "| states/s | peak RSS MiB | bytes/state |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    rates = {}
    for label, args in ROWS + (LONG if opts.long else []):
        print(f"running {label} ...", file=sys.stderr, flush=True)
        for engine, workers, ref in (("reference loop", None, True),
                                     ("compiled, 1 worker", 1, False),
                                     ("compiled, 2 workers", 2, False)):
            if ref and label not in dict(ROWS):
                continue
            r = check(args, workers, ref)
            rates[label, engine] = r
            lines.append(row(label, engine, r))
            if ref and (workers or 1) == 1:
                counts = (r["distinct_states"], r["generated_states"])
            elif label in dict(ROWS) and (r["distinct_states"], r["generated_states"]) != counts:
                raise SystemExit(f"{label}: {engine} disagrees with the reference loop")
    print("running n4-f1 on TLC, 1 worker ...", file=sys.stderr, flush=True)
    props = [x for p in TLC_PROPERTIES for x in ("--property", p)]
    tlc = bftcheck_json(["tlc", "--json", "--quiet", "--preset", "n4-f1", *props,
                         "--workers", "1"], ok=(0,))
    ours = bftcheck_json(["check", "--json", "--quiet", "--preset", "n4-f1", *props,
                          "--workers", "1", "--reduce", "none"], ok=(0,))
    if tlc["distinct_states"] != ours["distinct_states"]:
        raise SystemExit("n4-f1: TLC and bftcheck disagree on distinct states")
    one, two = rates["n4-f1", "compiled, 1 worker"], rates["n4-f1", "compiled, 2 workers"]
    b1, b2 = rates["bench", "compiled, 1 worker"], rates["bench", "compiled, 2 workers"]
    f0 = rates["n4-f0", "compiled, 1 worker"]
    lines += ["", f"TLC 2.15 on the twin, one worker, n4-f1 with {', '.join(TLC_PROPERTIES)}: "
              f"{tlc['distinct_states']:,} states (equal counts) in {tlc['seconds']:.1f} s, "
              f"{tlc['states_per_second']:,.0f} states/s; bftcheck one worker on the same "
              f"check: {ours['states_per_second']:,.0f} states/s, "
              f"{ours['states_per_second'] / tlc['states_per_second']:,.0f}x.", "",
              "Targets of the engine issue:", "",
              f"- one worker on n4-f1 at least 1.5M states/s: "
              f"{one['states_per_second']:,.0f}",
              f"- at least 100x TLC one worker: "
              f"{ours['states_per_second'] / tlc['states_per_second']:,.0f}x",
              f"- 2 workers at least 1.7x one: n4-f1 "
              f"{two['states_per_second'] / one['states_per_second']:.2f}x, bench "
              f"{b2['states_per_second'] / b1['states_per_second']:.2f}x",
              f"- at most 24 bytes a state on n4-f0 (one worker): "
              f"{f0['bytes_per_state']:.1f}"]
    record_section(HEADING, lines, opts.write)


if __name__ == "__main__":
    main()
