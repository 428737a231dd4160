"""Ray actors as the search's workers: the transport that spans machines.

The algorithm is the one of checker/search.py and checker/workers.py: each
worker owns the states whose fingerprints hash to it, expands its share of a
level in C, and the owners merge what they were sent, level by level. Only
the carrying differs from local worker processes:

- a worker is a Ray actor (`HostActor`) that rebuilds the model from the
  run's recipe (bftcheck/recipe.py) on its node, after checking that the
  node runs the same bftcheck build and that the model it built has the same
  initial states;
- the successors a worker sends to another travel as packed Ray objects
  (its outbox file, cut into pieces of at most PIECE bytes, each one
  `ray.put`), fetched by their owner straight from the sender's node: the
  coordinator passes references only;
- the next level's keys (for the one-worker ranks) travel the same way, and
  a trace is rebuilt by asking each owner for its parent records;
- each worker keeps its disk files on its own node (a temporary folder
  under --workdir), except with --checkpoint, whose folder every node must
  share (it is checked).

A worker that dies ends the search as INCOMPLETE ("worker N lost"), never
with a verdict; bad addresses, missing installs and mismatched versions are
one line, exit 2 (RayUnavailable).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bftcheck import recipe, stop
from bftcheck.checker.workers import Stopped, WorkerLost
from bftcheck.inputs import InputError

PIECE = 32 << 20       # bytes per Ray object a batch of successors travels in
START_TIMEOUT = 120.0  # seconds for the cluster to start every worker
PROBE_TIMEOUT = 5.0    # seconds to reach a cluster's address before ray.init


# where a worker's time goes, summed over the workers: expanding its share of
# levels, packing and putting its batches, fetching what it was sent, merging
# (and ranking) the next level, the rest of the calls
PHASES = ("expand", "send", "fetch", "merge", "other")
TIMED = {"expand_level": "expand", "send": "send", "fetch": "fetch", "merge": "merge",
         "rank_next": "merge"}


class RayUnavailable(InputError):
    """Ray cannot run this search (not installed, an unreachable address, a
    node without bftcheck or with another build); one line, exit 2."""


# -- the build every node must run ----------------------------------------------
# -- the cluster ------------------------------------------------------------------
def connect(address: str) -> None:
    """Join the cluster at `address`, or with "auto" start a local Ray of this
    run's own (even if another runs here: join that one by its address).
    The process stays joined, for the next search (Ray leaves the cluster,
    and stops a local one, when the process ends)."""
    if address != "auto":
        _probe(address)
        _offer_token()  # before Ray is imported: it reads the mode once
    ray = _ray()
    if ray.is_initialized():
        return
    try:
        with _quiet_stderr(), stop.handlers_kept():
            ray.init(address="local" if address == "auto" else address,
                     include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayUnavailable(f"--ray {address}: cannot join the Ray cluster ({first}); a "
                             f"cluster with token authentication needs its token here "
                             f"(RAY_AUTH_TOKEN, or ~/.ray/auth_token); or start one with "
                             f"'ray start --head', or use --ray auto") from None
    _quiet_worker_deaths()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Ray's core writes its retries to the process's stderr (a rejected
    token: a warning a second for 20 s) before ray.init gives up; the failure
    is said in one line instead, and the retries stay in Ray's own logs."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _offer_token() -> None:
    """Ray (2.5x and later) starts local clusters with token authentication,
    and sends the token to a cluster it finds by itself, but not to one named
    by its address: a bftcheck given that address would be turned away by
    the cluster it was told to join. So with a token on this machine, and no
    RAY_AUTH_MODE chosen, it is sent (a cluster without authentication
    ignores it)."""
    if "RAY_AUTH_MODE" in os.environ:
        return
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.expanduser("~/.ray/auth_token")
    if os.environ.get("RAY_AUTH_TOKEN") or os.path.isfile(path):
        os.environ["RAY_AUTH_MODE"] = "token"


def cluster_cpus() -> int:
    """The CPUs of the cluster this process has joined."""
    return max(1, int(_ray().cluster_resources().get("CPU", 1)))


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--ray needs Ray: pip install 'bftcheck[ray]'") from None
    return ray


def _probe(address: str) -> None:
    """Refuse an address nothing answers at, in seconds (ray.init would retry
    for minutes)."""
    where = address.removeprefix("ray://")
    host, sep, port = where.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise RayUnavailable(f"--ray {address}: not HOST:PORT (the address 'ray start --head' "
                             f"prints) or auto")
    fix = "start one with 'ray start --head' and give the address it prints, or use --ray auto"
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT) as conn:
            # Ray's head speaks gRPC, so HTTP/2: it answers a client preface with
            # a SETTINGS frame (type 4); anything else is not a Ray cluster
            conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
            answer = b""
            while len(answer) < 9:
                more = conn.recv(9 - len(answer))
                if not more:
                    break
                answer += more
    except OSError as exc:
        raise RayUnavailable(f"--ray {address}: no Ray cluster answers there "
                             f"({exc.strerror or exc}); {fix}") from None
    if len(answer) < 9 or answer[3] != 4:
        raise RayUnavailable(f"--ray {address}: something answers there, but not a Ray "
                             f"cluster; {fix}")


def _quiet_worker_deaths() -> None:
    """A lost worker is reported once, as the search's INCOMPLETE reason. Ray's
    driver prints its own multi-line notice about it on stdout, where it would
    break the output (and --json): the notices from the raylet go to Ray's
    logger instead. Ray has no switch for this; its printer is looked up
    when a notice arrives, so wrapping the module's function is enough."""
    import logging

    try:
        from ray._private import worker
    except ImportError:  # another Ray layout: its notices stay as they are
        return
    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None or getattr(printer, "bftcheck_quiet", False):
        return
    log = logging.getLogger("ray")

    def quiet(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        if data.get("pid") == "raylet":
            for line in data.get("lines", ()):
                log.debug("%s", line)
            return
        printer(data, *args, **kwargs)

    quiet.bftcheck_quiet = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = quiet


# -- one worker -------------------------------------------------------------------
@dataclass(frozen=True)
class HostSpec:
    """What every Ray worker needs to build its share of the search."""

    run: dict[str, Any]             # the recipe (bftcheck/recipe.py)
    workers: int
    shared_folder: str | None       # the checkpoint folder (every node sees it), or None
    workdir: str | None             # where a worker's own temporary folder goes
    share: int                      # RAM a level spool holds before it spills
    memory_share: int | None        # bytes above its start a worker may use
    total_memory: int | None        # the whole --max-memory, for messages
    symmetry: Any                   # the reduction's group, or None
    build: str                      # recipe.build_id() of the coordinator
    initial_states: str             # sha256 of the model's initial states
    probe: str | None               # a file the coordinator made in shared_folder


class HostActor:
    """A Ray actor around one WorkerHost (checker/workers.py). Calls arrive
    one at a time, except `progress` and `request_stop`, which run beside a
    level's expansion (the actor has two threads)."""

    def __init__(self, spec: HostSpec, me: int) -> None:
        self.spec, self.me = spec, me
        self.host: Any = None
        self.stop = threading.Event()
        self.own_folder: str | None = None
        self.traffic = {"sent_records": 0, "sent_bytes": 0, "kept_records": 0, "batches": 0,
                        **{f"{phase}_ms": 0 for phase in PHASES}}

    def start(self) -> tuple[str, Any]:
        """Build the worker; ("ok", facts about this node) or ("refused"/"error", why)."""
        spec = self.spec
        facts = {"node": _node(), "pid": os.getpid(), "build": recipe.build_id()}
        if facts["build"] != spec.build:
            return "refused", (f"Ray node {facts['node']} runs bftcheck {facts['build']}, this "
                               f"machine {spec.build}: install the same bftcheck build on "
                               f"every node")
        try:
            folder = self._folder()
            if folder is None:
                return "refused", (f"--checkpoint {spec.shared_folder}: Ray node "
                                   f"{facts['node']} does not see this folder; give a folder "
                                   f"every node shares (a network file system)")
            self.host = self._build(folder)
        except Stopped as exc:
            return "error", exc
        except BaseException as exc:  # noqa: BLE001 - reported to the coordinator
            return "error", exc
        return "ok", facts

    def _folder(self) -> str | None:
        spec = self.spec
        if spec.shared_folder is not None:
            seen = spec.probe is None or os.path.exists(os.path.join(spec.shared_folder,
                                                                     spec.probe))
            return spec.shared_folder if seen else None
        if spec.workdir is not None and not os.path.isdir(spec.workdir):
            raise RayUnavailable(f"--workdir {spec.workdir}: no such folder on Ray node {_node()}; "
                             f"create it on every node")
        self.own_folder = tempfile.mkdtemp(prefix=f"bftcheck-ray-w{self.me}-", dir=spec.workdir)
        return self.own_folder

    def _build(self, folder: str) -> Any:
        from bftcheck.checker.workers import WorkerHost
        from bftcheck.memory import rss_bytes

        spec = self.spec
        model, _cfg = recipe.rebuild(spec.run, "the Ray run")
        if recipe.initial_states_digest(model) != spec.initial_states:
            raise RayUnavailable(f"Ray node {_node()} builds another model from the same "
                             f"configuration (its initial states differ): install the same "
                             f"bftcheck and model files on every node")
        props = recipe.properties(model, spec.run["properties"])
        budget = None if spec.memory_share is None else rss_bytes() + spec.memory_share
        host = WorkerHost(model, props, self.me, spec.workers, folder, spec.share, budget,
                          lambda: "stop requested" if self.stop.is_set() else None)
        host.total_memory = spec.total_memory
        if spec.symmetry is not None:
            host.reduce_by(spec.symmetry)
        return host

    def call(self, method: str, args: tuple[Any, ...]) -> tuple[str, Any]:
        """Run one WorkerHost call; (kind, value) as local worker processes answer."""
        import ray

        try:
            if method == "merge":
                args = (self._timed("fetch", self._fetch_inboxes, args[0]),)
            if method == "rank_next":
                args = (self._timed("fetch", self._fetch_keys, args[0]),)
            value = self._timed(method, getattr(self.host, method), *args)
            if method == "expand_level" and "outboxes" in value:
                value["outboxes"] = self._timed("send", self._send, value["outboxes"])
            if method == "merge":
                value["keys"] = ray.put(self.host.worker.next_keys())
            return "ok", value
        except Stopped as exc:
            return "stopped", exc.reason
        except ray.exceptions.ObjectLostError as exc:
            return "lost", f"the successors another worker sent are gone ({type(exc).__name__})"
        except BaseException as exc:  # noqa: BLE001 - reported to the coordinator
            return "error", exc

    def _timed(self, phase: str, work: Callable[..., Any], *args: Any) -> Any:
        """Run `work`, adding its seconds to the phase's (what limits a run)."""
        key = f"{TIMED.get(phase, 'other')}_ms"
        started = time.perf_counter()
        try:
            return work(*args)
        finally:
            self.traffic[key] += int((time.perf_counter() - started) * 1000)

    def _send(self, outboxes: list[tuple[str, int]]) -> list[tuple[str, Any, int]]:
        """Each outbox as packed Ray objects; the one to this worker stays a file."""
        import ray

        sent = []
        record = (os.path.getsize(outboxes[0][0]) // outboxes[0][1]) if outboxes[0][1] else 0
        for owner, (path, count) in enumerate(outboxes):
            if owner == self.me:
                sent.append(("file", path, count))
                self.traffic["kept_records"] += count
                continue
            pieces = []
            step = max(1, PIECE // record) * record if record else PIECE
            with open(path, "rb") as f:
                while piece := f.read(step):
                    pieces.append(ray.put(piece))
                    self.traffic["sent_bytes"] += len(piece)
            os.remove(path)
            self.traffic["sent_records"] += count
            self.traffic["batches"] += len(pieces)
            sent.append(("ray", pieces, count))
        return sent

    def _fetch_inboxes(self, boxes: list[tuple[str, Any, int]]) -> list[tuple[str, int]]:
        """What the senders put, as files in this worker's folder (the merge reads files)."""
        import ray

        inboxes = []
        for sender, (kind, where, count) in enumerate(boxes):
            if kind == "file":
                inboxes.append((where, count))
                continue
            path = f"{self.host.workdir}/in-w{sender}-to{self.me}.bin"
            with open(path, "wb") as f:
                for piece in where:
                    f.write(ray.get(piece))
            inboxes.append((path, count))
        return inboxes

    def _fetch_keys(self, refs: list[Any]) -> list[bytes | None]:
        import ray

        return [None if ref is None else ray.get(ref) for ref in refs]

    def progress(self) -> tuple[int, int, int]:
        w = self.host.worker if self.host is not None else None
        return (w.owned, w.generated, w.position) if w is not None else (0, 0, 0)

    def request_stop(self) -> None:
        self.stop.set()

    def clear_stop(self) -> None:
        self.stop.clear()

    def pid(self) -> int:
        return os.getpid()

    def traffic_counts(self) -> dict[str, int]:
        return dict(self.traffic)

    def close(self) -> None:
        if self.host is not None:
            self.host.close()
        if self.own_folder is not None:
            shutil.rmtree(self.own_folder, ignore_errors=True)


def _node() -> str:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - a name for messages only
        return socket.gethostname()


# -- the transport the coordinator uses ------------------------------------------------
class RayWorkers:
    """The search's workers as Ray actors (the interface of workers.Processes)."""

    def __init__(self, spec: HostSpec, address: str, should_stop: Callable[[], str | None],
                 tick: Callable[[Sequence[int]], None]) -> None:
        connect(address)
        ray = _ray()
        self.ray, self.should_stop, self.tick = ray, should_stop, tick
        self.address = address
        self.winding_up = False
        n = spec.workers
        self.counters = [0] * (3 * n)
        self.progress_refs: list[Any] | None = None
        self.next_poll = 0.0
        self.keys: list[Any] = [None] * n
        cpus = min(1.0, cluster_cpus() / n)
        actor = ray.remote(HostActor)
        self.actors = [actor.options(num_cpus=cpus, max_concurrency=2, max_restarts=0,
                                     max_task_retries=0, scheduling_strategy="SPREAD")
                       .remote(spec, me) for me in range(n)]
        self.pids: list[int] = []
        self.nodes: list[str] = []
        try:
            self._start(n)
        except BaseException:
            self._end_actors()
            raise

    def _start(self, n: int) -> None:
        refs = [a.start.remote() for a in self.actors]
        ready, _ = self.ray.wait(refs, num_returns=n, timeout=START_TIMEOUT)
        if len(ready) < n:
            raise RayUnavailable(f"--ray {self.address}: the cluster did not start {n} workers "
                                 f"within {START_TIMEOUT:.0f} s ({cluster_cpus()} CPUs); ask "
                                 f"for fewer with --workers, or add nodes")
        for me, ref in enumerate(refs):
            try:
                kind, value = self.ray.get(ref)
            except self.ray.exceptions.RayActorError as exc:
                raise RayUnavailable(f"--ray {self.address}: worker {me} could not start on "
                                     f"its node ({_cause(exc)}); install the same bftcheck "
                                     f"(pip install 'bftcheck[ray]') on every node") from None
            if kind == "refused":
                raise RayUnavailable(value)
            if kind == "error":
                raise value
            self.pids.append(value["pid"])
            self.nodes.append(value["node"])

    def call(self, method: str, args: Sequence[tuple[Any, ...]] | None = None,
             stoppable: bool = False) -> list[Any]:
        """Call `method` on every worker at once; their answers in order. Only a
        stoppable call is cut short by a stop request (as workers.Processes)."""
        n = len(self.actors)
        if method == "rank_next":
            args = [([None if o == me else self.keys[o] for o in range(n)],) for me in range(n)]
        refs = [a.call.remote(method, tuple(args[me]) if args else ())
                for me, a in enumerate(self.actors)]
        answers = self._answers(refs, stoppable)
        if method == "merge":
            self.keys = [a.pop("keys") for a in answers]
        return answers

    def _answers(self, refs: list[Any], stoppable: bool) -> list[Any]:
        ray = self.ray
        answers: list[Any] = [None] * len(refs)
        pending = {ref: me for me, ref in enumerate(refs)}
        stopped = None
        error: BaseException | None = None
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.2)
            self._poll_progress()
            why = self.should_stop() if stoppable and not self.winding_up else None
            if why and stopped is None:
                stopped = why
                for a in self.actors:
                    a.request_stop.remote()
            for ref in ready:
                me = pending.pop(ref)
                try:
                    kind, value = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    self._stop_all()
                    raise self._lost(me, exc) from None
                if kind == "lost":
                    self._stop_all()
                    raise WorkerLost(f"a worker was lost ({value}, reported by worker {me})")
                if kind == "error":
                    self._stop_all()
                    error = error or value
                if kind == "stopped":
                    self._stop_all()
                    stopped = stopped or value
                answers[me] = value
        if error is not None:
            raise error
        if stopped:
            raise Stopped(stopped)
        return answers

    def _stop_all(self) -> None:
        for a in self.actors:
            try:
                a.request_stop.remote()
            except Exception:  # noqa: BLE001 - a dead actor: nothing to stop
                pass

    def _poll_progress(self) -> None:
        """Every second, the workers' counters (asked beside their work)."""
        now = time.monotonic()
        if now < self.next_poll:
            return
        self.next_poll = now + 1.0
        if self.progress_refs is not None:
            ready, _ = self.ray.wait(self.progress_refs, num_returns=len(self.progress_refs),
                                     timeout=0)
            if len(ready) == len(self.progress_refs):
                try:
                    for me, counts in enumerate(self.ray.get(self.progress_refs)):
                        self.counters[3 * me: 3 * me + 3] = counts
                except self.ray.exceptions.RayActorError:
                    pass  # the next answer says which worker is lost
                self.progress_refs = None
        if self.progress_refs is None:
            self.progress_refs = [a.progress.remote() for a in self.actors]
        self.tick(self.counters)

    def parent_record(self, me: int, local: int) -> bytes:
        kind, value = self._one(me, "parent_record", local)
        return value

    def _one(self, me: int, method: str, *args: Any) -> tuple[str, Any]:
        try:
            kind, value = self.ray.get(self.actors[me].call.remote(method, args))
        except self.ray.exceptions.RayActorError as exc:
            raise self._lost(me, exc) from None
        if kind == "error":
            raise value
        return kind, value

    def _lost(self, me: int, exc: BaseException) -> WorkerLost:
        node = f" on {self.nodes[me]}" if me < len(self.nodes) else ""
        return WorkerLost(f"worker {me} lost (its Ray actor{node} died: {_cause(exc)})")

    def traffic(self) -> dict[str, int]:
        """Successors sent to other workers and kept, summed over the workers."""
        total: dict[str, int] = {}
        for counts in self.ray.get([a.traffic_counts.remote() for a in self.actors]):
            for k, v in counts.items():
                total[k] = total.get(k, 0) + v
        return total

    def resume_after_stop(self) -> None:
        self.winding_up = True
        self.ray.get([a.clear_stop.remote() for a in self.actors])

    def _end_actors(self) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # noqa: BLE001 - already gone
                pass

    def kill(self) -> None:
        """End every worker at once (a second interrupt: the process ends too,
        and a local Ray with it)."""
        self._end_actors()
        self.ray.shutdown()

    def close(self) -> None:
        try:
            self.ray.wait([a.close.remote() for a in self.actors],
                          num_returns=len(self.actors), timeout=10)
        finally:
            self._end_actors()


def _cause(exc: BaseException) -> str:
    """The last informative line of a Ray error, for a one-line message."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "Error" in ln and not ln.startswith("File "):
            return ln[:200]
    line = lines[0] if lines else type(exc).__name__
    return line[:1].lower() + line[1:200].rstrip(".")
