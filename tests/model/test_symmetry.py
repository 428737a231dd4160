"""The symmetry group's byte maps (model/symmetry.py) against renaming a
state's view, an independent route through `view` and `from_view`; the C
canonicaliser against the Python reference; and the group's closure."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bftcheck.checker.symmetry import python_canonical
from bftcheck.model import symmetry as sym
from bftcheck.model.config import Config
from bftcheck.model.state import validator_name
from bftcheck.model.tendermint import TendermintModel
from bftcheck.presets import preset

SYMMETRIC = ["n4-f0", "n4-f1", "n4-f2", "n3-f0", "weighted", "n4-split", "bench", "n7-f2-split"]


def reachable_sample(model: TendermintModel, limit: int, seed: int) -> list[bytes]:
    """Up to `limit` reachable states, by random walks from the initial states."""
    rng = random.Random(seed)
    out: list[bytes] = []
    while len(out) < limit:
        s = rng.choice(model.init_states())
        for _ in range(rng.randrange(1, 40)):
            succ = list(model.next_states(s))
            if not succ:
                break
            s = rng.choice(succ)[1]
            out.append(s)
    return out[:limit]


def renamed_view(view: dict[str, Any], values: dict[str, str],
                 validators: dict[str, str]) -> dict[str, Any]:
    """The view with values and validators renamed (nil, none, x stay)."""

    def val(x: str) -> str:
        return values.get(x, x)

    def who(x: str) -> str:
        return validators.get(x, x)

    out: dict[str, Any] = {}
    for var in ("height", "round", "step", "lockedRound", "validRound"):
        out[var] = {who(p): x for p, x in view[var].items()}
    for var in ("lockedValue", "validValue"):
        out[var] = {who(p): val(x) for p, x in view[var].items()}
    out["decision"] = {who(p): [val(x) for x in d] for p, d in view["decision"].items()}
    for var in ("proposals", "prevotes", "precommits"):
        out[var] = []
        for m in view[var]:
            m = dict(m, src=who(m["src"]), value=val(m["value"]))
            if "seenBy" in m:
                m["seenBy"] = [who(p) for p in m["seenBy"]]
            out[var].append(m)
    out["byzantineUsed"] = view["byzantineUsed"]
    if "network" in view:
        out["network"] = {"split": [[who(p) for p in c] for c in view["network"]["split"]],
                          "events": view["network"]["events"]}
    return out


@pytest.mark.parametrize("name", SYMMETRIC)
def test_byte_maps_equal_renamed_views(name: str) -> None:
    model = TendermintModel(preset(name))
    lay = model.lay
    pis = sym.value_maps(lay)
    sigmas, _ = sym.validator_maps(lay)
    group = [(pi, sigma) for pi in pis for sigma in sigmas]
    rng = random.Random(7)
    for s in reachable_sample(model, 150, seed=len(name)):
        pi, sigma = rng.choice(group)
        values = {lay.value_name(c): lay.value_name(pi[c]) for c in lay.valid_codes}
        validators = {validator_name(i): validator_name(sigma[i]) for i in range(lay.n)}
        expected = model.encode(renamed_view(model.decode(s), values, validators))
        assert sym.element(lay, pi, sigma).apply(s) == expected


@pytest.mark.parametrize("name", SYMMETRIC)
def test_group_is_closed_and_fixes_the_protocol(name: str) -> None:
    """Each element maps the successors of a state onto the successors of its
    image (the automorphism the reduction needs), checked on reachable states."""
    model = TendermintModel(preset(name))
    group = model.symmetry
    assert group is not None
    rng = random.Random(3)
    for s in reachable_sample(model, 60, seed=11):
        g = rng.choice(group.elements)
        image = {g.apply(t) for _, t in model.next_states(s)}
        assert image == {t for _, t in model.next_states(g.apply(s))}
        for p in model.properties():
            if p.scope == "state" and p.kind in ("always", "sometimes"):
                assert p.check(s) == p.check(g.apply(s)), p.name
            elif p.scope == "step":
                for a, t in model.next_states(s):
                    assert p.check(s, a.name, t) == p.check(g.apply(s), a.name, g.apply(t))


@pytest.mark.parametrize("name", SYMMETRIC)
def test_compiled_canonical_equals_reference(name: str) -> None:
    model = TendermintModel(preset(name))
    group = model.symmetry
    reference = python_canonical(group)
    from bftcheck.checker._search_c import Canonical

    compiled = Canonical(model.lay.size, group.elements)
    # without partitions the engine renames and sorts records instead
    assert (group.records is None) == model.lay.partitioned
    by_records = Canonical(model.lay.size, group.elements, group.records)
    states = reachable_sample(model, 200, seed=5)
    for s in states:
        assert compiled.canonical(s) == by_records.canonical(s) == reference(s)
    # a representative is its own, and every image has the same one
    for s in states[:40]:
        rep = reference(s)
        assert reference(rep) == rep
        assert {reference(g.apply(s)) for g in group.elements} == {rep}


def test_proposers_roles_powers_and_splits_bound_the_group() -> None:
    lay = TendermintModel(preset("n4-f1-split")).lay
    assert TendermintModel(preset("n4-f1-split")).symmetry is None  # p1 p2 propose, p4 Byzantine
    weighted = TendermintModel(Config(powers=(1, 1, 2, 2), byzantine=0, byz_budget=0, heights=1,
                                      rounds=1, values=1)).symmetry
    assert weighted is not None and "p3 p4" in weighted.description and weighted.order == 2
    # components that single out p4 keep it in place
    cut = TendermintModel(Config(powers=(1,) * 4, byzantine=0, byz_budget=0, heights=1, rounds=1,
                                 values=1, components=(((0, 1, 2), (3,)),), max_partitions=2))
    assert cut.symmetry is not None and cut.symmetry.order == 2  # p2 p3 only
    assert "p2 p3" in cut.symmetry.description
    del lay
