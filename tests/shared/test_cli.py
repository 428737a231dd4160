"""The command line: verdicts and exit codes, JSON, traces and replay, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from bftcheck.cli import main
from bftcheck.model.mutants import MUTANTS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_n4_f2_json_reports_fork_with_itf_trace(capsys):
    code, out, _ = run(capsys, "check", "--preset", "n4-f2", "--json", "--quiet")
    assert code == 1
    d = json.loads(out)
    assert d["complete"] is True and d["distinct_states"] == 21_788  # symmetry: the default
    assert d["reductions"]["used"] == ["symmetry"]
    assert d["verdicts"]["agreement"] == "violated"
    assert d["verdicts"]["accountability"] == "holds"
    assert d["found_at_depth"]["agreement"] == 7
    states = d["trace"]["states"]
    assert len(states) == 8 and states[0]["#meta"]["action"] == "Init"
    assert states[-1]["#meta"]["action"].startswith("Decide(")
    assert set(d["traces"]) == {"agreement", "ledger-consistency"}


def test_check_text_summary_and_trace_story(capsys):
    code, out, err = run(capsys, "check", "--preset", "n4-f2", "--quiet",
                         "--property", "agreement")
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0] == ("bftcheck check: n4-f2: powers 1,1,1,1, Byzantine p3, p4 (budget 8), "
                        "heights 1, rounds 2, values 2")
    assert "  agreement  violated (depth 7)" in lines
    assert "Counterexample to agreement: 7 steps" in out
    assert "  1. Prevote(p1, h0 r0 v0 on proposal v0 vr-1; line 22)" in lines
    assert "       p1.step: propose -> prevote" in lines
    assert lines[-1] == "result: violated: agreement (exit 1)"


def test_trace_written_then_replayed(tmp_path, capsys):
    path = tmp_path / "fork.itf.json"
    code, _, _ = run(capsys, "check", "--preset", "n4-f2", "--quiet", "--trace-out", str(path))
    assert code == 1
    code, out, _ = run(capsys, "replay", str(path))
    assert code == 1
    assert "  agreement fails at step 7" in out
    assert "result: violation confirmed (the trace claims agreement) (exit 1)" in out
    code, out, _ = run(capsys, "replay", str(path), "--json")
    assert json.loads(out)["failures"] == {"agreement": 7, "ledger-consistency": 7}


def test_replay_rejects_tampered_truncated_and_foreign_traces(tmp_path, capsys):
    path = tmp_path / "t.json"
    run(capsys, "check", "--preset", "n4-f2", "--quiet", "--trace-out", str(path))
    data = json.loads(path.read_text())
    cases = {}
    truncated = tmp_path / "truncated.json"
    truncated.write_text(path.read_text()[:500])
    cases[truncated] = "not valid JSON"
    tampered = tmp_path / "tampered.json"
    bad = json.loads(json.dumps(data))
    bad["states"][4]["round"]["#map"][1][1] = 0  # p2 proposes for round 1 in round 0
    tampered.write_text(json.dumps(bad))
    cases[tampered] = "is not a transition of the model"
    foreign = tmp_path / "foreign.json"
    other = json.loads(json.dumps(data))
    other["#meta"]["config"]["powers"] = [1, 1, 1]  # a trace of another configuration
    foreign.write_text(json.dumps(other))
    cases[foreign] = "does not fit the configuration"
    missing = tmp_path / "nostates.json"
    missing.write_text(json.dumps({"#meta": data["#meta"], "states": [{"#meta": {}}]}))
    cases[missing] = "lacks variable"
    cases[tmp_path / "absent.json"] = "does not exist"
    for file, needle in cases.items():
        code, out, err = run(capsys, "replay", str(file))
        assert code == 2, file
        assert out == ""
        assert err.count("\n") == 1 and needle in err, err


def test_n4_f1_is_safe(capsys):
    code, out, _ = run(capsys, "check", "--preset", "n4-f1", "--quiet")
    assert code == 0
    assert "search: complete: 200,263 distinct states" in out
    assert "reductions: symmetry (values {v0 v1} interchangeable, 2 permutations)" in out
    assert out.splitlines()[-1] == "result: all checked properties hold (exit 0)"


def test_witness_only_search_stops_when_witnessed(capsys):
    code, out, _ = run(capsys, "check", "--preset", "n4-f1", "--property", "decision-reachable",
                       "--json", "--quiet")
    d = json.loads(out)
    assert code == 0 and d["verdicts"] == {"decision-reachable": "witnessed"}
    assert d["complete"] is False and d["found_at_depth"] == {"decision-reachable": 5}
    code, out, _ = run(capsys, "check", "--validators", "3", "--rounds", "1",
                       "--property", "round-skip-reachable", "--quiet")
    assert code == 1 and "round-skip-reachable  not witnessed" in out


def test_limit_gives_exit_3(capsys):
    code, out, _ = run(capsys, "check", "--preset", "n4-f1", "--max-states", "500", "--json",
                       "--quiet")
    d = json.loads(out)
    assert code == 3 and d["complete"] is False and d["verdicts"]["agreement"] == "unknown"


def test_mutant_alone_runs_on_its_catch_configuration(capsys):
    code, out, _ = run(capsys, "check", "--mutant", "accept-invalid", "--json", "--quiet")
    d = json.loads(out)
    assert code == 1 and d["verdicts"]["validity"] == "violated"
    assert d["config"]["powers"] == [3, 1] and d["config"]["mutant"] == "accept-invalid"


def test_config_file(tmp_path, capsys):
    f = tmp_path / "small.toml"
    f.write_text('powers = [1, 1, 1]\nrounds = 1\nvalues = 1\n')
    code, out, _ = run(capsys, "check", "--config", str(f), "--json", "--quiet")
    d = json.loads(out)
    assert code == 0 and d["distinct_states"] == 68 and d["config"]["name"] == "small"


def test_list(capsys):
    code, out, _ = run(capsys, "list", "mutants")
    assert code == 0 and out.startswith("weak-quorum ")
    assert len(out.splitlines()) == len(MUTANTS)
    code, out, _ = run(capsys, "list", "properties")
    assert [line.split()[0] for line in out.splitlines()][:5] == [
        "agreement", "validity", "integrity", "ledger-consistency", "accountability"]
    assert out.splitlines()[-1].split()[:2] == ["termination", "liveness"]
    code, out, _ = run(capsys, "list", "presets")
    assert "n4-f1        3 correct + 1 Byzantine" in out


BAD = [
    (["check", "--validators", "0"], "validators"),
    (["check", "--byzantine", "5"], "--byzantine 5 does not fit 4 validators"),
    (["check", "--byzantine", "4"], "all 4 validators (the default preset n4-f1) are Byzantine"),
    (["check", "--powers", "1,0,1"], "voting power of p2 is 0"),
    (["check", "--powers", "1,a"], "not a comma-separated list"),
    (["check", "--rounds", "0"], "--rounds 0 is out of range"),
    (["check", "--heights", "0"], "--heights 0 is out of range"),
    (["check", "--values", "9"], "--values 9 is out of range"),
    (["check", "--preset", "nope"], "unknown preset 'nope'"),
    (["check", "--mutant", "nope"], "unknown mutant 'nope'"),
    (["check", "--property", "nope"], "unknown property 'nope'"),
    (["check", "--rounds", "x"], "invalid int value"),
    (["check", "--max-states", "0"], "--max-states 0"),
    (["check", "--trace-out", "/nonexistent/dir/t.json"], "does not exist"),
    (["check", "--config", "/nonexistent.toml"], "does not exist"),
    (["check", "--trace-out", "/"], "it is a directory"),
    (["replay", "/"], "cannot read trace file"),
    (["list", "nothing"], "invalid choice"),
    ([], "required"),
]


@pytest.mark.parametrize("argv,needle", BAD, ids=[" ".join(a) or "none" for a, _ in BAD])
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("bftcheck: error: ")
    assert needle in err


def test_malformed_toml(tmp_path, capsys):
    for text, needle in [("powers = [1, 1", "is not valid TOML"),
                         ("colour = 3", "unknown key 'colour'"),
                         ("rounds = 'two'", "'rounds' must be a whole number")]:
        f = tmp_path / "bad.toml"
        f.write_text(text)
        code, out, err = run(capsys, "check", "--config", str(f))
        assert code == 2 and out == "" and err.count("\n") == 1 and needle in err


def test_console_script_bad_input_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bftcheck.cli", "check", "--rounds", "-1"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_fuzz_finds_the_n4_f2_fork_and_the_trace_replays(tmp_path, capsys):
    path = tmp_path / "fuzz.itf.json"
    code, out, _ = run(capsys, "fuzz", "--preset", "n4-f2", "--seed", "1", "--db", "none",
                       "--quiet", "--trace-out", str(path))
    assert code == 1
    steps = int(re.search(r"Counterexample to agreement: (\d+) steps", out).group(1))
    assert 7 <= steps <= 12  # shrunk near the shortest fork
    # the re-run line is the command as given, whoever called main()
    assert (f"re-run: bftcheck fuzz --preset n4-f2 --seed 1 --db none --quiet --trace-out "
            f"{path}\n") in out
    assert "hypothesis: @reproduce_failure(" in out
    assert out.splitlines()[-1].startswith("result: violated: agreement after ")
    code, out, _ = run(capsys, "replay", str(path))
    assert code == 1 and f"agreement fails at step {steps}" in out


def test_fuzz_clean_run_is_not_called_a_proof(capsys, tmp_path):
    db = tmp_path / "db"
    code, out, err = run(capsys, "fuzz", "--preset", "n4-f1", "--max-examples", "150",
                         "--db", str(db), "--json")
    d = json.loads(out)
    assert code == 0 and d["complete"] is False and d["trace"] is None
    assert set(d["verdicts"].values()) == {"unknown"}  # never "holds"
    assert d["examples"] >= 150 and d["database"] == str(db) and db.is_dir()
    assert "examples" in err  # progress on stderr
    code, out, _ = run(capsys, "fuzz", "--preset", "n4-f1", "--max-examples", "100",
                       "--db", "none", "--quiet")
    assert out.splitlines()[-1].startswith("result: no violation found in ")
    assert "not a proof (exit 0)" in out


def test_mutants_matrix_with_the_checker(capsys):
    # the rows asserted on (the whole matrix runs in tests/shared/test_readme.py)
    chosen = ["no-block-sync", "unverified-sync", "decide-stays-in-height", "accept-invalid",
              "regossip-all-heights", "skip-timeout-precommit"]
    code, out, _ = run(capsys, "mutants", "--engines", "check", "--mutants", ",".join(chosen),
                       "--json", "--quiet")
    d = json.loads(out)
    assert code == 0 and d["all_caught_and_control_clean"] is True
    rows = {r["mutant"]: r["engines"]["check"] for r in d["rows"]}
    assert len(rows) == len(chosen) + 2  # and the real protocol on two configurations
    assert rows["real protocol (n4-f1)"]["caught"] is False
    assert rows["real protocol (split)"]["caught"] is False
    assert rows["regossip-all-heights"]["caught"] is False
    assert rows["no-block-sync"]["prop"] in ("recovery", "fair-recovery")
    assert rows["unverified-sync"]["prop"] == "agreement"
    assert rows["decide-stays-in-height"]["prop"] == "integrity"  # n4-f2 forks anyway
    assert rows["accept-invalid"] == {**rows["accept-invalid"], "caught": True,
                                      "prop": "validity", "length": 6}
    # leaving on 2f + 1 precommits skips line 36's valid-value update: the
    # validValue lemma fails long before the livelock (README, "Mutants")
    assert (rows["skip-timeout-precommit"]["prop"], rows["skip-timeout-precommit"]["length"]) \
        == ("valid-block", 5)


FUZZ_BAD = [
    (["fuzz", "--max-examples", "0"], "--max-examples 0"),
    (["fuzz", "--seed", "-1"], "--seed -1"),
    (["fuzz", "--property", "decision-reachable"], "non-safety property"),
    (["mutants", "--engines", "check,tlc2"], "unknown engine 'tlc2'"),
    (["mutants", "--max-examples", "-5"], "--max-examples -5"),
]


@pytest.mark.parametrize("argv,needle", FUZZ_BAD, ids=[" ".join(a) for a, _ in FUZZ_BAD])
def test_fuzz_and_mutants_bad_input(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err


def test_prove_quorum(capsys):
    code, out, _ = run(capsys, "prove", "quorum")
    assert code == 0 and out.splitlines()[-1] == (
        "result: proved: Z3 shows that no counterexample exists (exit 0)")
    code, out, _ = run(capsys, "prove", "quorum", "--mutant", "weak-quorum")
    assert code == 1 and "  quorum 1:   {p1} (power 1)" in out
    code, out, _ = run(capsys, "prove", "quorum", "--powers", "1,1,1,4", "--faulty-power", "4",
                       "--json")
    d = json.loads(out)
    assert code == 1 and d["counterexample"]["faulty"] == ["p4"]
    code, _, _ = run(capsys, "prove", "quorum", "--powers", "1,1,1,4", "--faulty-power", "2")
    assert code == 0


PROVE_BAD = [
    (["prove", "quorum", "--faulty-power", "1"], "--faulty-power needs --powers"),
    (["prove", "quorum", "--powers", "1,0"], "voting power of p2 is 0"),
    (["prove", "quorum", "--powers", "1,1", "--faulty-power", "9"], "--faulty-power 9"),
    (["prove", "quorum", "--faulty-below", "3/2"], "strictly between 0 and 1"),
    (["prove", "quorum", "--mutant", "no-lock"], "only weak-quorum"),
    (["prove", "liveness"], "invalid choice"),
]


@pytest.mark.parametrize("argv,needle", PROVE_BAD, ids=[" ".join(a) for a, _ in PROVE_BAD])
def test_prove_bad_input(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err


def test_max_depth_ends_incomplete_and_says_so(capsys):
    code, out, _ = run(capsys, "check", "--preset", "n4-f1", "--max-depth", "8", "--quiet")
    assert code == 3
    assert "search: INCOMPLETE (depth limit of 8 reached): 4,757 distinct states" in out
    assert "  agreement              unknown" in out
    code, out, _ = run(capsys, "check", "--preset", "n4-f2", "--max-depth", "7", "--json",
                       "--quiet")
    assert code == 1 and json.loads(out)["found_at_depth"]["agreement"] == 7
    code, _, err = run(capsys, "check", "--preset", "n4-f1", "--max-depth", "0")
    assert code == 2 and "--max-depth 0" in err


def test_version_names_the_build():
    from bftcheck.recipe import build_id

    proc = subprocess.run([sys.executable, "-m", "bftcheck.cli", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"bftcheck {build_id()} (compiled engine; Ray installed)")


def test_list_help_names_every_listing_and_each_runs(capsys):
    from bftcheck.cli import LISTINGS

    proc = subprocess.run([sys.executable, "-m", "bftcheck.cli", "list", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    help_text = " ".join(proc.stdout.split())
    for name, text in LISTINGS.items():
        assert f"{name}: {' '.join(text.split())}" in help_text
        code, out, _ = run(capsys, "list", name)
        assert code == 0 and out.strip()


def test_a_witness_trace_is_written_and_replays(tmp_path, capsys):
    """No counterexample: --trace-out and --trace-html get the shortest witness."""
    itf_path, page = tmp_path / "w.json", tmp_path / "w.html"
    code, out, _ = run(capsys, "check", "--preset", "n4-f1", "--property",
                       "lock-change-reachable", "--quiet", "--trace-out", str(itf_path),
                       "--trace-html", str(page))
    assert code == 0
    assert "Witness of lock-change-reachable: 11 steps" in out
    assert f"trace written to {itf_path} (ITF)" in out and page.read_text().strip()
    meta = json.loads(itf_path.read_text())["#meta"]
    assert (meta["property"], meta["kind"]) == ("lock-change-reachable", "witness")
    code, out, _ = run(capsys, "replay", str(itf_path))
    assert code == 0
    assert "  lock-change-reachable is witnessed at step 11" in out
    assert "result: witness of lock-change-reachable confirmed (exit 0)" in out


def test_witnesses_print_nothing_unless_a_trace_file_is_asked_for(capsys):
    code, out, _ = run(capsys, "check", "--preset", "n4-f1", "--quiet")
    assert code == 0 and "Witness of" not in out and "trace written" not in out
