"""The network: partitions, heal, and re-gossip, as *visibility* of sent messages.

A partition (split) divides the validators into components; a message reaches
a receiver only while sender and receiver share a component; a split loses
what had not yet crossed the new cut; heal reconnects everyone. Peers
re-gossip the messages of the height they are working on, so a message keeps
spreading while someone who holds it is still at its height.

How the state expresses this (and why it loses no behaviour)
------------------------------------------------------------
The foundation's abstraction is a pool of sent messages that every validator
may act on (tendermint.py). Partitions restrict *who* may act on a message:
each correct validator's message carries a `reach` byte, the validators it
has reached. Reach is kept *maximal*: a message reaches, at once, every
validator connected to a holder that gossips it -- its sender, or any correct
validator holding it while at the message's height. This is the closure
`settle` computes after every step.

Byzantine validators do not relay correct validators' messages. Relaying
could only *help*: it hands a validator that is behind the genuine messages
of its height that no correct peer gossips any more. Recovery asks whether
the correct validators recover on their own, so the adversary withholds that
help (otherwise a forced relay would hide a validator that really stays
stuck). For safety nothing is lost: the messages a relay would deliver are
correct messages of the receiver's height, and Tendermint's safety does not
depend on when, or whether, a message arrives.

* Nothing is lost. In a real run without Byzantine relays a validator has
  received a subset of what the maximal closure gives it (induction over
  steps: real gossip can only forward what a holder has, over links that
  exist). Every rule of Algorithm 1 is monotone in the received set and
  firing is optional, so a validator that may see more can still do exactly
  what it did on less. This is an argument for safety; for Recovery, see
  README ("Recovery and how rounds are bounded") for what the closure means.
* Nothing is invented. The maximal closure is itself a real schedule: every
  message is delivered, instantly, to every validator it could reach. A split
  drops exactly the messages that had not crossed the cut, which in this
  schedule are the ones sent inside another component during an earlier
  split and never re-gossiped: their reach stays short of the far side.
* A split, in this schedule, happens after everything in flight has arrived,
  so it changes no reach; what it cuts off are later messages. After a heal,
  messages of a height still worked on by a holder spread to everyone; a
  validator a height or more behind, whose peers have all moved on, never
  sees them again and must catch up by block sync (blocksync.py).

Byzantine messages are visible to every validator under every partition:
the network starts connected, and a Byzantine validator may send, before the
first split, every message it will ever use to every validator (messages of
a future height are kept until the receiver gets there). So partitions
never restrict which Byzantine messages a correct validator may act on;
they restrict block sync, which needs a peer in the same component.

Partition patterns name sets of splits, as a Jepsen nemesis does. A split is
a tuple of components (validator bitmasks); components may overlap (the
`bridge` validator belongs to both halves, and relays between them).
"""

from __future__ import annotations

from itertools import combinations

from bftcheck.model.state import Layout

PATTERNS: dict[str, str] = {
    "halves": "every split into two halves (sizes n//2 and n - n//2)",
    "isolate-one": "each validator in turn cut off from all others",
    "majority-minority": "every split into a smallest strict majority and the rest",
    "bridge": "two halves of the others that share one bridge validator, each in turn",
}

MAX_NETWORK_VALIDATORS = 8  # a message's reach is one byte
MAX_SPLITS = 255  # the network state is one byte (0 is the whole network)


def _mask(members: tuple[int, ...]) -> int:
    m = 0
    for i in members:
        m |= 1 << i
    return m


def _canonical(components: list[int]) -> tuple[int, ...]:
    return tuple(sorted(set(components)))


def _bipartitions(members: list[int], size: int) -> list[tuple[int, int]]:
    """Every split of `members` into a part of `size` and the rest, each once."""
    everyone = _mask(tuple(members))
    out = set()
    for part in combinations(members, size):
        a = _mask(part)
        out.add(tuple(sorted((a, everyone ^ a))))
    return sorted(out)


