"""The Accountability evidence rules in words (model/properties.py): the
sentences the HTML trace states agree with the predicates the checker uses."""

from __future__ import annotations

from collections import deque

from bftcheck.model import TendermintModel
from bftcheck.model.properties import accused, amnesic, equivocated, evidence
from bftcheck.presets import preset


def reachable(model, limit):
    seen, queue = set(model.init_states()), deque(model.init_states())
    while queue and len(seen) < limit:
        for _, t in model.next_states(queue.popleft()):
            if t not in seen:
                seen.add(t)
                queue.append(t)
    return seen


def test_every_accusation_is_said_and_nothing_else():
    model = TendermintModel(preset("n4-f2"))
    lay, kinds = model.lay, {"equivocation": 0, "amnesia": 0}
    for s in reachable(model, 20_000):
        for i in range(lay.n):
            said = evidence(lay, s, i, 0)
            assert bool(said) == accused(lay, s, i, 0)
            assert any(x.endswith("(equivocation)") for x in said) == equivocated(lay, s, i, 0)
            assert any(x.endswith("(amnesia)") for x in said) == amnesic(lay, s, i, 0)
            for line in said:
                kinds[line.rsplit("(", 1)[1].rstrip(")")] += 1
    assert kinds["equivocation"] > 0 and kinds["amnesia"] > 0  # both rules were exercised
    assert not any(accused(lay, s, i, 0) for s in reachable(model, 2_000) for i in lay.correct)
