"""The command line with partitions: Recovery counterexamples, their traces and
replay, the partition presets, and bad network input."""

from __future__ import annotations

import json

import pytest

from bftcheck.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_no_block_sync_fails_recovery_with_split_and_heal_in_the_trace(tmp_path, capsys):
    trace = tmp_path / "stuck.itf.json"
    code, out, _ = run(capsys, "check", "--mutant", "no-block-sync", "--quiet",
                       "--trace-out", str(trace))
    assert code == 1
    verdicts = dict(line.split()[:2] for line in out.splitlines()
                    if line.startswith("  ") and len(line.split()) >= 2
                    and line.split()[1] in ("holds", "violated", "witnessed"))
    assert verdicts["recovery"] == "violated" and verdicts["fair-recovery"] == "violated"
    assert verdicts["agreement"] == "holds"
    story = out[out.index("Counterexample to recovery"):]
    assert "Split {p1} | {p2,p3,p4}" in story
    assert "Heal: cut off by the split" in story and "{p1} missed" in story
    assert "from here no run (without a new split) reaches" in story
    # the ITF trace replays, and replay confirms Recovery fails at its end
    data = json.loads(trace.read_text())
    assert data["#meta"]["property"] == "recovery"
    assert "network" in data["vars"] and "seenBy" in data["states"][-1]["precommits"]["#set"][0]
    code, out, _ = run(capsys, "replay", str(trace))
    assert code == 1
    assert "recovery fails at step 11" in out and "violation confirmed" in out


def test_replay_does_not_confirm_recovery_on_a_prefix(tmp_path, capsys):
    """Cut the Recovery counterexample before its Heal: the last state is split,
    so Recovery (which asks about whole networks) is not shown to fail."""
    trace = tmp_path / "stuck.itf.json"
    run(capsys, "check", "--mutant", "no-block-sync", "--quiet", "--trace-out", str(trace))
    data = json.loads(trace.read_text())
    data["states"] = data["states"][:-1]
    trace.write_text(json.dumps(data))
    code, out, _ = run(capsys, "replay", str(trace))
    # a legal run, but its claimed violation of recovery does not occur: exit 5
    assert code == 5 and "its claimed violation of recovery does not occur" in out


def test_replay_rejects_a_lasso_that_loops_on_its_last_state(tmp_path, capsys):
    trace = tmp_path / "stuck.itf.json"
    run(capsys, "check", "--mutant", "no-block-sync", "--quiet", "--trace-out", str(trace))
    data = json.loads(trace.read_text())
    data["loop"] = len(data["states"]) - 1
    trace.write_text(json.dumps(data))
    code, out, err = run(capsys, "replay", str(trace))
    assert code == 2 and out == "" and "'loop'" in err and len(err.strip().splitlines()) == 1


def test_unverified_sync_forks(capsys):
    code, out, _ = run(capsys, "check", "--mutant", "unverified-sync", "--byzantine", "1",
                       "--quiet", "--property", "agreement", "--json")
    assert code == 1
    d = json.loads(out)
    assert d["verdicts"]["agreement"] == "violated"
    actions = [s["#meta"]["action"] for s in d["trace"]["states"]]
    assert any(a.startswith("SyncBlock(") and "from p4" in a for a in actions)


def test_partition_flags_build_the_configuration(capsys):
    code, out, _ = run(capsys, "check", "--validators", "4", "--byzantine", "0",
                       "--byz-budget", "0", "--heights", "1", "--rounds", "1", "--values", "1",
                       "--partitions", "halves", "--json", "--quiet")
    assert code == 0
    d = json.loads(out)
    assert d["config"]["partitions"] == ["halves"] and d["config"]["max_partitions"] == 2
    assert d["verdicts"]["recovery"] == "holds" and d["verdicts"]["fair-recovery"] == "holds"
    assert d["complete"]


def test_network_config_file(tmp_path, capsys):
    cfg = tmp_path / "net.toml"
    cfg.write_text('powers = [1, 1, 1, 1]\nheights = 1\nrounds = 1\nvalues = 1\n'
                   'components = [[["p1", "p2", "p3"], ["p4"]]]\nmax_partitions = 2\n')
    code, out, _ = run(capsys, "check", "--config", str(cfg), "--json", "--quiet")
    assert code == 0
    assert json.loads(out)["config"]["components"] == [[["p1", "p2", "p3"], ["p4"]]]


def test_list_partitions(capsys):
    code, out, _ = run(capsys, "list", "partitions")
    assert code == 0
    assert "isolate-one" in out and "bridge" in out and "12 splits" in out


BAD = [
    (["check", "--partitions", "moat"], "unknown partition pattern 'moat'"),
    (["check", "--partitions", ","], "--partitions is empty"),
    (["check", "--max-partitions", "2"], "needs split patterns"),
    (["check", "--partitions", "halves", "--max-partitions", "0"], "--max-partitions is 0"),
    (["check", "--partitions", "halves", "--max-partitions", "99"], "out of range"),
    (["check", "--partitions", "halves", "--validators", "9"], "at most 8 validators"),
]


@pytest.mark.parametrize(("argv", "needle"), BAD)
def test_bad_network_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("toml", "needle"), [
    ('partitions = "halves"\nmax_partitions = 2\n', "'partitions' must be a list"),
    ('components = [["p1"]]\nmax_partitions = 2\n', "'components' must be a list of splits"),
    ('components = [[["p1", "q2"], ["p3", "p4"]]]\nmax_partitions = 2\n', "'q2'"),
    ('components = [[["p1", "p2"], ["p3"]]]\nmax_partitions = 2\n', "leaves out p4"),
])
def test_bad_network_toml(tmp_path, capsys, toml, needle):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml)
    code, out, err = run(capsys, "check", "--config", str(cfg))
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1
