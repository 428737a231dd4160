"""The canonical byte encoding: decode/encode round trips, through ITF as well."""

from __future__ import annotations

import json

import pytest

from bftcheck.itf import _plain, to_itf
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.trace import INIT, Step, Trace

CONFIGS = [
    Config(byzantine=2, byz_budget=6),
    Config(powers=(2, 1, 1), byzantine=1, byz_budget=3, rounds=3, heights=2),
    Config(powers=(1, 1, 1, 1, 1), byzantine=2, byz_budget=4, values=3),
]


def reachable(model: TendermintModel, limit: int) -> list[bytes]:
    seen = dict.fromkeys(model.init_states())
    queue = list(seen)
    while queue and len(seen) < limit:
        for _, t in model.next_states(queue.pop(0)):
            if t not in seen:
                seen[t] = None
                queue.append(t)
    return list(seen)


@pytest.mark.parametrize("cfg", CONFIGS, ids=["n4-f2", "weighted-byz-proposer", "n5-f2"])
def test_decode_encode_round_trip(cfg):
    model = TendermintModel(cfg)
    states = reachable(model, 3_000)
    assert len(states) >= 3_000
    for s in states:
        assert len(s) == model.lay.size
        assert model.encode(model.decode(s)) == s


def test_round_trip_through_itf_json():
    model = TendermintModel(CONFIGS[1])
    states = reachable(model, 500)
    trace = Trace(model.cfg, [Step(INIT, s) for s in states])
    doc = json.loads(json.dumps(to_itf(model, trace)))
    for s, st in zip(states, doc["states"], strict=True):
        view = {k: _plain(v) for k, v in st.items() if k != "#meta"}
        assert model.encode(view) == s


def test_encode_rejects_out_of_range():
    model = TendermintModel(Config())
    view = model.decode(model.init_states()[0])
    view["round"]["p2"] = 7  # only rounds 0 and 1 exist
    with pytest.raises(ValueError):
        model.encode(view)
    view = model.decode(model.init_states()[0])
    view["prevotes"].append({"height": 0, "round": 0, "src": "p9", "value": "v0"})
    with pytest.raises(KeyError):
        model.encode(view)
