"""Tendermint as a `Plugin` (checker/interface.py): how a trace file's
`#meta.config` becomes a validated Config and a model. The CLI builds
Tendermint's Config from its own flags (bftcheck/cli_common.py); this is the
path that protocol-free code (ITF reading, `--model`) takes."""

from __future__ import annotations

from typing import Any

from bftcheck.model.config import Config, Origin
from bftcheck.model.mutants import MUTANTS
from bftcheck.model.tendermint import TendermintModel


class TendermintPlugin:
    name = "tendermint"

    @property
    def variants(self) -> dict[str, str]:
        return {m.name: m.breaks for m in MUTANTS.values()}

    def configure(self, settings: dict[str, Any], source: str) -> Config:
        return Config.from_dict(settings, source=source).validated(
            Origin.of_keys(source, settings))

    def build(self, config: Config) -> TendermintModel:
        return TendermintModel(config)


TENDERMINT = TendermintPlugin()
