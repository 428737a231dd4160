"""Reading TLC: its values, its -tool output (canned, no TLC needed), and the
bridge between the twin's variables and bftcheck's states."""

from __future__ import annotations

from pathlib import Path

import pytest

from bftcheck.checker.bfs import check
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.presets import preset
from bftcheck.spec import bridge, tlc
from bftcheck.spec.values import TlaFunction, TlaSet, TlaSyntaxError, parse, parse_state, write

DATA = Path(__file__).parent / "data"


def test_values_read_as_tlc_prints_them() -> None:
    assert parse('<<1, -2, "a">>') == [1, -2, "a"]
    assert parse("<< >>") == []
    assert parse("{}") == TlaSet()
    assert parse('[value |-> "v0", validRound |-> -1]') == {"value": "v0", "validRound": -1}
    fn = parse('( 0 :>\n  ( 0 :> {"v1"} @@ 1 :> {} ) )')
    assert isinstance(fn, TlaFunction) and fn == {0: {0: ["v1"], 1: []}}
    assert parse("TRUE") is True
    assert parse("(0 :> 1..3 @@ 1 :> {})") == {0: [1, 2, 3], 1: []}
    assert parse(r'"say \"hi\""') == 'say "hi"'


@pytest.mark.parametrize("bad", ["<<1, 2", "[a |-> ]", "(0 :> 1 1 :> 2)", "{1} 2", "?", "foo"])
def test_malformed_values_are_rejected(bad: str) -> None:
    with pytest.raises(TlaSyntaxError):
        parse(bad)


def test_written_values_read_back() -> None:
    value = [TlaFunction({0: TlaSet([{"value": "v0", "validRound": -1}]), 1: TlaSet()}),
             TlaFunction(), "x", -1, True]
    assert parse(write(value)) == [{0: [{"value": "v0", "validRound": -1}], 1: []}, [], "x",
                                   -1, True]


def test_canned_output_gives_the_violation_its_trace_and_the_counts() -> None:
    run = tlc.read_output((DATA / "tlc_decision_witness.out").read_text())
    assert run.violated == "NoDecision"
    assert run.actions == ["Initial", "PrevoteOnProposal", "LockOrUpdateValid", "Decide"]
    assert (run.generated, run.distinct, run.queued, run.depth) == (5, 5, 1, 3)
    assert run.states[-1]["decision"] == [{0: "v0"}]
    cfg = Config(powers=(1,), heights=1, rounds=1, values=1)
    model = TendermintModel(cfg)
    trace = tlc.to_trace(cfg, model, run, "decision-reachable")
    assert [s.action.split("(")[0] for s in trace.steps] == ["Init", "Prevote", "Precommit",
                                                             "Decide"]
    assert model.decode(trace.steps[-1].state)["decision"] == {"p1": ["v0"]}


def test_output_of_a_crash_is_an_error_with_tlcs_last_lines() -> None:
    text = (DATA / "tlc_decision_witness.out").read_text()
    cut = text[:text.index("@!@!@STARTMSG 2110")] + "java.lang.OutOfMemoryError: Java heap space\n"
    with pytest.raises(tlc.TlcError) as err:
        tlc.read_output(cut)
    assert err.value.exit_code == 3
    assert "stopped before finishing" in str(err.value)
    assert "OutOfMemoryError" in str(err.value)


def test_output_of_a_parse_error_is_an_error() -> None:
    text = ("@!@!@STARTMSG 1000:1 @!@!@\nParsing or semantic analysis failed.\n"
            "@!@!@ENDMSG 1000 @!@!@\n@!@!@STARTMSG 2186:0 @!@!@\nFinished in 1ms\n"
            "@!@!@ENDMSG 2186 @!@!@\n")
    with pytest.raises(tlc.TlcError) as err:
        tlc.read_output(text)
    assert err.value.exit_code == 3 and "Parsing or semantic analysis failed" in str(err.value)


def test_state_text_spanning_lines() -> None:
    st = parse_state('/\\ a = ( 0 :>\n   1 @@ 1 :> 2 )\n/\\ b = {"x"}\n')
    assert st == {"a": {0: 1, 1: 2}, "b": ["x"]}


@pytest.mark.parametrize("cfg", [preset("n4-f2"), preset("n3-f0").with_changes(rounds=1),
                                 Config(powers=(3, 1), byzantine=1, byz_budget=1, rounds=2,
                                        values=1, mutant="accept-invalid"),
                                 preset("n4-f1-split")])
def test_every_reachable_state_survives_the_twins_spelling(cfg: Config) -> None:
    """bytes -> view -> TLA+ text -> parsed -> view -> bytes is the identity."""
    model = TendermintModel(cfg)
    seen = set(model.init_states())
    frontier = list(seen)
    while frontier and len(seen) < 3000:
        s = frontier.pop()
        for _, t in model.next_states(s):
            if t not in seen:
                seen.add(t)
                frontier.append(t)
    for s in seen:
        tla = bridge.to_tla(cfg, model.decode(s))
        text = "\n".join(f"/\\ {var} = {write(value)}" for var, value in tla.items())
        assert model.encode(bridge.to_view(cfg, parse_state(text))) == s


def test_a_state_missing_a_variable_is_rejected() -> None:
    cfg = preset("n4-f1")
    model = TendermintModel(cfg)
    tla = bridge.to_tla(cfg, model.decode(model.init_states()[0]))
    del tla["byzProposal"]
    with pytest.raises(ValueError, match="byzProposal"):
        bridge.to_view(cfg, tla)


def test_model_check_reference_for_the_canned_config() -> None:
    """The canned output's counts are the model's: 5 states, depth 3 for a witness."""
    cfg = Config(powers=(1,), heights=1, rounds=1, values=1)
    model = TendermintModel(cfg)
    result = check(model, [p for p in model.properties() if p.name == "decision-reachable"])
    assert result.found_at["decision-reachable"] == 3
