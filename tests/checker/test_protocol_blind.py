"""The engine layer knows no protocol: imported alone, in a fresh interpreter,
the search, graph checks, solver drivers and trace formats load no module of
the Tendermint model, its configuration, the TLA+ twin or the fuzzing machine
(DESIGN: the engines see a model only through checker/interface.py)."""

from __future__ import annotations

import json
import subprocess
import sys

ENGINE_MODULES = ["bftcheck.checker.interface", "bftcheck.checker.bfs",
                  "bftcheck.checker.graph", "bftcheck.checker.smt", "bftcheck.checker.result",
                  "bftcheck.checker.core", "bftcheck.stop", "bftcheck.memory",
                  # the compiled search, its workers and checkpoints
                  "bftcheck.checker.search", "bftcheck.checker.workers",
                  "bftcheck.checker.checkpoint", "bftcheck.checker._search_c",
                  "bftcheck.checker.ray_workers", "bftcheck.recipe",
                  # the trace formats, and how a model is loaded by reference
                  "bftcheck.trace", "bftcheck.itf", "bftcheck.html", "bftcheck.replay",
                  "bftcheck.sequence", "bftcheck.junit",
                  "bftcheck.plugins", "bftcheck.inputs", "bftcheck.outputs"]
PROTOCOL_PACKAGES = ("bftcheck.model", "bftcheck.model.config", "bftcheck.spec", "bftcheck.fuzz",
                     "bftcheck.presets", "bftcheck.cli")


def test_the_engine_layer_loads_no_protocol_module():
    script = (f"import json, sys\n"
              f"for name in {ENGINE_MODULES!r}:\n"
              f"    __import__(name)\n"
              f"print(json.dumps(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    loaded = json.loads(proc.stdout)
    assert set(ENGINE_MODULES) <= set(loaded)
    protocol = [m for m in loaded if m.startswith(PROTOCOL_PACKAGES)]
    assert protocol == []


def test_the_protocol_side_re_exports_the_interface_it_implements():
    from bftcheck.checker import interface
    from bftcheck.model import Action, Model, Property

    assert (Action, Model, Property) == (interface.Action, interface.Model, interface.Property)
