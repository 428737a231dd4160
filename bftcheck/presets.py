"""Named configurations. `bftcheck list presets` prints this table."""

from __future__ import annotations

from bftcheck.model.config import Config, ConfigError

DEFAULT_PRESET = "n4-f1"

PRESETS: dict[str, tuple[Config, str]] = {
    "n4-f0": (Config(powers=(1, 1, 1, 1), byzantine=0, byz_budget=0, heights=1, rounds=2,
                     values=2, name="n4-f0"),
              "4 correct validators, 2 rounds, 2 values: safe"),
    "n4-f1": (Config(powers=(1, 1, 1, 1), byzantine=1, byz_budget=2, heights=1, rounds=2,
                     values=2, name="n4-f1"),
              "3 correct + 1 Byzantine (budget 2), 2 rounds, 2 values: safe (f < n/3)"),
    "n4-f2": (Config(powers=(1, 1, 1, 1), byzantine=2, byz_budget=8, heights=1, rounds=2,
                     values=2, name="n4-f2"),
              "2 correct + 2 Byzantine (budget 8), 2 rounds, 2 values: a fork, "
              "and Accountability holds"),
    "n3-f0": (Config(powers=(1, 1, 1), byzantine=0, byz_budget=0, heights=2, rounds=2,
                     values=2, name="n3-f0"),
              "3 correct validators, 2 heights, 2 rounds, 2 values: safe"),
    "weighted": (Config(powers=(4, 1, 1, 1), byzantine=1, byz_budget=2, heights=1, rounds=2,
                        values=2, name="weighted"),
                 "powers 4,1,1,1 with the last Byzantine: safe (1/7 of the power)"),
    "n4-split": (Config(powers=(1, 1, 1, 1), byzantine=0, byz_budget=0, heights=2, rounds=1,
                        values=1, partitions=("halves", "isolate-one"), max_partitions=2,
                        name="n4-split"),
                 "4 correct validators, 2 heights, one split (halves or isolate-one) and "
                 "its heal: safe and recovers"),
    "n4-f1-split": (Config(powers=(1, 1, 1, 1), byzantine=1, byz_budget=2, heights=2, rounds=1,
                           values=1, partitions=("halves", "isolate-one"), max_partitions=2,
                           name="n4-f1-split"),
                    "3 correct + 1 Byzantine (budget 2), 2 heights, one split and its heal: "
                    "safe and recovers"),
    "n7-f2-split": (Config(powers=(1,) * 7, byzantine=2, byz_budget=2, heights=1, rounds=1,
                           values=1, partitions=("majority-minority",), max_partitions=2,
                           name="n7-f2-split"),
                    "5 correct + 2 Byzantine, a majority/minority split and its heal: the "
                    "partition benchmark"),
    "bench": (
        Config(powers=(1, 1, 1, 1, 1), byzantine=1, byz_budget=2, heights=1, rounds=2,
               values=2, name="bench"),
        "5 validators with 1 Byzantine (budget 2), 2 rounds, 2 values: the benchmark "
        "configuration (about 6 million states)",
    ),
}


def preset(name: str) -> Config:
    try:
        return PRESETS[name][0]
    except KeyError:
        raise ConfigError(
            f"unknown preset {name!r}: choose one of {', '.join(PRESETS)} "
            f"(see 'bftcheck list presets')"
        ) from None
