"""Latency over the explored state graph: how long a liveness property's runs
take, from where they enter its region until its target, in the worst and
the best case over every run.

Defined for an acyclic region (every run ends; termination after GST is one):
a run is measured from the first state of the region it reaches (an entry:
an initial state in the region, or a region state with a predecessor outside
it) to the first target on it. Two figures per run: its steps, and the
largest value of the property's `measure` along it before the target (for
Tendermint the round reached). The worst and best cases are computed
backwards from the targets, level by level of the reversed graph, with
numpy: `steps(u) = 1 + max/min steps(v)` and
`reach(u) = max(measure(u), max/min reach(v))` over the successors v.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np

from bftcheck.checker.graph import GraphRecorder

UNSET = np.iinfo(np.int64).min


@dataclass
class Latency:
    """The worst and best case over every run from an entry to a target."""

    worst_steps: int
    best_steps: int
    worst_measure: int
    best_measure: int
    # the run attaining the worst measure (the most steps among those): its entry
    # state and then the states it goes through to the target
    worst_run: list[int]
    entries: int


class CyclicRegion(ValueError):
    """The region has a cycle: some run never ends, so latency is undefined."""


def _order(n: int, src: np.ndarray, dst: np.ndarray, terminal: np.ndarray) -> list[np.ndarray]:
    """States in waves such that every successor of a state is in an earlier
    wave (Kahn's algorithm on the reversed graph), or CyclicRegion."""
    out_degree = np.bincount(src, minlength=n)
    waves = []
    ready = np.flatnonzero((out_degree == 0) | terminal)
    done = np.zeros(n, dtype=bool)
    left = out_degree.copy()
    while len(ready):
        waves.append(ready)
        done[ready] = True
        fresh = np.zeros(n, dtype=bool)
        fresh[ready] = True
        preds = src[fresh[dst]]
        preds = preds[~terminal[preds]]
        np.subtract.at(left, preds, 1)
        cand = np.unique(preds)
        ready = cand[(left[cand] == 0) & ~done[cand]]
    if not done.all():
        raise CyclicRegion("the region has a cycle")
    return waves


def latency(g: GraphRecorder, i: int, entries: bytearray, measure: array) -> Latency | None:
    """The latency of property i's runs (None if no run enters its region)."""
    region = np.frombuffer(bytes(g.regions[i]), dtype=np.uint8).astype(bool)
    target = np.frombuffer(bytes(g.targets[i]), dtype=np.uint8).astype(bool)
    n = len(region)
    src = np.frombuffer(g.src, dtype=np.int32).astype(np.int64)
    dst = np.frombuffer(g.dst, dtype=np.int32).astype(np.int64)
    keep = region[src] & region[dst] & ~target[src]
    src, dst = src[keep], dst[keep]
    m = np.frombuffer(measure, dtype=np.int64)
    entry = np.flatnonzero(np.frombuffer(bytes(entries), dtype=np.uint8).astype(bool) & region)
    if len(entry) == 0:
        return None
    waves = _order(n, src, dst, target | ~region)
    if not waves:
        return None
    inf = np.iinfo(np.int64).max
    w_steps = np.where(target, 0, UNSET).astype(np.int64)
    b_steps = np.where(target, 0, inf).astype(np.int64)
    w_reach = np.full(n, UNSET, dtype=np.int64)
    b_reach = np.full(n, UNSET, dtype=np.int64)
    b_reach[~target] = inf
    # the worst run: lexicographically (reach, steps), with its next state
    w_key = np.where(target, 0, UNSET).astype(np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    scale = np.int64(1 << 20)
    for wave in waves[1:]:
        inside = np.zeros(n, dtype=bool)
        inside[wave] = True
        e = np.flatnonzero(inside[src])
        u, v = src[e], dst[e]
        np.maximum.at(w_steps, u, w_steps[v] + 1)
        np.minimum.at(b_steps, u, b_steps[v] + 1)
        np.maximum.at(w_reach, u, np.maximum(w_reach[v], m[u]))
        np.minimum.at(b_reach, u, np.maximum(b_reach[v], m[u]))
        keys = np.maximum(w_reach[v], m[u]) * scale + w_steps[v] + 1
        np.maximum.at(w_key, u, keys)
        best = keys == w_key[u]
        nxt[u[best]] = v[best]
    ok = entry[(w_steps[entry] != UNSET) & ~target[entry]]
    if len(ok) == 0:
        return None
    first = int(ok[np.argmax(w_key[ok])])
    run = [first]
    while nxt[run[-1]] >= 0:
        run.append(int(nxt[run[-1]]))
    return Latency(int(w_steps[ok].max()), int(b_steps[ok].min()), int(w_reach[ok].max()),
                   int(b_reach[ok].min()), run, len(ok))
