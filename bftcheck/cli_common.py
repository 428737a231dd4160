"""What every subcommand shares: the parser, the configuration options and how
a Config is built from them, numeric flag types, output files, traces."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from bftcheck.model.config import Config, ConfigError
from bftcheck.outcome import EXIT_USAGE, OutputError, UsageError
from bftcheck.presets import DEFAULT_PRESET, preset


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        import re

        # "argument --max-seconds: 'nan': pass ..." -> "--max-seconds nan: pass ..."
        message = re.sub(r"^argument (\S+?)(?:/\S+)?: '(.*?)': ", r"\1 \2: ", message)
        # argparse echoes a rejected value whole: a 5000-digit number is not a message
        message = re.sub(r"\S{60,}", lambda m: m.group(0)[:24] + "...", message)
        raise UsageError(f"{message} (see '{self.prog} --help')")


def config_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration (a preset or file, then overrides)")
    src = g.add_mutually_exclusive_group()
    src.add_argument("--preset", help=f"a named configuration (default {DEFAULT_PRESET}; "
                                      f"see 'bftcheck list presets')")
    src.add_argument("--config", metavar="FILE.toml", help="a TOML configuration file")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--validators", metavar="N", type=int, help="N validators of power 1")
    size.add_argument("--powers", metavar="P1,P2,...", help="voting power per validator")
    g.add_argument("--byzantine", metavar="K", type=int, help="the last K validators are Byzantine")
    g.add_argument("--byz-budget", metavar="M", type=int,
                   help="Byzantine messages correct validators may act on")
    g.add_argument("--heights", metavar="H", type=int, help="heights (ledger length)")
    g.add_argument("--rounds", metavar="R", type=int, help="rounds per height")
    g.add_argument("--values", metavar="V", type=int, help="valid values v0..v(V-1)")
    g.add_argument("--partitions", metavar="PATTERN[,PATTERN]",
                   help="network split patterns (see 'bftcheck list partitions')")
    g.add_argument("--max-partitions", metavar="E", type=int,
                   help="split/heal events per run (default 2 with --partitions)")
    g.add_argument("--gst", metavar="ROUND", type=int,
                   help="partial synchrony: the network is synchronous from this round of "
                        "height 0 on (README, 'Liveness after GST and consensus latency')")
    g.add_argument("--mutant", metavar="NAME",
                   help="a known-unsafe variant (see 'bftcheck list mutants'); without "
                        "--preset/--config it runs on the mutant's own small configuration")
    g.add_argument("--model", metavar="MODULE:ATTR",
                   help="check another protocol: a plug-in, e.g. examples/bracha.py:PLUGIN "
                        "(README, 'Checking your own protocol'); its settings come from "
                        "--config and --set, its variants from --mutant")
    g.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                   help="a setting of the --model plug-in (repeatable), e.g. --set processes=4")


def output_options(p: argparse.ArgumentParser, trace: str = "the counterexample") -> None:
    p.add_argument("--trace-out", metavar="FILE", help=f"write {trace} as ITF JSON")
    p.add_argument("--trace-html", metavar="FILE", help=f"write {trace} as HTML")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")


def junit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit", metavar="FILE",
                   help="also write the verdicts as JUnit XML (a test case per property)")


def write_junit(args: argparse.Namespace, command: str, config: str, cases: list[Any],
                seconds: float) -> OutputError | None:
    """--junit, after the work; a failed write is returned like write_traces'."""
    if not getattr(args, "junit", None):
        return None
    from bftcheck import junit

    try:
        junit.write(args.junit, command, config, cases, seconds)
    except OutputError as exc:
        return exc
    return None


def print_junit(args: argparse.Namespace, error: OutputError | None) -> None:
    if getattr(args, "junit", None) and error is None:
        print(f"JUnit report written to {args.junit}")


def trace_details(args: argparse.Namespace, model: Any, trace: Any, written: Any) -> str:
    """A failure's text: the story, and the trace files when this trace is the
    one --trace-out and --trace-html wrote."""
    from bftcheck.trace import render

    lines = [render(model, trace)]
    if trace is written and getattr(args, "trace_out", None):
        lines.append(f"ITF trace: {args.trace_out} (check it with 'bftcheck replay "
                     f"{args.trace_out}')")
    if trace is written and getattr(args, "trace_html", None):
        lines.append(f"HTML trace: {args.trace_html}")
    return "\n".join(lines)


