"""Replay: every outcome with its exit code (0 nothing fails, 1 a confirmed
counterexample, 5 a claim that does not occur, 2 bad input), lassos, and
malformed ITF files: one line in the model's words, exit 2, never a traceback."""

from __future__ import annotations

import copy
import json
import re

import pytest

from bftcheck.checker.interface import Action, Property
from bftcheck.cli import main
from bftcheck.replay import replay
from helpers import run_cli

INTERNALS = re.compile(r"KeyError|ValueError|IndexError|TypeError|AttributeError|tuple\.index|"
                       r"Traceback|Errno|\w+Error:")


@pytest.fixture(scope="module")
def fork(tmp_path_factory) -> dict:
    """The n4-f2 fork, as ITF JSON: claims agreement, which fails at step 7."""
    path = tmp_path_factory.mktemp("fork") / "fork.json"
    assert main(["check", "--preset", "n4-f2", "--quiet", "--property", "agreement",
                 "--trace-out", str(path)]) == 1
    return json.loads(path.read_text())


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short relative paths in messages


def write(data, name: str = "t.json") -> str:
    with open(name, "wb") as f:
        f.write(data if isinstance(data, bytes) else json.dumps(data).encode())
    return name


def replay_cli(capsys, data, *extra: str):
    return run_cli(capsys, "replay", write(data), *extra)


def one_line_error(capsys, data, *extra: str) -> str:
    code, out, err = replay_cli(capsys, data, *extra)
    assert code == 2 and out == "", (code, out, err)
    assert err.count("\n") == 1 and err.startswith("bftcheck: error: "), err
    assert not INTERNALS.search(err), err
    assert len(err) < 300, err
    return err


# -- outcomes -----------------------------------------------------------------

def test_confirmed_violation_exits_1(capsys, fork):
    code, out, _ = replay_cli(capsys, fork)
    assert code == 1
    assert out.splitlines()[-1] == "result: violation confirmed (the trace claims agreement) " \
                                   "(exit 1)"
    code, out, _ = replay_cli(capsys, fork, "--json")
    d = json.loads(out)
    assert code == 1 and d["exit_code"] == 1
    assert d["claimed"] == "agreement" and d["confirmed"] is True
    assert d["outcome"] == "claim-confirmed"


def test_a_claim_that_does_not_occur_exits_5(capsys, fork):
    prefix = copy.deepcopy(fork)
    prefix["states"] = prefix["states"][:4]
    code, out, err = replay_cli(capsys, prefix)
    assert code == 5 and err == ""
    assert out.splitlines()[-1] == (
        "result: the trace is a run of the model, but its claimed violation of agreement "
        "does not occur along it; nothing fails along it (exit 5)")
    code, out, _ = replay_cli(capsys, prefix, "--json")
    d = json.loads(out)
    assert code == 5 and d["exit_code"] == 5 and d["confirmed"] is False
    assert d["outcome"] == "claim-refuted" and d["failures"] == {}


def test_a_wrong_claim_lists_what_does_fail(capsys, fork):
    other = copy.deepcopy(fork)
    other["#meta"]["property"] = "validity"
    code, out, _ = replay_cli(capsys, other)
    assert code == 5
    assert "its claimed violation of validity does not occur along it; what fails along it: " \
           "agreement, ledger-consistency (exit 5)" in out


def test_no_claim_exits_1_on_a_failure_and_0_otherwise(capsys, fork):
    unclaimed = copy.deepcopy(fork)
    unclaimed["#meta"]["property"] = None
    code, out, _ = replay_cli(capsys, unclaimed)
    assert code == 1 and "(the trace claims nothing) (exit 1)" in out
    d = json.loads(replay_cli(capsys, unclaimed, "--json")[1])
    assert d["claimed"] is None and d["confirmed"] is None and d["outcome"] == "violation"
    unclaimed["states"] = unclaimed["states"][:3]
    code, out, _ = replay_cli(capsys, unclaimed)
    assert code == 0 and out.splitlines()[-1] == \
        "result: no property fails along this trace (exit 0)"
    d = json.loads(replay_cli(capsys, unclaimed, "--json")[1])
    assert d["exit_code"] == 0 and d["outcome"] == "no-violation"


