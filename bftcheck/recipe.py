"""A run's recipe: the plain data that rebuilds its model and properties in
another process — a resumed checkpoint, or a Ray worker on another machine.

A recipe is a dict, stored as JSON in a checkpoint's manifest:
`model` (a plug-in reference, or None for Tendermint), `config` (the
configuration as `to_dict` gives it), `properties` (names, in order), and
what the command line adds (`explicit`, `reduce`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bftcheck.checker.interface import Model, Property

SOURCES = (".py", ".pyx", ".pxi", ".h", ".tla")  # what build_id hashes


def of(model: Model, properties: Sequence[Property]) -> dict[str, Any]:
    """The recipe of a model built in this process (a plug-in's keeps its
    reference, see plugins.build)."""
    cfg = getattr(model, "cfg", None)
    if cfg is None or not hasattr(cfg, "to_dict"):
        raise ValueError(f"{type(model).__name__} has no cfg with to_dict(): it cannot be "
                         f"rebuilt in another process")
    return {"model": getattr(model, "reference", None), "config": cfg.to_dict(),
            "properties": [p.name for p in properties]}


def portable(run: dict[str, Any]) -> dict[str, Any]:
    """The recipe with a plug-in file named by its absolute path, for a
    process whose working folder may be another (a Ray worker)."""
    where, sep, attribute = (run.get("model") or "").rpartition(":")
    if sep and where.endswith(".py") and os.path.isfile(where):
        return dict(run, model=f"{os.path.abspath(where)}:{attribute}")
    return run


def rebuild(run: dict[str, Any], source: str) -> tuple[Model, Any]:
    """(model, configuration) of a recipe; ValueError (or a plug-in's error)
    naming `source` when it does not describe a model."""
    from bftcheck import plugins

    if run.get("model"):
        plugin = plugins.load(run["model"])
        cfg = plugins.configure(plugin, run["config"], source)
        return plugins.build(plugin, run["model"], cfg), cfg
    from bftcheck.model import TendermintModel
    from bftcheck.model.config import Config

    cfg = Config.from_dict(run["config"], source)
    return TendermintModel(cfg), cfg


def properties(model: Model, names: Sequence[str]) -> list[Property]:
    """The model's properties of these names, in this order."""
    catalogue = {p.name: p for p in model.properties()}
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        raise ValueError(f"the model has no property {unknown[0]!r}")
    return [catalogue[n] for n in names]


def initial_states_digest(model: Model) -> str:
    """A hash of the model's initial states: two processes that built the same
    model from one recipe agree on it (checkpoints, Ray workers)."""
    return hashlib.sha256(b"".join(model.init_states())).hexdigest()


@functools.cache
def build_id() -> str:
    """bftcheck's version and a hash of its sources (Python, Cython, C headers,
    the TLA+ twin): two installs with equal ids explore the same state graph.
    Sources, not binaries: the same sources compiled on two machines give
    other bytes and the same semantics."""
    from bftcheck import __version__

    digest = hashlib.sha256()
    for package in ("bftcheck", "bftcheck.checker", "bftcheck.model", "bftcheck.fuzz",
                    "bftcheck.spec"):
        # where the package is, without running it (fuzz would load Hypothesis)
        folder = Path(importlib.util.find_spec(package).submodule_search_locations[0])
        for path in sorted(folder.iterdir()):
            if path.suffix in SOURCES and path.is_file():
                digest.update(f"{package}/{path.name}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{__version__}+{digest.hexdigest()[:12]}"
