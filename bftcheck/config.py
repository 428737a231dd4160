"""The configuration every engine runs on: validators, faults, bounds, mutant.

A `Config` is built from a preset, a TOML file or command-line numbers, and is
validated once, here, so engines can trust it. Invalid input raises
`ConfigError` with a one-line message that names the problem and the fix.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

# Bounds that keep the compact byte encoding valid (every field fits in a byte,
# every Byzantine vote mask in a byte).
MAX_VALIDATORS = 32
MAX_HEIGHTS = 8
MAX_ROUNDS = 8
MAX_VALUES = 5
MAX_POWER = 1_000_000


class ConfigError(ValueError):
    """Bad user input; the message is one line: what is wrong and how to fix it."""


@dataclass(frozen=True)
class Config:
    """A checkable configuration of the protocol.

    `powers[i]` is the voting power of validator p{i+1}; the last `byzantine`
    validators are Byzantine. `byz_budget` bounds how many distinct Byzantine
    messages correct validators may act on in one run.
    """

    powers: tuple[int, ...] = (1, 1, 1, 1)
    byzantine: int = 0
    byz_budget: int = 0
    heights: int = 1
    rounds: int = 2
    values: int = 2
    # Network faults (model/network.py): named split patterns, explicit splits
    # (each a tuple of components, each a tuple of validator indices), and how
    # many split/heal events one run may contain.
    partitions: tuple[str, ...] = ()
    components: tuple[tuple[tuple[int, ...], ...], ...] = ()
    max_partitions: int = 0
    mutant: str | None = None
    name: str = "custom"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def n(self) -> int:
        return len(self.powers)

    @property
    def total_power(self) -> int:
        return sum(self.powers)

    @property
    def byzantine_power(self) -> int:
        return sum(self.powers[self.n - self.byzantine :])

    def validated(self) -> Config:
        """Return self if every field is usable, else raise ConfigError."""
        from bftcheck.model.mutants import MUTANTS

        if self.n < 1:
            raise ConfigError("validators must be at least 1: pass --validators N with N >= 1")
        if self.n > MAX_VALIDATORS:
            raise ConfigError(
                f"{self.n} validators is more than the supported {MAX_VALIDATORS}: "
                f"pass --validators N with N <= {MAX_VALIDATORS}"
            )
        for i, p in enumerate(self.powers):
            if not isinstance(p, int) or isinstance(p, bool) or p < 1 or p > MAX_POWER:
                raise ConfigError(
                    f"voting power of p{i + 1} is {p!r}: every power must be a whole number "
                    f"from 1 to {MAX_POWER} (e.g. --powers 4,1,1,1)"
                )
        if not 0 <= self.byzantine <= self.n:
            raise ConfigError(
                f"--byzantine {self.byzantine} does not fit {self.n} validators: "
                f"pass a number from 0 to {self.n}"
            )
        if self.byzantine == self.n:
            raise ConfigError(
                f"all {self.n} validators are Byzantine, so there is nothing to check: "
                f"pass --byzantine K with K < {self.n}"
            )
        if self.byz_budget < 0 or self.byz_budget > 255:
            raise ConfigError(f"--byz-budget {self.byz_budget} is out of range: pass 0 to 255")
        if not 1 <= self.heights <= MAX_HEIGHTS:
            raise ConfigError(f"--heights {self.heights} is out of range: pass 1 to {MAX_HEIGHTS}")
        if not 1 <= self.rounds <= MAX_ROUNDS:
            raise ConfigError(f"--rounds {self.rounds} is out of range: pass 1 to {MAX_ROUNDS}")
        if not 1 <= self.values <= MAX_VALUES:
            raise ConfigError(f"--values {self.values} is out of range: pass 1 to {MAX_VALUES}")
        self._validate_network()
        if self.mutant is not None and self.mutant not in MUTANTS:
            raise ConfigError(
                f"unknown mutant {self.mutant!r}: choose one of {', '.join(sorted(MUTANTS))} "
                f"(see 'bftcheck list mutants')"
            )
        return self

    def _validate_network(self) -> None:
        from bftcheck.model.network import MAX_NETWORK_VALIDATORS, MAX_SPLITS, PATTERNS, splits_of

        for name in self.partitions:
            if name not in PATTERNS:
                raise ConfigError(
                    f"unknown partition pattern {name!r}: choose from {', '.join(PATTERNS)} "
                    f"(see 'bftcheck list partitions')"
                )
        for k, split in enumerate(self.components):
            where = f"explicit split {k + 1}"
            if len(split) < 2:
                raise ConfigError(f"{where} has {len(split)} component: give at least two")
            covered: set[int] = set()
            for comp in split:
                if not comp:
                    raise ConfigError(f"{where} has an empty component: remove it")
                for i in comp:
                    if not 0 <= i < self.n:
                        raise ConfigError(
                            f"{where} names validator p{i + 1}, but there are only {self.n}: "
                            f"use p1..p{self.n}"
                        )
                covered.update(comp)
            if covered != set(range(self.n)):
                missing = min(set(range(self.n)) - covered)
                raise ConfigError(
                    f"{where} leaves out p{missing + 1}: every validator must be in a component"
                )
            if len(set(split)) < 2 or any(len(set(c)) == self.n for c in split):
                raise ConfigError(
                    f"{where} does not split anything (a component holds every validator, or "
                    f"the components are equal): give components that cut some links"
                )
        if not 0 <= self.max_partitions <= 16:
            raise ConfigError(
                f"--max-partitions {self.max_partitions} is out of range: pass 0 to 16"
            )
        has_splits = bool(self.partitions or self.components)
        if self.max_partitions and not has_splits:
            raise ConfigError(
                "--max-partitions needs split patterns: pass --partitions PATTERN[,PATTERN] "
                "or 'components' in the config file"
            )
        if has_splits and self.max_partitions == 0:
            raise ConfigError(
                "partition patterns are given but --max-partitions is 0: pass "
                "--max-partitions E with E >= 1 (2 is one split and its heal)"
            )
        if has_splits and self.n > MAX_NETWORK_VALIDATORS:
            raise ConfigError(
                f"partitions support at most {MAX_NETWORK_VALIDATORS} validators, not "
                f"{self.n}: use fewer validators or drop --partitions"
            )
        if has_splits:
            count = len(splits_of(self.n, self.partitions, self.components))
            if count == 0:
                raise ConfigError(
                    f"the partition patterns give no split of {self.n} validators: use more "
                    f"validators or other patterns"
                )
            if count > MAX_SPLITS:
                raise ConfigError(
                    f"the partition patterns give {count} splits, more than {MAX_SPLITS}: use "
                    f"fewer patterns or validators"
                )

    @property
    def partitioned(self) -> bool:
        return bool(self.max_partitions and (self.partitions or self.components))

    def with_changes(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        d["powers"] = list(self.powers)
        d["partitions"] = list(self.partitions)
        d["components"] = [[[f"p{i + 1}" for i in c] for c in split]
                           for split in self.components]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> Config:
        """Build a Config from a plain mapping (TOML table or ITF #meta)."""
        known = {
            "powers",
            "validators",
            "byzantine",
            "byz_budget",
            "heights",
            "rounds",
            "values",
            "mutant",
            "name",
            "partitions",
            "components",
            "max_partitions",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key {unknown[0]!r}: allowed keys are {', '.join(sorted(known))}"
            )
        kwargs: dict[str, Any] = {}
        if "powers" in data and "validators" in data:
            raise ConfigError(f"{source}: give either 'powers' or 'validators', not both")
        if "powers" in data:
            powers = data["powers"]
            if not isinstance(powers, list) or not powers:
                raise ConfigError(f"{source}: 'powers' must be a non-empty list of whole numbers")
            kwargs["powers"] = tuple(powers)
        if "validators" in data:
            n = _whole(data["validators"], "validators", source)
            if n < 1:
                raise ConfigError(f"{source}: validators must be at least 1")
            kwargs["powers"] = (1,) * min(n, MAX_VALIDATORS + 1)
        for key in ("byzantine", "byz_budget", "heights", "rounds", "values", "max_partitions"):
            if key in data:
                kwargs[key] = _whole(data[key], key, source)
        if "mutant" in data:
            m = data["mutant"]
            if m is not None and not isinstance(m, str):
                raise ConfigError(f"{source}: 'mutant' must be a mutant name string")
            kwargs["mutant"] = m
        if "name" in data:
            kwargs["name"] = str(data["name"])
        if "partitions" in data:
            pats = data["partitions"]
            if not isinstance(pats, list) or not all(isinstance(x, str) for x in pats):
                raise ConfigError(
                    f"{source}: 'partitions' must be a list of pattern names, "
                    f"e.g. [\"halves\", \"isolate-one\"]")
            kwargs["partitions"] = tuple(pats)
        if "components" in data:
            kwargs["components"] = _components(data["components"], source)
        return cls(**kwargs)


def _components(data: Any, source: str) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Explicit splits: a list of splits, each a list of components, each a list
    of validator names ("p1", "p2", ...)."""
    shape = (f"{source}: 'components' must be a list of splits, each a list of "
             f"components of validator names, e.g. [[[\"p1\", \"p2\"], [\"p3\", \"p4\"]]]")
    if not isinstance(data, list):
        raise ConfigError(shape)
    out = []
    for split in data:
        if not isinstance(split, list):
            raise ConfigError(shape)
        comps = []
        for comp in split:
            if not isinstance(comp, list):
                raise ConfigError(shape)
            members = []
            for name in comp:
                if not (isinstance(name, str) and name[:1] == "p" and name[1:].isdigit()
                        and int(name[1:]) >= 1):
                    raise ConfigError(
                        f"{source}: {name!r} in 'components' is not a validator name: "
                        f"use p1, p2, ...")
                members.append(int(name[1:]) - 1)
            comps.append(tuple(sorted(set(members))))
        out.append(tuple(comps))
    return tuple(out)


def _whole(value: Any, key: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{source}: '{key}' must be a whole number, got {value!r}")
    return value


def read_input(path: str | Path, what: str, error: type[ValueError] = ConfigError) -> str:
    """A user's input file as text, or `error` with a one-line reason."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {p} does not exist: check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what} {p}: {exc}") from None


def load_toml(path: str | Path) -> Config:
    """Read a flat TOML file (see README) into a Config."""
    p = Path(path)
    text = read_input(p, "config file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p} is not valid TOML ({exc}): fix the syntax") from None
    cfg = Config.from_dict(data, source=str(p))
    if "name" not in data:
        cfg = cfg.with_changes(name=p.stem)
    return cfg
