"""The cross-validation matrix: bftcheck and TLC on the TLA+ twin must find the
same distinct states, the same verdicts at the same depths, and each other's
counterexamples. Counts are pinned: a changed count is a changed semantics.
"""

from __future__ import annotations

import pytest

from bftcheck.checker.bfs import check
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.model.mutants import MUTANTS
from bftcheck.presets import preset
from bftcheck.spec import crossval, mc, tlc

# (configuration, distinct states, the properties violated there): the real
# protocol on small presets and under partitions
PROTOCOL = {
    "n4-f1 rounds 1": (preset("n4-f1").with_changes(rounds=1), 1_242, set()),
    "n4-f0 rounds 1": (preset("n4-f0").with_changes(rounds=1), 4_420, set()),
    "n3-f0 rounds 1 (2 heights)": (preset("n3-f0").with_changes(rounds=1), 712, set()),
    "weighted rounds 1": (preset("weighted").with_changes(rounds=1), 2_924, set()),
    "n4-f2 (the fork)": (preset("n4-f2"), 61_656, {"agreement", "ledger-consistency"}),
    # partitions: reach, gossip closure, split/heal, block sync
    "3 validators, isolate-one, 2 heights": (
        Config(powers=(1, 1, 1), heights=2, rounds=1, values=1, partitions=("isolate-one",),
               max_partitions=2), 4_386, set()),
    # a violation under partitions: both traces carry reach (seenBy) and the network
    "accept-invalid, split {p1} | {p2}": (
        Config(powers=(3, 1), byzantine=1, byz_budget=1, heights=1, rounds=2, values=1,
               components=(((0,), (1,)),), max_partitions=2, mutant="accept-invalid"),
        305, {"validity"}),
    # partial synchrony: the timeout guards after GST (model/synchrony.py)
    "GST at round 1, 3 rounds": (
        Config(powers=(2, 1, 1), byzantine=1, byz_budget=1, heights=1, rounds=3, values=2,
               gst=1), 3_190, set()),
}

# Every variant the twin declares runs on its catalogue configuration
# (Mutant.crossval_config); what both engines must find there is pinned here.
# (TLC checks no graph property: recovery and fair-recovery are bftcheck's.)
VARIANT_PINS = {
    "weak-quorum": (14_944, {"agreement", "ledger-consistency", "accountability"}),
    "no-lock": (5_746, {"agreement", "ledger-consistency", "no-false-accusation"}),
    "decide-on-prevotes": (2_408, {"agreement", "ledger-consistency", "accountability"}),
    "unlock-on-new-round": (5_746, {"agreement", "ledger-consistency", "no-false-accusation"}),
    "accept-invalid": (56, {"validity"}),
    "decide-stays-in-height": (1_436, {"integrity"}),
    "no-block-sync": (4_386, set()),
    # a Byzantine peer's block sync on a 1/3 certificate (331 states without the mutant)
    "unverified-sync": (534, set()),
    "regossip-all-heights": (4_320, set()),
    # 3 rounds (115,962 states without the mutant, every property kept); its
    # prevotes against the lock look like amnesia: a false accusation
    "ignore-lock-round": (116_566, {"agreement", "ledger-consistency", "no-false-accusation"}),
    # partial synchrony, GST at round 1 of 3 (3,190 states without a variant):
    # every liveness variant changes the state space; termination is bftcheck's
    "propose-any-value": (4_740, set()),
    "prevote-nil-on-pol": (3_522, set()),
    "first-proposal-only": (20_038, set()),  # budget 3: 20,214 without it
    # GST at round 0 (42 states without it): a lock, then round 1 at once
    "skip-timeout-precommit": (1_400, {"valid-block"}),
}


def _variant_rows() -> dict[str, tuple[Config, int, set[str]]]:
    rows = {}
    for name in sorted(mc.variants()):
        count, violated = VARIANT_PINS.get(name, (None, set()))
        cfg = Config(**MUTANTS[name].crossval_config(), name=f"mutant-{name}")
        rows[f"variant {name}"] = (cfg, count, violated)
    return rows


MATRIX = {**PROTOCOL, **_variant_rows()}


def test_every_variant_the_twin_declares_is_cross_validated_and_pinned():
    declared = mc.variants()
    assert declared and declared <= set(MUTANTS)
    assert set(VARIANT_PINS) == declared, (
        "pin the counts of the new variant: run the matrix row and add it to VARIANT_PINS")


@pytest.mark.parametrize("label", list(MATRIX))
def test_engines_agree(label: str, tools: tlc.Tools) -> None:
    cfg, distinct, violated = MATRIX[label]
    assert distinct is not None, f"{label}: no pinned count (VARIANT_PINS)"
    model = TendermintModel(cfg)
    ours = check(model, model.properties())
    report = crossval.compare(cfg, model, ours, tools)
    theirs = report.theirs
    assert ours.complete and theirs.complete
    assert ours.distinct_states == theirs.distinct_states == distinct
    assert ours.depth == theirs.depth
    assert theirs.verdicts == {n: v for n, v in ours.verdicts.items() if n in theirs.verdicts}
    assert set(ours.verdicts) - set(theirs.verdicts) == (
        {"recovery", "fair-recovery"} if cfg.partitioned else set()) | (
        {"termination"} if cfg.gst is not None else set())
    # TLC checks no graph property: the depths of what it checks are equal
    assert theirs.found_at == {n: d for n, d in ours.found_at.items() if n in theirs.verdicts}
    assert set(theirs.violated) == violated
    # every counterexample replays in the other engine, both ways
    directions = {(r.direction, r.prop) for r in report.replays}
    assert directions == {(d, p) for d in ("TLC -> bftcheck", "bftcheck -> TLC")
                          for p in violated}
    assert all(r.confirmed for r in report.replays), report.render()
    assert report.agree
