"""The workers of the compiled search and how the coordinator reaches them.

A `WorkerHost` runs one worker's share of every level (checker/_search_c.pyx:
its fingerprints, parent log and level spools) and answers the coordinator's
calls (checker/search.py). The transport is the only thing that differs
between one worker in the coordinator's process (`InProcess`), local worker
processes (`Processes`) and, later, Ray actors: each carries method calls to
the hosts and their answers back, and every batch of successors travels as a
file in the shared work folder, read by its owner at the level's end.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bftcheck.checker import _search_c as engine  # type: ignore[attr-defined]
from bftcheck.checker.bfs import successor_function
from bftcheck.checker.interface import Model, Property
from bftcheck.memory import format_size, over_budget, peak_bytes, reset_peak, rss_bytes

CHUNK = 4096  # expansions between two looks at the clock, the memory and stop requests
STATUS = dict(enumerate(engine.STATUS_NAMES))


class WorkerLost(RuntimeError):
    """A worker process ended before answering (killed, or out of memory)."""


class Stopped(Exception):
    """A host ended its level early: `reason` says why (a limit, an interrupt,
    memory, the disk), or the search was decided (one worker)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def property_specs(model: Model, properties: Sequence[Property]) -> list[tuple[Any, ...]]:
    """(scope, kind, native bit or -1, Python check) per property: a property
    the model's native entry evaluates is checked in C, the rest in Python."""
    native = getattr(model, "native", None)
    specs = []
    for p in properties:
        names = () if native is None else (
            native.step_predicates if p.scope == "step" else native.state_predicates)
        bit = names.index(p.name) if p.name in names else -1
        specs.append((p.scope, p.kind, bit, p.check))
    return specs


