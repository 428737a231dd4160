"""Pure-Python reference of the exploration core (see _core_c.pyx for the fast one).

The core holds what breadth-first search needs per state, without a Python
object per state in the compiled version: a 64-bit fingerprint in a hash
table, the parent's index, the index of the action that led here (its position
in the model's successor order) and the BFS depth; plus the FIFO frontier of
encoded states still to expand. Shortest counterexamples are rebuilt from the
parent links by re-running the model along the path.
"""

from __future__ import annotations

from array import array
from collections import deque

MASK64 = (1 << 64) - 1
SEED = 0x9E3779B97F4A7C15
NO_PARENT = -1


def _mix(x: int) -> int:
    """The splitmix64 finaliser: a bijection on 64-bit words with full avalanche."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def fingerprint(data: bytes) -> int:
    """64-bit fingerprint of an encoded state; never 0 (0 marks an empty slot)."""
    h = SEED ^ len(data)
    padded = data + b"\0" * (-len(data) % 8)
    for i in range(0, len(padded), 8):
        h = _mix(h ^ int.from_bytes(padded[i : i + 8], "little"))
    h = _mix(h)
    return h or 1


class StateSpace:
    """Visited set (fingerprint -> state index) with parent links, plus the frontier."""

    compiled = False

    def __init__(self, state_size: int) -> None:
        self.state_size = state_size
        self._index: dict[int, int] = {}
        self._parent = array("q")
        self._action = array("I")
        self._depth = array("I")
        self._frontier: deque[tuple[bytes, int]] = deque()

    def __len__(self) -> int:
        return len(self._parent)

    @property
    def queued(self) -> int:
        return len(self._frontier)

    def next_growth(self) -> tuple[int, int]:
        """(states before the next growth, bytes it allocates), as the compiled
        core reports it; the dict resizes at 2/3 load to about 3x its slots,
        about 100 bytes a slot with its int keys and values."""
        n = len(self._parent)
        slots = 8
        while slots * 2 // 3 <= n:
            slots *= 2
        return slots * 2 // 3 - n, 3 * slots * 100

    def _add(self, state: bytes, parent: int, action: int, depth: int) -> int:
        if len(state) != self.state_size:
            raise ValueError(f"state has {len(state)} bytes, expected {self.state_size}")
        fp = fingerprint(state)
        if fp in self._index:
            return -1
        sid = len(self._parent)
        self._index[fp] = sid
        self._parent.append(parent)
        self._action.append(action)
        self._depth.append(depth)
        self._frontier.append((state, sid))
        return sid

    def add_initial(self, state: bytes, position: int) -> int:
        """Add an initial state (its position in init_states()); -1 if seen."""
        return self._add(state, NO_PARENT, position, 0)

    def add_successors(self, parent: int, successors: list[bytes]) -> list[int]:
        """Add the successors of state `parent`; return the positions of the new ones.
        New states get consecutive indices, in the order of the returned positions."""
        depth = self._depth[parent] + 1
        return [k for k, s in enumerate(successors) if self._add(s, parent, k, depth) >= 0]

    def add_successors_indexed(self, parent: int,
                               successors: list[bytes]) -> tuple[list[int], list[int]]:
        """As add_successors, and also the index of every successor (new or seen),
        for engines that keep the state graph's edges."""
        depth = self._depth[parent] + 1
        new, ids = [], []
        for k, s in enumerate(successors):
            sid = self._add(s, parent, k, depth)
            if sid >= 0:
                new.append(k)
            else:
                sid = self._index[fingerprint(s)]
            ids.append(sid)
        return new, ids

    def pop(self) -> tuple[bytes, int] | None:
        """The next state to expand (FIFO, so breadth-first), or None when done."""
        return self._frontier.popleft() if self._frontier else None

    def parent(self, sid: int) -> int:
        return self._parent[sid]

    def action(self, sid: int) -> int:
        return self._action[sid]

    def depth(self, sid: int) -> int:
        return self._depth[sid]

    def index(self, state: bytes) -> int:
        """The index of a stored state, or -1."""
        return self._index.get(fingerprint(state), -1)

    def contains(self, state: bytes) -> bool:
        return fingerprint(state) in self._index
