"""Each group of Algorithm 1 rules on hand-built states (line numbers as in the paper)."""

from __future__ import annotations

from helpers import build, model, names, steps


def successors_named(m, s, validator, name):
    return [v for label, v in steps(m, s, validator) if label.startswith(name + "(")]


def test_init_start_round_proposer_broadcasts_each_value():
    # lines 10-19: p1 proposes at h0 r0; getValue() may return either value
    m = model()
    inits = [m.decode(s) for s in m.init_states()]
    assert [i["proposals"] for i in inits] == [
        [{"height": 0, "round": 0, "src": "p1", "value": "v0", "validRound": -1}],
        [{"height": 0, "round": 0, "src": "p1", "value": "v1", "validRound": -1}],
    ]
    assert all(i["step"] == {p: "propose" for p in ("p1", "p2", "p3", "p4")} for i in inits)


def test_line22_prevote_proposal_unless_locked_on_other_value():
    m = model()
    s = build(m, proposals=[(0, 0, "p1", "v0", -1)])
    (after,) = successors_named(m, s, "p2", "Prevote")
    assert after["step"]["p2"] == "prevote"
    assert {"height": 0, "round": 0, "src": "p2", "value": "v0"} in after["prevotes"]
    # locked on v1 in round 0, now in round 1 facing a fresh v0 proposal from p2: prevote nil
    s = build(m, local={"p3": {"round": 1, "lockedValue": "v1", "lockedRound": 0,
                               "validValue": "v1", "validRound": 0}},
              proposals=[(0, 1, "p2", "v0", -1)])
    (after,) = successors_named(m, s, "p3", "Prevote")
    assert {"height": 0, "round": 1, "src": "p3", "value": "nil"} in after["prevotes"]


def test_line28_proof_of_lock_unlocks():
    m = model()
    pol = [(0, 0, p, "v0") for p in ("p1", "p2", "p4")]
    locked = {"p3": {"round": 1, "lockedValue": "v1", "lockedRound": 0}}
    # proposal v0 with validRound 0 and 2f + 1 prevotes for v0 in round 0: prevote v0
    s = build(m, local=locked, proposals=[(0, 1, "p2", "v0", 0)], prevotes=pol)
    (after,) = successors_named(m, s, "p3", "Prevote")
    assert {"height": 0, "round": 1, "src": "p3", "value": "v0"} in after["prevotes"]
    # without the proof-of-lock, line 28 does not fire (only the timeout remains)
    s = build(m, local=locked, proposals=[(0, 1, "p2", "v0", 0)], prevotes=pol[:2])
    assert names(m, s, "p3") == ["TimeoutPropose"]


def test_line28_locked_after_vr_prevotes_nil():
    # locked in round 1 (after vr = 0): the POL of round 0 does not unlock
    m = model(rounds=3)
    s = build(m, local={"p4": {"round": 2, "lockedValue": "v1", "lockedRound": 1}},
              proposals=[(0, 2, "p3", "v0", 0)],
              prevotes=[(0, 0, p, "v0") for p in ("p1", "p2", "p3")])
    (after,) = successors_named(m, s, "p4", "Prevote")
    assert {"height": 0, "round": 2, "src": "p4", "value": "nil"} in after["prevotes"]


def test_line36_lock_and_precommit_on_prevote_quorum():
    m = model()
    s = build(m, local={"p2": {"step": "prevote"}}, proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, p, "v0") for p in ("p1", "p2", "p3")])
    (after,) = successors_named(m, s, "p2", "Precommit")
    assert (after["lockedValue"]["p2"], after["lockedRound"]["p2"]) == ("v0", 0)
    assert (after["validValue"]["p2"], after["validRound"]["p2"]) == ("v0", 0)
    assert after["step"]["p2"] == "precommit"
    assert {"height": 0, "round": 0, "src": "p2", "value": "v0"} in after["precommits"]
    # two prevotes of four are not a quorum
    s = build(m, local={"p2": {"step": "prevote"}}, proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, p, "v0") for p in ("p1", "p2")])
    assert "Precommit" not in names(m, s, "p2")


