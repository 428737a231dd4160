"""Recovery and liveness over the explored state graph.

The breadth-first search records, for properties over the graph (kinds
"recovery" and "liveness" in checker/interface.py), which states lie in the
property's region, which are targets, and the edges between region states
with the actor of each. This module answers two questions on that graph,
with scipy's compiled sparse-graph routines (a networkx graph would need
about a kilobyte per state; these arrays need a few bytes per edge):

* AG EF target (Recovery): from which region states is no target reachable?
  One backward breadth-first search from every target at once.
* Fair AF target (liveness): is there a run that never reaches a target and
  is weakly fair to every actor? In a finite graph such a run ends in a
  terminal region state that is not a target, or loops forever in a strongly
  connected component (SCC) without targets in which every actor either takes
  a step or is disabled somewhere (then a cycle through the whole SCC is fair;
  if some actor is enabled everywhere in the SCC and never steps, every cycle
  in it is unfair). Terminal states are fair: nothing is enabled there.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components


class GraphRecorder:
    """Per-state region/target flags and the region edges, filled during search.
    Each property has its own region (`regions[i]`); `region` is their union,
    and an edge is recorded when both its ends lie in the union."""

    def __init__(self, properties: int = 1) -> None:
        self.region = bytearray()
        self.regions = [bytearray() for _ in range(properties)]
        self.targets = [bytearray() for _ in range(properties)]
        self.src = array("i")
        self.dst = array("i")

    def state(self, sid: int, in_region: bool | list[bool], is_target: list[bool]) -> None:
        """Record state sid: whether it lies in the region (one flag for every
        property, or one per property) and whether it is each one's target."""
        if sid != len(self.region):
            raise ValueError(f"states must be recorded in index order: got {sid}")
        flags = in_region if isinstance(in_region, list) else [in_region] * len(self.regions)
        self.region.append(any(flags))
        for own, inside in zip(self.regions, flags, strict=True):
            own.append(inside)
        for targets, t in zip(self.targets, is_target, strict=True):
            targets.append(t)

    def edge(self, a: int, b: int) -> None:
        self.src.append(a)
        self.dst.append(b)


def _arrays(g: GraphRecorder,
            i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Property i's region, targets, and the edges inside its region."""
    region = np.frombuffer(bytes(g.regions[i]), dtype=np.uint8).astype(bool)
    target = np.frombuffer(bytes(g.targets[i]), dtype=np.uint8).astype(bool)
    src = np.frombuffer(g.src, dtype=np.int32)
    dst = np.frombuffer(g.dst, dtype=np.int32)
    inside = region[src] & region[dst]
    return region, target, src[inside], dst[inside], len(region)


def cannot_reach_target(g: GraphRecorder, i: int = 0) -> np.ndarray:
    """Indices of region states from which no target (of property i) is reachable
    along region edges."""
    region, target, src, dst, n = _arrays(g, i)
    goals = np.flatnonzero(target & region)
    # reversed edges plus a virtual source n -> every target
    rows = np.concatenate([dst, np.full(len(goals), n, dtype=np.int32)])
    cols = np.concatenate([src, goals.astype(np.int32)])
    graph = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n + 1, n + 1))
    reached = np.zeros(n + 1, dtype=bool)
    reached[breadth_first_order(graph, n, directed=True, return_predecessors=False)] = True
    return np.flatnonzero(region & ~reached[:n])


@dataclass
class UnfairRuns:
    terminals: np.ndarray  # region states without successors that are not targets
    cycles: list[np.ndarray]  # fair SCCs without targets (their states)


# The region edges out of a state, each with the actor that takes it. Edges
# carry no actor in the recorder (that would cost a model call per edge of the
# whole graph); it is asked for only inside the rare candidate cycles.
Labelled = Callable[[int], list[tuple[int, int]]]


