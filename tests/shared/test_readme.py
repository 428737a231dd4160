"""The README is tested: every example it shows runs, and its output is the
real one apart from timings (tests/readme_golden.py). Slow examples run with
BFTCHECK_README_SLOW=1, which `python benchmarks/run.py --readme` sets."""

from __future__ import annotations

import os

import pytest
import readme_golden as golden

SLOW = os.environ.get("BFTCHECK_README_SLOW", "") not in ("", "0")
EXAMPLES = golden.examples()


def test_every_shown_command_is_marked_and_there_are_examples():
    assert len(EXAMPLES) >= 6
    assert any(e.slow for e in EXAMPLES) or SLOW is False


def _uses_ray(example) -> bool:
    return any("--ray" in c.argv for c in example.commands)


# An example that starts a local Ray (--ray auto) runs on the xdist worker of
# tests/checker/test_ray_workers.py, never beside it: `ray start --head` there
# refuses to start while another local Ray is running (seen in CI).
@pytest.mark.parametrize("example", [
    pytest.param(e, marks=pytest.mark.xdist_group("ray")) if _uses_ray(e) else e
    for e in EXAMPLES], ids=[f"line{e.line}-{e.commands[0].argv[1]}" for e in EXAMPLES])
def test_readme_example(example, tmp_path):
    if example.slow and not SLOW:
        pytest.skip("a slow example: run by 'python benchmarks/run.py --readme'")
    check = golden.check_json if example.kind == "json" else golden.check_text
    problems = check(example, tmp_path, timeout=1800)
    assert not problems, "\n\n".join(problems)


# The golden comparison itself must be able to fail.
def test_dots_match_any_lines_and_only_those():
    assert golden.lines_match(["a", "...", "d"], ["a", "b", "c", "d"])
    assert golden.lines_match(["a", "...", "d"], ["a", "d"])
    assert not golden.lines_match(["a", "...", "d"], ["a", "b", "c"])
    assert not golden.lines_match(["a", "b"], ["a", "b", "c"])
    assert not golden.lines_match(["a", "x", "c"], ["a", "b", "c"])
    assert golden.lines_match(["faulty: ... values"], ["faulty: {} (power 0), so values"])
    assert not golden.lines_match(["faulty: ... values"], ["faulty: {} (power 0), so"])


def test_timings_are_masked_but_counts_are_not():
    shown = "search: complete: 400,526 distinct states, depth 20, 1.46 s (274,767 states/s), " \
            "peak RSS 53 MiB"
    real = "search: complete: 400,526 distinct states, depth 20, 9.10 s (44,000 states/s), " \
           "peak RSS 95 MiB"
    assert golden.lines_match([shown], [real])
    assert not golden.lines_match([shown], [real.replace("400,526", "400,527")])
    assert not golden.lines_match(["caught: agreement, 9 steps, 0.4 s"],
                                  ["caught: agreement, 8 steps, 0.4 s"])


def test_an_unmarked_example_is_an_error():
    text = "intro\n\n```text\n$ bftcheck check\nresult: ...\n```\n"
    with pytest.raises(ValueError, match="README.md:3: an example with '\\$ bftcheck' needs"):
        golden.examples(text)


def test_commands_and_outputs_are_split_at_dollar_lines():
    text = ("<!-- golden -->\n```text\n$ bftcheck a --x  # comment\none\ntwo\n"
            "$ bftcheck b\nthree (exit 1)\n```\n")
    (ex,) = golden.examples(text)
    assert [c.argv for c in ex.commands] == [["bftcheck", "a", "--x"], ["bftcheck", "b"]]
    assert ex.commands[0].expected == ["one", "two"]
    assert golden.shown_exit(ex.commands[1].expected) == 1


def test_file_blocks_are_written_for_later_examples(tmp_path):
    text = ("<!-- golden: file a.toml -->\n```toml\nheights = 1\n```\n"
            "<!-- golden -->\n```text\n$ bftcheck list presets\n...\n```\n")
    (ex,) = golden.examples(text)
    assert ex.files == {"a.toml": "heights = 1\n"}


def test_json_examples_compare_shown_keys_and_skip_timings():
    problems: list[str] = []
    golden._json_matches({"a": 1, "seconds": 0.1, "b": {"...": "..."}, "c": "..."},
                         {"a": 1, "seconds": 9.0, "b": {"z": 2}, "c": [1]}, "$", problems)
    assert problems == []
    golden._json_matches({"a": 1, "d": 2}, {"a": 2}, "$", problems)
    assert problems == ["$.a: the README shows 1, the output has 2",
                        "$.d: shown in the README, missing in the output"]
