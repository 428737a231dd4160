"""How much would partial-order reduction save on this model? A measurement,
not a feature: the strongest sound persistent sets we found, counted.

    python benchmarks/por_probe.py [--write]

The independence the model has is between heights. Without partitions and
with the Byzantine budget spent, a correct validator at height h reads its
own variables and the messages of height h, and writes its own variables and
messages of height h (and its proposal of h + 1 once it decides). Take h the
lowest height at which a validator has an enabled step (those below it can
never move again: only validators at their height write what they read) and
T the enabled steps of the validators at h. T is persistent: a path avoiding
T is made of steps above h, which read and write other bytes. It may be used
only when none of its steps is visible, here a change of a decision (what
agreement, validity, integrity and ledger consistency read); the state graph
is acyclic, so the cycle proviso holds. Choosing a higher height's steps when
the lowest one's are visible is *not* sound (a validator below can decide,
climb, and send messages the higher validators read), so it is not done.

The probe explores each configuration on the Python rules twice, with and
without those persistent sets, and counts the states where a reduction
applied. --write replaces the "## Partial-order reduction probe" section of
RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import record_section  # noqa: E402

from bftcheck.model import TendermintModel  # noqa: E402
from bftcheck.model.config import Config  # noqa: E402
from bftcheck.model.state import HEIGHT, LOCAL_FIELDS  # noqa: E402

HEADING = "## Partial-order reduction probe"
CONFIGS = [
    ("4 correct, 2 heights, 1 round, 2 values",
     Config(powers=(1,) * 4, byzantine=0, byz_budget=0, heights=2, rounds=1, values=2)),
    ("3 correct, 2 heights, 1 round, 2 values",
     Config(powers=(1,) * 3, byzantine=0, byz_budget=0, heights=2, rounds=1, values=2)),
    ("3 correct + 1 Byzantine (budget 1), 2 heights, 1 round, 1 value",
     Config(powers=(1,) * 4, byzantine=1, byz_budget=1, heights=2, rounds=1, values=1)),
]


def decisions(model: TendermintModel, s: bytes) -> bytes:
    lay = model.lay
    return b"".join(s[b + LOCAL_FIELDS:b + LOCAL_FIELDS + lay.H] for b in lay.local)


def persistent(model: TendermintModel, s: bytes, counts: dict[str, int]) -> list[bytes]:
    """The successors in the persistent set described above, or all of them."""
    lay = model.lay
    succ = list(model.next_states(s))
    heights = [s[b + HEIGHT] for b in lay.local]
    if len({h for h in heights if h < lay.H}) < 2 or not succ:
        return [t for _, t in succ]
    counts["mixed heights"] += 1
    if lay.byzantine and s[lay.budget_used] < lay.cfg.byz_budget:
        counts["budget left"] += 1
        return [t for _, t in succ]
    index = {name: ci for ci, name in enumerate(model.names)}
    low = min(heights[index[a.validator]] for a, _ in succ)
    group = [t for a, t in succ if heights[index[a.validator]] == low]
    if any(decisions(model, t) != decisions(model, s) for t in group):
        counts["lowest height visible"] += 1
        return [t for _, t in succ]
    if len(group) < len(succ):
        counts["reduced"] += 1
    return group


def explore(model: TendermintModel, successors: Callable[[bytes], Iterator[bytes] | list]) -> int:
    seen = set(model.init_states())
    frontier = list(seen)
    while frontier:
        upcoming = []
        for s in frontier:
            for t in successors(s):
                if t not in seen:
                    seen.add(t)
                    upcoming.append(t)
        frontier = upcoming
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    opts = parser.parse_args()
    lines = [HEADING, "",
             f"Recorded {datetime.date.today()} by `python benchmarks/por_probe.py` (the "
             "Python rules; the argument is in its docstring and in README, \"Reductions: "
             "symmetry\"). States: the whole state space; with persistent sets: what a "
             "search using them keeps; the other columns count states of the reduced "
             "search.", "",
             "| configuration | states | with persistent sets | mixed heights "
             "| budget left | lowest height visible | reduced |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, cfg in CONFIGS:
        print(f"probing {label} ...", file=sys.stderr, flush=True)
        model = TendermintModel(cfg)
        counts = dict.fromkeys(("mixed heights", "budget left", "lowest height visible",
                                "reduced"), 0)
        full = explore(model, lambda s, m=model: [t for _, t in m.next_states(s)])
        kept = explore(model, lambda s, m=model, c=counts: persistent(m, s, c))
        lines.append(f"| {label} | {full:,} | {kept:,} | {counts['mixed heights']:,} "
                     f"| {counts['budget left']:,} | {counts['lowest height visible']:,} "
                     f"| {counts['reduced']:,} |")
    record_section(HEADING, lines, opts.write)


if __name__ == "__main__":
    main()
