"""The search on a real local Ray cluster (started by `ray start --head` for
this module, no mocks): the same counts, verdicts, depths and traces as the
local engine on 1, 2 and 4 workers; a fork found on Ray replays; a killed
worker ends INCOMPLETE (or resumes from its checkpoint to the whole answer);
bad addresses, other builds and folders a node cannot see are one line,
exit 2. All of it runs on one xdist worker: one cluster at a time."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bftcheck.checker import bfs, search
from bftcheck.checker.bfs import Limits
from bftcheck.checker.reduction import NONE, choose
from bftcheck.model import TendermintModel
from bftcheck.model.config import Config
from bftcheck.model.mutants import MUTANTS
from bftcheck.presets import preset

# The cluster of this module runs without token authentication (the test
# with a token starts its own); set before Ray is imported, which reads it once.
os.environ["RAY_AUTH_MODE"] = "disabled"
ray = pytest.importorskip("ray")
ray_workers = pytest.importorskip("bftcheck.checker.ray_workers")

pytestmark = [pytest.mark.skipif(not search.available(), reason="compiled engine not built"),
              pytest.mark.xdist_group("ray")]

CLI = [sys.executable, "-m", "bftcheck.cli"]
ROOT = Path(__file__).resolve().parents[2]
# Ray's command, beside this Python (a venv's bin need not be on PATH)
RAY = str(Path(sys.executable).with_name("ray")) \
    if Path(sys.executable).with_name("ray").exists() else "ray"


def _free_port(first: int = 26400) -> int:
    # above Ray's default worker ports (10002-19999), which the head reserves
    for port in range(first, 26500):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port")


@pytest.fixture(scope="module")
def cluster():
    """A local Ray head with 4 CPUs, ended (with its processes) after the module."""
    head, address = _start_head(os.environ)
    try:
        ray_workers.connect(address)
        yield address
    finally:
        ray.shutdown()
        _end_head(head)


def _start_head(env, cpus: int = 4, attempts: int = 3) -> tuple[subprocess.Popen, str]:
    """A head on a free port; a head that exits while starting (seen in CI: its
    GCS found the port taken, or another local Ray was running) is started
    again on another port, a few seconds later."""
    for attempt in range(attempts):
        try:
            return _start_head_once(env, cpus, first_port=26400 + 20 * attempt)
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")


def _start_head_once(env, cpus: int, first_port: int) -> tuple[subprocess.Popen, str]:
    port = _free_port(first_port)
    log = tempfile.TemporaryFile()  # a file, not a pipe: the head runs for the module
    head = subprocess.Popen(
        [RAY, "start", "--head", "--block", f"--port={port}", f"--num-cpus={cpus}",
         "--include-dashboard=false", "--disable-usage-stats",
         f"--object-store-memory={400 * 2**20}"],
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True, env=env)
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            ray_workers._probe(address)
            return head, address
        except ray_workers.RayUnavailable:
            if time.monotonic() > deadline or head.poll() is not None:
                ended = head.poll() is not None
                _end_head(head)
                log.seek(0)
                said = log.read().decode(errors="replace")[-2000:] if ended else "(timed out)"
                raise RuntimeError(f"the Ray head did not start: {said}") from None
            time.sleep(0.5)


def _end_head(head: subprocess.Popen) -> None:
    """The head and every process it started (its own process group), which
    may have ended already (a head that failed to start)."""
    try:
        os.killpg(head.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    head.wait(60)


def safety(model):
    return [p for p in model.properties() if p.kind not in bfs.GRAPH_KINDS]


def answer(result) -> tuple:
    return (result.distinct_states, result.generated_states, result.depth, result.verdicts,
            result.found_at, result.paths, result.complete, result.stopped)


def on_ray(model, props, address, workers, limits=search.NO_LIMITS, reduction=NONE):
    result = search.check(model, props, limits, reduction=reduction,
                          place=search.Placement(workers=workers, ray=address))
    assert result.search_engine == "compiled, on Ray"
    assert result.workers == workers
    return result


def local(model, props, limits=search.NO_LIMITS, reduction=NONE):
    return search.check(model, props, limits, reduction=reduction)


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("name", ["n4-f1", "n4-f2", "weighted", "n4-f1-split"])
def test_presets_on_ray_equal_the_local_engine(cluster, name, workers):
    m = TendermintModel(preset(name))
    props = safety(m)
    mine = on_ray(m, props, cluster, workers)
    assert answer(mine) == answer(local(m, props))
    if name == "n4-f1":
        assert mine.distinct_states == 400_526 and mine.complete
    traffic = mine.traffic
    assert traffic["expand_ms"] > 0
    if workers == 1:  # nothing to send: no outboxes
        assert [traffic[k] for k in ("sent_records", "sent_bytes", "kept_records", "batches",
                                     "send_ms", "fetch_ms")] == [0] * 6
    else:  # every successor went to its owner, this worker or another
        sent = traffic["sent_records"] + traffic["kept_records"]
        assert sent == mine.generated_states - len(m.init_states())
        assert 0 < traffic["sent_records"] < sent and traffic["batches"] > 0


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_every_variant_on_ray_equals_the_local_engine(cluster, mutant):
    m = TendermintModel(Config(**MUTANTS[mutant].catch, mutant=mutant))
    props = safety(m)
    limits = Limits(max_states=150_000)
    assert answer(on_ray(m, props, cluster, 2, limits)) == answer(local(m, props, limits))


@pytest.mark.parametrize("limits, chosen", [
    (Limits(stop_at_first_violation=True), None),
    (Limits(max_states=54_321), None),
    (Limits(max_depth=6), None),
])
def test_early_stops_on_ray_equal_the_local_engine(cluster, limits, chosen):
    m = TendermintModel(preset("n4-f2"))
    props = [p for p in safety(m) if chosen is None or p.name in chosen]
    assert answer(on_ray(m, props, cluster, 4, limits)) == answer(local(m, props, limits))


def test_symmetry_reduction_on_ray_equals_the_local_engine(cluster):
    m = TendermintModel(preset("n4-f2"))
    props = safety(m)
    reduction = choose(m, props, None)
    assert reduction.used == ["symmetry"]
    mine = on_ray(m, props, cluster, 2, reduction=reduction)
    assert answer(mine) == answer(local(m, props, reduction=reduction))
    assert mine.reductions["used"] == ["symmetry"]


def test_the_example_plugin_on_ray(cluster, monkeypatch):
    from bftcheck import plugins

    monkeypatch.chdir(ROOT)
    reference = "examples/bracha.py:PLUGIN"  # relative: the workers get its absolute path
    plugin = plugins.load(reference)
    cfg = plugins.configure(plugin, {}, "the test")
    m = plugins.build(plugin, reference, cfg)
    props = safety(m)
    assert answer(on_ray(m, props, cluster, 2)) == answer(local(m, props))


def _cli(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=timeout)


def test_ray_auto_gives_the_local_counts_and_verdicts():
    """The issue's check: a local Ray of the run's own, 2 workers."""
    mine = _cli("check", "--preset", "n4-f1", "--ray", "auto", "--workers", "2",
                "--reduce", "none", "--json", "--quiet")
    theirs = _cli("check", "--preset", "n4-f1", "--reduce", "none", "--json", "--quiet")
    assert mine.returncode == theirs.returncode == 0, mine.stderr
    a, b = json.loads(mine.stdout), json.loads(theirs.stdout)
    assert a["distinct_states"] == b["distinct_states"] == 400_526
    assert a["generated_states"] == b["generated_states"]
    assert a["verdicts"] == b["verdicts"] and a["found_at_depth"] == b["found_at_depth"]
    assert a["search_engine"] == "compiled, on Ray" and a["workers"] == 2


def test_the_fork_found_on_ray_replays(cluster, tmp_path):
    trace = tmp_path / "fork.itf.json"
    found = _cli("check", "--preset", "n4-f2", "--ray", cluster, "--quiet", "--trace-out",
                 str(trace))
    assert found.returncode == 1, found.stderr
    assert "engine: compiled search, on Ray, 4 workers" in found.stdout
    assert "  agreement              violated (depth 7)" in found.stdout
    replayed = _cli("replay", str(trace))
    assert replayed.returncode == 1, replayed.stderr
    assert "result: violation confirmed (the trace claims agreement) (exit 1)" \
        in replayed.stdout


def _actor_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "ray::HostActor"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def _kill_a_worker_once_searching(proc: subprocess.Popen, progress_lines: int) -> None:
    """Wait for the search's progress lines, then kill one Ray worker process."""
    seen = 0
    deadline = time.monotonic() + 120
    while seen < progress_lines:
        line = proc.stderr.readline()
        assert line and time.monotonic() < deadline, "the search did not start"
        seen += "distinct" in line
    pids = _actor_pids()
    assert pids, "no Ray worker process found"
    os.kill(pids[0], signal.SIGKILL)