def test_a_witness_claim(capsys, fork):
    witness = copy.deepcopy(fork)
    witness["#meta"].update(property="decision-reachable", kind="witness")
    witness["states"] = witness["states"][:3]
    code, out, _ = replay_cli(capsys, witness)
    assert code == 5 and "its claimed witness of decision-reachable does not occur" in out
    witness["states"] = fork["states"]
    code, out, _ = replay_cli(capsys, witness)
    assert code == 1 and "decision-reachable is witnessed at step" in out


@pytest.mark.parametrize("prop", ["nope", 3, ["agreement"], "x" * 1000])
def test_an_unknown_claimed_property_is_refused(capsys, fork, prop):
    bad = copy.deepcopy(fork)
    bad["#meta"]["property"] = prop
    err = one_line_error(capsys, bad)
    assert "the trace claims unknown property" in err
    assert "known properties of its configuration are agreement, validity" in err


def test_a_claimed_violation_of_a_witness_property_is_refused(capsys, fork):
    bad = copy.deepcopy(fork)
    bad["#meta"]["property"] = "decision-reachable"
    assert "no run can violate" in one_line_error(capsys, bad)


# -- lassos -------------------------------------------------------------------

def test_a_loop_on_a_safety_trace_must_close(capsys, fork):
    for claim in ("agreement", None):
        bad = copy.deepcopy(fork)
        bad["#meta"]["property"] = claim
        bad["loop"] = 2
        err = one_line_error(capsys, bad)
        assert "the lasso does not close: 'loop' is 2, but state 2 differs from the last " \
               "state 7" in err


class Ring:
    """States 0 -> 1 -> 2 -> 0: a run can close a lasso; 'never-5' always holds."""

    def init_states(self):
        return [bytes([0])]

    def next_states(self, s):
        yield Action("Tick", "p1", "tick"), bytes([(s[0] + 1) % 3])

    def properties(self):
        return [Property("never-5", "always", "state", lambda s: s[0] != 5, "not 5")]

    def encode(self, v):
        return bytes([v["x"]])

    def decode(self, s):
        return {"x": s[0]}


def test_a_closing_loop_on_a_safety_trace_is_checked_and_accepted():
    ring = Ring()
    steps = [("Init", {"x": 0}), ("Tick", {"x": 1}), ("Tick", {"x": 2}), ("Tick", {"x": 0})]
    report = replay(ring, None, steps, None, loop=0)
    assert report.exit_code == 0 and report.outcome == "no-violation"
    report = replay(ring, None, steps, "never-5", loop=0)
    assert report.exit_code == 5 and report.confirmed is False
    with pytest.raises(Exception, match="the lasso does not close"):
        replay(ring, None, steps, "never-5", loop=1)


class Counter:
    """0 -> 1 -> ... -> 9, never the target 99: Recovery fails at state 0,
    which replay can confirm only by searching 9 states of its future."""

    def init_states(self):
        return [bytes([0])]

    def next_states(self, s):
        if s[0] < 9:
            yield Action("Tick", "p1", "tick"), bytes([s[0] + 1])

    def properties(self):
        return [Property("recovery", "recovery", "state", lambda s: s[0] == 99, "reach 99")]

    def encode(self, v):
        return bytes([v["x"]])

    def decode(self, s):
        return {"x": s[0]}


def test_a_recovery_search_cut_short_is_incomplete_not_bad_input(monkeypatch):
    from bftcheck import replay as replay_module
    from bftcheck.outcome import Incomplete

    steps = [("Init", {"x": 0})]
    assert replay(Counter(), None, steps, "recovery").exit_code == 1  # searched: confirmed
    monkeypatch.setattr(replay_module, "RECOVERY_SEARCH_LIMIT", 3)
    with pytest.raises(Incomplete, match="cannot tell whether recovery fails there"):
        replay(Counter(), None, steps, "recovery")


# -- --html -------------------------------------------------------------------

def test_html_unwritable_before_the_work(capsys, fork):
    err = one_line_error(capsys, fork, "--html", "/nonexistent/dir/r.html")
    assert "--html" in err


