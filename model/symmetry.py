"""The symmetry group of a Tendermint configuration, as byte maps of its states.

Two kinds of renaming leave the protocol, its initial states and its
properties unchanged, and so map reachable states onto reachable states with
the same verdicts (checker/symmetry.py says why that keeps every verdict):

* **values**: v0..v(V-1) are interchangeable. A correct proposer's getValue()
  picks any of them (line 18), a Byzantine validator may send any of them,
  and no property names a value; nil, "none" and the invalid value x stay.
* **validators**, where the configuration makes them interchangeable: equal
  voting power, the same role (correct or Byzantine), neither the proposer of
  any (height, round) in the bounds (the round-robin schedule names those),
  and the configured splits mapped onto the configured splits.

An element renames values by a table over value codes and validators by
moving their blocks: a correct validator's local variables and votes, a
Byzantine validator's vote masks, and the bits of every reach mask and of the
split the network is in. `permutations` lists the group; `element` builds the
byte map of one (checker/symmetry.BytePermutation); tests/model/
test_symmetry.py checks each against renaming the state's view, an
independent route through `view` and `from_view`.
"""

from __future__ import annotations

from itertools import permutations, product
from math import factorial

from bftcheck.checker.symmetry import GATHER, IDENTITY, BytePermutation, Records, Symmetry
from bftcheck.model.state import (
    LOCAL_FIELDS,
    LOCKED_VALUE,
    VALID_VALUE,
    Layout,
    validator_name,
)

# More elements than this and the validators of the largest classes stay put:
# each successor's representative costs a pass over the elements.
MAX_ORDER = 5040


def value_maps(lay: Layout) -> list[tuple[int, ...]]:
    """Every renaming of the valid values, as a map of value codes."""
    codes = list(lay.valid_codes)
    out = []
    for perm in permutations(codes):
        m = list(range(256))
        for a, b in zip(codes, perm, strict=True):
            m[a] = b
        out.append(tuple(m))
    return out


def validator_classes(lay: Layout) -> list[list[int]]:
    """Validators that may be renamed into each other: equal power, the same
    role, and not a proposer within the bounds (each of those is its own)."""
    proposers = {lay.proposer(h, r) for h in range(lay.H) for r in range(lay.R)}
    classes: dict[tuple[int, bool], list[int]] = {}
    singles = []
    for i in range(lay.n):
        if i in proposers:
            singles.append([i])
        else:
            classes.setdefault((lay.powers[i], lay.is_byz[i]), []).append(i)
    return [c for c in classes.values()] + singles


def _bits(mask: int, sigma: tuple[int, ...]) -> int:
    return sum(1 << sigma[i] for i in range(len(sigma)) if mask >> i & 1)


def _split_map(lay: Layout, sigma: tuple[int, ...]) -> tuple[int, ...] | None:
    """The network byte under sigma (0 whole, k split k - 1), or None when sigma
    does not map the configured splits onto themselves."""
    index = {split: k + 1 for k, split in enumerate(lay.splits)}
    out = [0]
    for split in lay.splits:
        image = tuple(sorted(_bits(c, sigma) for c in split))
        if image not in index:
            return None
        out.append(index[image])
    return tuple(out)


def validator_maps(lay: Layout) -> tuple[list[tuple[int, ...]], list[list[int]]]:
    """Every renaming of the validators in the group, and the classes that
    are permuted (the largest ones are left out past MAX_ORDER)."""
    classes = sorted((c for c in validator_classes(lay) if len(c) > 1), key=len)
    budget = MAX_ORDER // max(1, factorial(lay.V))
    used, order = [], 1
    for c in classes:
        if order * factorial(len(c)) <= budget:
            used.append(c)
            order *= factorial(len(c))
    out = []
    for perms in product(*(permutations(c) for c in used)):
        sigma = list(range(lay.n))
        for c, p in zip(used, perms, strict=True):
            for a, b in zip(c, p, strict=True):
                sigma[a] = b
        if not lay.partitioned or _split_map(lay, tuple(sigma)) is not None:
            out.append(tuple(sigma))
    return out, used