class WorkerHost:
    """One worker: builds its C engine and runs what the coordinator asks."""

    def __init__(self, model: Model, properties: Sequence[Property], me: int, workers: int,
                 workdir: str, share: int, max_memory: int | None,
                 should_stop: Callable[[], str | None]) -> None:
        native = getattr(model, "native", None)
        inits = model.init_states()
        if not inits:
            raise ValueError("the model has no initial state")
        size = len(inits[0])
        successors = successor_function(model)
        self.worker = engine.Worker(
            size, workers, me, workdir, share,
            native.capsule if native is not None else None,
            None if native is not None else successors,
            property_specs(model, properties),
            list(native.action_names) if native is not None else [])
        self.me, self.workers, self.workdir = me, workers, workdir
        self.max_memory = max_memory
        self.total_memory: int | None = None  # the whole budget, for messages
        self.should_stop = should_stop
        self.level_generated = 0
        self.level_found: dict[int, tuple[int, int, int, int]] = {}
        self.in_level = False  # between start_level and advance: a rollback undoes it
        self.progress: Callable[[], None] | None = None
        reset_peak()
        self.baseline = rss_bytes()

    def reduce_by(self, symmetry: Any) -> None:
        """Store representatives under this symmetry group (checker/symmetry.py)."""
        from bftcheck.checker.symmetry import compiled_canonical

        self.worker.reduce_by(compiled_canonical(symmetry, self.worker.state_size))

    # -- levels ----------------------------------------------------------------
    def begin(self, level: int, initial: list[tuple[int, bytes]]) -> int:
        """Level 0: add the initial states this worker owns; how many were new."""
        w = self.worker
        w.open_parents()
        w.new_level(0)
        added = sum(1 for k, s in initial if w.add_initial(s, k))
        w.upcoming.seal()
        w.advance()
        w.depth = level
        return added

    def start_level(self, level: int, watched: int, stops: tuple[bool, int]) -> None:
        """Before expanding level `level`: what to watch and when to stop (at
        the first violation; at a state count, or -1)."""
        w = self.worker
        w.watched = watched
        w.depth = level
        w.stop_at_first, w.max_states = stops
        self.in_level = True
        self.level_generated = w.generated
        self.level_found = w.found_events()
        w.new_level(level + 1)
        if self.workers > 1:
            w.open_outboxes(level)

    def expand_level(self) -> dict[str, Any]:
        """Expand the whole current level, looking at limits every CHUNK states."""
        w = self.worker
        while True:
            status = w.expand(CHUNK)
            if status == 0:  # the level is done
                break
            if status != 1:  # decided, a state limit, or a failure
                return self._ended(status)
            why = self.should_stop() or self._memory_stop()
            if why:
                raise Stopped(why)
            if self.progress is not None:
                self.progress()
        if self.workers > 1:
            ok, paths = w.seal_outboxes()
            if not ok:
                raise Stopped(f"cannot write to {self.workdir} (disk full?)")
            return {"status": "expanded", "outboxes": paths}
        return self._level_end("expanded")

    def _memory_stop(self) -> str | None:
        """Why this worker's memory is used up, naming the whole budget and its
        share of it when there are several workers."""
        why = over_budget(self.max_memory, self.worker.seen.next_growth())
        if why is None or self.workers == 1 or self.total_memory is None:
            return why
        return (f"memory limit of {format_size(self.total_memory)} reached: worker {self.me} "
                f"used its share ({why})")

    def _ended(self, status: int) -> dict[str, Any]:
        name = STATUS[status]
        if name == "out of memory":
            raise Stopped("out of memory (an allocation failed)")
        if name == "disk full":
            raise Stopped(f"cannot write to {self.workdir} (disk full?)")
        if name == "too many successors":
            raise Stopped(f"a state has more than {engine.ACTIONS - 1} successors, the "
                          f"engine's limit")
        return self._level_end(name)

    def _level_end(self, status: str) -> dict[str, Any]:
        w = self.worker
        if not w.upcoming.seal() or not w.flush_parents():
            raise Stopped(f"cannot write to {self.workdir} (disk full?)")
        return {"status": status, "owned": w.owned, "generated": w.generated,
                "next": w.upcoming.count, "found": w.found_events(), "position": w.position}

    def merge(self, inboxes: list[tuple[str, int]]) -> dict[str, Any]:
        """Several workers: insert what was sent here, in key order."""
        status = self.worker.merge(inboxes)
        for path, _ in inboxes:
            os.remove(path)
        if status != 0:
            self._ended(status)
        result = self._level_end("merged")
        keys = np.frombuffer(self.worker.next_keys(), dtype=np.int64)
        keys.tofile(self._keys_path())
        return result

    def _keys_path(self, me: int | None = None) -> str:
        return f"{self.workdir}/keys-w{self.me if me is None else me}.bin"

    def rank_next(self, others: Sequence[bytes | None] | None = None) -> None:
        """Several workers: the global rank of each next-level state is the
        number of next-level keys, over all workers, below its own. The other
        workers' keys are read from their files in the shared folder, or given
        (`others`, int64 bytes per worker, None for this one: Ray)."""
        mine = np.fromfile(self._keys_path(), dtype=np.int64)
        ranks = np.arange(len(mine), dtype=np.int64)
        for other in range(self.workers):
            if other != self.me:
                theirs = np.fromfile(self._keys_path(other), dtype=np.int64) \
                    if others is None else np.frombuffer(others[other], dtype=np.int64)
                ranks += np.searchsorted(theirs, mine)
        self.next_ranks = ranks

    def advance(self) -> None:
        self.in_level = False
        w = self.worker
        old = w.current.path if w.current is not None else None
        w.advance()
        if self.workers > 1:
            w.set_ranks(self.next_ranks.tobytes())
        if old and os.path.exists(old) and not self._keep(old):
            os.remove(old)

    def _keep(self, path: str) -> bool:
        """A level file a checkpoint still refers to stays."""
        return path in getattr(self, "checkpointed", ())

    def set_initial_ranks(self, ranks: list[int]) -> None:
        self.next_ranks = np.array(ranks, dtype=np.int64)
        self.worker.set_ranks(self.next_ranks.tobytes())

    def expanded_upto(self, rank: int) -> tuple[int, int]:
        return self.worker.expanded_upto(rank)

    def found_events(self) -> dict[int, tuple[int, int, int, int]]:
        return self.worker.found_events()

    def level_count(self) -> int:
        return self.worker.current.count if self.worker.current is not None else 0

    def flush(self) -> None:
        if not self.worker.flush_parents():
            raise OSError(f"cannot write to {self.workdir} (disk full?)")

    def parent_record(self, local: int) -> bytes:
        """Record `local` of this worker's parent log: (parent ref, action)."""
        self.flush()
        with open(f"{self.workdir}/parents-w{self.me}.log", "rb") as log:
            log.seek(local * engine.PARENT_BYTES)
            return log.read(engine.PARENT_BYTES)

    def counters(self) -> dict[str, int]:
        w = self.worker
        return {"owned": w.owned, "generated": w.generated}

    # -- checkpoints -------------------------------------------------------------
    def rollback(self) -> None:
        """Undo the unfinished level (an interrupt): back to its start. Nothing
        to undo outside a level (between levels, or a resume that failed)."""
        if not self.in_level:
            return
        self.in_level = False
        w = self.worker
        w.rollback(self.level_generated)
        w.set_found(self.level_found)
        for name in os.listdir(self.workdir):
            if name.startswith("out-") and f"-w{self.me}-" in name:
                os.remove(os.path.join(self.workdir, name))

    def save(self, tag: str) -> dict[str, Any]:
        """Write this worker's part of a checkpoint at a level boundary."""
        w = self.worker
        if not w.current.to_file() or not w.flush_parents():
            raise OSError(f"cannot write to {self.workdir} (disk full?)")
        table = f"{self.workdir}/table-{tag}-w{self.me}.bin"
        w.seen.dump(table)
        part = {"owned": w.owned, "parents_bytes": w.owned * engine.PARENT_BYTES,
                "level_base": w.level_base, "generated": w.generated,
                "depth": w.depth, "level": os.path.basename(w.current.path),
                "level_count": w.current.count, "table": os.path.basename(table),
                "found": {str(j): list(e) for j, e in w.found_events().items()}}
        if self.workers > 1:
            ranks = f"{self.workdir}/ranks-{tag}-w{self.me}.bin"
            self.next_ranks.tofile(ranks)
            part["ranks"] = os.path.basename(ranks)
        self.checkpointed = {w.current.path}
        return part

    def load(self, part: dict[str, Any]) -> None:
        """Continue from this worker's part of a checkpoint."""
        w = self.worker
        w.seen.load(os.path.join(self.workdir, part["table"]))
        w.restore(part["owned"], part["level_base"], part["generated"], part["depth"],
                  os.path.join(self.workdir, part["level"]), part["level_count"])
        w.set_found({int(j): tuple(e) for j, e in part["found"].items()})
        if self.workers > 1:
            self.next_ranks = np.fromfile(os.path.join(self.workdir, part["ranks"]),
                                          dtype=np.int64)
            w.set_ranks(self.next_ranks.tobytes())
        self.checkpointed = {w.current.path}

    def memory(self) -> tuple[int, int]:
        """(peak RSS, RSS when this host began), in bytes."""
        return peak_bytes(), self.baseline

    def close(self) -> None:
        self.worker.flush_parents()