def pattern_splits(pattern: str, n: int) -> list[tuple[int, ...]]:
    """The splits (tuples of component bitmasks) a named pattern stands for."""
    everyone = list(range(n))
    if pattern == "halves":
        return [_canonical(list(p)) for p in _bipartitions(everyone, n // 2)]
    if pattern == "isolate-one":
        return [_canonical([1 << i, _mask(tuple(everyone)) ^ (1 << i)]) for i in everyone]
    if pattern == "majority-minority":
        return [_canonical(list(p)) for p in _bipartitions(everyone, n // 2 + 1)]
    if pattern == "bridge":
        out = []
        for b in everyone:
            others = [i for i in everyone if i != b]
            for a, c in _bipartitions(others, len(others) // 2):
                out.append(_canonical([a | 1 << b, c | 1 << b]))
        return out
    raise KeyError(pattern)


def splits_of(n: int, patterns: tuple[str, ...],
              explicit: tuple[tuple[tuple[int, ...], ...], ...]) -> list[tuple[int, ...]]:
    """Every distinct split of a configuration, in a fixed order (patterns first,
    in the order given, then the explicit ones)."""
    out: list[tuple[int, ...]] = []
    for p in patterns:
        out.extend(pattern_splits(p, n))
    for comps in explicit:
        out.append(_canonical([_mask(c) for c in comps]))
    seen: set[tuple[int, ...]] = set()
    unique = []
    everyone = (1 << n) - 1
    for s in out:  # a "split" with a component of everyone cuts no link
        if s not in seen and len(s) > 1 and everyone not in s:
            seen.add(s)
            unique.append(s)
    return unique


class Network:
    """Neighbour masks per network state and the gossip closure, for one Layout.

    Network state 0 is the whole network; state k >= 1 is split k - 1 of
    `splits`. `peers[k][i]` is the mask of validators sharing a component with
    validator i (itself included).
    """

    def __init__(self, lay: Layout, regossip_all_heights: bool = False) -> None:
        self.lay = lay
        self.splits = lay.splits
        everyone = (1 << lay.n) - 1
        self.everyone = everyone
        self.peers: list[tuple[int, ...]] = [tuple(everyone for _ in range(lay.n))]
        for comps in self.splits:
            self.peers.append(tuple(
                _or(c for c in comps if c >> i & 1) for i in range(lay.n)))
        self.regossip_all_heights = regossip_all_heights
        # (value offset, reach offset, height, label) of every correct message slot
        self.slots = lay.message_slots()

    def split_name(self, k: int) -> str:
        if k == 0:
            return "whole"
        return " | ".join(members_name(c, self.lay.n) for c in self.splits[k - 1])

    def send(self, buf: bytearray, reach_at: int, sender: int) -> None:
        """A correct validator sends a message: it reaches the sender's component."""
        buf[reach_at] = self.peers[buf[self.lay.net]][sender]

    def settle(self, buf: bytearray) -> None:
        """Close every message's reach under gossip: a holder that gossips the
        message (a correct one at its height) passes it to every validator it
        shares a component with. Reach only grows."""
        lay = self.lay
        peers = self.peers[buf[lay.net]]
        heights = [buf[b] for b in lay.local]  # HEIGHT is offset 0 of a local block
        ncorrect = len(lay.correct)
        all_heights = self.regossip_all_heights
        changed = True
        while changed:
            changed = False
            for value_at, reach_at, h, _ in self.slots:
                if not buf[value_at]:
                    continue
                reach = buf[reach_at]
                grown = reach
                for q in range(ncorrect):
                    if reach >> q & 1 and (all_heights or heights[q] == h):
                        grown |= peers[q]
                if grown != reach:
                    buf[reach_at] = grown
                    changed = True
        # Once every correct validator has left height h, nobody acts on an
        # h message again (votes, proposals, sync certificates are all per
        # height; evidence reads the pool, not reach): forget who saw it, so
        # states that differ only there are one state.
        lowest = min(heights) if heights else 0
        for value_at, reach_at, h, _ in self.slots:
            if h < lowest and buf[value_at]:
                buf[reach_at] = self.everyone

    def cut_off(self, s: bytes) -> list[tuple[str, int]]:
        """(label, validators not reached) of every sent correct message that has
        not reached every validator: what the splits so far have cut off."""
        return [(label, self.everyone & ~s[reach_at])
                for value_at, reach_at, _, label in self.slots
                if s[value_at] and s[reach_at] != self.everyone]

    def describe_cut_off(self, s: bytes) -> str:
        """One line: which messages never reach whom (grouped by the missed set)."""
        groups: dict[int, list[str]] = {}
        for label, missed in self.cut_off(s):
            groups.setdefault(missed, []).append(label)
        if not groups:
            return "every message has reached everyone"
        parts = []
        for missed, labels in sorted(groups.items()):
            shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more"
                                             if len(labels) > 3 else "")
            parts.append(f"{members_name(missed, self.lay.n)} missed {shown}")
        return "cut off by the split, and no peer at their height re-gossips them: " + \
            "; ".join(parts)


def _or(masks) -> int:  # type: ignore[no-untyped-def]
    m = 0
    for x in masks:
        m |= x
    return m


def members_name(mask: int, n: int) -> str:
    return "{" + ",".join(f"p{i + 1}" for i in range(n) if mask >> i & 1) + "}"
