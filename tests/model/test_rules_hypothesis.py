"""Differential tests, driven by Hypothesis: on states reached by generated
walks, the compiled rules agree with the Python rules (successors, action
names, property values) and the encoding round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bftcheck.model import MUTANTS, TendermintModel
from bftcheck.model import properties as P
from bftcheck.model.config import Config

configs = st.one_of(
    st.builds(Config, powers=st.lists(st.integers(1, 4), min_size=2, max_size=5).map(tuple),
              byz_budget=st.integers(0, 4), heights=st.integers(1, 2),
              rounds=st.integers(1, 3), values=st.integers(1, 3)),
    st.sampled_from([Config(**m.catch, mutant=n) for n, m in MUTANTS.items()]),
).flatmap(lambda c: st.integers(0, max(0, c.n - 1)).map(
    lambda k: c.with_changes(byzantine=min(k, c.n - 1))))


@settings(max_examples=120, deadline=None)
@given(configs, st.lists(st.integers(0, 10_000), max_size=40))
def test_compiled_rules_agree_along_generated_walks(cfg, choices):
    model = TendermintModel(cfg)
    if model.fast is None:
        pytest.skip("compiled rules not in use")
    lay = model.lay
    s = model.init_states()[choices[0] % len(model.init_states()) if choices else 0]
    for c in choices:
        assert model.encode(model.decode(s)) == s
        expected = list(model.next_states(s))
        states, names = model.successor_states(s)
        assert states == [t for _, t in expected]
        assert names == [a.name for a, _ in expected]
        for name in ("agreement", "validity", "ledger_consistency", "accountability",
                     "no_false_accusation", "decision_reached"):
            assert getattr(model.fast, name)(s) == getattr(P, name)(lay, s), name
        if not states:
            break
        t = states[c % len(states)]
        assert model.fast.integrity(s, t) == P.integrity(lay, s, t)
        assert model.fast.lock_changed(s, t) == P.lock_changed(lay, s, t)
        s = t