def test_html_write_failing_after_the_verdicts(capsys, fork, monkeypatch):
    from bftcheck import html
    from bftcheck.outcome import OutputError

    def fail(*_a, **_k):
        raise OutputError("cannot write HTML r.html: no space left on device")

    monkeypatch.setattr(html, "write_html", fail)
    code, out, err = replay_cli(capsys, fork, "--html", "r.html")
    assert code == 2
    assert "agreement fails at step 7" in out and out.splitlines()[-1].endswith("(exit 2)")
    assert err == "bftcheck: error: cannot write HTML r.html: no space left on device\n"
    code, out, err = replay_cli(capsys, fork, "--html", "r.html", "--json")
    assert code == 2 and json.loads(out)["exit_code"] == 2 and err.count("\n") == 1


def test_html_written(capsys, fork):
    code, out, _ = replay_cli(capsys, fork, "--html", "r.html", "--json")
    assert code == 1 and open("r.html").read().startswith("<!")


# -- malformed files ------------------------------------------------------------

def edit(fork, fn):
    d = copy.deepcopy(fork)
    fn(d)
    return d


def state(i, **changes):
    return lambda d: d["states"][i].update(changes)


def entry(i, var, k, value):
    return lambda d: d["states"][i][var]["#map"][k].__setitem__(1, value)


def key(i, var, k, name):
    return lambda d: d["states"][i][var]["#map"][k].__setitem__(0, name)


def msg(i, var, m):
    return lambda d: d["states"][i][var]["#set"].append(m)


def config(**changes):
    return lambda d: d["#meta"]["config"].update(changes)