def element(lay: Layout, pi: tuple[int, ...], sigma: tuple[int, ...]) -> BytePermutation:
    """The byte map of renaming values by `pi` and validators by `sigma`."""
    src = list(range(lay.size))
    table = [0] * lay.size
    tables = [IDENTITY]

    def new_table(m: tuple[int, ...] | list[int]) -> int:
        tables.append(bytes(m))
        return len(tables) - 1

    values = new_table(pi)
    vote_masks = new_table([sum(1 << pi[c] for c in range(8) if b >> c & 1) for b in range(256)])
    reach = new_table([_bits(b, sigma + tuple(range(lay.n, 8))) for b in range(256)])
    gather: dict[int, tuple[tuple[int, int], ...]] = {}

    def put(dst: int, at: int, t: int) -> None:
        src[dst], table[dst] = at, t

    def put_message(dst: int, at: int) -> None:
        """A correct validator's message: its value, and who it has reached."""
        put(dst, at, values)
        if lay.partitioned:
            put(lay.reach(dst), lay.reach(at), reach)

    nc = len(lay.correct)
    for ci in range(nc):
        a, b = lay.local[ci], lay.local[sigma[ci]]
        for f in range(LOCAL_FIELDS + lay.H):
            renamed = f in (LOCKED_VALUE, VALID_VALUE) or f >= LOCAL_FIELDS
            put(b + f, a + f, values if renamed else 0)
    for h in range(lay.H):
        for r in range(lay.R):
            for ci in range(nc):
                put_message(lay.prevote(sigma[ci], h, r), lay.prevote(ci, h, r))
                put_message(lay.precommit(sigma[ci], h, r), lay.precommit(ci, h, r))
            if not lay.is_byz[lay.proposer(h, r)]:
                put_message(lay.proposal(h, r), lay.proposal(h, r))
            for bi, i in enumerate(lay.byzantine):
                to = sigma[i] - nc
                put(lay.byz_prevote(to, h, r), lay.byz_prevote(bi, h, r), vote_masks)
                put(lay.byz_precommit(to, h, r), lay.byz_precommit(bi, h, r), vote_masks)
            gather.update(_proposal_bits(lay, pi, h, r))
    for at in gather:
        table[at] = GATHER
    if lay.partitioned:
        split = _split_map(lay, sigma)
        assert split is not None
        table[lay.net] = new_table(list(split) + list(range(len(split), 256)))
    return BytePermutation(tuple(src), tuple(table), tuple(tables), gather)


def _proposal_bits(lay: Layout, pi: tuple[int, ...], h: int,
                   r: int) -> dict[int, tuple[tuple[int, int], ...]]:
    """A Byzantine proposer's (value, validRound) mask of (h, r), renamed by pi:
    bit (pi(v), vr) of the image is bit (v, vr) of the state."""
    if not lay.is_byz[lay.proposer(h, r)]:
        return {}
    base = lay.byz_proposal(h, r)
    inverse = {pi[v]: v for v in lay.proposable}
    sources: dict[int, tuple[int, int]] = {}
    for bit in range(lay.proposal_bits):
        code, vr = lay.proposal_of_bit(bit)
        old = lay.proposal_bit(inverse[code], vr)
        sources[bit] = (base + old // 8, old % 8)
    out = {}
    for byte in range(lay.proposal_mask_bytes):
        out[base + byte] = tuple(sources.get(byte * 8 + b, (-1, 0)) for b in range(8))
    return out


def symmetry(lay: Layout) -> Symmetry | None:
    """The configuration's symmetry group, or None when it has only the identity."""
    pis = value_maps(lay)
    sigmas, classes = validator_maps(lay)
    identity = (tuple(range(256)), tuple(range(lay.n)))
    elements = tuple(element(lay, pi, sigma) for pi, sigma in product(pis, sigmas)
                     if (pi, sigma) != identity)
    if not elements:
        return None
    return Symmetry(describe(lay, len(pis), sigmas, classes), elements,
                    None if lay.partitioned else records(lay, pis, classes))


def records(lay: Layout, pis: list[tuple[int, ...]], classes: list[list[int]]) -> Records:
    """The group as value renamings times every order of each validator class
    (without partitions it is that product): a correct validator's record is
    its local variables, then its prevotes, then its precommits; a Byzantine
    validator's its prevote masks, then its precommit masks."""
    keep = tuple(range(lay.n))
    renamings = tuple(element(lay, pi, keep) for pi in pis if pi != tuple(range(256)))
    nc, slots = len(lay.correct), [(h, r) for h in range(lay.H) for r in range(lay.R)]
    members = []
    for c in classes:
        if c[0] < nc:
            members.append(tuple(
                tuple(range(lay.local[i], lay.local[i] + LOCAL_FIELDS + lay.H))
                + tuple(lay.prevote(i, h, r) for h, r in slots)
                + tuple(lay.precommit(i, h, r) for h, r in slots) for i in c))
        else:
            members.append(tuple(
                tuple(lay.byz_prevote(i - nc, h, r) for h, r in slots)
                + tuple(lay.byz_precommit(i - nc, h, r) for h, r in slots) for i in c))
    return Records(renamings, tuple(members))


def describe(lay: Layout, value_order: int, sigmas: list[tuple[int, ...]],
             classes: list[list[int]]) -> str:
    parts = []
    if value_order > 1:
        parts.append("values {" + " ".join(lay.value_name(c) for c in lay.valid_codes) + "}")
    orbits = {frozenset(sigma[i] for sigma in sigmas) for i in range(lay.n)}
    moved = sorted(sorted(o) for o in orbits if len(o) > 1)
    if moved:
        parts.append("validators " + " and ".join(
            "{" + " ".join(validator_name(i) for i in o) + "}" for o in moved))
    if not parts:
        return "the identity only"
    left = [c for c in validator_classes(lay) if len(c) > 1 and c not in classes]
    order = value_order * len(sigmas)
    text = f"{', '.join(parts)} interchangeable, {order} permutations"
    if left:
        text += "; " + ", ".join(" ".join(validator_name(i) for i in c) for c in left) + \
            f" left unpermuted (the group would pass {MAX_ORDER} permutations)"
    return text

