"""The compiled search: breadth-first, level by level, on one or more workers.

The coordinator (this module) runs the levels: every worker expands its share
of a level in C (checker/_search_c.pyx, through checker/workers.py), the
owners merge what they were sent, and the coordinator gathers the counts and
the properties found, decides whether to go on, and writes checkpoints at
level boundaries. Its answers are those of the readable reference loop,
checker/bfs.py: the same distinct and generated counts, verdicts, depths and
shortest counterexamples, for any number of workers (tests/checker/
test_search.py compares them on every preset). Graph properties (Recovery)
need the state graph's edges, which this engine does not keep: a check with
them runs on the reference loop, and the result says so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bftcheck import extensions_disabled, stop
from bftcheck.checker import checkpoint
from bftcheck.checker.bfs import (
    COMPLETE,
    DECIDED,
    GRAPH_KINDS,
    Limits,
    Progress,
    _verdicts,
    collision_probability,
    depth_limit,
)
from bftcheck.checker.interface import Model, Property
from bftcheck.checker.reduction import NONE, Reduction
from bftcheck.checker.result import Path, Result
from bftcheck.checker.symmetry import canonical_function, compiled_canonical, real_path
from bftcheck.memory import peak_bytes, reset_peak, rss_bytes

try:
    from bftcheck.checker import workers as _workers
    from bftcheck.checker._search_c import ACTIONS
    from bftcheck.checker._search_c import PARENT_BYTES as PARENT_RECORD
except ImportError:  # the compiled engine is not built: the reference loop runs
    _workers = None  # type: ignore[assignment]



def available() -> bool:
    """Whether the compiled engine is built and allowed."""
    return _workers is not None and not extensions_disabled()


@dataclass(frozen=True)
class Placement:
    """Where and on how many workers a search runs."""

    workers: int = 1
    workdir: str | None = None        # for the disk files; default a temporary folder
    checkpoint: str | None = None     # write checkpoints here (the files live here too)
    checkpoint_every: float = 300.0   # seconds between two checkpoints
    resume: bool = False              # continue from the checkpoint in `checkpoint`
    run: dict[str, Any] | None = None  # what rebuilds the run (stored in a checkpoint)
    manifest: dict[str, Any] | None = None  # the checkpoint to resume, already read
    ray: str | None = None            # run the workers on Ray: "auto" or a cluster's address


def reason_for_reference(properties: Sequence[Property]) -> str | None:
    """Why this check runs on the reference loop instead, or None."""
    if not available():
        return "the compiled engine is not built" if not extensions_disabled() \
            else "BFTCHECK_NO_EXTENSIONS=1"
    if os.environ.get("BFTCHECK_REFERENCE_LOOP", "") not in ("", "0"):
        return "BFTCHECK_REFERENCE_LOOP=1"
    graph = [p.name for p in properties if p.kind in GRAPH_KINDS]
    if graph:
        return f"graph properties ({', '.join(graph)}) need the state graph's edges"
    return None


def frontier_share(max_memory: int | None) -> int:
    """RAM each level spool may hold before it spills to its file."""
    budget = max_memory if max_memory is not None else 1 << 30
    return max(1 << 20, min(16 << 20, budget // 64))


def identity(model: Model, properties: Sequence[Property], workers: int,
             reduction: Reduction = NONE) -> dict[str, Any]:
    """What a checkpoint must match to be resumed by this run."""
    from bftcheck import __version__, recipe
    from bftcheck.checker.interface import vocabulary

    inits = recipe.initial_states_digest(model)
    return {"bftcheck": __version__, "model": getattr(model, "reference", type(model).__name__),
            "configuration": vocabulary(model).describe_config(getattr(model, "cfg", None)),
            "initial_states": inits, "properties": [p.name for p in properties],
            "workers": workers, "reductions": reduction.used}


class Search:
    """One run of the compiled search (see the module docstring)."""

    def __init__(self, model: Model, properties: Sequence[Property], limits: Limits,
                 place: Placement, progress: Progress | None, progress_every: float,
                 reduction: Reduction = NONE) -> None:
        self.model, self.props, self.limits, self.place = model, list(properties), limits, place
        self.reduction = reduction
        self.report, self.report_every = progress, progress_every
        self.n = place.workers
        self.start = time.perf_counter()
        reset_peak()  # the peak of this search, not of what the process did before
        self.baseline = rss_bytes()
        self.found: dict[int, tuple[int, int, int, int]] = {}
        self.level = 0
        self.distinct = self.generated = 0
        self.depth = 0
        self.stopped = COMPLETE
        self.queued = 0
        self.next_report = self.start + progress_every
        self.last_checkpoint = time.monotonic()
        self.checkpoint_note: str | None = None
        self.seconds_before = 0.0
        self.initial_generated = 0
        self.levels_started = False  # a checkpoint is written only from a sound state
        self.paths: dict[str, Path] | None = None
        self.traffic: dict[str, int] | None = None  # what travelled between Ray workers

    # -- set-up ------------------------------------------------------------------
    def _folder(self) -> str:
        place = self.place
        if place.checkpoint:
            os.makedirs(place.checkpoint, exist_ok=True)
            return place.checkpoint
        base = place.workdir
        if base is not None and not os.path.isdir(base):
            raise OSError(f"--workdir {base}: no such folder")
        return tempfile.mkdtemp(prefix="bftcheck-search-", dir=base)

    def _host(self, me: int) -> Any:
        per_worker = None if self.limits.max_memory is None else \
            self.baseline + (self.limits.max_memory - self.baseline) // self.n
        host = _workers.WorkerHost(self.model, self.props, me, self.n, self.folder,
                                   frontier_share(self.limits.max_memory), per_worker,
                                   self._why_stop)
        host.total_memory = self.limits.max_memory
        if self.reduction.symmetry is not None:
            host.reduce_by(self.reduction.symmetry)
        return host

    def _why_stop(self) -> str | None:
        reason = stop.requested()
        if reason:
            return reason
        if self.limits.max_seconds is not None and \
                time.perf_counter() - self.start >= self.limits.max_seconds:
            return f"time limit of {self.limits.max_seconds:g} s reached"
        return None

    def run(self) -> Result:
        self.folder = self._folder()
        self.transport = None
        with stop.on_abort(self._abort):
            return self._run()

    def _abort(self) -> None:
        """A second interrupt ends the process at once: no worker outlives it,
        and a temporary work folder goes with it."""
        if self.transport is not None and hasattr(self.transport, "kill"):
            self.transport.kill()
        if not self.place.checkpoint:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self) -> Result:
        try:
            if self.place.ray is not None:
                self.transport = self._ray_workers()
                self.start = time.perf_counter()  # the search's time, not the cluster's start
                self.next_report = self.start + self.report_every
            elif self.n == 1:
                self.transport: Any = _workers.InProcess(self._host(0))
                self.transport.hosts[0].progress = self._tick
            else:
                self.transport = _workers.Processes(self._host, self.n, self._why_stop,
                                                    self._tick_processes)
            try:
                self._resume() if self.place.resume else self._level_zero()
                self.levels_started = True
                self._levels()
            except _workers.Stopped as exc:
                self._wind_up(exc.reason)
            except _workers.WorkerLost as exc:
                self.stopped = str(exc)
            except MemoryError:
                self._wind_up("out of memory (an allocation failed)")
            finally:
                if self.transport is not None:
                    self._wind_down()
            return self._result()
        finally:
            if not self.place.checkpoint:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _ray_workers(self) -> Any:
        """The workers as Ray actors (checker/ray_workers.py), each rebuilding
        the model from the run's recipe on its node."""
        from bftcheck import recipe
        from bftcheck.checker import ray_workers

        max_memory = self.limits.max_memory
        run = dict(recipe.portable(self.place.run or recipe.of(self.model, self.props)),
                   properties=[p.name for p in self.props])
        probe = None
        if self.place.checkpoint:
            probe = f".ray-probe-{uuid.uuid4().hex[:12]}"
            open(os.path.join(self.folder, probe), "w").close()
        spec = ray_workers.HostSpec(
            run=run, workers=self.n, shared_folder=self.place.checkpoint,
            workdir=self.place.workdir, share=frontier_share(max_memory),
            memory_share=None if max_memory is None else (max_memory - self.baseline) // self.n,
            total_memory=max_memory, symmetry=self.reduction.symmetry,
            build=recipe.build_id(), initial_states=recipe.initial_states_digest(self.model),
            probe=probe)
        try:
            return ray_workers.RayWorkers(spec, self.place.ray, self._why_stop,
                                          self._tick_processes)
        finally:
            if probe is not None:
                os.remove(os.path.join(self.folder, probe))

    def _wind_down(self) -> None:
        """Before the workers go: the traces of what was found (a lost worker's
        records may be gone with it: what they would prove stays unknown), the
        memory, what travelled between workers."""
        try:
            if self.paths is None:
                self.paths = self._paths()
            self.memory = self._memory()
            if hasattr(self.transport, "traffic"):
                try:
                    self.traffic = self.transport.traffic()
                except Exception:  # noqa: BLE001 - a lost worker: no totals
                    self.traffic = None
        finally:
            self.transport.close()

    # -- levels ------------------------------------------------------------------
    def _level_zero(self) -> None:
        from bftcheck.checker._search_c import fingerprint, owner_of

        inits = self.model.init_states()
        if not inits:
            raise ValueError("the model has no initial state")
        if self.reduction.symmetry is not None:
            canonical = compiled_canonical(self.reduction.symmetry, len(inits[0])).canonical
            inits = [canonical(s) for s in inits]
        firsts: dict[int, int] = {}
        for k, s in enumerate(inits):
            firsts.setdefault(fingerprint(s), k)
        shares: list[list[tuple[int, bytes]]] = [[] for _ in range(self.n)]
        ranks: list[list[int]] = [[] for _ in range(self.n)]
        for rank, (fp, k) in enumerate(firsts.items()):
            owner = owner_of(fp, self.n)
            shares[owner].append((k, inits[k]))
            ranks[owner].append(rank)
        self.transport.call("begin", [(0, share) for share in shares])
        if self.n > 1:
            self.transport.call("set_initial_ranks", [(r,) for r in ranks])
        self.distinct = len(firsts)
        self.initial_generated = self.generated = len(inits)
        self._gather_found(self._found_of_hosts())

    def _found_of_hosts(self) -> list[dict[int, tuple[int, int, int, int]]]:
        return self.transport.call("found_events")

    def _gather_found(self, events: list[dict[int, tuple[int, int, int, int]]]) -> None:
        for per_host in events:
            for j, event in per_host.items():
                if j not in self.found or event[0] < self.found[j][0]:
                    self.found[j] = tuple(event)

    def _pending(self) -> set[int]:
        return {j for j in range(len(self.props)) if j not in self.found}

    def _watch_mask(self) -> int:
        return sum(1 << j for j in self._pending())

    def _levels(self) -> None:
        limits = self.limits
        always = {j for j, p in enumerate(self.props) if p.kind == "always"}
        while True:
            level_size = self.level_size = self._level_size()
            first_found = limits.stop_at_first_violation and always & self.found.keys()
            if not self._pending() or first_found:
                self.queued = level_size
                return
            if level_size == 0:
                self.queued = 0
                return
            if limits.max_depth is not None and self.level >= limits.max_depth:
                # a level boundary: the checkpoint, if any, continues from here
                self.stopped, self.depth, self.queued = depth_limit(limits), self.level, level_size
                if self.place.checkpoint:
                    self._checkpoint_or_say_why()
                return
            stops = (limits.stop_at_first_violation,
                     limits.max_states if limits.max_states is not None else -1)
            self.transport.call("start_level", [(self.level, self._watch_mask(), stops)] * self.n)
            self.depth = self.level
            pending_before = self._pending()
            answers = self.transport.call("expand_level", stoppable=True)
            if self.n > 1:
                answers = self._merge(answers)
            if self._finish_level(answers, level_size, pending_before, always):
                if self.stopped != COMPLETE and self.place.checkpoint:
                    # a state limit: the answer is this moment's (its traces are read
                    # now, before the level is undone); a resume redoes the level
                    self.paths = self._paths()
                    self.transport.call("rollback")
                    self._checkpoint_or_say_why()
                return
            self.transport.call("advance")
            self.level += 1
            self._maybe_checkpoint()

    def _level_size(self) -> int:
        return sum(self.transport.call("level_count"))

    def _merge(self, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inboxes = [[a["outboxes"][owner] for a in answers] for owner in range(self.n)]
        merged = self.transport.call("merge", [(box,) for box in inboxes], stoppable=True)
        self.transport.call("rank_next")
        return merged

    def _finish_level(self, answers: list[dict[str, Any]], level_size: int,
                      pending_before: set[int], always: set[int]) -> bool:
        """Take in a level's answers; True if the search stops here."""
        before_distinct = self.distinct
        before_generated = self.generated
        self.distinct = sum(a["owned"] for a in answers)
        self.generated = self.initial_generated + sum(a["generated"] for a in answers)
        self._gather_found([a["found"] for a in answers])
        if self.n == 1:
            a = answers[0]
            if a["status"] in ("decided", "state limit"):
                if a["status"] == "state limit":
                    self.stopped = f"state limit of {self.limits.max_states} reached"
                self.queued = (level_size - a["position"]) + a["next"]
                return True
            return False
        return self._stop_within_level(level_size, pending_before, always, before_distinct,
                                       before_generated, answers)

    def _stop_within_level(self, level_size: int, pending_before: set[int], always: set[int],
                           before_distinct: int, before_generated: int,
                           answers: list[dict[str, Any]]) -> bool:
        """Several workers expand a whole level; where would the one-worker loop
        have stopped inside it? Then the counts and findings of that moment."""
        limits = self.limits
        new_here = {j: self.found[j][0] // ACTIONS for j in pending_before if j in self.found}
        decided_at = None
        if new_here and set(new_here) == pending_before:
            decided_at = max(new_here.values())
        if limits.stop_at_first_violation:
            firsts = [r for j, r in new_here.items() if j in always]
            if firsts:
                decided_at = min(firsts) if decided_at is None else min(decided_at, min(firsts))
        limit_at = None
        if limits.max_states is not None and self.distinct >= limits.max_states:
            limit_at = self._first_rank_reaching(limits.max_states - before_distinct,
                                                 level_size)
        if decided_at is None and limit_at is None:
            return False
        at = limit_at if limit_at is not None and (decided_at is None or limit_at <= decided_at) \
            else decided_at
        if at == limit_at:
            self.stopped = f"state limit of {limits.max_states} reached"
        succ, new = self._upto(at)
        self.queued = (level_size - at - 1) + new
        self.distinct = before_distinct + new
        self.generated = before_generated + succ
        for j in list(self.found):
            if j in pending_before and self.found[j][0] // ACTIONS > at:
                del self.found[j]
        return True

    def _upto(self, rank: int) -> tuple[int, int]:
        parts = self.transport.call("expanded_upto", [(rank,)] * self.n)
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def _first_rank_reaching(self, wanted_new: int, level_size: int) -> int:
        """The first rank after whose expansion `wanted_new` states are new."""
        lo, hi = 0, level_size - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self._upto(mid)[1] >= wanted_new:
                hi = mid
            else:
                lo = mid + 1
        return lo

    # -- progress, interrupts, checkpoints ------------------------------------------
    def _tick(self) -> None:
        now = time.perf_counter()
        if self.report is None or now < self.next_report:
            return
        self.next_report = now + self.report_every
        w = self.transport.hosts[0].worker
        self.report({"generated": self.initial_generated + w.generated, "distinct": w.owned,
                     "queued": w.current.count - w.position + w.upcoming.count,
                     "depth": self.level, "elapsed": now - self.start + self.seconds_before})

    def _tick_processes(self, counters: Sequence[int]) -> None:
        now = time.perf_counter()
        if self.report is None or now < self.next_report:
            return
        self.next_report = now + self.report_every
        owned = sum(counters[0::3])
        left = getattr(self, "level_size", 0) - sum(counters[2::3])  # of this level
        self.report({"generated": self.initial_generated + sum(counters[1::3]),
                     "distinct": max(owned, self.distinct), "queued": max(left, 0),
                     "depth": self.level,
                     "elapsed": now - self.start + self.seconds_before})

    def _wind_up(self, reason: str) -> None:
        """End a stopped search; a worker lost meanwhile is said too."""
        try:
            self._interrupted(reason)
        except _workers.WorkerLost as exc:
            self.stopped = f"{reason}; then {exc}"

    def _interrupted(self, reason: str) -> None:
        """A level did not finish. With a checkpoint folder, the level is undone
        and the checkpoint written at its start, for a resume to redo it; else
        the result is what the search knew when it stopped (a violation found
        is real: its state and path are on disk)."""
        self.stopped = reason
        if hasattr(self.transport, "resume_after_stop"):
            self.transport.resume_after_stop()
        if self.place.checkpoint and self.levels_started:
            self.transport.call("rollback")
            self.found = {}
            self.depth = max(self.level - 1, 0)
        self.transport.call("flush")
        self._gather_found(self._found_of_hosts())
        counters = self.transport.call("counters")
        self.distinct = sum(c["owned"] for c in counters)
        self.generated = self.initial_generated + sum(c["generated"] for c in counters)
        self.queued = max(1, self._level_size())
        if self.place.checkpoint and self.levels_started:
            self._checkpoint_or_say_why()

    def _checkpoint_or_say_why(self) -> None:
        """Write the checkpoint of an ended search; if that fails (a full disk),
        the search still ends with its answer, and the output says why there
        is no checkpoint."""
        try:
            self._write_checkpoint()
        except (OSError, MemoryError) as exc:
            self.checkpoint_note = f"not written ({exc})"

    def _maybe_checkpoint(self) -> None:
        if self.place.checkpoint and \
                time.monotonic() - self.last_checkpoint >= self.place.checkpoint_every:
            self._write_checkpoint()

    def _write_checkpoint(self) -> None:
        """Checkpoint the hosts as they stand, at the start of level `level`
        (a level boundary, or a level rolled back)."""
        # a fresh name each time: the files of the checkpoint in force are never
        # overwritten (a second checkpoint at the same level, after a resume)
        tag = f"{self.level}-{uuid.uuid4().hex[:8]}"
        parts = self.transport.call("save", [(tag,)] * self.n)
        found: dict[int, tuple[int, int, int, int]] = {}
        for part in parts:
            for j, event in part["found"].items():
                if int(j) not in found or event[0] < found[int(j)][0]:
                    found[int(j)] = tuple(event)
        search = {"level": self.level, "distinct": sum(p["owned"] for p in parts),
                  "initial_generated": self.initial_generated,
                  "seconds": time.perf_counter() - self.start + self.seconds_before,
                  "found": {str(j): list(e) for j, e in found.items()}}
        checkpoint.write(self.folder, identity(self.model, self.props, self.n, self.reduction),
                         self.place.run or {}, search, parts)
        self.last_checkpoint = time.monotonic()
        self.checkpoint_note = (f"written at level {self.level} to {self.folder}; continue "
                                f"with: bftcheck check --resume {self.folder}")

    def _resume(self) -> None:
        manifest = self.place.manifest or checkpoint.read(self.folder)
        checkpoint.check_identity(self.folder, manifest,
                                  identity(self.model, self.props, self.n, self.reduction))
        self.transport.call("load", [(part,) for part in manifest["workers"]])
        s = manifest["search"]
        self.level, self.distinct = s["level"], s["distinct"]
        self.initial_generated = s["initial_generated"]
        self.seconds_before = s["seconds"]
        self.found = {int(j): tuple(e) for j, e in s["found"].items()}
        counters = self.transport.call("counters")
        self.generated = self.initial_generated + sum(c["generated"] for c in counters)
        self.depth = max(self.level - 1, 0)

    def _memory(self) -> tuple[float, float]:
        """(peak RSS in MiB, bytes above the start): the coordinator's, plus
        what each worker process grew by (a forked worker's start is the
        coordinator's memory, shared with it) or, for a Ray actor, its whole
        peak (its own process from the start)."""
        peak = float(peak_bytes())
        above = max(0.0, peak - self.baseline)
        ray = self.place.ray is not None
        if self.n > 1 or ray:  # workers in their own processes
            try:
                for worker_peak, start in self.transport.call("memory"):
                    peak += worker_peak if ray else max(0, worker_peak - start)
                    above += max(0, worker_peak - start)
            except Exception:  # noqa: BLE001 - a lost worker: report what is known
                pass
        return peak / 2**20, above

    # -- the answer ------------------------------------------------------------------
    def _path_to(self, ref: int) -> Path:
        steps = []
        logs: dict[int, Any] = {}

        def record_of(me: int, local: int) -> bytes:
            if hasattr(self.transport, "parent_record"):  # Ray: on the worker's node
                return self.transport.parent_record(me, local)
            if me not in logs:
                logs[me] = open(os.path.join(self.folder, f"parents-w{me}.log"), "rb")
            logs[me].seek(local * PARENT_RECORD)
            return logs[me].read(PARENT_RECORD)

        try:
            while True:
                me, local = ref % self.n, ref // self.n
                record = record_of(me, local)
                if len(record) != PARENT_RECORD:
                    raise RuntimeError(f"the parent log of worker {me} has no record "
                                       f"{local}: the search's files were changed under it")
                parent = int.from_bytes(record[:8], "little", signed=True)
                action = int.from_bytes(record[8:], "little")
                if parent < 0:
                    steps.reverse()
                    return Path(action, steps)
                steps.append(action)
                ref = parent
        finally:
            for f in logs.values():
                f.close()

    def _paths(self) -> dict[str, Path]:
        """The path to each property found, from the parent logs. A path a lost
        worker held cannot be read: that finding is dropped (its verdict stays
        unknown; the search is incomplete anyway)."""
        paths = {}
        for j, (_key, ref, step, _depth) in sorted(self.found.items()):
            try:
                path = self._path_to(ref)
            except _workers.WorkerLost:
                del self.found[j]
                continue
            if step >= 0:
                path.steps.append(step)
            paths[self.props[j].name] = path
        return paths

    def _result(self) -> Result:
        paths = self.paths if self.paths is not None else self._paths()
        found_at = {self.props[j].name: event[3] for j, event in sorted(self.found.items())}
        complete = self.queued == 0 and self.stopped == COMPLETE
        if not complete and self.stopped == COMPLETE:
            self.stopped = DECIDED
        verdicts = _verdicts(self.props, paths, complete, complete)
        peak, above = getattr(self, "memory", (peak_bytes() / 2**20, 0.0))
        seconds = time.perf_counter() - self.start + self.seconds_before
        return Result(
            engine="check", verdicts=verdicts, complete=complete,
            distinct_states=self.distinct, generated_states=self.generated, depth=self.depth,
            seconds=seconds, peak_rss_mib=peak,
            collision_probability=collision_probability(self.distinct), compiled_core=True,
            compiled_rules=getattr(self.model, "native", None) is not None,
            stopped=self.stopped, paths=paths, found_at=found_at, workers=self.n,
            bytes_per_state=above / self.distinct if self.distinct else 0.0,
            search_engine="compiled" if self.place.ray is None else "compiled, on Ray",
            checkpoint=self.checkpoint_note, traffic=getattr(self, "traffic", None))


NO_LIMITS, ONE_WORKER = Limits(), Placement()


def check(model: Model, properties: Sequence[Property], limits: Limits = NO_LIMITS,
          progress: Progress | None = None, progress_every: float = 1.0,
          place: Placement = ONE_WORKER, reduction: Reduction = NONE,
          latency: str | None = None) -> Result:
    """Explore every reachable state (within limits) and check `properties` on
    the compiled engine; graph properties, or a build without it, run on the
    reference loop (the result's `search_engine` says which ran, and why).
    With a reduction, the counts are the reduced graph's and every path is a
    real run of the model (symmetry.real_path)."""
    if reduction.symmetry is not None and any(p.kind == "liveness" for p in properties):
        raise ValueError("symmetry reduction is unsound for liveness properties "
                         "(checker/symmetry.py); choose the reduction with reduction.choose")
    why = reason_for_reference(properties)
    canonical = None if reduction.symmetry is None else \
        canonical_function(reduction.symmetry, len(model.init_states()[0]))
    if why is not None:
        from bftcheck.checker import bfs

        if place.resume or place.checkpoint or place.ray:
            from bftcheck.inputs import InputError

            what = "--ray" if place.ray else "--checkpoint and --resume"
            raise InputError(f"{what} need{'s' if place.ray else ''} the compiled engine, and "
                             f"this check runs on the reference loop: {why}")
        result = bfs.check(model, properties, limits, progress, progress_every, canonical,
                           latency)
        result.search_engine = f"reference loop ({why})"
    else:
        result = Search(model, properties, limits, place, progress, progress_every,
                        reduction).run()
    result.reductions = reduction.summary()
    if canonical is not None:
        steps = {p.name: p for p in properties if p.scope == "step"}
        result.paths = {name: real_path(model, canonical, path, steps.get(name))
                        for name, path in result.paths.items()}
    return result
