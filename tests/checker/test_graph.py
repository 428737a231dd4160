"""Recovery (AG EF) and fair liveness over the state graph: the graph routines
on hand-made graphs, and the search on toy models with cycles and dead ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bftcheck.checker.bfs import check
from bftcheck.checker.graph import (
    GraphRecorder,
    Labelled,
    cannot_reach_target,
    fair_cycle,
    unfair_runs,
)
from bftcheck.checker.interface import Action, Property


def graph(n: int, edges: list[tuple[int, int, int]], targets: set[int],
          outside: set[int] = frozenset()) -> tuple[GraphRecorder, Labelled]:
    g = GraphRecorder()
    for v in range(n):
        g.state(v, v not in outside, [v in targets])
    for a, b, _ in edges:
        g.edge(a, b)

    def labelled(v: int) -> list[tuple[int, int]]:
        return [(b, who) for a, b, who in edges if a == v]

    return g, labelled


def test_backward_reachability_finds_exactly_the_dead_states() -> None:
    # 0 -> 1 -> 2 (target); 0 -> 3 -> 4 (stuck); 5 is outside the region
    g, _ = graph(6, [(0, 1, 0), (1, 2, 0), (0, 3, 1), (3, 4, 1)], {2}, outside={5})
    assert cannot_reach_target(g).tolist() == [3, 4]


def test_no_targets_means_every_region_state_is_dead() -> None:
    g, _ = graph(3, [(0, 1, 0), (1, 2, 0)], set())
    assert cannot_reach_target(g).tolist() == [0, 1, 2]


def test_terminal_non_targets_are_unfair_runs() -> None:
    runs = unfair_runs(*graph(4, [(0, 1, 0), (0, 2, 1)], {1}))
    assert runs.terminals.tolist() == [2, 3]  # 3 is isolated: a run that stops there
    assert runs.cycles == []


def test_a_cycle_is_fair_only_if_no_actor_is_starved() -> None:
    # 0 <-> 1 by actor 0; actor 1 could leave to the target 2 from both states:
    # always enabled, never taken, so the cycle is unfair and liveness holds
    starved = graph(3, [(0, 1, 0), (1, 0, 0), (0, 2, 1), (1, 2, 1)], {2})
    assert unfair_runs(*starved).cycles == []
    # actor 1 enabled only in state 0: disabled in state 1, so the cycle is fair
    fair = graph(3, [(0, 1, 0), (1, 0, 0), (0, 2, 1)], {2})
    cycles = unfair_runs(*fair).cycles
    assert [c.tolist() for c in cycles] == [[0, 1]]
    walk = fair_cycle(fair[1], cycles[0], 0)
    assert walk[0] == walk[-1] == 0 and set(walk) == {0, 1}
    # a cycle containing a target is fine
    assert unfair_runs(*graph(2, [(0, 1, 0), (1, 0, 0)], {1})).cycles == []


def test_a_self_loop_is_a_cycle() -> None:
    assert unfair_runs(*graph(2, [(0, 0, 0), (0, 1, 1)], {1})).cycles == []  # 1 starves
    g = graph(2, [(0, 0, 0)], {1})
    cycles = unfair_runs(*g).cycles
    assert [c.tolist() for c in cycles] == [[0]]
    assert fair_cycle(g[1], cycles[0], 0) == [0, 0]


class Ring:
    """A toy model: a counter 0..n-1 that two actors move. Actor 0 steps
    i -> i + 1 (mod n); actor 1, only in state `exit_at`, jumps to the goal n.
    With `dead_end`, actor 1 may also jump from state 1 to a sink n + 1."""

    def __init__(self, n: int = 3, exit_at: int | None = 0, dead_end: bool = False) -> None:
        self.n, self.exit_at, self.dead_end = n, exit_at, dead_end

    def init_states(self) -> list[bytes]:
        return [bytes([0])]

    def next_states(self, s: bytes) -> Iterator[tuple[Action, bytes]]:
        i = s[0]
        if i >= self.n:
            return
        yield Action("Step", "a0", f"{i}"), bytes([(i + 1) % self.n])
        if i == self.exit_at:
            yield Action("Exit", "a1", f"{i}"), bytes([self.n])
        if self.dead_end and i == 1:
            yield Action("Fall", "a1", f"{i}"), bytes([self.n + 1])

    def properties(self) -> list[Property]:
        goal = self.n

        def who(before: bytes, after: bytes) -> int:
            return 1 if after[0] >= goal else 0  # Exit and Fall are actor 1's

        return [
            Property("reach-goal", "recovery", "state", lambda s: s[0] == goal,
                     "goal stays reachable", region=lambda s: True, actor=who),
            Property("fair-goal", "liveness", "state", lambda s: s[0] == goal,
                     "fair runs reach goal", region=lambda s: True, actor=who),
        ]


def test_search_judges_recovery_and_liveness_on_a_ring() -> None:
    # the exit is enabled only in state 0: a fair run may loop forever
    ring = Ring(exit_at=0)
    r = check(ring, ring.properties())
    assert r.complete
    assert r.verdicts == {"reach-goal": "holds", "fair-goal": "violated"}
    lasso = r.paths["fair-goal"]
    assert lasso.loop is not None
    # the lasso replays on the model and closes
    state = ring.init_states()[lasso.init]
    states = [state]
    for k in lasso.steps:
        state = [t for _, t in ring.next_states(state)][k]
        states.append(state)
    assert states[lasso.loop] == states[-1]
    assert ring.n not in {s[0] for s in states}


def test_search_finds_a_state_from_which_the_goal_is_lost() -> None:
    ring = Ring(exit_at=2, dead_end=True)
    r = check(ring, ring.properties())
    assert r.verdicts["reach-goal"] == "violated"
    assert r.verdicts["fair-goal"] == "violated"
    path = r.paths["reach-goal"]
    state = ring.init_states()[0]
    for k in path.steps:
        state = [t for _, t in ring.next_states(state)][k]
    assert state == bytes([ring.n + 1])  # the sink: nothing reachable from it


def test_no_exit_at_all_fails_both() -> None:
    ring = Ring(exit_at=None)
    r = check(ring, ring.properties())
    assert r.verdicts == {"reach-goal": "violated", "fair-goal": "violated"}
    assert r.found_at["reach-goal"] == 0  # the initial state already cannot reach it


# The on-the-fly questions replay asks (reaches, fair_lasso) agree with the
# recorded-graph routines the search uses, on random graphs.
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from bftcheck.checker.graph import SearchTooLarge, fair_lasso, reaches  # noqa: E402

random_graphs = st.integers(2, 9).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, 2)),
             max_size=3 * n, unique_by=lambda e: e[:2]),
    st.sets(st.integers(0, n - 1), max_size=2)))


def _names(n: int) -> list[bytes]:
    return [bytes([v]) for v in range(n)]


@given(random_graphs)
def test_reaches_agrees_with_backward_reachability(case) -> None:
    n, edges, targets = case
    g, _ = graph(n, edges, targets)
    dead = set(cannot_reach_target(g).tolist())
    succ = {v: [bytes([b]) for a, b, _ in edges if a == v] for v in range(n)}
    for v, name in enumerate(_names(n)):
        found = reaches(name, lambda s: succ[s[0]], lambda s: s[0] in targets, limit=n)
        assert found == (v not in dead)


@given(random_graphs)
def test_a_fair_lasso_lies_in_a_fair_component(case) -> None:
    n, edges, _ = case
    g, labelled = graph(n, edges, set())
    fair_members = {v for c in unfair_runs(g, labelled).cycles for v in c.tolist()}
    for a, b, _ in edges:
        if a != b:
            continue  # a self-loop is a one-state lasso
        lasso = [bytes([a]), bytes([a])]
        is_fair = fair_lasso(lasso, lambda s: [bytes([w]) for w, _ in labelled(s[0])],
                             lambda s, t: next(x for y, x in labelled(s[0]) if y == t[0]))
        if is_fair:
            assert a in fair_members


def test_reaches_gives_up_past_its_limit() -> None:
    chain = {v: [bytes([v + 1])] for v in range(20)}
    with pytest.raises(SearchTooLarge):
        reaches(bytes([0]), lambda s: chain.get(s[0], []), lambda s: s[0] == 20, limit=5)
