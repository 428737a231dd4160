"""Symmetry reduction, protocol-blind: a model's symmetry group acting on its
encoded states, the canonical representative of a state's orbit, and the real
run behind a path through representatives.

A model that has interchangeable parts (values, validators) declares them as
its `symmetry` capability: a `Symmetry` whose elements are `BytePermutation`s,
maps of the encoded state onto the encoded state of the same situation with the
parts renamed. Each output byte is one input byte sent through a 256-entry
table (a renamed value, a renamed bit mask), or, for a bit mask wider than one
byte, gathered bit by bit. The model guarantees that every element maps its
transition relation, its initial states and every property it offers onto
themselves (an automorphism).

Why the reduction keeps every verdict: the relation "t is the image of s under
an element" is then a bisimulation between the state graph and its quotient,
in which a state is its orbit's representative, the least image in byte order
(`canonical`). A bisimulation keeps every state and step predicate the group
fixes, reachability of one (`always`, `sometimes`) and AG EF (`recovery`); and
images keep the BFS depth, so the shortest counterexample keeps its length. It
does not keep weak fairness per actor: a cycle of the quotient is a path from a
state to one of its images, whose actors are renamed on the way, not a fair
cycle of the model; the engines switch symmetry off for `liveness` properties.

The search stores representatives, so a path it reports goes through them;
`real_path` turns it into a run of the model from a real initial state, the
way Stateright rebuilds paths, so replay and TLC see a real counterexample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bftcheck.checker.interface import Model, Property
from bftcheck.checker.result import Path

GATHER = 0xFFFF  # the table index of a byte gathered bit by bit
IDENTITY = bytes(range(256))


@dataclass(frozen=True)
class BytePermutation:
    """One group element: out[i] = tables[table[i]][s[src[i]]], or for a byte
    whose table is GATHER, bit b of out[i] = bit gather[i][b][1] of
    s[gather[i][b][0]] (source byte -1: the bit is 0)."""

    src: tuple[int, ...]
    table: tuple[int, ...]
    tables: tuple[bytes, ...]
    gather: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def apply(self, s: bytes) -> bytes:
        out = bytearray(len(s))
        for i, (j, t) in enumerate(zip(self.src, self.table, strict=True)):
            if t == GATHER:
                out[i] = sum(1 << b for b, (k, bit) in enumerate(self.gather[i])
                             if k >= 0 and s[k] >> bit & 1)
            else:
                out[i] = self.tables[t][s[j]]
        return bytes(out)


@dataclass(frozen=True)
class Records:
    """A faster description of a group that is a product: byte-local
    renamings (e.g. of values), times every order of the members of each
    class of interchangeable records (e.g. validators). A member is the
    offsets of its bytes, in increasing order, and all members of a class
    have the same shape: the state is cut into regions (a validator's local
    variables, its prevotes, its precommits), each holding one block per
    member in the members' order, and a member's offsets run through its
    blocks region by region. Then the least image of a state is the least,
    over the renamings and the identity, of the renamed state with each
    class's members sorted by their bytes: the engine computes that
    (canonical.pxi), and tests/model/test_symmetry.py checks it equals the
    least image over every element."""

    renamings: tuple[BytePermutation, ...]
    classes: tuple[tuple[tuple[int, ...], ...], ...]


@dataclass(frozen=True)
class Symmetry:
    """A model's symmetry group: what it permutes, in words (`description`),
    its elements other than the identity, and, when the group is a product
    of renamings and record orders, that product (`records`)."""

    description: str
    elements: tuple[BytePermutation, ...]
    records: Records | None = None

    @property
    def order(self) -> int:
        return len(self.elements) + 1


def python_canonical(symmetry: Symmetry) -> Callable[[bytes], bytes]:
    """The least image of a state in byte order (the pure-Python reference)."""
    elements = symmetry.elements

    def canonical(s: bytes) -> bytes:
        return min([s, *(g.apply(s) for g in elements)])

    return canonical


def compiled_canonical(symmetry: Symmetry, state_size: int):  # type: ignore[no-untyped-def]
    """The engine's C canonicaliser for this group (checker/_search_c.pyx)."""
    from bftcheck.checker._search_c import Canonical

    return Canonical(state_size, symmetry.elements, symmetry.records)


def canonical_function(symmetry: Symmetry, state_size: int) -> Callable[[bytes], bytes]:
    """`canonical` for a reference loop: compiled when the engine is built."""
    from bftcheck.checker import search

    if search.available():
        return compiled_canonical(symmetry, state_size).canonical
    return python_canonical(symmetry)


def real_path(model: Model, canonical: Callable[[bytes], bytes], path: Path,
              last_step: Property | None = None) -> Path:
    """The run of the model behind `path`, a path through representatives:
    from the real initial state, at each step the first successor whose
    representative is the path's next one. For a step property, the last
    step is one that shows it (`last_step`), as the image of the path's does."""
    from bftcheck.checker.bfs import successor_function

    if path.loop is not None:  # symmetry is never used with liveness (reduction.choose)
        raise ValueError("a lasso through representatives is not a run: symmetry reduction "
                         "does not apply to liveness properties")
    successors = successor_function(model)
    real = model.init_states()[path.init]
    rep = canonical(real)
    steps: list[int] = []
    for i, k in enumerate(path.steps):
        succ, names = successors(rep)
        target = canonical(succ[k])
        shows = last_step if i == len(path.steps) - 1 else None
        options, option_names = successors(real)
        step = _matching(real, options, option_names, target, canonical, shows)
        steps.append(step)
        real, rep = options[step], target
    return Path(path.init, steps, path.loop)


def _matching(real: bytes, options: Sequence[bytes], names: Sequence[str], target: bytes,
              canonical: Callable[[bytes], bytes], shows: Property | None) -> int:
    for j, t in enumerate(options):
        if canonical(t) != target:
            continue
        if shows is None or (shows.kind == "always") != shows.check(real, names[j], t):
            return j
    raise RuntimeError("a representative's successor has no image among the successors of "
                       "the real state: the model's symmetry is not an automorphism")
