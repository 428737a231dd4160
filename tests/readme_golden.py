"""The README's examples as golden tests: every command it shows with its
output is run, and the shown output is compared with the real one apart from
timings.

An example is a fenced block preceded by a directive comment:

    <!-- golden -->            run in the test suite
    <!-- golden: slow -->      run by `python benchmarks/run.py --readme`
    <!-- golden: json CMD -->  the JSON block below is CMD's output
    <!-- golden: file NAME --> the block below is file NAME, written into the
                               working directory of every later example

In a text block, a line `$ bftcheck ...` starts a command and the lines up
to the next `$` line are its output (stdout, and the stderr lines that start
with `bftcheck:`). A line `...` stands for any number of lines, and `...`
within a line for any text. Timings,
rates and memory figures are masked, runs of spaces count as one, and the
exit code must be the `(exit N)` the output shows. A block with a `$ bftcheck`
line and no directive is an error: every shown command is tested.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

# Figures that change from run to run (time, rate, memory): masked both sides.
MASKS = [
    (re.compile(r"\b\d[\d,]*(\.\d+)? ?s\b"), "<t>s"),  # 1.46 s, 0.4 s, 55.9 s
    (re.compile(r"\b\d[\d,]*(\.\d+)? states/s\b"), "<r> states/s"),
    (re.compile(r"\bpeak RSS \d[\d,]*(\.\d+)? MiB\b"), "peak RSS <m> MiB"),
    (re.compile(r"\b\d[\d,]*(\.\d+)? bytes/state\b"), "<b> bytes/state"),
    (re.compile(r"\b\d+ workers?\b"), "<n> workers"),  # one per core by default
    (re.compile(r"^(\s*seconds\s+)[\d.]+(\s+)[\d.]+"), r"\1<t>\2<t>"),  # crossval's row
]
TIMING_KEYS = {"seconds", "states_per_second", "peak_rss_mib", "max_memory_bytes",
               "bytes_per_state", "workers",
               "seconds_per_depth"}


@dataclass
class Command:
    argv: list[str]
    expected: list[str] = field(default_factory=list)


@dataclass
class Example:
    line: int  # where the block starts in README.md
    kind: str  # "text" or "json"
    slow: bool
    commands: list[Command]
    json_text: str = ""
    files: dict[str, str] = field(default_factory=dict)  # written before it runs


def examples(text: str | None = None) -> list[Example]:
    """Every example of the README, in order; raise ValueError on an unmarked one."""
    text = README.read_text(encoding="utf-8") if text is None else text
    found = []
    files: dict[str, str] = {}
    block = re.compile(r"(?:<!-- golden(?P<opts>[^>]*)-->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```",
                       re.S)
    for m in block.finditer(text):
        line = text[:m.start("lang")].count("\n") + 1
        body = m.group("body")
        opts = (m.group("opts") or "").strip().lstrip(":").strip()
        marked = m.group("opts") is not None
        if opts.startswith("file "):
            files[opts.split()[1]] = body
            continue
        if m.group("lang") == "json" and marked:
            if not opts.startswith("json "):
                raise ValueError(f"README.md:{line}: a JSON example needs "
                                 f"'<!-- golden: json CMD -->'")
            argv = shlex.split(opts[len("json "):].replace("slow", ""))
            found.append(Example(line, "json", "slow" in opts.split(), [Command(argv)], body,
                                 dict(files)))
            continue
        if not any(x.startswith("$ bftcheck") for x in body.splitlines()):
            continue
        if not marked:
            raise ValueError(f"README.md:{line}: an example with '$ bftcheck' needs a "
                             f"'<!-- golden -->' or '<!-- golden: slow -->' line above it")
        commands: list[Command] = []
        for raw in body.splitlines():
            if raw.startswith("$ "):
                shown = raw[2:].split("  #")[0]
                commands.append(Command(shlex.split(shown)))
            elif commands:
                commands[-1].expected.append(raw)
        found.append(Example(line, "text", opts == "slow", commands, files=dict(files)))
    return found


def normalise(line: str) -> str:
    for pattern, mask in MASKS:
        line = pattern.sub(mask, line)
    return " ".join(line.split())


def _line_equal(expected: str, actual: str) -> bool:
    """`...` inside a line stands for any text."""
    if "..." not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


def lines_match(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line match where an expected `...` line stands for any lines
    (and `...` within a line for any text)."""
    exp = [normalise(x) for x in expected]
    act = [normalise(x) for x in actual]
    # dynamic programming over (expected i, actual j)
    reach = {(0, 0)}
    for i, e in enumerate(exp):
        nxt = set()
        for (ei, j) in reach:
            if ei != i:
                continue
            if e == "...":
                nxt.update((i + 1, k) for k in range(j, len(act) + 1))
            elif j < len(act) and _line_equal(e, act[j]):
                nxt.add((i + 1, j + 1))
        reach = nxt
    return (len(exp), len(act)) in reach


