"""Partitions, gossip and block sync (model/network.py, model/blocksync.py):
the behaviours issue 4 names, checked over whole state spaces."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import pytest

from bftcheck.model import TendermintModel, blocksync
from bftcheck.model.blocksync import CommitCertificate
from bftcheck.model.config import Config, ConfigError
from bftcheck.model.network import pattern_splits, splits_of
from bftcheck.model.properties import mover
from bftcheck.model.state import FIRST_VALUE, HEIGHT, LOCAL_FIELDS
from helpers import build, model

V0 = FIRST_VALUE
# 4 correct validators, one height, one round: every split and heal of a run
SMALL = {"heights": 1, "rounds": 1, "values": 1, "partitions": ("isolate-one",),
         "max_partitions": 2}


def bfs(m: TendermintModel, starts: list[bytes],
        allow: Callable[[str], bool] = lambda name: True
        ) -> Iterator[tuple[bytes, list[bytes], list[str]]]:
    """Every state reachable from `starts` by allowed steps, with its successors."""
    seen = set(starts)
    queue = deque(starts)
    while queue:
        s = queue.popleft()
        succ, names = m.successor_states(s)
        yield s, succ, names
        for t, name in zip(succ, names, strict=True):
            if allow(name) and t not in seen:
                seen.add(t)
                queue.append(t)


def split_state(m: TendermintModel, s: bytes, components: set[frozenset[str]]) -> bytes:
    """The successor of s that splits the network into `components`."""
    for action, t in m.next_states(s):
        if action.name == "Split":
            got = {frozenset(c) for c in m.decode(t)["network"]["split"]}
            if got == components:
                return t
    raise AssertionError(f"no split into {components}")


def decided(m: TendermintModel, s: bytes, ci: int, h: int = 0) -> int:
    return s[m.lay.local[ci] + LOCAL_FIELDS + h]


def test_patterns_name_the_expected_splits() -> None:
    assert len(pattern_splits("halves", 4)) == 3
    assert len(pattern_splits("halves", 5)) == 10
    assert len(pattern_splits("isolate-one", 4)) == 4
    assert pattern_splits("majority-minority", 5) == pattern_splits("halves", 5)
    bridges = pattern_splits("bridge", 4)
    assert len(bridges) == 12
    assert all(bin(a & b).count("1") == 1 for a, b in bridges)  # one shared validator
    # explicit components join the patterns, duplicates once
    assert splits_of(4, ("isolate-one",), (((0, 1, 2), (3,)),)) == pattern_splits(
        "isolate-one", 4)


@pytest.mark.parametrize(("changes", "message"), [
    ({"partitions": ("moat",)}, "unknown partition pattern 'moat'"),
    ({"partitions": ("halves",), "max_partitions": 0}, "--max-partitions is 0"),
    ({"max_partitions": 2}, "needs split patterns"),
    ({"components": (((0, 1), (2,)),), "max_partitions": 2}, "leaves out p4"),
    ({"components": (((0, 1, 2, 7), (3,)),), "max_partitions": 2}, "names validator p8"),
    ({"components": (((0, 1, 2, 3),),), "max_partitions": 2}, "at least two"),
    ({"partitions": ("halves",), "max_partitions": 2, "powers": (1,) * 9}, "at most 8"),
    ({"components": (((0, 1, 2, 3), (0,)),), "max_partitions": 2}, "does not split anything"),
    ({"components": (((0, 1), (0, 1)),), "max_partitions": 2, "powers": (1, 1)},
     "does not split anything"),
    ({"partitions": ("bridge",), "max_partitions": 2, "powers": (1, 1)}, "give no split"),
    ({"partitions": ("bridge",), "max_partitions": 2, "powers": (1,) * 8}, "280 splits"),
])
def test_bad_network_configurations_are_one_line_errors(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        Config(**changes).validated()
    assert "\n" not in str(err.value)


def test_an_isolated_minority_never_decides_while_the_majority_does() -> None:
    m = model(**SMALL)
    start = split_state(m, m.init_states()[0], {frozenset({"p4"}), frozenset({"p1", "p2", "p3"})})
    majority_decided = False
    for s, _, _ in bfs(m, [start], allow=lambda name: name != "Heal"):
        assert decided(m, s, 3) == 0, "p4 decided alone"
        majority_decided |= all(decided(m, s, ci) for ci in range(3))
    assert majority_decided


def test_halves_decide_nothing_while_split() -> None:
    m = model(**{**SMALL, "partitions": ("halves",)})
    start = split_state(m, m.init_states()[0], {frozenset({"p1", "p2"}), frozenset({"p3", "p4"})})
    for s, _, _ in bfs(m, [start], allow=lambda name: name != "Heal"):
        assert not any(decided(m, s, ci) for ci in range(4))


@pytest.mark.parametrize("mutant", [None, "no-block-sync", "regossip-all-heights"])
def test_after_heal_a_validator_behind_catches_up_only_by_block_sync(mutant: str | None) -> None:
    """A Heal brings a validator the messages of its height only if some peer is
    still at that height (gossip); one whose peers all moved on gets nothing and
    needs block sync, which exists (unless the mutant removes it)."""
    m = model(**SMALL, mutant=mutant)
    lay = m.lay
    behind_heals = syncs = 0
    for s, succ, names in bfs(m, m.init_states()):
        for t, name in zip(succ, names, strict=True):
            if name == "SyncBlock":
                syncs += 1
            if name != "Heal":
                continue
            heights = [t[b + HEIGHT] for b in lay.local]
            for ci, h in enumerate(heights):
                others_left = all(x > h for k, x in enumerate(heights) if k != ci)
                for value_at, reach_at, mh, _ in lay.message_slots():
                    if not s[value_at] or mh != h or s[reach_at] >> ci & 1:
                        continue
                    holder_at_h = any(s[reach_at] >> k & 1 and heights[k] == h
                                      for k in range(len(lay.correct)))
                    gets = bool(t[reach_at] >> ci & 1)
                    if mutant == "regossip-all-heights":
                        assert gets  # every holder re-gossips every height
                    else:
                        assert gets == holder_at_h, "gossip of a height nobody works on"
                if others_left and h < lay.H:
                    behind_heals += 1
    assert behind_heals > 0
    assert (syncs > 0) == (mutant != "no-block-sync")


def test_block_sync_is_the_only_way_forward_for_a_validator_behind() -> None:
    m = model(**SMALL)
    lay = m.lay
    seen_sync = False
    for s, succ, names in bfs(m, m.init_states()):
        if s[lay.net] != 0:
            continue
        heights = [s[b + HEIGHT] for b in lay.local]
        for ci, h in enumerate(heights):
            if h >= lay.H or not all(x > h for k, x in enumerate(heights) if k != ci):
                continue
            lacks_quorum = not any(
                m.tally.for_value(s, 1, h, r, V0, viewer=ci) == [()] for r in range(lay.R))
            for t, name in zip(succ, names, strict=True):
                if mover(lay, s, t) == ci and decided(m, t, ci, h) and lacks_quorum:
                    assert name == "SyncBlock"
                    seen_sync = True
    assert seen_sync


def test_certificate_verification_rejects_forgeries() -> None:
    m = model(byzantine=1, byz_budget=2, rounds=2)
    s = build(m, precommits=[(0, 0, "p1", "v0"), (0, 0, "p2", "v0"), (0, 0, "p4", "v0"),
                             (0, 1, "p3", "v1")])
    quorum, third = m.quorum, (lambda p: 3 * p > 4)
    genuine = CommitCertificate(0, 0, V0, (0, 1, 3))
    assert blocksync.verify(m.lay, s, genuine, quorum)
    forged = {
        "a signer who precommitted nothing": CommitCertificate(0, 0, V0, (0, 1, 2)),
        "a signer counted twice": CommitCertificate(0, 0, V0, (0, 1, 1)),
        "too little power": CommitCertificate(0, 0, V0, (0, 1)),
        "another round's precommit": CommitCertificate(0, 0, V0, (0, 1, 2, 3)),
        "the wrong block": CommitCertificate(0, 0, V0 + 1, (0, 1, 3)),
        "a round out of range": CommitCertificate(0, 5, V0, (0, 1, 3)),
    }
    for why, cert in forged.items():
        assert not blocksync.verify(m.lay, s, cert, quorum), why
    # what unverified-sync accepts: more than 1/3 is enough
    assert blocksync.verify(m.lay, s, CommitCertificate(0, 0, V0, (0, 1)), third)


def test_a_byzantine_peer_cannot_sync_a_block_without_a_quorum() -> None:
    """n4-f1 with a split: every SyncBlock, including those from the Byzantine p4,
    leaves a verified precommit quorum for the synced block in the pool."""
    m = model(byzantine=1, byz_budget=2, heights=1, rounds=1, values=2,
              partitions=("isolate-one",), max_partitions=2)
    lay = m.lay
    syncs_from_byzantine = 0
    for s, _, names in bfs(m, m.init_states()):
        for action, t in m.next_states(s) if "SyncBlock" in names else ():
            if action.name != "SyncBlock":
                continue
            ci = mover(lay, s, t)
            v = decided(m, t, ci)
            assert any(m.quorum(sum(lay.powers[i] for i in range(lay.n)
                                    if blocksync.signed(lay, t, i, 0, r, v)))
                       for r in range(lay.R))
            syncs_from_byzantine += "from p4" in action.detail
    assert syncs_from_byzantine > 0


def test_byzantine_peers_do_not_relay_so_recovery_cannot_lean_on_them() -> None:
    """A Byzantine peer may withhold the old messages a validator behind needs:
    without block sync, Recovery fails with a Byzantine validator present too."""
    from bftcheck.checker.bfs import check

    m = model(byzantine=1, byz_budget=2, **SMALL, mutant="no-block-sync")
    r = check(m, m.properties())
    assert r.verdicts["recovery"] == "violated" and r.verdicts["fair-recovery"] == "violated"
    real = model(byzantine=1, byz_budget=2, **SMALL)
    r = check(real, real.properties())
    assert r.complete and not r.violated
