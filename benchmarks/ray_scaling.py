"""The search on Ray against the local engine, in one run on this machine:
1, 2 and 4 Ray workers (`--ray auto`: a local Ray of each run's own) beside
1 and 2 local workers, on the same configurations, unreduced, then a
projection to N machines from the volumes measured.

    python benchmarks/ray_scaling.py [--write] [--long]

Per row: distinct states, seconds of search (Ray's start-up is not in it),
states/s, peak RSS, what travelled between workers (MiB, bytes per distinct
state, Ray objects and their mean size, the share of successors whose owner
was another worker). The counts of every row must be equal, or the run
stops with one line. --write replaces the "## Ray" section of RESULTS.md;
--long adds n4-f1 with 3 rounds (66 million states, about a minute a row).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    bftcheck_json,
    record_section,
    recorded_by,
    section_options,
)

HEADING = "## Ray"
CONFIGS = [("bench", ["--preset", "bench"])]
LONG = [("n4-f1, 3 rounds", ["--preset", "n4-f1", "--rounds", "3"])]
PLACES = [("local", 1), ("local", 2), ("Ray", 1), ("Ray", 2), ("Ray", 4)]
# links a projection assumes, bytes/s: 1 and 10 Gbit/s Ethernet at 90% use
LINKS = {"1 GbE": 0.9 * 125e6, "10 GbE": 0.9 * 1.25e9}
MACHINES = (1, 2, 4, 8, 16)


def check(args: list[str], place: str, workers: int) -> dict:
    where = ["--ray", "auto"] if place == "Ray" else []
    return bftcheck_json(["check", "--json", "--quiet", "--reduce", "none", "--workers",
                          str(workers), *where, *args])


def row(label: str, place: str, workers: int, r: dict, base: float) -> str:
    t = r["traffic"]
    rate = r["states_per_second"]
    cells = (f"| {label} | {place} | {workers} | {r['distinct_states']:,} | {r['seconds']:.1f} "
             f"| {rate:,.0f} | {rate / base:.2f} | {r['peak_rss_mib']:.0f} ")
    if t is None:  # a local run: its batches are files, not counted
        return cells + "| - | - | - | - | - | - |"
    moved = t["sent_records"] + t["kept_records"]
    share = t["sent_records"] / moved if moved else 0.0
    mean = t["sent_bytes"] / t["batches"] / 2**10 if t["batches"] else 0.0
    return cells + (f"| {t['sent_bytes'] / 2**20:,.0f} "
                    f"| {t['sent_bytes'] / r['distinct_states']:.0f} | {t['batches']:,} "
                    f"| {mean:,.0f} | {share:.0%} | {time_shares(t, workers, r['seconds'])} |")


def time_shares(t: dict, workers: int, seconds: float) -> str:
    """Where the workers' time went: expand / send+fetch / merge / waiting."""
    total = workers * seconds * 1000
    parts = [t["expand_ms"], t["send_ms"] + t["fetch_ms"], t["merge_ms"] + t["other_ms"]]
    waiting = max(0.0, total - sum(parts))
    return " / ".join(f"{p / total:.0%}" for p in (*parts, waiting))


def projection(local_rate: float, ray: dict, workers: int) -> list[str]:
    """States/s on N machines of this machine's cores: the least of what the
    cores expand (the local one-worker rate, times the cores, times the
    efficiency Ray measured here) and what each machine's link carries."""
    t = ray["traffic"]
    moved = t["sent_records"] + t["kept_records"]
    per_state = t["sent_bytes"] / t["sent_records"] * moved / ray["distinct_states"]
    cores = os.cpu_count() or 1
    efficiency = ray["states_per_second"] / (local_rate * workers)
    lines = ["", f"Projection, not a measurement: N machines of {cores} cores, one worker a "
             f"core. Expansion: {local_rate:,.0f} states/s a core (the local 1-worker row) "
             f"times {efficiency:.2f}, the efficiency of the {workers}-worker Ray row (one "
             f"worker a core) on this machine. Network: every successor whose owner is on "
             f"another machine crosses a link, {per_state:.0f} bytes per distinct state if "
             f"all of them crossed (measured), a share (N*{cores}-{cores})/(N*{cores}) of "
             f"them do; each machine sends its share through its own link.", "",
             "| machines | workers | expansion bound | " + " | ".join(
                 f"{name} bound" for name in LINKS) + " | projected states/s (10 GbE) |",
             "|---:|---:|---:|" + "---:|" * len(LINKS) + "---:|"]
    for n in MACHINES:
        w = n * cores
        expand = local_rate * w * efficiency
        crossing = (w - cores) / w
        bounds = [float("inf") if crossing == 0 else n * link / (per_state * crossing)
                  for link in LINKS.values()]
        shown = " | ".join("-" if b == float("inf") else f"{b:,.0f}" for b in bounds)
        lines.append(f"| {n} | {w} | {expand:,.0f} | {shown} | {min(expand, bounds[-1]):,.0f} |")
    return lines


def main() -> None:
    opts = section_options()
    lines = [HEADING, "",
             f"{recorded_by('ray_scaling.py', opts.long)}: every row unreduced (`--reduce none`); "
             "Ray rows with `--ray auto`, whose start-up (about 4 s) is not in the seconds. "
             "Speed is the ratio to the local 1-worker row of the same configuration.", "",
             "Time: the share of the workers' time spent expanding / sending and fetching "
             "batches / merging and ranking the next level / waiting at the level barrier "
             "(for the others, or for the coordinator).", "",
             "| configuration | engine | workers | states | s | states/s | speed "
             "| peak MiB | MiB sent | bytes sent/state | objects | KiB/object | crossed "
             "| time |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    last = None
    for label, args in CONFIGS + (LONG if opts.long else []):
        results = []
        for place, workers in PLACES:
            print(f"running {label} on {place}, {workers} workers ...", file=sys.stderr,
                  flush=True)
            results.append((place, workers, check(args, place, workers)))
        counts = {(r["distinct_states"], r["generated_states"], tuple(r["verdicts"].items()))
                  for _, _, r in results}
        if len(counts) != 1:
            raise SystemExit(f"{label}: the rows disagree on counts or verdicts: {counts}")
        base = results[0][2]["states_per_second"]
        lines += [row(label, p, w, r, base) for p, w, r in results]
        per_core = [(r, w) for p, w, r in results if p == "Ray" and w == os.cpu_count()]
        if per_core:
            last = (base, *per_core[0])
    if last is not None:
        lines += projection(*last)
    record_section(HEADING, lines, opts.write)


if __name__ == "__main__":
    main()
