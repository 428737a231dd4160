"""The Tendermint protocol model: state, Algorithm 1 rules, Byzantine senders,
properties and mutants. No I/O and no engine code live here."""

from bftcheck.checker.interface import Action, Model, Property
from bftcheck.model.mutants import MUTANTS, Mutant
from bftcheck.model.tendermint import TendermintModel

__all__ = ["Action", "Model", "Property", "MUTANTS", "Mutant", "TendermintModel"]