TEXT = {
    "empty": (b"", "is empty"),
    "blank": (b" \n\t\n", "is empty"),
    "non-utf8": (b'{"states": "\xff\xfe"}', "not UTF-8 text (byte 0xff"),
    "truncated": (None, "is not valid JSON"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "array": (b"[]", "needs a 'states' list"),
    "null": (b"null", "needs a 'states' list"),
    "string": (b'"trace"', "needs a 'states' list"),
    "nan": (b'{"states": [NaN]}', "holds NaN"),
    "infinity": (b'{"states": [-Infinity]}', "holds -Infinity"),
    "400 digits": (b'{"states": [' + b"9" * 400 + b"]}", "a number of 400 digits"),
    "5000 digits": (b'{"states": [' + b"9" * 5000 + b"]}", "a number of 5000 digits"),
}


@pytest.mark.parametrize("name", list(TEXT))
def test_malformed_text(capsys, fork, name):
    data, needle = TEXT[name]
    if data is None:
        data = json.dumps(fork).encode()[:700]
    assert needle in one_line_error(capsys, data)


def test_a_directory_and_a_missing_file(capsys, tmp_path):
    for path, needle in ((".", "it is a directory"), ("absent.json", "does not exist")):
        code, out, err = run_cli(capsys, "replay", path)
        assert code == 2 and out == "" and needle in err and not INTERNALS.search(err)


BROKEN = {
    "states a dict": (lambda d: d.update(states={}), "needs a 'states' list"),
    "no states": (lambda d: d.update(states=[]), "has no states"),
    "#meta a list": (lambda d: d.update({"#meta": []}), "'#meta' must be an object"),
    "no config": (lambda d: d["#meta"].pop("config"), "no bftcheck configuration"),
    "config validators 200": (
        lambda d: d["#meta"].update(config={"validators": 200}),
        "t.json ('#meta'.'config'): 'validators' = 200 is more than the supported 32"),
    "config byzantine 9": (config(byzantine=9),
                           "t.json ('#meta'.'config'): 'byzantine' = 9 does not fit 4"),
    "config power a string": (config(powers=["a", 1, 1, 1]), "'powers' entry 1 (p1) is 'a'"),
    "config rounds 1.5": (config(rounds=1.5), "'rounds' must be a whole number, got 1.5"),
    "config unknown key": (config(colour=1), "unknown key 'colour'"),
    "config bigint": (config(rounds={"#bigint": "9" * 50}), "'#bigint' has 50 digits"),
    "config huge name": (config(name=["x"] * 10_000), "'name' must be a string"),
    "kind unknown": (lambda d: d["#meta"].update(kind="poem"), "'#meta'.'kind' is 'poem'"),
    "loop a string": (lambda d: d.update(loop="1"), "'loop' is '1'"),
    "loop huge": (lambda d: d.update(loop=10**20), "'loop' is a 21-digit number"),
    "loop negative": (lambda d: d.update(loop=-1), "'loop' is -1"),
    "loop on the last state": (lambda d: d.update(loop=7), "'loop' is 7"),
    "state a list": (lambda d: d["states"].__setitem__(1, []), "state 1 is not a JSON object"),
    "variable missing": (lambda d: d["states"][2].pop("round"), "lacks variable 'round'"),
    "height a list": (state(1, height=[1]), "'height': it is [1], not a map"),
    "height a string": (state(1, height="h"), "'height': it is 'h', not a map"),
    "map of bad pairs": (state(1, height={"#map": [["p1"]]}), "list of [key, value] pairs"),
    "map not a list": (state(1, height={"#map": 3}), "list of [key, value] pairs"),
    "height '0'": (entry(1, "height", 0, "0"), "p1 is '0', not a whole number"),
    "height 99": (entry(1, "height", 0, 99), "p1 is 99, outside 0..1"),
    "height -1": (entry(1, "height", 0, -1), "p1 is -1, outside 0..1"),
    "height true": (entry(1, "height", 0, True), "p1 is True, not a whole number"),
    "height 0.0": (entry(1, "height", 0, 0.0), "p1 is 0.0, not a whole number"),
    "height null": (entry(1, "height", 0, None), "p1 is None, not a whole number"),
    "height 10**20": (entry(1, "height", 0, 10**20), "p1 is a 21-digit number"),
    "bigint not digits": (entry(1, "height", 0, {"#bigint": "zz"}), "string of digits"),
    "bigint 5000 digits": (entry(1, "height", 0, {"#bigint": "9" * 5000}), "5000 digits"),
    "validator p3 missing": (lambda d: d["states"][1]["round"]["#map"].pop(),
                             "'round': it has no entry for p2"),
    "validator p9": (key(1, "round", 0, "p9"), "an entry for 'p9', which is not a correct"),
    "validator p3 (Byzantine)": (key(1, "round", 0, "p3"), "an entry for 'p3'"),
    "validator an int": (key(1, "round", 0, 1), "an entry for 1"),
    "validator a list": (key(1, "round", 0, ["p1"]), "a '#map' key is ['p1'], not a name"),
    "validator twice": (lambda d: d["states"][1]["round"]["#map"].append(["p1", 0]),
                        "'#map' has 'p1' twice"),
    "step unknown": (entry(1, "step", 0, "dance"), "p1 is 'dance', not one of propose"),
    "step an int": (entry(1, "step", 0, 0), "p1 is 0, not one of propose"),
    "locked value v9": (entry(1, "lockedValue", 0, "v9"), "p1 is 'v9', not one of nil, v0"),
    "locked value none": (entry(1, "lockedValue", 0, "none"), "p1 is 'none'"),
    "locked round 5": (entry(1, "lockedRound", 0, 5), "p1 is 5, outside -1..1"),
    "ledger empty": (entry(1, "decision", 0, []), "p1's ledger is [], not a list of 1"),
    "ledger a string": (entry(1, "decision", 0, "v0"), "p1's ledger is 'v0'"),
    "ledger entry 7": (entry(1, "decision", 0, [7]), "p1's entry for height 0 is 7"),
    "proposals a number": (state(1, proposals=5), "'proposals': it is 5, not a set"),
    "set not a list": (state(1, proposals={"#set": "a"}), "'#set' must be a list"),
    "message a number": (msg(1, "proposals", 3), "message 2 is 3, not a record"),
    "message without src": (
        msg(1, "proposals", {"height": 0, "round": 0, "value": "v0", "validRound": -1}),
        "message 2 has no 'src'"),
    "proposal of a non-proposer": (
        msg(1, "proposals", {"height": 0, "round": 0, "src": "p2", "value": "v0",
                             "validRound": -1}),
        "message 2 is from p2, who is not the proposer of height 0 round 0 (p1 is)"),
    "proposal from p9": (
        msg(1, "proposals", {"height": 0, "round": 0, "src": "p9", "value": "v0",
                             "validRound": -1}),
        "message 2's src is 'p9', not a validator of this configuration (p1..p4)"),
    "proposal of nil": (
        msg(1, "proposals", {"height": 0, "round": 1, "src": "p2", "value": "nil",
                             "validRound": -1}),
        "message 2's value is 'nil', not one of v0, v1, x"),
    "proposal validRound 3": (
        msg(1, "proposals", {"height": 0, "round": 1, "src": "p2", "value": "v0",
                             "validRound": 3}),
        "message 2's validRound is 3, outside -1..0"),
    "proposal round 9": (
        msg(1, "proposals", {"height": 0, "round": 9, "src": "p2", "value": "v0",
                             "validRound": -1}),
        "message 2's round is 9, outside 0..1"),
    "Byzantine prevote of none": (
        msg(1, "prevotes", {"height": 0, "round": 0, "src": "p4", "value": "none"}),
        "message 2's value is 'none'"),
    "Byzantine prevote of x": (
        msg(1, "prevotes", {"height": 0, "round": 0, "src": "p4", "value": "x"}),
        "variable 'prevotes' is not a state of the model"),
    "two prevotes of p1 in one round": (
        lambda d: d["states"][1]["prevotes"]["#set"].extend([
            {"height": 0, "round": 1, "src": "p1", "value": "v0"},
            {"height": 0, "round": 1, "src": "p1", "value": "nil"}]),
        "variable 'prevotes' is not a state of the model"),
    "prevote value an int": (
        msg(1, "prevotes", {"height": 0, "round": 0, "src": "p1", "value": 1}),
        "message 2's value is 1"),
    "byzantineUsed a string": (state(1, byzantineUsed="0"), "'byzantineUsed': it is '0'"),
    "byzantineUsed 300": (state(1, byzantineUsed=300), "it is 300, outside 0..255"),
    "nested in a state": (state(1, byzantineUsed=json.loads("[" * 20 + "]" * 20)),
                          "nested more than 16 levels deep"),
    "not a transition": (entry(4, "round", 1, 0), "step 4"),
    "not initial": (entry(0, "round", 0, 1), "state 0 is not an initial state"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_malformed_trace(capsys, fork, name):
    fn, needle = BROKEN[name]
    err = one_line_error(capsys, edit(fork, fn))
    assert needle in err


def test_odd_action_labels_and_extra_variables_are_not_errors(capsys, fork):
    odd = edit(fork, lambda d: d["states"][2]["#meta"].update(action={"a": "x" * 1000}))
    odd["states"][3]["weird"] = 1
    code, out, _ = replay_cli(capsys, odd)
    assert code == 1 and len(max(out.splitlines(), key=len)) < 300


def test_a_variable_the_trace_leaves_out_is_refused_even_if_the_encoding_defaults_it():
    """A plug-in's encode may fill in what a view lacks; the trace must still say it."""
    from bftcheck.checker.interface import Action, Property
    from bftcheck.itf import TraceError
    from bftcheck.replay import replay

    class Counter:
        def init_states(self):
            return [bytes(2)]

        def next_states(self, s):
            yield Action("Tick", "c", "x"), bytes([s[0] + 1, s[1]])

        def properties(self):
            return [Property("small", "always", "state", lambda s: s[0] < 9, "x stays small")]

        def encode(self, v):
            return bytes([v["x"], v.get("y", 0)])

        def decode(self, s):
            return {"x": s[0], "y": s[1]}

    model = Counter()
    whole = replay(model, None, [("Init", {"x": 0, "y": 0}), ("Tick", {"x": 1, "y": 0})])
    assert whole.failures == {}
    with pytest.raises(TraceError, match="state 0 lacks variable 'y'"):
        replay(model, None, [("Init", {"x": 0}), ("Tick", {"x": 1})])
