"""The cross-validation matrix: bftcheck and TLC on the TLA+ twin must find the
same distinct states, the same verdicts at the same depths, and each other's
counterexamples. Counts are pinned: a changed count is a changed semantics.
"""

from __future__ import annotations

import pytest

from bftcheck.checker.bfs import check
from bftcheck.config import Config
from bftcheck.model import TendermintModel
from bftcheck.presets import preset
from bftcheck.spec import crossval, tlc


def _mutant(mutant: str, powers: tuple[int, ...], byzantine: int, budget: int) -> Config:
    return Config(powers=powers, byzantine=byzantine, byz_budget=budget, heights=1, rounds=2,
                  values=2, mutant=mutant, name=f"mutant-{mutant}")


# (configuration, distinct states, the properties violated there)
MATRIX = {
    "n4-f1 rounds 1": (preset("n4-f1").with_changes(rounds=1), 1_242, set()),
    "n4-f0 rounds 1": (preset("n4-f0").with_changes(rounds=1), 4_420, set()),
    "n3-f0 rounds 1 (2 heights)": (preset("n3-f0").with_changes(rounds=1), 712, set()),
    "weighted rounds 1": (preset("weighted").with_changes(rounds=1), 2_924, set()),
    "n4-f2 (the fork)": (preset("n4-f2"), 61_656, {"agreement", "ledger-consistency"}),
    "weak-quorum": (_mutant("weak-quorum", (2, 1, 1), 1, 1), 14_944,
                    {"agreement", "ledger-consistency", "accountability"}),
    "no-lock": (_mutant("no-lock", (2, 1, 1), 1, 1), 5_746,
                {"agreement", "ledger-consistency", "no-false-accusation"}),
    "decide-on-prevotes": (_mutant("decide-on-prevotes", (1, 1, 1), 1, 2), 2_408,
                           {"agreement", "ledger-consistency", "accountability"}),
    "unlock-on-new-round": (_mutant("unlock-on-new-round", (2, 1, 1), 1, 1), 5_746,
                            {"agreement", "ledger-consistency", "no-false-accusation"}),
    "accept-invalid": (Config(powers=(3, 1), byzantine=1, byz_budget=1, heights=1, rounds=2,
                              values=1, mutant="accept-invalid"), 56, {"validity"}),
    "decide-stays-in-height": (_mutant("decide-stays-in-height", (1, 3), 1, 3), 1_436,
                               {"integrity"}),
    # partitions: reach, gossip closure, split/heal, block sync
    "3 validators, isolate-one, 2 heights": (
        Config(powers=(1, 1, 1), heights=2, rounds=1, values=1, partitions=("isolate-one",),
               max_partitions=2), 4_386, set()),
    # a Byzantine peer's block sync on a 1/3 certificate (331 states without the mutant)
    "unverified-sync, isolate-one, p3 Byzantine, 2 heights": (
        Config(powers=(1, 1, 1), byzantine=1, byz_budget=1, heights=2, rounds=1, values=1,
               partitions=("isolate-one",), max_partitions=2, mutant="unverified-sync"),
        534, set()),
    # a violation under partitions: both traces carry reach (seenBy) and the network
    "accept-invalid, split {p1} | {p2}": (
        Config(powers=(3, 1), byzantine=1, byz_budget=1, heights=1, rounds=2, values=1,
               components=(((0,), (1,)),), max_partitions=2, mutant="accept-invalid"),
        305, {"validity"}),
}


@pytest.mark.parametrize("label", list(MATRIX))
def test_engines_agree(label: str, tools: tlc.Tools) -> None:
    cfg, distinct, violated = MATRIX[label]
    model = TendermintModel(cfg)
    ours = check(model, model.properties())
    report = crossval.compare(cfg, model, ours, tools)
    theirs = report.theirs
    assert ours.complete and theirs.complete
    assert ours.distinct_states == theirs.distinct_states == distinct
    assert ours.depth == theirs.depth
    assert theirs.verdicts == {n: v for n, v in ours.verdicts.items() if n in theirs.verdicts}
    assert set(ours.verdicts) - set(theirs.verdicts) == (
        {"recovery", "fair-recovery"} if cfg.partitioned else set())
    assert theirs.found_at == ours.found_at
    assert set(theirs.violated) == violated
    # every counterexample replays in the other engine, both ways
    directions = {(r.direction, r.prop) for r in report.replays}
    assert directions == {(d, p) for d in ("TLC -> bftcheck", "bftcheck -> TLC")
                          for p in violated}
    assert all(r.confirmed for r in report.replays), report.render()
    assert report.agree