def parse_powers(text: str, flag: str = "--powers") -> tuple[int, ...]:
    from bftcheck.model.config import shown

    parts = [x.strip() for x in text.split(",")]
    if all(x.isascii() and x.isdigit() and len(x) <= 12 for x in parts):
        return tuple(int(x) for x in parts)
    bad = next(x for x in parts if not (x.isascii() and x.isdigit() and len(x) <= 12))
    what = "is empty" if not bad else f"has {shown(bad)}"
    raise ConfigError(f"{flag} {shown(text)} {what}, not a comma-separated list of whole "
                      f"numbers: pass e.g. {flag} 4,1,1,1")


def build_config(args: argparse.Namespace) -> Config:
    """Preset or file first, then the explicit overrides; validated. Messages
    name what the user wrote: the flag, or the key of the --config file."""
    from bftcheck.model.config import MAX_VALIDATORS, Origin, read_toml
    from bftcheck.model.mutants import MUTANTS

    if getattr(args, "model", None) is not None or getattr(args, "set", None):
        flag = "--model" if getattr(args, "model", None) is not None else "--set"
        raise UsageError(f"{flag}: 'bftcheck {args.command}' runs on the Tendermint model only "
                         f"(its back-ends are Tendermint's); a --model plug-in runs with "
                         f"check, fuzz and replay")
    keys: frozenset[str] = frozenset()
    if args.config:
        cfg, from_file = read_toml(args.config)
        keys, base = from_file.keys, "the default"
    elif args.preset:
        cfg = preset(args.preset)
        base = f"preset {args.preset}"
    elif args.mutant and args.mutant in MUTANTS:
        cfg = Config(**MUTANTS[args.mutant].catch, name=f"mutant-{args.mutant}")
        base = f"the mutant {args.mutant}'s own configuration"
    else:
        cfg = preset(DEFAULT_PRESET)
        base = f"the default preset {DEFAULT_PRESET}"
    changes: dict[str, Any] = {}
    flags: set[str] = set()
    if args.validators is not None:
        if args.validators < 1:
            raise ConfigError(f"--validators {args.validators}: pass a number N >= 1")
        if args.validators > MAX_VALIDATORS:
            raise ConfigError(f"--validators {args.validators} is more than the supported "
                              f"{MAX_VALIDATORS}: pass --validators N with N at most "
                              f"{MAX_VALIDATORS}")
        changes["powers"] = (1,) * args.validators
        flags.add("validators")
    if args.powers is not None:
        changes["powers"] = parse_powers(args.powers)
        flags.add("powers")
    for key in ("byzantine", "byz_budget", "heights", "rounds", "values", "mutant",
                "max_partitions", "gst"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value
            flags.add(key)
    if args.partitions is not None:
        names = tuple(x.strip() for x in args.partitions.split(",") if x.strip())
        if not names:
            raise ConfigError("--partitions is empty: name patterns, e.g. --partitions halves")
        changes["partitions"] = names
        flags.add("partitions")
        if args.max_partitions is None and not cfg.max_partitions:
            changes["max_partitions"] = 2
            flags.add("max_partitions")  # implied by --partitions
    if changes:
        overrides = {k: v for k, v in changes.items() if k != "mutant"}
        name = cfg.name if not overrides else "custom"
        cfg = cfg.with_changes(name=name, **changes)
    origin = Origin(file=args.config, keys=keys, flags=frozenset(flags), base=base)
    return cfg.validated(origin)


# The flags that only Tendermint's configuration has.
TENDERMINT_FLAGS = ("preset", "validators", "powers", "byzantine", "byz_budget", "heights",
                    "rounds", "values", "partitions", "max_partitions", "gst")


def build_model(args: argparse.Namespace) -> tuple[Any, Any]:
    """The model the command runs on and its configuration: Tendermint from
    the configuration flags, or the --model plug-in from --config and --set."""
    if args.model is None:
        if args.set:
            raise UsageError(f"--set {args.set[0]} gives a setting of a --model plug-in: for "
                             f"Tendermint use the configuration flags (see --help)")
        from bftcheck.model import TendermintModel

        cfg = build_config(args)
        return TendermintModel(cfg), cfg
    from bftcheck import plugins

    given = [f for f in TENDERMINT_FLAGS if getattr(args, f, None) is not None]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(f"{flag} is an option of the Tendermint model: with --model give the "
                         f"plug-in's settings as --set KEY=VALUE or --config FILE.toml")
    plugin = plugins.load(args.model)
    settings, source = _plugin_settings(args)
    cfg = plugins.configure(plugin, settings, source)
    return plugins.build(plugin, args.model, cfg), cfg


def _plugin_settings(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """--config's TOML table, then each --set KEY=VALUE (VALUE read as a TOML
    value: 4, true, "text"; anything else is text), then --mutant as "variant"."""
    import tomllib

    from bftcheck.inputs import read_toml_table

    settings: dict[str, Any] = {}
    sources = []
    if args.config:
        settings = read_toml_table(args.config, ConfigError)
        sources.append(args.config)
    for item in args.set:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r} is not KEY=VALUE: pass e.g. --set processes=4")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except (tomllib.TOMLDecodeError, ValueError):
            value = text
        settings[key.strip()] = value
        sources.append("--set")
    if args.mutant is not None:
        settings["variant"] = args.mutant
        sources.append("--mutant")
    return settings, " and ".join(dict.fromkeys(sources)) or "the model's defaults"


def _writable(path: str | None, flag: str = "--trace-out") -> None:
    """Fail before the work if an output cannot be written (outputs.py)."""
    from bftcheck.outputs import check_writable

    check_writable(path, flag)


def check_outputs(args: argparse.Namespace) -> None:
    """Every output file flag of the command, checked before the work starts:
    each writable, no two the same file. A JUnit report left by an earlier run
    is removed, so a run that ends without verdicts (a crash, a tool that
    failed) never leaves an old report behind to be read as this one."""
    from bftcheck.outputs import same_file

    given: list[tuple[str, str]] = []
    for flag in ("trace_out", "trace_html", "html", "junit"):
        path = getattr(args, flag, None)
        if path is not None:
            name = "--" + flag.replace("_", "-")
            _writable(path, name)
            clash = next((other for other, p in given if same_file(p, path)), None)
            if clash is not None:
                raise OutputError(f"{clash} and {name} both name {path}: give each output "
                                  f"its own file")
            given.append((name, path))
    if getattr(args, "junit", None):
        from bftcheck.outputs import remove_stale

        remove_stale(args.junit)


def write_traces(args: argparse.Namespace, model: Any, trace: Any) -> OutputError | None:
    """--trace-out (ITF) and --trace-html, only when there is a trace. A write
    that fails after the work is returned, not raised: the caller prints its
    verdicts first, then the one line, and exits 2."""
    from bftcheck import html, itf

    if trace is None:
        return None
    try:
        if args.trace_out:
            itf.write_itf(args.trace_out, model, trace)
        if getattr(args, "trace_html", None):
            html.write_html(args.trace_html, model, trace)
    except OutputError as exc:
        return exc
    return None


def report_output_error(error: OutputError | None, code: int) -> int:
    """After the verdicts: the failed write as one line on stderr, exit 2."""
    if error is None:
        return code
    print(f"bftcheck: error: {error}", file=sys.stderr)
    return EXIT_USAGE


def print_progress(info: dict[str, float]) -> None:
    rate = info["distinct"] / info["elapsed"] if info["elapsed"] else 0
    print(f"  {int(info['distinct']):,} distinct, {int(info['generated']):,} generated, "
          f"queue {int(info['queued']):,}, depth {int(info['depth'])}, "
          f"{rate:,.0f} states/s, {info['elapsed']:.1f} s", file=sys.stderr, flush=True)


def print_trace(args: argparse.Namespace, model: Any, trace: Any,
                 error: OutputError | None = None) -> None:
    """The counterexample as a story, and where --trace-out/--trace-html wrote it
    (nothing is claimed written when `error` says the write failed)."""
    from bftcheck.trace import render

    html_out = getattr(args, "trace_html", None)
    if trace is None:
        if args.trace_out or html_out:
            print("no violation, so no trace was written")
        return
    print()
    print(render(model, trace))
    if error is not None:
        return
    if args.trace_out:
        print(f"\ntrace written to {args.trace_out} (ITF); check it with "
              f"'bftcheck replay {args.trace_out}'")
    if html_out:
        print(f"trace written to {html_out} (HTML)")




def _number_type(convert: Callable[[str], Any], accepts: Callable[[Any], bool], noun: str,
                 bound: str) -> Callable[[str], Any]:
    """An argparse type: `convert(text)`, refused unless `accepts` it; the
    messages say "'x': not a {noun}; pass one {bound}" / "pass a {noun} {bound}"."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: not a {noun}; pass one {bound}"
                                             ) from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"{text!r}: pass a {noun} {bound}")
        return value

    return parse


def _whole_at_least(minimum: int, bound: str) -> Callable[[str], int]:
    return _number_type(int, lambda v: v >= minimum, "whole number", bound)


# NaN and infinity are not limits
positive_number = _number_type(float, lambda v: math.isfinite(v) and v > 0, "finite number",
                               "> 0")
positive_int = _whole_at_least(1, "> 0")
seed_int = _whole_at_least(0, ">= 0")  # a random seed