def test_line36_in_precommit_step_updates_valid_value_only_once():
    m = model()
    local = {"p2": {"step": "precommit"}}
    s = build(m, local=local, proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, p, "v0") for p in ("p1", "p2", "p3")],
              precommits=[(0, 0, "p2", "nil")])
    (after,) = successors_named(m, s, "p2", "UpdateValid")
    assert after["lockedValue"]["p2"] == "nil"
    assert (after["validValue"]["p2"], after["validRound"]["p2"]) == ("v0", 0)
    local["p2"].update(validValue="v0", validRound=0)
    s2 = build(m, local=local, proposals=[(0, 0, "p1", "v0", -1)],
               prevotes=[(0, 0, p, "v0") for p in ("p1", "p2", "p3")],
               precommits=[(0, 0, "p2", "nil")])
    assert "UpdateValid" not in names(m, s2, "p2")  # "for the first time"


def test_line44_nil_quorum_and_line61_timeout_prevote():
    m = model()
    nil3 = [(0, 0, p, "nil") for p in ("p1", "p2", "p3")]
    s = build(m, local={"p1": {"step": "prevote"}}, prevotes=nil3)
    assert sorted(names(m, s, "p1")) == ["Precommit", "TimeoutPrevote"]
    mixed = [(0, 0, "p1", "v0"), (0, 0, "p2", "v1"), (0, 0, "p3", "nil")]
    s = build(m, local={"p1": {"step": "prevote"}}, prevotes=mixed)
    assert names(m, s, "p1") == ["TimeoutPrevote"]  # 2f + 1 of anything, not of nil
    s = build(m, local={"p1": {"step": "prevote"}}, prevotes=mixed[:2])
    assert names(m, s, "p1") == []


def test_line57_timeout_propose_only_for_non_proposer():
    m = model()
    s = build(m)
    assert names(m, s, "p1") == []  # the proposer never waits on its own proposal
    assert names(m, s, "p2") == ["TimeoutPropose"]


def test_line65_timeout_precommit_starts_next_round_within_bound():
    m = model(rounds=2)
    pc = [(0, 0, p, "nil") for p in ("p1", "p2", "p3")]
    s = build(m, local={"p2": {"step": "precommit"}}, precommits=pc)
    afters = successors_named(m, s, "p2", "TimeoutPrecommit")
    assert {(a["round"]["p2"], a["step"]["p2"]) for a in afters} == {(1, "propose")}
    # p2 proposes in round 1: a fresh value, either one (it has no valid value)
    assert [[p["value"] for p in a["proposals"] if p["round"] == 1] for a in afters] == [
        ["v0"], ["v1"]]
    s = build(m, local={"p2": {"round": 1, "step": "precommit"}},
              precommits=[(0, 1, p, "nil") for p in ("p1", "p2", "p3")])
    assert "TimeoutPrecommit" not in names(m, s, "p2")  # round 2 is beyond the bound


def test_line15_proposer_reproposes_valid_value_with_valid_round():
    m = model()
    s = build(m, local={"p2": {"step": "precommit", "validValue": "v1", "validRound": 0}},
              precommits=[(0, 0, p, "nil") for p in ("p1", "p2", "p3")])
    (after,) = successors_named(m, s, "p2", "TimeoutPrecommit")
    assert [p for p in after["proposals"] if p["round"] == 1] == [
        {"height": 0, "round": 1, "src": "p2", "value": "v1", "validRound": 0}]


def test_line49_decide_in_earlier_round_and_move_height():
    m = model(heights=2)
    s = build(m, local={"p4": {"round": 1}}, proposals=[(0, 0, "p1", "v1", -1)],
              precommits=[(0, 0, p, "v1") for p in ("p1", "p2", "p3")])
    (after,) = successors_named(m, s, "p4", "Decide")
    assert after["decision"]["p4"] == ["v1", "nil"]
    assert (after["height"]["p4"], after["round"]["p4"], after["step"]["p4"]) == (1, 0, "propose")
    # proposer of h1 r0 is p2, not p4: no proposal from p4 at height 1
    assert not [p for p in after["proposals"] if p["height"] == 1]


