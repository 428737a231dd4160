"""The Z3 engines beside the explicit-state checker: the rows of the
"## Z3 engines" section of RESULTS.md, written by `python benchmarks/run.py
--z3` (a full run keeps the section as recorded). Every row runs
`bftcheck bmc/induct/check/mutants --json` in its own process.
"""

from __future__ import annotations

import sys

TITLE = "## Z3 engines"

# (label, configuration arguments, property, depth): BMC to the checker's depth
BMC = [
    ("n4-f2 fork", ["--preset", "n4-f2"], "agreement", 7),
    ("weak-quorum", ["--mutant", "weak-quorum"], "agreement", 9),
    ("no-lock", ["--mutant", "no-lock"], "agreement", 15),
    ("decide-on-prevotes", ["--mutant", "decide-on-prevotes"], "agreement", 10),
    ("unlock-on-new-round", ["--mutant", "unlock-on-new-round"], "agreement", 15),
    ("accept-invalid", ["--mutant", "accept-invalid"], "validity", 6),
    ("decide-stays-in-height", ["--mutant", "decide-stays-in-height"], "integrity", 11),
    ("n4-f1 (safe), to the checker's full depth", ["--preset", "n4-f1"], "agreement", 20),
    ("n4-f1, 1 round (safe)", ["--preset", "n4-f1", "--rounds", "1"], "agreement", 12),
    ("n3-f0, 1 round, 2 heights (safe)", ["--preset", "n3-f0", "--rounds", "1"],
     "agreement", 20),
    ("unverified-sync (partitions, block sync)", ["--mutant", "unverified-sync"],
     "agreement", 13),
]

BIG = ["--validators", "7", "--byzantine", "2", "--byz-budget", "6", "--heights", "2",
       "--rounds", "3", "--values", "2"]
# (label, configuration arguments, checker time limit in seconds)
INDUCT = [
    ("n4-f1", ["--preset", "n4-f1"], None),
    ("n4-f0", ["--preset", "n4-f0"], None),
    ("n3-f0", ["--preset", "n3-f0"], None),
    ("weighted", ["--preset", "weighted"], None),
    ("bench: n5-f1", ["--preset", "bench"], None),
    ("n4-f1, 3 heights, 4 rounds, 3 values", ["--preset", "n4-f1", "--heights", "3",
                                              "--rounds", "4", "--values", "3"], 120),
    ("7 validators, 2 Byzantine, 2 heights, 3 rounds", BIG, 600),
    ("n4-split", ["--preset", "n4-split"], None),
    ("n4-f1-split", ["--preset", "n4-f1-split"], None),
    ("n7-f2-split", ["--preset", "n7-f2-split"], 300),
]


def bftcheck(*args: str) -> dict:
    """`bftcheck ARGS --json` on the installed package (run.py's rules: from outside
    the source tree, one line naming a failed step's real error)."""
    from run import bftcheck_json

    return bftcheck_json([*args, "--json"], ok=(0, 1, 3))


def checker(args: list[str], prop: str | None, limit: int | None) -> dict:
    extra = ["--property", prop] if prop else []
    if limit:
        extra += ["--max-seconds", str(limit)]
    return bftcheck("check", "--quiet", "--reduce", "none", *args, *extra)


def rows() -> list[str]:
    lines = [TITLE, "",
             "`bftcheck bmc` unrolls the Z3 transcription of the rules (model/symbolic.py) "
             "depth by depth; the first depth with a violation is the shortest one. "
             "\"complete\" means Z3 showed that no run is longer, so the bounded answer "
             "is a proof. The checker column is `bftcheck check --property P` on the same "
             "configuration.", "",
             "| configuration | property | BMC verdict | BMC depth | checker depth "
             "| BMC seconds | checker seconds | BMC seconds per depth (0, 1, ...) |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for label, args, prop, depth in BMC:
        print(f"running bmc {label} ...", file=sys.stderr, flush=True)
        b = bftcheck("bmc", *args, "--property", prop, "--depth", str(depth))
        c = checker(args, prop, None)
        at = b["found_at_depth"].get(prop)
        verdict = "violated" if at is not None else (
            "holds (complete)" if b["complete"] else f"none within {b['checked_depth']}")
        shown = at if at is not None else b["checked_depth"]
        cdepth = c["found_at_depth"].get(prop, c["depth"])
        per = ", ".join(f"{t:.2f}" for t in b["seconds_per_depth"])
        lines.append(f"| {label} | {prop} | {verdict} | {shown} | {cdepth} "
                     f"| {b['seconds']:.2f} | {c['seconds']:.2f} | {per} |")
    lines += ["",
              "`bftcheck induct` checks that the shipped strengthening of Agreement "
              "(model/inductive.py) holds initially, is preserved by every step, and implies "
              "every safety property: a proof for every depth. The checker column is a "
              "complete `bftcheck check` where it finishes, else the states it reached "
              "before its time limit.", "",
              "| configuration | induct | induct seconds | checker | checker states "
              "| checker seconds | checker peak RSS MiB |",
              "|---|---|---:|---|---:|---:|---:|"]
    for label, args, limit in INDUCT:
        print(f"running induct {label} ...", file=sys.stderr, flush=True)
        i = bftcheck("induct", *args)
        c = checker(args, None, limit)
        state = "complete, all hold" if c["complete"] and not any(
            v == "violated" for v in c["verdicts"].values()) else (
            "complete" if c["complete"] else f"did not finish in {limit} s")
        lines.append(f"| {label} | {'proved' if i['proved'] else 'NOT proved'} "
                     f"| {i['seconds']:.2f} | {state} | {c['distinct_states']:,} "
                     f"| {c['seconds']:.1f} | {c['peak_rss_mib']:,.0f} |")
    lines += ["", *matrix_rows()]
    return lines


def matrix_rows() -> list[str]:
    """`bftcheck mutants --engines bmc,induct` as a table."""
    print("running the Z3 mutant matrix ...", file=sys.stderr, flush=True)
    d = bftcheck("mutants", "--engines", "bmc,induct", "--quiet")
    lines = ["`bftcheck mutants --engines bmc,induct` (bmc to depth 16, induct with the "
             "shipped invariant; the checker and fuzzing columns are in the mutant matrix "
             "above).", "",
             "| mutant | breaks | bmc | induct |", "|---|---|---|---|"]
    for row in d["rows"]:
        cells = []
        for e in ("bmc", "induct"):
            c = row["engines"][e]
            if c["caught"] is None:
                cells.append(f"n/a ({c['detail']})")
            elif row["control"]:
                cells.append(("clean" if not c["caught"] else f"VIOLATED {c['prop']}")
                             + f" ({c['detail']}, {c['seconds']:.1f} s)")
            elif c["caught"] and e == "induct":
                cells.append(f"{c['detail']} breaks {c['prop']}, {c['seconds']:.1f} s")
            elif c["caught"]:
                cells.append(f"{c['prop']}, {c['length']} steps, {c['seconds']:.1f} s")
            else:
                cells.append(f"not caught ({c['detail']}, {c['seconds']:.1f} s)")
        what = "control" if row["control"] else (row["breaks"] or "-")
        lines.append(f"| {row['mutant']} | {what} | " + " | ".join(cells) + " |")
    verdict = "yes" if d["all_caught_and_control_clean"] else "NO"
    lines += ["", f"Every mutant caught by both Z3 engines (where they can judge it), "
              f"controls clean: {verdict}."]
    return lines
