"""`bftcheck prove quorum`: Z3 proofs of quorum intersection."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bftcheck.cli_common import (
    check_outputs,
    junit_option,
    parse_powers,
    print_junit,
    report_output_error,
    write_junit,
)
from bftcheck.model.config import Config, ConfigError, Origin
from bftcheck.outcome import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION, OutputError


def _fraction(text: str) -> tuple[int, int]:
    try:
        num, den = (int(x) for x in text.split("/"))
    except ValueError:
        raise ConfigError(f"--faulty-below {text!r} is not a fraction like 1/3") from None
    if den <= 0 or num <= 0 or num >= den:
        raise ConfigError(f"--faulty-below {text}: pass a fraction strictly between 0 and 1")
    return num, den


def cmd_prove(args: argparse.Namespace) -> int:
    from bftcheck.model import quorum as q

    if args.mutant not in (None, "weak-quorum"):
        raise ConfigError(f"--mutant {args.mutant!r}: only weak-quorum changes the quorum "
                          f"threshold")
    threshold = q.WEAK if args.mutant == "weak-quorum" else q.TENDERMINT
    check_outputs(args)
    if args.powers is None and args.faulty_power is not None:
        raise ConfigError("--faulty-power needs --powers (the validator set it is part of)")
    if args.powers is not None:
        if args.faulty_below is not None:
            raise ConfigError("--faulty-below is for the parameterised proof; with --powers "
                              "give --faulty-power")
        powers = list(parse_powers(args.powers))
        # the same checks as everywhere, naming the flag prove has
        Config(powers=tuple(powers)).validated(Origin(flags=frozenset({"powers"})))
        total = sum(powers)
        faulty = args.faulty_power if args.faulty_power is not None else (total - 1) // 3
        if not 0 <= faulty <= total:
            raise ConfigError(f"--faulty-power {faulty}: pass 0 to {total} (the total power)")
        result = q.prove_concrete(powers, faulty, threshold)
    else:
        fraction = _fraction(args.faulty_below) if args.faulty_below else (1, 3)
        result = q.prove_parametric(threshold, fraction)
    code = EXIT_OK if result.proved else EXIT_INCOMPLETE if result.unknown else EXIT_VIOLATION
    error = _write_junit(args, result)
    final = EXIT_USAGE if error else code  # the write's one line comes last
    if args.json:
        out = {"claim": result.claim, "proved": result.proved,
               "unknown": result.unknown or None, "exit_code": final}
        if code == EXIT_VIOLATION:
            out["counterexample"] = {
                "powers": result.powers, "faulty_power": result.faulty_power,
                "quorum1": [f"p{i + 1}" for i in result.quorum1],
                "quorum2": [f"p{i + 1}" for i in result.quorum2],
                "faulty": [f"p{i + 1}" for i in result.faulty]}
        print(json.dumps(out))
        return report_output_error(error, code)
    print(f"bftcheck prove quorum: {result.claim}")
    print_junit(args, error)
    if result.proved:
        print(f"result: proved: Z3 shows that no counterexample exists (exit {final})")
    elif result.unknown:
        print(f"result: unknown: Z3 answered neither proof nor counterexample "
              f"({result.unknown}) (exit {final})")
    else:
        print("\n".join(_counterexample(result)))
        print(f"result: refuted (exit {final})")
    return report_output_error(error, code)


def _counterexample(result: Any) -> list[str]:
    """Two quorums whose common validators may all be faulty."""
    def members(idx: list[int]) -> str:
        names = ", ".join(f"p{i + 1}" for i in idx)
        return f"{{{names}}} (power {sum(result.powers[i] for i in idx)})"

    total = sum(result.powers)
    return ["counterexample:",
            "  validators: " + ", ".join(f"p{i + 1}={p}" for i, p in enumerate(result.powers))
            + f" (total {total})",
            f"  quorum 1:   {members(result.quorum1)}",
            f"  quorum 2:   {members(result.quorum2)}",
            f"  faulty:     {members(result.faulty)}, at most {result.faulty_power} of faulty "
            f"power: every validator in both quorums may be faulty, so both can be decided "
            f"on with different values"]


def _write_junit(args: argparse.Namespace, result: Any) -> OutputError | None:
    from bftcheck.junit import Case

    if result.proved:
        case = Case("quorum-intersection", "passed", "proved")
    elif result.unknown:
        case = Case("quorum-intersection", "unknown", f"unknown ({result.unknown})")
    else:
        case = Case("quorum-intersection", "failed", "refuted",
                    "\n".join(_counterexample(result)))
    return write_junit(args, "prove", result.claim, [case], 0.0)


def add_parser(sub: Any) -> None:
    pr = sub.add_parser("prove", help="Z3 proofs: quorum intersection for every validator set")
    pr.add_argument("what", choices=("quorum",))
    pr.add_argument("--powers", metavar="P1,P2,...",
                    help="a concrete validator set (default: every N and power assignment)")
    pr.add_argument("--faulty-power", type=int, metavar="F",
                    help="with --powers: the faulty power (default: the largest below 1/3)")
    pr.add_argument("--faulty-below", metavar="N/D",
                    help="without --powers: faulty power below this fraction (default 1/3)")
    pr.add_argument("--mutant", metavar="NAME", help="weak-quorum: prove with its threshold")
    pr.add_argument("--json", action="store_true", help="one JSON object on stdout")
    junit_option(pr)
    pr.set_defaults(func=cmd_prove)