def run(argv: list[str], cwd: Path, timeout: float) -> tuple[int, list[str]]:
    """Run a README command (bftcheck = this interpreter's installed package)."""
    if argv[0] != "bftcheck":
        raise ValueError(f"README command {shlex.join(argv)!r} is not a bftcheck command")
    proc = subprocess.run([sys.executable, "-m", "bftcheck.cli", *argv[1:]], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    errors = [x for x in proc.stderr.splitlines() if x.startswith("bftcheck:")]
    return proc.returncode, proc.stdout.splitlines() + errors


def shown_exit(expected: list[str]) -> int | None:
    for x in reversed(expected):
        m = re.search(r"\(exit (\d+)\)\s*$", x)
        if m:
            return int(m.group(1))
    return None


def check_text(example: Example, cwd: Path, timeout: float) -> list[str]:
    """Problems with one text example (empty when it is true)."""
    _write_files(example, cwd)
    problems = []
    for cmd in example.commands:
        code, actual = run(cmd.argv, cwd, timeout)
        shown = shlex.join(cmd.argv)
        if not lines_match(cmd.expected, actual):
            problems.append(f"README.md:{example.line}: '$ {shown}' printed:\n"
                            + "\n".join(actual) + "\n--- but the README shows:\n"
                            + "\n".join(cmd.expected))
        want = shown_exit(cmd.expected)
        if want is not None and code != want:
            problems.append(f"README.md:{example.line}: '$ {shown}' exited {code}, "
                            f"the README shows (exit {want})")
    return problems


def _json_matches(shown: object, real: object, path: str, problems: list[str]) -> None:
    if shown == "...":
        return
    if isinstance(shown, dict):
        if not isinstance(real, dict):
            problems.append(f"{path}: the README shows an object, the output has {real!r}")
            return
        for key, value in shown.items():
            if key == "...":
                continue
            if key not in real:
                problems.append(f"{path}.{key}: shown in the README, missing in the output")
            elif key not in TIMING_KEYS:
                _json_matches(value, real[key], f"{path}.{key}", problems)
        return
    if shown in ({}, []) and isinstance(real, type(shown)):
        return  # an elided object or list
    if shown != real:
        problems.append(f"{path}: the README shows {shown!r}, the output has {real!r}")


def _write_files(example: Example, cwd: Path) -> None:
    """The example's files, and the repository's examples/ (the README runs
    commands from the project root)."""
    examples = cwd / "examples"
    if not examples.exists():
        examples.symlink_to(README.parent / "examples", target_is_directory=True)
    for name, text in example.files.items():
        (cwd / name).write_text(text, encoding="utf-8")


def check_json(example: Example, cwd: Path, timeout: float) -> list[str]:
    _write_files(example, cwd)
    argv = example.commands[0].argv
    code, actual = run(argv, cwd, timeout)
    try:
        real = json.loads("\n".join(x for x in actual if not x.startswith("bftcheck:")))
    except json.JSONDecodeError:
        return [f"README.md:{example.line}: '{shlex.join(argv)}' did not print one JSON object"]
    shown = json.loads(example.json_text)
    problems: list[str] = []
    _json_matches(shown, real, "$", problems)
    return [f"README.md:{example.line}: {p}" for p in problems]