def unfair_runs(g: GraphRecorder, labelled: Labelled, i: int = 0) -> UnfairRuns:
    """Region runs that never reach a target (of property i) and are weakly fair
    to every actor."""
    region, target, src, dst, n = _arrays(g, i)
    out_degree = np.bincount(src, minlength=n)
    terminals = np.flatnonzero(region & (out_degree == 0) & ~target)
    cycles: list[np.ndarray] = []
    if len(src) == 0:
        return UnfairRuns(terminals, cycles)
    graph = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    count, label = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(label, minlength=count)
    loops = src[src == dst]
    nontrivial = np.flatnonzero(sizes > 1)
    candidates = set(nontrivial.tolist()) | {int(label[v]) for v in loops.tolist()}
    if not candidates:
        return UnfairRuns(terminals, cycles)
    for c in sorted(candidates):
        members = np.flatnonzero(label == c)
        if target[members].any():
            continue
        edges = {v: labelled(v) for v in members.tolist()}
        taken = {who for v, out in edges.items() for w, who in out if label[w] == c}
        # an actor is weakly fair here iff it steps inside or is disabled somewhere
        everywhere = set.intersection(*({who for _, who in out} for out in edges.values()))
        if not everywhere - taken:
            cycles.append(members)
    return UnfairRuns(terminals, cycles)


def fair_cycle(labelled: Labelled, members: np.ndarray, start: int) -> list[int]:
    """A closed walk from `start` through a fair SCC that takes a step of every
    actor that steps inside it and visits every state: a witness run."""
    inside = set(members.tolist())
    succ = {v: [(w, who) for w, who in labelled(v) if w in inside] for v in inside}
    walk = [start]

    def go_to(goal_edge_actor: int | None, goal_state: int | None) -> None:
        """Extend the walk by a shortest path ending in the goal: an edge of the
        given actor, or the given state."""
        here = walk[-1]
        prev: dict[int, int] = {here: here}
        queue = deque([here])
        while queue:
            v = queue.popleft()
            for w, who in succ[v]:
                found = goal_edge_actor is not None and who == goal_edge_actor
                if not found and w in prev:
                    continue
                if not found:
                    prev[w] = v
                    found = w == goal_state
                if found:
                    back = []  # the states from `here` (exclusive) to v
                    while v != here:
                        back.append(v)
                        v = prev[v]
                    walk.extend(reversed(back))
                    walk.append(w)
                    return
                queue.append(w)

    for who in sorted({who for edges in succ.values() for _, who in edges}):
        go_to(who, None)
    for v in sorted(inside - set(walk)):
        go_to(None, v)
    if walk[-1] != start:
        go_to(None, start)
    return walk


# The same two questions asked on the fly, from one state, for a trace that
# claims a violation (bftcheck replay): no recorded graph, the model's
# successors within the region.
Successors = Callable[[bytes], list[bytes]]
Actor = Callable[[bytes, bytes], int]


class SearchTooLarge(Exception):
    """The future of a state is larger than the search may visit."""


def reaches(start: bytes, successors: Successors, is_target: Callable[[bytes], bool],
            limit: int) -> bool:
    """Whether a target is reachable from `start` (itself included); breadth-first,
    visiting at most `limit` states, else SearchTooLarge."""
    if is_target(start):
        return True
    seen = {start}
    frontier = deque([start])
    while frontier:
        for t in successors(frontier.popleft()):
            if t in seen:
                continue
            if is_target(t):
                return True
            seen.add(t)
            if len(seen) > limit:
                raise SearchTooLarge(limit)
            frontier.append(t)
    return False


def fair_lasso(cycle: list[bytes], successors: Successors, actor: Actor) -> bool:
    """Whether the loop `cycle` (its first state repeated last) is weakly fair:
    no actor is enabled in every state of it and never steps (the condition of
    `unfair_runs`, for one cycle)."""
    taken = {actor(a, b) for a, b in zip(cycle, cycle[1:], strict=False)}
    always_enabled = set.intersection(*[{actor(s, t) for t in successors(s)}
                                        for s in cycle[:-1]])
    return not always_enabled - taken