def test_a_killed_worker_ends_incomplete(cluster):
    proc = subprocess.Popen(
        [*CLI, "check", "--preset", "n4-f1", "--rounds", "3", "--reduce", "none", "--ray",
         cluster, "--workers", "2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _kill_a_worker_once_searching(proc, 2)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    summary = json.loads(out)  # nothing of Ray's on stdout
    assert " lost (its Ray actor on " in summary["stopped"]
    assert not summary["complete"]
    assert set(summary["verdicts"].values()) == {"unknown"}
    assert "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_search_on_ray_with_its_summary(cluster, sig):
    """ray.init installs its own SIGTERM handlers (exit 1, a crash report):
    bftcheck keeps its own, so a signal is a stop request as without Ray."""
    proc = subprocess.Popen(
        [*CLI, "check", "--preset", "n4-f1", "--rounds", "3", "--reduce", "none", "--ray",
         cluster, "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while "distinct" not in proc.stderr.readline():
        assert time.monotonic() < deadline and proc.poll() is None, "the search did not start"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert f"search: INCOMPLETE (interrupted ({sig.name}))" in out
    assert "result: no violation found, but the search is incomplete (exit 3)" in out
    assert "SIGTERM received" not in err and "Traceback" not in err


def test_a_killed_worker_resumes_from_its_checkpoint(cluster, tmp_path):
    folder = tmp_path / "ck"
    proc = subprocess.Popen(
        [*CLI, "check", "--preset", "bench", "--reduce", "none", "--ray", cluster,
         "--workers", "2", "--checkpoint", str(folder), "--checkpoint-every", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _kill_a_worker_once_searching(proc, 3)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert "INCOMPLETE (worker " in out and "lost" in out
    assert f"continue with: bftcheck check --resume {folder}" in out
    resumed = _cli("check", "--resume", str(folder), "--ray", cluster, "--quiet", "--json")
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["distinct_states"] == 6_317_338 and summary["complete"]


def test_unreachable_and_foreign_addresses_are_refused_at_once(cluster, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    silent = socket.socket()  # takes connections and says nothing
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    web = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    cases = {
        f"127.0.0.1:{port}": "no Ray cluster answers there (Connection refused)",
        "not-an-address": "not HOST:PORT",
        f"127.0.0.1:{silent.getsockname()[1]}": "no Ray cluster answers there (timed out)",
        f"127.0.0.1:{web.server_address[1]}": "something answers there, but not a Ray cluster",
    }
    try:
        for address, needle in cases.items():
            started = time.monotonic()
            proc = _cli("check", "--preset", "n4-f1", "--ray", address, timeout=60)
            assert proc.returncode == 2, (address, proc.stderr)
            assert needle in proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            assert time.monotonic() - started < 30
    finally:
        silent.close()
        web.shutdown()


def test_graph_properties_are_refused_on_ray(cluster):
    proc = _cli("check", "--preset", "n4-f1-split", "--property", "recovery", "--ray", cluster)
    assert proc.returncode == 2
    assert "--ray runs the compiled search on Ray workers, and this check runs on the " \
           "reference loop: graph properties (recovery)" in proc.stderr


def test_the_python_api_refuses_graph_properties_on_ray(cluster):
    from bftcheck.inputs import InputError

    m = TendermintModel(preset("n4-f1-split"))
    recovery = [p for p in m.properties() if p.name == "recovery"]
    with pytest.raises(InputError, match="--ray needs the compiled engine, and this check "
                       "runs on the reference loop: graph properties"):
        search.check(m, recovery, place=search.Placement(workers=2, ray=cluster))


def _spec(model, props, **changes):
    import dataclasses

    from bftcheck import recipe

    spec = ray_workers.HostSpec(
        run=recipe.of(model, props), workers=2, shared_folder=None, workdir=None,
        share=1 << 20, memory_share=None, total_memory=None, symmetry=None,
        build=recipe.build_id(), initial_states=recipe.initial_states_digest(model), probe=None)
    return dataclasses.replace(spec, **changes)


def _start(spec, cluster):
    return ray_workers.RayWorkers(spec, cluster, lambda: None, lambda counters: None)


def test_another_build_on_a_node_is_refused(cluster):
    m = TendermintModel(preset("n4-f1"))
    with pytest.raises(ray_workers.RayUnavailable, match="runs bftcheck .* this machine "
                       "0.0.0\\+000000000000: install the same bftcheck build on every node"):
        _start(_spec(m, safety(m), build="0.0.0+000000000000"), cluster)


def test_another_model_on_a_node_is_refused(cluster):
    m = TendermintModel(preset("n4-f1"))
    with pytest.raises(ray_workers.RayUnavailable, match="builds another model"):
        _start(_spec(m, safety(m), initial_states="0" * 64), cluster)


def test_a_checkpoint_folder_a_node_cannot_see_is_refused(cluster, tmp_path):
    m = TendermintModel(preset("n4-f1"))
    with pytest.raises(ray_workers.RayUnavailable, match="does not see this folder"):
        _start(_spec(m, safety(m), shared_folder=str(tmp_path), probe="missing"), cluster)


def test_the_memory_limit_holds_per_worker(cluster):
    # 66 million states: each worker's table alone passes its share of 900M
    proc = _cli("check", "--preset", "n4-f1", "--rounds", "3", "--reduce", "none", "--ray",
                cluster, "--workers", "2", "--max-memory", "900M", "--quiet")
    assert proc.returncode == 3, proc.stderr
    assert "INCOMPLETE (memory limit of 900.0 MiB reached: worker " in proc.stdout
    assert "Traceback" not in proc.stderr


def test_workers_default_to_the_clusters_cpus(cluster):
    proc = _cli("check", "--preset", "n4-f2", "--ray", cluster, "--quiet")
    assert proc.returncode == 1
    assert "engine: compiled search, on Ray, 4 workers" in proc.stdout


@pytest.mark.skipif(shutil.which("pgrep") is None, reason="needs pgrep")
def test_no_worker_outlives_a_search(cluster):
    proc = _cli("check", "--preset", "n4-f1", "--ray", cluster, "--workers", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + 30
    while _actor_pids() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _actor_pids() == []


def test_a_node_without_bftcheck_is_refused(tmp_path):
    """A cluster whose workers import another `bftcheck` (a package of that
    name without the engine: as good as none) refuses the run in one line."""
    fake = tmp_path / "site" / "bftcheck"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    head, address = _start_head(env, cpus=2)
    try:
        # from a folder without the sources: Ray puts the driver's folder on
        # its workers' path
        proc = subprocess.run([*CLI, "check", "--preset", "n4-f1", "--ray", address,
                               "--workers", "2"], capture_output=True, text=True,
                              timeout=300, cwd=tmp_path)
    finally:
        _end_head(head)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "could not start on its node" in proc.stderr
    assert "install the same bftcheck (pip install 'bftcheck[ray]') on every node" \
        in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_a_cluster_with_token_authentication(tmp_path):
    """Ray turns away a driver without the cluster's token; bftcheck sends the
    token this machine has when it joins by address, and without one says
    what is missing in one line."""
    import uuid

    token = tmp_path / "auth_token"
    token.write_text(uuid.uuid4().hex + uuid.uuid4().hex)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    head, address = _start_head({**env, "RAY_AUTH_MODE": "token",
                                 "RAY_AUTH_TOKEN_PATH": str(token)}, cpus=2)
    try:
        joined = subprocess.run(
            [*CLI, "check", "--preset", "n4-f2", "--ray", address, "--quiet"],
            capture_output=True, text=True, timeout=300,
            env={**env, "RAY_AUTH_TOKEN_PATH": str(token)})
        assert joined.returncode == 1, joined.stderr
        assert "engine: compiled search, on Ray, 2 workers" in joined.stdout
        turned_away = subprocess.run(
            [*CLI, "check", "--preset", "n4-f2", "--ray", address, "--quiet"],
            capture_output=True, text=True, timeout=300,
            env={**env, "HOME": str(tmp_path / "home"),
                 "RAY_AUTH_TOKEN_PATH": str(tmp_path / "none")})
        assert turned_away.returncode == 2
        assert turned_away.stderr.count("\n") == 1, turned_away.stderr
        assert "cannot join the Ray cluster" in turned_away.stderr
        assert "needs its token here" in turned_away.stderr
    finally:
        _end_head(head)