class InProcess:
    """One worker, in the coordinator's process."""

    def __init__(self, host: WorkerHost) -> None:
        self.hosts = [host]

    def call(self, method: str, args: Sequence[tuple[Any, ...]] | None = None,
             stoppable: bool = False) -> list[Any]:
        return [getattr(self.hosts[0], method)(*(args[0] if args else ()))]

    def close(self) -> None:
        self.hosts[0].close()


def _serve(conn: Any, make: Callable[[int], WorkerHost], me: int, stop_flag: Any,
           progress: Any) -> None:
    """A worker process: answer the coordinator's calls until told to end."""
    # The coordinator takes the signals (a Ctrl-C reaches the whole process
    # group) and tells the workers; a worker whose coordinator is gone ends at
    # its next receive.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    try:
        host = make(me)
        host.should_stop = lambda: "stop requested" if stop_flag.is_set() else None

        def report() -> None:
            w = host.worker
            progress[3 * me: 3 * me + 3] = [w.owned, w.generated, w.position]

        host.progress = report
        conn.send(("ok", None))
    except BaseException as exc:  # noqa: BLE001 - reported to the coordinator
        conn.send(("error", exc))
        return
    while True:
        try:
            method, args = conn.recv()
        except EOFError:
            return
        if method == "exit":
            host.close()
            conn.send(("ok", None))
            return
        try:
            conn.send(("ok", getattr(host, method)(*args)))
        except Stopped as exc:
            conn.send(("stopped", exc.reason))
        except BaseException as exc:  # noqa: BLE001 - reported to the coordinator
            conn.send(("error", exc))


