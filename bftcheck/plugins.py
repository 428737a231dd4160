"""Loading a protocol model by reference: `module:attribute` (a module on the
path or in the current directory) or `path/to/file.py:attribute`. The
attribute is a `Plugin` (checker/interface.py). Protocol-free: Tendermint is
loaded this way too, as the default."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from bftcheck.checker.interface import Model, Plugin
from bftcheck.inputs import InputError, shown

TENDERMINT = "bftcheck.model.plugin:TENDERMINT"


class PluginError(InputError):
    """A --model reference that does not name a usable model; one line."""


def load(reference: str) -> Plugin:
    """The Plugin that `reference` names; PluginError with the fix if it cannot."""
    where, sep, attribute = reference.rpartition(":")
    if not sep or not where or not attribute.isidentifier():
        raise PluginError(f"--model {shown(reference)} is not MODULE:ATTRIBUTE or "
                          f"FILE.py:ATTRIBUTE: pass e.g. --model examples/bracha.py:PLUGIN")
    module = _module(where, reference)
    plugin = getattr(module, attribute, None)
    if plugin is None:
        raise PluginError(f"--model {reference}: {where} has no attribute {attribute!r}: name "
                          f"the object that has configure() and build()")
    missing = [name for name in ("name", "variants", "configure", "build")
               if not hasattr(plugin, name)]
    if missing:
        raise PluginError(f"--model {reference}: {attribute} is not a bftcheck model plug-in "
                          f"(it has no {missing[0]!r}; see checker/interface.py, Plugin)")
    return plugin


def _module(where: str, reference: str) -> Any:
    try:
        if where.endswith(".py") or "/" in where:
            path = Path(where)
            if not path.is_file():
                raise PluginError(f"--model {reference}: {where} is not a file: check the path")
            spec = importlib.util.spec_from_file_location(f"bftcheck_model_{path.stem}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            return module
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, "")  # as `python -m` does: modules of the current directory
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        raise PluginError(f"--model {reference}: no module {exc.name!r}: check the name, or "
                          f"give the file, e.g. --model path/to/model.py:PLUGIN") from None
    except SyntaxError as exc:
        raise PluginError(f"--model {reference}: {exc.filename}, line {exc.lineno}: "
                          f"{exc.msg}: fix the model's source") from None


def configure(plugin: Plugin, settings: dict[str, Any], source: str) -> Any:
    """The plug-in's configuration for `settings`; PluginError (one line) if refused.
    A variant the plug-in does not declare is refused here, for every plug-in:
    one that ignored the setting would check its real protocol instead."""
    variant = settings.get("variant")
    if variant is not None and variant not in plugin.variants:
        raise PluginError(f"{source}: {plugin.name} has no variant {shown(variant)}: choose "
                          f"from {', '.join(plugin.variants) or 'none (it declares no variants)'}")
    try:
        return plugin.configure(settings, source)
    except InputError:
        raise
    except ValueError as exc:
        raise PluginError(str(exc).splitlines()[0] if str(exc) else
                          f"{source}: the settings were refused by {plugin.name}") from None


def build(plugin: Plugin, reference: str, config: Any) -> Model:
    """The model for `config`, marked with its reference so that its trace
    files name the model that replays them."""
    model = plugin.build(config)
    if reference != TENDERMINT:
        model.reference = reference  # type: ignore[attr-defined]
    return model
