"""A run's recipe: the plain data that rebuilds its model and properties in
another process — a resumed checkpoint, or a Ray worker on another machine.

A recipe is a dict, stored as JSON in a checkpoint's manifest:
`model` (a plug-in reference, or None for Tendermint), `config` (the
configuration as `to_dict` gives it), `properties` (names, in order), and
what the command line adds (`explicit`, `reduce`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from bftcheck.checker.interface import Model, Property


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
