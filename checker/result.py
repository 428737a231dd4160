"""What an engine reports: statistics, a verdict per property, counterexamples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HOLDS, VIOLATED, UNKNOWN = "holds", "violated", "unknown"
WITNESSED, NOT_WITNESSED = "witnessed", "not witnessed"


@dataclass
class Path:
    """A counterexample or witness as engine data: the position of the initial
    state in init_states() and, per step, the position of the successor taken."""

    init: int
    steps: list[int]
    # for a lasso (an infinite run): the state index where the run loops back
    # to, after its last step; None for a finite run
    loop: int | None = None


@dataclass
class Result:
    engine: str
    verdicts: dict[str, str]
    complete: bool
    distinct_states: int
    generated_states: int
    depth: int
    seconds: float
    peak_rss_mib: float
    collision_probability: float
    compiled_core: bool
    compiled_rules: bool
    stopped: str
    paths: dict[str, Path] = field(default_factory=dict)
    found_at: dict[str, int] = field(default_factory=dict)
    workers: int = 1
    bytes_per_state: float = 0.0    # peak RSS above the process's start, per distinct state
    search_engine: str = "reference"
    checkpoint: str | None = None   # where the last checkpoint went, if one was written
    reductions: dict[str, Any] = field(default_factory=lambda: {"used": [], "symmetry": None,
                                                                "off": {}})
    # on Ray: successors sent to other workers and kept, bytes and objects sent
    traffic: dict[str, int] | None = None
    # liveness properties left unknown because a run ended inconclusively (a
    # bound of the model cut it, Property.inconclusive): the first such run
    cut: dict[str, Path] = field(default_factory=dict)
    # with a latency measurement (bfs.check latency=): worst/best steps and
    # measure over the runs, and the worst run as `worst_path`
    latency: dict[str, Any] | None = None

    @property
    def violated(self) -> list[str]:
        return [p for p, v in self.verdicts.items() if v == VIOLATED]

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0

    def exit_code(self) -> int:
        """1 a violation (with its counterexample), 3 any verdict still unknown
        (a limit, an interrupt), else 0: every verdict was decided with its
        evidence (a complete search, or a witness's run)."""
        if self.violated:
            return 1
        if UNKNOWN in self.verdicts.values():
            return 3
        return 0

    def summary(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "verdicts": dict(self.verdicts),
            "complete": self.complete,
            "distinct_states": self.distinct_states,
            "generated_states": self.generated_states,
            "depth": self.depth,
            "seconds": round(self.seconds, 3),
            "states_per_second": round(self.states_per_second, 1),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "collision_probability": self.collision_probability,
            "compiled_core": self.compiled_core,
            "compiled_rules": self.compiled_rules,
            "stopped": self.stopped,
            "workers": self.workers,
            "bytes_per_state": round(self.bytes_per_state, 1),
            "search_engine": self.search_engine,
            "checkpoint": self.checkpoint,
            "reductions": self.reductions,
            "traffic": self.traffic,
            **({"cut_by_bound": {p: len(path.steps) for p, path in self.cut.items()}}
               if self.cut else {}),
        }
