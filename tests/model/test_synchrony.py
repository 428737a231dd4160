"""Partial synchrony (model/synchrony.py): the timeout guards after GST, the
termination property with the round bound's reading, and consensus latency."""

from __future__ import annotations

import pytest

from bftcheck.checker.bfs import Limits, check
from bftcheck.checker.result import HOLDS, UNKNOWN, VIOLATED
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config, ConfigError
from bftcheck.model.mutants import MUTANTS
from bftcheck.model.properties import decided_everything
from tests.helpers import build, model, names

# 3 correct + 1 silent Byzantine validator, GST at round 1: Algorithm 1 decides
# on every run by round 4 (the round of p1, holding the highest validRound).
SILENT = {"powers": (1, 1, 1, 1), "byzantine": 1, "byz_budget": 0, "rounds": 5, "gst": 1}


def termination(m: TendermintModel, latency: bool = False):
    props = [p for p in m.properties() if p.name == "termination"]
    return check(m, props, latency="termination" if latency else None)


def test_gst_must_be_a_round_of_the_bound() -> None:
    with pytest.raises(ConfigError, match=r"--gst 2 is not a round of the bound: pass --gst "
                                          r"ROUND with ROUND from 0 to 1"):
        Config(gst=2).validated()
    assert "gst" not in Config().to_dict()  # asynchronous configurations read as before
    assert Config.from_dict(Config(gst=1, rounds=3).to_dict()).gst == 1


def test_timeout_propose_waits_for_a_correct_proposer_after_gst() -> None:
    # p1 proposes round 0; p2 has not received it: before GST it may time out
    s = build(model())
    assert "TimeoutPropose" in names(model(), s, "p2")
    synchronous = model(gst=0)
    s = build(synchronous)
    assert "TimeoutPropose" not in names(synchronous, s, "p2")  # p1 will propose
    sent = build(synchronous, proposals=[(0, 0, "p1", "v0", -1)])
    assert names(synchronous, sent, "p2") == ["Prevote"]  # line 22 fires, no timeout


def test_a_byzantine_proposer_may_stay_silent_after_gst() -> None:
    m = model(byzantine=1, byz_budget=1, gst=0, rounds=4)
    s = build(m, {p: {"round": 3} for p in ("p1", "p2", "p3")})  # round 3: p4 proposes
    assert "TimeoutPropose" in names(m, s, "p1")


def test_timeout_prevote_waits_for_every_correct_prevote_after_gst() -> None:
    m = model(gst=0)
    s = build(m, {p: {"step": "prevote"} for p in ("p1", "p2", "p3")},
              proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, "p1", "nil"), (0, 0, "p2", "nil"), (0, 0, "p3", "v0")])
    assert "TimeoutPrevote" not in names(m, s, "p1")  # p4 has not prevoted yet
    asynchronous = model()
    s = build(asynchronous, {p: {"step": "prevote"} for p in ("p1", "p2", "p3")},
              proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, "p1", "nil"), (0, 0, "p2", "nil"), (0, 0, "p3", "v0")])
    assert "TimeoutPrevote" in names(asynchronous, s, "p1")


def test_no_split_from_gst_on() -> None:
    cfg = {"partitions": ("halves",), "max_partitions": 2, "values": 1}
    before = model(**cfg)
    after = model(**cfg, gst=0)
    split = [a.name for a, _ in before.next_states(before.init_states()[0])]
    assert "Split" in split
    assert "Split" not in [a.name for a, _ in after.next_states(after.init_states()[0])]


def test_a_split_open_at_gst_never_makes_a_cut_run_a_violation() -> None:
    # 3 correct validators, p1 cut off in round 0 and round 1 (GST), healed in
    # round 1: p1 timed out on round 1's proposal during the split, so no round
    # after the heal guarantees a decision; the run cut by the bound is unknown
    # (it was once reported as a livelock of Algorithm 1)
    cfg = Config(powers=(1, 1, 1), byzantine=0, heights=2, rounds=2, values=1,
                 partitions=("isolate-one",), max_partitions=2, gst=1)
    result = termination(TendermintModel(cfg))
    assert result.complete and result.verdicts == {"termination": UNKNOWN}
    assert result.cut["termination"].steps  # the run the bound cut, for the advice


def test_algorithm_1_terminates_after_gst_with_a_silent_and_a_sending_byzantine() -> None:
    for budget in (0, 1):
        result = termination(TendermintModel(Config(**{**SILENT, "byz_budget": budget})))
        assert result.complete and result.verdicts == {"termination": HOLDS}, budget


def test_the_round_bound_is_not_a_violation_before_the_guarantee() -> None:
    # one round fewer: p1 cannot propose again, and some runs end undecided there
    result = termination(TendermintModel(Config(**{**SILENT, "rounds": 4})))
    assert result.verdicts == {"termination": UNKNOWN}
    assert result.exit_code() == 3 and "termination" in result.cut


LIVENESS_BUGS = [name for name, m in MUTANTS.items() if m.breaks == "termination"]