def test_line49_needs_the_proposal():
    m = model()
    s = build(m, precommits=[(0, 0, p, "v1") for p in ("p1", "p2", "p3")])
    assert "Decide" not in names(m, s, "p4")


def test_last_height_decided_halts():
    m = model(heights=1)
    s = build(m, proposals=[(0, 0, "p1", "v0", -1)],
              precommits=[(0, 0, p, "v0") for p in ("p1", "p2", "p3")])
    (after,) = successors_named(m, s, "p2", "Decide")
    assert after["height"]["p2"] == 1
    nxt = m.encode(after)
    assert names(m, nxt, "p2") == []  # a halted validator takes no step


def test_line55_round_skip_needs_more_than_a_third():
    m = model()
    one = [(0, 1, "p2", "nil")]
    assert "RoundSkip" not in names(m, build(m, prevotes=one), "p3")
    two = [(0, 1, "p2", "nil"), (0, 1, "p4", "nil")]
    (after,) = successors_named(m, build(m, prevotes=two), "p3", "RoundSkip")
    assert (after["round"]["p3"], after["step"]["p3"]) == (1, "propose")


def test_weighted_thresholds_use_power():
    # p1 holds 4 of 7: with p2 it has 5 > 14/3, a quorum; p2, p3, p4 (3 of 7) are not
    m = model(powers=(4, 1, 1, 1))
    s = build(m, local={"p2": {"step": "prevote"}}, proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, "p1", "v0"), (0, 0, "p2", "v0")])
    assert "Precommit" in names(m, s, "p2")
    s = build(m, local={"p2": {"step": "prevote"}}, proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, p, "v0") for p in ("p2", "p3", "p4")])
    assert "Precommit" not in names(m, s, "p2")
    # round skip: p1 alone has more than 1/3 of the power
    (after,) = successors_named(m, build(m, prevotes=[(0, 1, "p1", "nil")]), "p3", "RoundSkip")
    assert after["round"]["p3"] == 1


def test_byzantine_votes_are_drawn_when_used_and_cost_budget():
    m = model(byzantine=1, byz_budget=1)
    s = build(m, local={"p2": {"step": "prevote"}}, proposals=[(0, 0, "p1", "v0", -1)],
              prevotes=[(0, 0, "p1", "v0"), (0, 0, "p2", "v0")])
    (after,) = successors_named(m, s, "p2", "Precommit")
    assert {"height": 0, "round": 0, "src": "p4", "value": "v0"} in after["prevotes"]
    assert after["byzantineUsed"] == 1
    # with the budget spent, the Byzantine prevote is not available
    spent = build(m, local={"p2": {"step": "prevote"}}, proposals=[(0, 0, "p1", "v0", -1)],
                  prevotes=[(0, 0, "p1", "v0"), (0, 0, "p2", "v0")], byzantine_used=1)
    assert "Precommit" not in names(m, spent, "p2")


def test_byzantine_proposer_may_propose_anything_including_invalid():
    m = model(powers=(1, 1), byzantine=1, byz_budget=1, values=1)
    s = build(m, local={"p1": {"round": 1}})  # p2 is the proposer of round 1
    labels = [label for label, _ in steps(m, s, "p1") if label.startswith("Prevote")]
    assert labels == [
        "Prevote(p1, h0 r1 v0 on proposal v0 vr-1; line 22)",
        "Prevote(p1, h0 r1 nil on proposal x vr-1; line 22)",  # valid(x) fails
    ]


def test_byzantine_presence_counts_for_timeouts_without_budget():
    # a Byzantine validator can always have sent *some* prevote: p1, p2 + p4 = 3 of 4
    m = model(byzantine=1, byz_budget=0)
    s = build(m, local={"p1": {"step": "prevote"}},
              prevotes=[(0, 0, "p1", "v0"), (0, 0, "p2", "nil")])
    (after,) = successors_named(m, s, "p1", "TimeoutPrevote")
    assert after["byzantineUsed"] == 0
