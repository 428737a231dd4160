"""The second model (examples/bracha.py) through the whole stack from the
command line: check, traces in text, ITF and HTML, replay, fuzz; its counts
pinned and its broken variant caught. It proves the seam: nothing of the
engines or the trace formats knows this protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bftcheck import plugins
from bftcheck.checker.bfs import Limits, check
from helpers import assert_usage_error, run_cli

ROOT = Path(__file__).resolve().parents[2]
REF = f"{ROOT / 'examples' / 'bracha.py'}:PLUGIN"
BROKEN = ("--model", REF, "--mutant", "quorum-off-by-one")


def bracha(**settings):
    plugin = plugins.load(REF)
    return plugins.build(plugin, REF, plugins.configure(plugin, settings, "test"))


@pytest.mark.parametrize("settings, states, depth, agreement", [
    ({}, 5_800, 15, "holds"),
    ({"byzantine_sender": False}, 2_232, 14, "holds"),
    ({"variant": "quorum-off-by-one"}, 39_952, 15, "violated"),
    ({"variant": "quorum-off-by-one", "byzantine_sender": False}, 8_280, 14, "holds"),
])
def test_pinned_counts_and_verdicts(settings, states, depth, agreement):
    model = bracha(**settings)
    result = check(model, model.properties(), Limits(None, None, None))
    assert result.complete or agreement == "violated"
    assert (result.summary()["distinct_states"], result.summary()["depth"]) == (states, depth)
    assert result.verdicts["agreement"] == agreement
    assert result.verdicts["validity"] == "holds"
    assert result.verdicts["delivery-reachable"] == "witnessed"


def test_the_states_round_trip_through_the_view():
    model = bracha(variant="quorum-off-by-one")
    frontier, seen = model.init_states(), set()
    while frontier and len(seen) < 3_000:
        s = frontier.pop()
        assert model.encode(model.decode(s)) == s
        seen.add(s)
        frontier += [t for _, t in model.next_states(s) if t not in seen]


def test_check_catches_the_broken_variant_and_the_trace_replays(capsys, tmp_path):
    itf, page = tmp_path / "fork.itf.json", tmp_path / "fork.html"
    code, out, _ = run_cli(capsys, "check", *BROKEN, "--quiet", "--trace-out", str(itf),
                           "--trace-html", str(page))
    assert code == 1
    assert "Counterexample to agreement: 12 steps (bracha-n4-f1: 4 processes" in out
    assert "  1. Send(p4, INITIAL v0)" in out and "+ p4.byzantine_sent: 'ECHO v1'" in out
    assert out.rstrip().endswith("result: violated: agreement (exit 1)")
    meta = json.loads(itf.read_text())["#meta"]
    assert meta["model"] == REF and meta["config"]["variant"] == "quorum-off-by-one"
    assert "<h1>Counterexample to agreement: 12 steps</h1>" in page.read_text()
    code, out, _ = run_cli(capsys, "replay", str(itf))
    assert code == 1 and "violation confirmed (the trace claims agreement)" in out


def test_a_trace_with_a_forged_step_is_refused_on_replay(capsys, tmp_path):
    itf = tmp_path / "fork.itf.json"
    run_cli(capsys, "check", *BROKEN, "--quiet", "--trace-out", str(itf))
    data = json.loads(itf.read_text())
    data["states"][5]["delivered"]["p3"] = "v1"  # p3 delivers out of nowhere
    itf.write_text(json.dumps(data))
    assert_usage_error(capsys, ["replay", str(itf)], "is not a transition of the model")


def test_the_correct_protocol_holds(capsys):
    code, out, _ = run_cli(capsys, "check", "--model", REF, "--quiet")
    assert code == 0 and "5,800 distinct states" in out


def test_fuzz_catches_the_broken_variant_and_not_the_protocol(capsys):
    code, out, _ = run_cli(capsys, "fuzz", *BROKEN, "--quiet", "--db", "none",
                           "--max-examples", "2000")
    assert code == 1 and "result: violated: agreement" in out
    assert f"re-run: bftcheck fuzz --model {REF} --mutant quorum-off-by-one" in out
    code, out, _ = run_cli(capsys, "fuzz", "--model", REF, "--quiet", "--db", "none",
                           "--max-examples", "200")
    assert code == 0 and "no violation found in 200 examples" in out


@pytest.mark.parametrize("argv, needle", [
    (["check", "--model", REF, "--validators", "4"], "--validators is an option of the "
     "Tendermint model"),
    (["check", "--model", REF, "--set", "processes=x"], "'processes' is 'x'"),
    (["check", "--model", REF, "--set", "colour=red"], "unknown setting 'colour'"),
    (["check", "--model", REF, "--mutant", "nope"], "bracha has no variant 'nope'"),
    (["check", "--model", REF, "--set", "novalue"], "is not KEY=VALUE"),
    (["check", "--model", "examples/none.py:PLUGIN"], "is not a file"),
    (["check", "--model", "no_such_module:PLUGIN"], "no module 'no_such_module'"),
    (["check", "--model", f"{ROOT / 'examples' / 'bracha.py'}:NOPE"], "no attribute 'NOPE'"),
    (["check", "--model", f"{ROOT / 'examples' / 'bracha.py'}:KINDS"], "not a bftcheck model"),
    (["check", "--model", "bracha"], "is not MODULE:ATTRIBUTE"),
    (["check", "--model", REF, "--property", "agreemnt"], "unknown property 'agreemnt'"),
    (["fuzz", "--model", REF, "--property", "agreemnt"], "unknown or non-safety property"),
    (["bmc", "--model", REF, "--depth", "3"], "runs on the Tendermint model only"),
    (["tlc", "--model", REF], "runs on the Tendermint model only"),
    (["check", "--set", "processes=4"], "gives a setting of a --model plug-in"),
])
def test_bad_model_input_is_one_line_and_exit_2(capsys, argv, needle):
    assert_usage_error(capsys, argv, needle)


def test_settings_come_from_a_toml_file_and_set_overrides_it(capsys, tmp_path):
    conf = tmp_path / "b.toml"
    conf.write_text("processes = 4\nbyzantine_sender = false\n")
    code, out, _ = run_cli(capsys, "check", "--model", REF, "--config", str(conf), "--quiet")
    assert code == 0 and "2,232 distinct states" in out
    code, out, _ = run_cli(capsys, "check", "--model", REF, "--config", str(conf), "--set",
                           "byzantine_sender=true", "--quiet")
    assert code == 0 and "5,800 distinct states" in out


@pytest.mark.parametrize("damage, needle", [
    (lambda st: st["byzantine_sent"].__setitem__("p4", [5]), "does not fit the configuration"),
    (lambda st: st.pop("delivered"), "(\"'delivered'\")"),
])
def test_a_damaged_plug_in_trace_is_refused_on_replay(capsys, tmp_path, damage, needle):
    itf = tmp_path / "fork.itf.json"
    run_cli(capsys, "check", *BROKEN, "--quiet", "--trace-out", str(itf))
    data = json.loads(itf.read_text())
    damage(data["states"][3])
    if "delivered" in needle:
        data["vars"].remove("delivered")  # a file consistent with itself, but short
        for st in data["states"]:
            st.pop("delivered", None)
    itf.write_text(json.dumps(data))
    assert_usage_error(capsys, ["replay", str(itf)], needle)


def test_a_variant_a_plug_in_does_not_declare_is_refused_for_any_plug_in(monkeypatch):
    """Even by a plug-in whose configure() would ignore the setting."""
    plugin = plugins.load(REF)
    monkeypatch.setattr(plugin, "configure", lambda settings, source: object())
    with pytest.raises(plugins.PluginError, match="bracha has no variant 'nope'"):
        plugins.configure(plugin, {"variant": "nope"}, "--mutant")
    assert plugins.configure(plugin, {}, "--set") is not None


def test_the_pytest_entry_point_for_a_plug_in_tells_the_story_and_writes_the_trace(tmp_path):
    """machine_for_model as a user's test file uses it: the broken variant's
    failure shows the shrunk run as a story, and its ITF file replays."""
    import subprocess
    import sys
    import textwrap

    (tmp_path / "test_my_protocol.py").write_text(textwrap.dedent(f"""
        from hypothesis import settings
        from bftcheck import plugins
        from bftcheck.fuzz.any_model import machine_for_model

        REF = {REF!r}
        plugin = plugins.load(REF)
        config = plugins.configure(plugin, {{"variant": "quorum-off-by-one"}}, "test")
        Broken = machine_for_model(plugins.build(plugin, REF, config), "Broken",
                                   trace_out="broken.itf.json")
        Broken.TestCase.settings = settings(max_examples=3000, stateful_step_count=40,
                                            database=None, derandomize=True, deadline=None)
        TestBroken = Broken.TestCase
    """))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", "test_my_protocol.py"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert "1 failed" in proc.stdout and "agreement violated" in proc.stdout, proc.stdout
    assert "Counterexample to agreement: " in proc.stdout
    assert "trace written to broken.itf.json (ITF)" in proc.stdout
    replayed = subprocess.run([sys.executable, "-m", "bftcheck.cli", "replay",
                               "broken.itf.json"], cwd=tmp_path, capture_output=True, text=True)
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert "result: violation confirmed (the trace claims agreement)" in replayed.stdout
