"""One state, two spellings: the TLA+ twin's variables and bftcheck's view.

`to_view` turns a TLC state (variables parsed by `values.parse_state`) into
the named-variable view of model/state.py, which `model.encode` turns into
the canonical bytes; `to_tla` is the inverse, for trace-constrained TLC runs.
Both follow Tendermint.tla: validators 1..N (p1..pN), heights and rounds
from 0, NoMsg "none" in unfilled message slots.
"""

from __future__ import annotations

from typing import Any

from bftcheck.config import Config
from bftcheck.spec.values import TlaFunction, TlaSet, at

NO_MSG = "none"
VARIABLES = ("height", "round", "step", "lockedValue", "lockedRound", "validValue",
             "validRound", "decision", "prevote", "precommit", "proposal", "byzPrevote",
             "byzPrecommit", "byzProposal", "byzantineUsed")


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
                proposals.append(_proposal(h, r, src, sent))
            for m in st["byzProposal"][h][r]:
                proposals.append(_proposal(h, r, src, m))
            for store, var, byz_var in ((prevotes, "prevote", "byzPrevote"),
                                        (precommits, "precommit", "byzPrecommit")):
                for c in _correct(cfg):
                    v = at(st[var], c)[h][r]
                    if v != NO_MSG:
                        store.append({"height": h, "round": r, "src": f"p{c}", "value": v})
                for b in _byzantine(cfg):
                    for v in at(st[byz_var], b)[h][r]:
                        store.append({"height": h, "round": r, "src": f"p{b}", "value": v})
    out["proposals"], out["prevotes"], out["precommits"] = proposals, prevotes, precommits
    out["byzantineUsed"] = st["byzantineUsed"]
    return out


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
    proposals = {(m["height"], m["round"]): [] for m in view["proposals"]}
    for m in view["proposals"]:
        proposals[m["height"], m["round"]].append(
            {"value": m["value"], "validRound": m["validRound"]})

    def sent_proposal(h: int, r: int) -> dict[str, Any]:
        if proposer(cfg, h, r) in byz or (h, r) not in proposals:
            return {"value": NO_MSG, "validRound": -1}
        return proposals[h, r][0]

    def byz_proposals(h: int, r: int) -> TlaSet:
        if proposer(cfg, h, r) not in byz:
            return TlaSet()
        return TlaSet(proposals.get((h, r), []))

    st["proposal"] = _grid(cfg, sent_proposal)
    st["byzProposal"] = _grid(cfg, byz_proposals)
    for var, byz_var, key in (("prevote", "byzPrevote", "prevotes"),
                              ("precommit", "byzPrecommit", "precommits")):
        votes: dict[tuple[str, int, int], list[str]] = {}
        for m in view[key]:
            votes.setdefault((m["src"], m["height"], m["round"]), []).append(m["value"])
        st[var] = [_grid(cfg, lambda h, r, c=c, votes=votes:
                         votes.get((f"p{c}", h, r), [NO_MSG])[0]) for c in corr]
        st[byz_var] = TlaFunction(
            {b: _grid(cfg, lambda h, r, b=b, votes=votes:
                      TlaSet(votes.get((f"p{b}", h, r), []))) for b in byz})
    st["byzantineUsed"] = view["byzantineUsed"]
    return st
