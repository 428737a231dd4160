"""Which state-space reductions a check uses, and why the others are off.

`choose` takes what the user asked for (`--reduce`; None: every reduction
that is sound for the chosen properties) and returns a `Reduction`: the ones
in use, and a reason for each one that is not. The engines take it; counts are
then the reduced state graph's, and the output says so. Symmetry is the one
reduction so far (checker/symmetry.py argues its soundness): it is off for
`liveness` properties, which need weak fairness per actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bftcheck.checker.interface import Model, Property
from bftcheck.checker.symmetry import Symmetry
from bftcheck.inputs import InputError

REDUCTIONS = ("symmetry",)


class ReductionRefused(InputError):
    """A reduction asked for that this check cannot use soundly: one line, exit 2."""


@dataclass(frozen=True)
class Reduction:
    symmetry: Symmetry | None = None
    off: tuple[tuple[str, str], ...] = ()   # (reduction, why it is off)

    @property
    def used(self) -> list[str]:
        return ["symmetry"] if self.symmetry is not None else []

    def describe(self) -> str:
        """One line: what is used, or why nothing is."""
        if self.symmetry is not None:
            return (f"symmetry ({self.symmetry.description}); counts are of the reduced "
                    f"state graph")
        why = "; ".join(f"{name} off: {reason}" for name, reason in self.off)
        return f"none ({why or '--reduce none'})"

    def summary(self) -> dict[str, object]:
        return {"used": self.used,
                "symmetry": self.symmetry.description if self.symmetry else None,
                "off": dict(self.off)}


NONE = Reduction()


def parse(text: str) -> list[str]:
    """`--reduce` as a list of reductions; "none" is the empty list."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["none"]:
        return []
    unknown = [n for n in names if n not in REDUCTIONS]
    if unknown or not names:
        raise ValueError(f"--reduce {text!r}: choose from {', '.join(REDUCTIONS)}, "
                         f"comma-separated, or none")
    return names


def choose(model: Model, properties: Sequence[Property],
           requested: Sequence[str] | None) -> Reduction:
    """The reductions for this check (`requested` None: every sound one)."""
    if requested is not None and "symmetry" not in requested:
        return NONE
    why = _symmetry_off(model, properties)
    if why is None:
        return Reduction(symmetry=model.symmetry)
    if requested is not None and why[1]:
        raise ReductionRefused(f"--reduce symmetry: {why[0]}; check without it "
                               f"(--reduce none) or leave the liveness properties out")
    return Reduction(off=(("symmetry", why[0]),))


def _symmetry_off(model: Model, properties: Sequence[Property]) -> tuple[str, bool] | None:
    """Why symmetry cannot be used here, and whether it would be unsound (not
    just empty); None when it can."""
    live = [p.name for p in properties if p.kind == "liveness"]
    if live:
        return (f"unsound for {', '.join(live)}, whose weak fairness per validator the "
                "quotient does not keep", True)
    group = getattr(model, "symmetry", None)
    if group is None:
        return ("this configuration has no symmetry (the identity only)"
                if hasattr(model, "symmetry") else "the model declares no symmetry", False)
    return None
