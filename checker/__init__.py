"""Engines that know nothing about Tendermint: they see only the model interface."""
