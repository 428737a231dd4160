"""One state, two spellings: the TLA+ twin's variables and bftcheck's view.

`to_view` turns a TLC state (variables parsed by `values.parse_state`) into
the named-variable view of model/state.py, which `model.encode` turns into
the canonical bytes; `to_tla` is the inverse, for trace-constrained TLC runs.
Both follow Tendermint.tla: validators 1..N (p1..pN), heights and rounds
from 0, NoMsg "none" in unfilled message slots.
"""

from __future__ import annotations

from typing import Any

from bftcheck.model.config import Config
from bftcheck.spec import mc
from bftcheck.spec.values import TlaFunction, TlaSet, at

NO_MSG = "none"
VARIABLES = ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
             "validRound", "decision", "prevote", "precommit", "proposal", "byzPrevote",
             "byzPrecommit", "byzProposal", "byzantineUsed", "prevoteReach", "precommitReach",
             "proposalReach", "net", "events")


def proposer(cfg: Config, h: int, r: int) -> int:
    return (h + r) % cfg.n + 1


def _correct(cfg: Config) -> range:
    return range(1, cfg.n - cfg.byzantine + 1)


def _byzantine(cfg: Config) -> range:
    return range(cfg.n - cfg.byzantine + 1, cfg.n + 1)


def to_view(cfg: Config, st: dict[str, Any]) -> dict[str, Any]:
    """The bftcheck view (model/state.py `view`) of a TLC state of Tendermint.tla."""
    missing = [v for v in VARIABLES if v not in st]
    if missing:
        raise ValueError(f"the TLC state lacks variable {missing[0]!r}")
    out: dict[str, Any] = {}
    for var in ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
                "validRound"):
        out[var] = {f"p{c}": at(st[var], c) for c in _correct(cfg)}
    out["decision"] = {f"p{c}": [at(st["decision"], c)[h] for h in range(cfg.heights)]
                       for c in _correct(cfg)}
    proposals: list[dict[str, Any]] = []
    prevotes: list[dict[str, Any]] = []
    precommits: list[dict[str, Any]] = []
    for h in range(cfg.heights):
        for r in range(cfg.rounds):
            src = proposer(cfg, h, r)
            sent = st["proposal"][h][r]
            if sent["value"] != NO_MSG:
                proposals.append(_seen(cfg, _proposal(h, r, src, sent),
                                       st["proposalReach"][h][r]))
            for m in st["byzProposal"][h][r]:
                proposals.append(_proposal(h, r, src, m))
            for store, var, byz_var in ((prevotes, "prevote", "byzPrevote"),
                                        (precommits, "precommit", "byzPrecommit")):
                for c in _correct(cfg):
                    v = at(st[var], c)[h][r]
                    if v != NO_MSG:
                        store.append(_seen(cfg, {"height": h, "round": r, "src": f"p{c}",
                                                 "value": v}, at(st[var + "Reach"], c)[h][r]))
                for b in _byzantine(cfg):
                    for v in at(st[byz_var], b)[h][r]:
                        store.append({"height": h, "round": r, "src": f"p{b}", "value": v})
    out["proposals"], out["prevotes"], out["precommits"] = proposals, prevotes, precommits
    out["byzantineUsed"] = st["byzantineUsed"]
    if cfg.partitioned:
        k = st["net"]
        split = mc.splits(cfg)[k - 1] if k else ()
        out["network"] = {"split": [_names(comp, cfg.n) for comp in split],
                          "events": st["events"]}
    return out


def _names(mask: int, n: int) -> list[str]:
    return [f"p{i + 1}" for i in range(n) if mask >> i & 1]


def _seen(cfg: Config, m: dict[str, Any], reach: list[int]) -> dict[str, Any]:
    """With partitions, a correct message names who it has reached (model/state.py)."""
    if cfg.partitioned:
        m["seenBy"] = [f"p{i}" for i in sorted(reach)]
    return m


def _proposal(h: int, r: int, src: int, m: dict[str, Any]) -> dict[str, Any]:
    return {"height": h, "round": r, "src": f"p{src}", "value": m["value"],
            "validRound": m["validRound"]}


def _grid(cfg: Config, cell: Any) -> TlaFunction:
    """[h \\in Heights |-> [r \\in Rounds |-> cell(h, r)]]"""
    return TlaFunction({h: TlaFunction({r: cell(h, r) for r in range(cfg.rounds)})
                        for h in range(cfg.heights)})


def to_tla(cfg: Config, view: dict[str, Any]) -> dict[str, Any]:
    """The values of Tendermint.tla's variables (for `values.write`) for a bftcheck view."""
    corr, byz = list(_correct(cfg)), list(_byzantine(cfg))
    st: dict[str, Any] = {}
    for var in ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
                "validRound"):
        st[var] = [view[var][f"p{c}"] for c in corr]
    st["decision"] = [TlaFunction(enumerate(view["decision"][f"p{c}"])) for c in corr]
    proposals: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for m in view["proposals"]:
        proposals.setdefault((m["height"], m["round"]), []).append(
            {"value": m["value"], "validRound": m["validRound"]})
    correct_proposals = {(m["height"], m["round"]): m for m in view["proposals"]
                         if proposer(cfg, m["height"], m["round"]) not in byz}

    def reach_of(m: dict[str, Any] | None) -> TlaSet:
        return TlaSet(int(p[1:]) for p in m.get("seenBy", [])) if m else TlaSet()

    def sent_proposal(h: int, r: int) -> dict[str, Any]:
        if proposer(cfg, h, r) in byz or (h, r) not in proposals:
            return {"value": NO_MSG, "validRound": -1}
        return proposals[h, r][0]

    def byz_proposals(h: int, r: int) -> TlaSet:
        if proposer(cfg, h, r) not in byz:
            return TlaSet()
        return TlaSet(proposals.get((h, r), []))

    st["proposal"] = _grid(cfg, sent_proposal)
    st["proposalReach"] = _grid(cfg, lambda h, r: reach_of(correct_proposals.get((h, r))))
    st["byzProposal"] = _grid(cfg, byz_proposals)
    for var, byz_var, key in (("prevote", "byzPrevote", "prevotes"),
                              ("precommit", "byzPrecommit", "precommits")):
        votes: dict[tuple[str, int, int], list[str]] = {}
        sent: dict[tuple[str, int, int], dict[str, Any]] = {}
        for m in view[key]:
            votes.setdefault((m["src"], m["height"], m["round"]), []).append(m["value"])
            sent[m["src"], m["height"], m["round"]] = m
        st[var] = [_grid(cfg, lambda h, r, c=c, votes=votes:
                         votes.get((f"p{c}", h, r), [NO_MSG])[0]) for c in corr]
        st[var + "Reach"] = [_grid(cfg, lambda h, r, c=c, sent=sent:
                                   reach_of(sent.get((f"p{c}", h, r)))) for c in corr]
        st[byz_var] = TlaFunction(
            {b: _grid(cfg, lambda h, r, b=b, votes=votes:
                      TlaSet(votes.get((f"p{b}", h, r), []))) for b in byz})
    st["byzantineUsed"] = view["byzantineUsed"]
    network = view.get("network", {"split": [], "events": 0})
    masks = tuple(sorted(sum(1 << (int(p[1:]) - 1) for p in comp) for comp in network["split"]))
    st["net"] = mc.splits(cfg).index(masks) + 1 if masks else 0
    st["events"] = network["events"]
    return st