class Processes:
    """Worker processes on this machine (forked: they share the model)."""

    def __init__(self, make: Callable[[int], WorkerHost], workers: int,
                 should_stop: Callable[[], str | None],
                 tick: Callable[[Sequence[int]], None]) -> None:
        ctx = multiprocessing.get_context("fork")
        self.stop_flag = ctx.Event()
        self.progress = ctx.Array("q", 3 * workers, lock=False)
        self.should_stop = should_stop
        self.tick = tick
        self.winding_up = False  # after a stop: the calls that wind up must not stop
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        for me in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, make, me, self.stop_flag,
                                                    self.progress), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)
        try:
            self._answers(range(workers))
        except BaseException:
            self.kill()
            raise

    def call(self, method: str, args: Sequence[tuple[Any, ...]] | None = None,
             stoppable: bool = False) -> list[Any]:
        """Call `method` on every worker at once; their answers in order. Only a
        stoppable call (a level's expansion or merge) is cut short by a stop
        request; the others are short and must finish on every worker alike."""
        for me, conn in enumerate(self.conns):
            try:
                conn.send((method, tuple(args[me]) if args else ()))
            except OSError:  # its end of the pipe is gone: the process died
                self.stop_flag.set()
                raise self._lost(me) from None
        return self._answers(range(len(self.conns)), stoppable)

    def _answers(self, workers: range, stoppable: bool = False) -> list[Any]:
        answers: list[Any] = [None] * len(workers)
        pending = set(workers)
        stopped = None
        error: BaseException | None = None  # raised once every worker has answered
        while pending:
            ready = multiprocessing.connection.wait([self.conns[me] for me in pending], 0.2)
            self.tick(self.progress)
            why = self.should_stop() if stoppable and not self.winding_up else None
            if why and not self.stop_flag.is_set():
                self.stop_flag.set()
                stopped = why
            for conn in ready:
                me = self.conns.index(conn)
                try:
                    kind, value = conn.recv()
                except (EOFError, ConnectionResetError):  # a killed worker: either, by timing
                    self.stop_flag.set()
                    raise self._lost(me) from None
                pending.discard(me)
                if kind == "error":
                    self.stop_flag.set()
                    error = error or value
                if kind == "stopped":
                    self.stop_flag.set()
                    stopped = stopped or value
                answers[me] = value
            for me in list(pending):
                if not self.procs[me].is_alive() and not self.conns[me].poll():
                    self.stop_flag.set()
                    raise self._lost(me)
        if error is not None:
            raise error
        if stopped:
            raise Stopped(stopped)
        return answers

    def _lost(self, me: int) -> WorkerLost:
        """Worker `me` is gone: say how it ended (killed by a signal, or its code)."""
        proc = self.procs[me]
        proc.join(2.0)
        code = proc.exitcode
        if code is None:
            how = "its pipe closed"
        elif code < 0:
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"its process ended with exit {code}"
        return WorkerLost(f"worker {me} lost ({how})")

    def resume_after_stop(self) -> None:
        """The stop was taken: let the winding-up calls (rollback, save) run."""
        self.winding_up = True
        self.stop_flag.clear()

    def kill(self) -> None:
        """End every worker process at once (a second interrupt)."""
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()

    def close(self) -> None:
        for me, conn in enumerate(self.conns):
            try:
                if self.procs[me].is_alive():
                    conn.send(("exit", ()))
                    conn.poll(5) and conn.recv()
            except (OSError, EOFError):
                pass
        deadline = time.monotonic() + 5
        for proc in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
