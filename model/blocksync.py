"""Block sync: commit certificates and their verification.

A validator a height or more behind cannot catch up by gossip (peers re-gossip
only the height they work on, network.py), so it asks a peer in its component
for the decided block of its height with a *commit certificate*: precommits
for that block from one round whose signers hold more than 2/3 of the power.
The receiver verifies every signature -- here: that each signer really sent
that precommit, i.e. it is in the message pool -- and the power, then appends
the block. A Byzantine peer may offer anything; it can sign for Byzantine
validators (those precommits then enter the pool, within the budget, like any
Byzantine message a correct validator acts on) but never for a correct one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from bftcheck.model.state import Layout


class CommitCertificate(NamedTuple):
    height: int
    round: int
    value: int  # value code of the block
    signers: tuple[int, ...]  # validator indices


def signed(lay: Layout, s: bytes, i: int, h: int, r: int, v: int) -> bool:
    """Whether validator i sent a precommit for v at (h, r): its signature exists."""
    if lay.is_byz[i]:
        return bool(s[lay.byz_precommit(i - lay.byzantine[0], h, r)] >> v & 1)
    return s[lay.precommit(lay.correct.index(i), h, r)] == v


def verify(lay: Layout, s: bytes, cert: CommitCertificate,
           certifies: Callable[[int], bool]) -> bool:
    """Accept a certificate only if every signature is real, no signer counts
    twice, and the signers' power `certifies` (more than 2/3 of the total)."""
    if len(set(cert.signers)) != len(cert.signers):
        return False
    if not 0 <= cert.height < lay.H or not 0 <= cert.round < lay.R:
        return False
    for i in cert.signers:
        if not 0 <= i < lay.n or not signed(lay, s, i, cert.height, cert.round, cert.value):
            return False
    return certifies(sum(lay.powers[i] for i in cert.signers))


def describe(lay: Layout, cert: CommitCertificate) -> str:
    signers = ",".join(f"p{i + 1}" for i in cert.signers)
    power = sum(lay.powers[i] for i in cert.signers)
    return (f"commit certificate of round {cert.round} signed by {signers} "
            f"(power {power}/{lay.total})")