@pytest.mark.parametrize("name", LIVENESS_BUGS)
def test_each_historical_liveness_bug_is_caught_where_the_protocol_terminates(name) -> None:
    mutant = MUTANTS[name]
    real = termination(TendermintModel(Config(**mutant.catch)))
    assert real.verdicts == {"termination": HOLDS}
    result = termination(TendermintModel(Config(**mutant.catch, mutant=name)))
    assert result.verdicts == {"termination": VIOLATED}


def test_latency_is_exact_on_a_configuration_small_enough_to_enumerate() -> None:
    m = model(byzantine=1, gst=0, rounds=3)
    result = termination(m, latency=True)
    assert result.verdicts == {"termination": HOLDS}
    lat = result.latency
    # every run from the initial state, by brute force
    lengths: list[tuple[int, int]] = []

    def walk(s: bytes, steps: int, top: int) -> None:
        if decided_everything(m.lay, s):
            lengths.append((steps, top))
            return
        from bftcheck.model.properties import round_reached

        top = max(top, round_reached(m.lay, s))
        for _, t in m.next_states(s):
            walk(t, steps + 1, top)

    for s in m.init_states():
        walk(s, 0, 0)
    assert lat["worst_steps"] == max(n for n, _ in lengths)
    assert lat["best_steps"] == min(n for n, _ in lengths)
    assert lat["worst_measure"] == max(r for _, r in lengths)
    assert lat["best_measure"] == min(r for _, r in lengths)
    assert len(lat["worst_path"].steps) == lat["worst_steps"] + lat["worst_entry_depth"]


def test_latency_after_an_asynchronous_round() -> None:
    result = termination(TendermintModel(Config(**SILENT)), latency=True)
    lat = result.latency
    assert (lat["worst_measure"], lat["best_measure"]) == (4, 0)
    assert lat["worst_steps"] > lat["best_steps"] > 0


# Round 3 of the catch configuration of first-proposal-only: p4, the Byzantine
# proposer, sent v0 to p1 and p2 and v1 to p3; p1, p2 and p4 prevoted v0.
def _equivocated(mutant: str | None) -> tuple[TendermintModel, bytes]:
    m = TendermintModel(Config(**MUTANTS["first-proposal-only"].catch, mutant=mutant))
    s = build(m, {p: {"round": 3, "step": "prevote"} for p in ("p1", "p2", "p3")},
              proposals=[(0, 3, "p4", "v0", -1), (0, 3, "p4", "v1", -1)],
              prevotes=[(0, 3, "p1", "v0"), (0, 3, "p2", "v0"), (0, 3, "p3", "v1"),
                        (0, 3, "p4", "v0")])
    return m, s


def test_a_validator_that_prevoted_another_proposal_still_locks_the_polka_value() -> None:
    m, s = _equivocated(None)
    assert "Precommit(p3, h0 r3 v0, lock v0; line 36)" in [str(a) for a, _ in m.next_states(s)]


def test_first_proposal_only_ignores_the_polka_value_it_did_not_prevote() -> None:
    m, s = _equivocated("first-proposal-only")
    labels = [str(a) for a, _ in m.next_states(s) if a.validator == "p3"]
    assert not any("line 36" in label for label in labels)
    assert any("line 36" in str(a) for a, _ in m.next_states(s) if a.validator == "p1")


def test_valid_block_names_the_round_and_who_left_it_without_the_lock_value() -> None:
    from bftcheck.model.properties import valid_block_breach

    m, s = _equivocated("first-proposal-only")
    locked = build(m, {"p1": {"round": 3, "step": "precommit", "lockedValue": "v0",
                              "lockedRound": 3, "validValue": "v0", "validRound": 3},
                       "p2": {"round": 3, "step": "prevote"}, "p3": {"round": 4}},
                   proposals=[(0, 3, "p4", "v0", -1), (0, 3, "p4", "v1", -1)],
                   prevotes=[(0, 3, "p1", "v0"), (0, 3, "p2", "v0"), (0, 3, "p3", "v1"),
                             (0, 3, "p4", "v0")],
                   precommits=[(0, 3, "p1", "v0")])
    assert valid_block_breach(m.lay, 1, locked) == (0, 3, [0], 2)
    prop = next(p for p in m.properties() if p.name == "valid-block")
    assert prop.check(s) and not prop.check(locked)
    # the same state judged from GST at round 4: round 3 is not constrained
    assert valid_block_breach(m.lay, 4, locked) is None


def test_first_proposal_only_breaks_valid_block() -> None:
    """tendermint#2583 in Algorithm 1: the lockers record their lock as their
    valid value, so lemma 2 (model/synchrony.py) still gives a deciding round;
    the variant breaks the validValue property, not termination (README)."""
    name = "first-proposal-only"
    m = TendermintModel(Config(**MUTANTS[name].catch, mutant=name))
    props = [p for p in m.properties() if p.name == "valid-block"]
    result = check(m, props, Limits(stop_at_first_violation=True))
    assert result.verdicts == {"valid-block": VIOLATED}
