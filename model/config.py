"""The configuration every engine runs on: validators, faults, bounds, mutant.

A `Config` is built from a preset, a TOML file or command-line numbers, and is
validated once, here, so engines can trust it. Invalid input raises
`ConfigError` with a one-line message that names the problem and the fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bftcheck.inputs import InputError, read_input, read_toml_table, shown

__all__ = ["Config", "ConfigError", "Origin", "read_input", "shown"]

# Bounds that keep the compact byte encoding valid (every field fits in a byte,
# every Byzantine vote mask in a byte).
MAX_VALIDATORS = 32
MAX_HEIGHTS = 8
MAX_ROUNDS = 8
MAX_VALUES = 5
MAX_POWER = 1_000_000


class ConfigError(InputError):
    """Bad user input; the message is one line: what is wrong and how to fix it."""


# Config field -> the command-line flag's metavar (`--byz-budget M`).
METAVARS = {"validators": "N", "powers": "P1,P2,...", "byzantine": "K", "byz_budget": "M",
            "heights": "H", "rounds": "R", "values": "V", "max_partitions": "E",
            "partitions": "PATTERN[,PATTERN]", "mutant": "NAME", "gst": "ROUND"}


@dataclass(frozen=True)
class Origin:
    """How the user wrote each field of a Config, so that a message names what
    the user actually wrote: a flag (`--byzantine 5`), a key of a file
    (`x.toml: 'byzantine' = 5`), or neither (`byzantine 2 (preset n4-f2)`).

    `flags` and `keys` hold the names as written ("validators" or "powers" for
    the validator set); `base` says where every other field comes from; without
    a base (the default Origin), every field is named as a flag."""

    file: str | None = None
    keys: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    base: str | None = None

    @classmethod
    def of_keys(cls, file: str, data: dict[str, Any]) -> Origin:
        """Every field a key of `file` (or the default when the key is absent)."""
        return cls(file=file, keys=frozenset(data), base="the default")

    def name(self, field: str) -> str:
        """The spelling of `field`: the validator set may be 'validators'."""
        if field == "powers":
            for written in (self.flags, self.keys):
                if "validators" in written:
                    return "validators"
                if "powers" in written:
                    return "powers"
        return field

    def where(self, field: str) -> str:
        name = self.name(field)
        if name in self.flags:
            return "flag"
        if name in self.keys:
            return "key"
        return "flag" if self.base is None else "base"

    def pre(self, *fields: str) -> str:
        """The file prefix of a message about a key (any of `fields`) of that file."""
        keyed = any(self.where(f) == "key" for f in fields)
        return f"{self.file}: " if keyed and self.file else ""

    def in_key(self, field: str) -> str:
        return f" in '{self.name(field)}'" if self.where(field) == "key" else ""

    def said(self, field: str, value: Any) -> str:
        name, where = self.name(field), self.where(field)
        if field == "powers" and isinstance(value, tuple):
            value = len(value) if name == "validators" else value
        if where == "flag":
            text = ",".join(map(str, value)) if isinstance(value, tuple) else value
            return f"--{name.replace('_', '-')} {_flag_text(text)}"
        if where == "key":
            return f"'{name}' = {_key_text(value)}"
        text = ",".join(map(str, value)) if isinstance(value, tuple) else _flag_text(value)
        return f"{name.replace('_', ' ')} {text} from {self.base}"

    def fix(self, field: str, cond: str) -> str:
        name, where = self.name(field), self.where(field)
        if where == "key" or (where == "base" and self.file):
            return f"give '{name}' a value {cond}" + (
                f" in {self.file}" if where == "base" else "")
        meta = METAVARS.get(name, "X")
        return f"pass --{name.replace('_', '-')} {meta} with {meta} {cond}"

    def count(self, n: int, primary: str = "powers") -> str:
        """`4 validators`, with where the number comes from when it is not
        where the rest of the message points."""
        where = self.where("powers")
        if where == "flag" and self.base is None:
            return f"{n} validators"
        if where == "base":
            return f"{n} validators ({self.base})"
        name = self.name("powers")
        said = f"{name} {n}" if name == "validators" else name
        if where == "flag":
            return f"{n} validators (--{said})"
        return f"{n} validators ('{name}')" if self.where(primary) == "key" else \
            f"{n} validators ('{name}' in {self.file})"

    def too_many(self, n: int) -> str:
        name, where = self.name("powers"), self.where("powers")
        most = f"at most {MAX_VALIDATORS}"
        if name == "validators":
            return (f"{self.pre('powers')}{self.said('powers', (1,) * n)} is more than the "
                    f"supported {MAX_VALIDATORS}: {self.fix('powers', most)}")
        said = "--powers" if where != "key" else "'powers'"
        fix = f"give {most} powers" if where == "key" else f"pass {most} powers to --powers"
        return (f"{self.pre('powers')}{said} lists {n} validators, more than the supported "
                f"{MAX_VALIDATORS}: {fix}")

    def bad_power(self, i: int, p: Any) -> str:
        rule = f"every power must be a whole number from 1 to {MAX_POWER}"
        if self.where("powers") == "key":
            return (f"{self.pre('powers')}'powers' entry {i + 1} (p{i + 1}) is {shown(p)}: "
                    f"{rule}, e.g. powers = [4, 1, 1, 1]")
        return f"voting power of p{i + 1} is {shown(p)}: {rule} (e.g. --powers 4,1,1,1)"

    def fix_splits(self) -> str:
        if self.where("max_partitions") == "key" or self.file:
            return "give 'partitions' (e.g. [\"halves\"]) or 'components'" + (
                f" in {self.file}" if self.file else "")
        return "pass --partitions PATTERN[,PATTERN] or 'components' in the config file"


def _flag_text(value: Any) -> str:
    return value if isinstance(value, str) and len(value) <= 40 else shown(value)


def _key_text(value: Any) -> str:
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, str):
        return shown(value).replace("'", '"') if '"' not in value else shown(value)
    return shown(value)


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
    # Partial synchrony (model/tendermint.py, "Partial synchrony"): the round of
    # height 0 from which the network is synchronous; None: asynchronous forever.
    gst: int | None = None
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

    def validated(self, origin: Origin | None = None) -> Config:
        """Return self if every field is usable, else raise ConfigError. `origin`
        says how the user wrote each field (a flag, a key of a file, a preset),
        so the message names what the user wrote; without it, flags."""
        from bftcheck.model.mutants import MUTANTS

        o = origin or Origin()
        n = self.n
        if n < 1:
            raise ConfigError(f"{o.pre('powers')}{o.said('powers', self.powers)} gives no "
                              f"validators: {o.fix('powers', 'at least 1')}")
        if n > MAX_VALIDATORS:
            raise ConfigError(o.too_many(n))
        for i, p in enumerate(self.powers):
            if not isinstance(p, int) or isinstance(p, bool) or p < 1 or p > MAX_POWER:
                raise ConfigError(o.bad_power(i, p))
        count = o.count(n, "byzantine")
        if not 0 <= self.byzantine < n:
            said = o.said("byzantine", self.byzantine)
            if self.byzantine == n:
                problem = f"all {count} are Byzantine ({said}), so there is nothing to check"
            else:
                problem = f"{said} does not fit {count}"
            raise ConfigError(f"{o.pre('byzantine')}{problem}: "
                              f"{o.fix('byzantine', f'from 0 to {n - 1}')}")
        for key, lo, hi in (("byz_budget", 0, 255), ("heights", 1, MAX_HEIGHTS),
                            ("rounds", 1, MAX_ROUNDS), ("values", 1, MAX_VALUES)):
            value = getattr(self, key)
            if not lo <= value <= hi:
                raise ConfigError(f"{o.pre(key)}{o.said(key, value)} is out of range: "
                                  f"{o.fix(key, f'from {lo} to {hi}')}")
        self._validate_network(o)
        if self.gst is not None and not 0 <= self.gst < self.rounds:
            raise ConfigError(f"{o.pre('gst')}{o.said('gst', self.gst)} is not a round of the "
                              f"bound: {o.fix('gst', f'from 0 to {self.rounds - 1}')} "
                              f"(rounds {self.rounds})")
        if self.mutant is not None and self.mutant not in MUTANTS:
            raise ConfigError(
                f"{o.pre('mutant')}unknown mutant {shown(self.mutant)}{o.in_key('mutant')}: "
                f"choose one of the {len(MUTANTS)} that 'bftcheck list mutants' shows")
        return self

    def _validate_network(self, o: Origin) -> None:
        from bftcheck.model.network import MAX_NETWORK_VALIDATORS, MAX_SPLITS, PATTERNS, splits_of

        pre = o.pre("partitions")
        for name in self.partitions:
            if name not in PATTERNS:
                raise ConfigError(
                    f"{pre}unknown partition pattern {shown(name)}{o.in_key('partitions')}: "
                    f"choose from {', '.join(PATTERNS)} (see 'bftcheck list partitions')"
                )
        for k, split in enumerate(self.components):
            where = (f"{o.pre('components')}'components' split {k + 1}"
                     if o.where("components") == "key" else f"explicit split {k + 1}")
            if len(split) < 2:
                raise ConfigError(f"{where} has {len(split)} component: give at least two")
            covered: set[int] = set()
            for comp in split:
                if not comp:
                    raise ConfigError(f"{where} has an empty component: remove it")
                for i in comp:
                    if not 0 <= i < self.n:
                        raise ConfigError(
                            f"{where} names validator p{shown(i + 1)}, but there are only "
                            f"{self.n}: use p1..p{self.n}"
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
        mp = self.max_partitions
        if not 0 <= mp <= 16:
            raise ConfigError(f"{o.pre('max_partitions')}{o.said('max_partitions', mp)} is out "
                              f"of range: {o.fix('max_partitions', 'from 0 to 16')}")
        has_splits = bool(self.partitions or self.components)
        split_key = "partitions" if self.partitions else "components"
        if mp and not has_splits:
            raise ConfigError(
                f"{o.pre('max_partitions')}{o.said('max_partitions', mp)} needs split "
                f"patterns: {o.fix_splits()}"
            )
        if has_splits and mp == 0:
            zero = {"flag": "--max-partitions is 0", "key": "'max_partitions' is 0",
                    "base": f"max_partitions is 0 ({o.base})"}[o.where("max_partitions")]
            raise ConfigError(
                f"{o.pre('max_partitions', split_key)}partition patterns are given but "
                f"{zero}: "
                f"{o.fix('max_partitions', 'at least 1 (2 is one split and its heal)')}"
            )
        if has_splits and self.n > MAX_NETWORK_VALIDATORS:
            drop = {"flag": "drop --partitions", "key": f"drop '{split_key}'",
                    "base": f"drop the partitions ({o.base})"}[o.where(split_key)]
            raise ConfigError(
                f"{o.pre(split_key)}partitions support at most {MAX_NETWORK_VALIDATORS} "
                f"validators, not {o.count(self.n, split_key)}: use fewer validators or {drop}"
            )
        if has_splits:
            count = len(splits_of(self.n, self.partitions, self.components))
            if count == 0:
                raise ConfigError(
                    f"{o.pre(split_key)}the partition patterns give no split of "
                    f"{o.count(self.n, split_key)}: use more validators or other patterns"
                )
            if count > MAX_SPLITS:
                raise ConfigError(
                    f"{o.pre(split_key)}the partition patterns give {count} splits, more than "
                    f"{MAX_SPLITS}: use fewer patterns or validators"
                )

    @property
    def partitioned(self) -> bool:
        return bool(self.max_partitions and (self.partitions or self.components))

    def with_changes(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        if self.gst is None:  # asynchronous forever: recipes and traces as before GST existed
            d.pop("gst")
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
            "gst",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key {shown(unknown[0])}: allowed keys are "
                f"{', '.join(sorted(known))}"
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
                raise ConfigError(f"{source}: 'validators' = {shown(n)} is less than 1: "
                                  f"give at least 1")
            if n > MAX_VALIDATORS:
                raise ConfigError(f"{source}: 'validators' = {shown(n)} is more than the "
                                  f"supported {MAX_VALIDATORS}: give at most {MAX_VALIDATORS}")
            kwargs["powers"] = (1,) * n
        for key in ("byzantine", "byz_budget", "heights", "rounds", "values", "max_partitions"):
            if key in data:
                kwargs[key] = _whole(data[key], key, source)
        if data.get("gst") is not None:
            kwargs["gst"] = _whole(data["gst"], "gst", source)
        if "mutant" in data:
            m = data["mutant"]
            if m is not None and not isinstance(m, str):
                raise ConfigError(f"{source}: 'mutant' must be a mutant name (a string), "
                                  f"got {shown(m)} (see 'bftcheck list mutants')")
            kwargs["mutant"] = m
        if "name" in data:
            if not isinstance(data["name"], str):
                raise ConfigError(f"{source}: 'name' must be a string, got "
                                  f"{shown(data['name'])}")
            kwargs["name"] = data["name"]
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
                if validator_index(name) is None:
                    raise ConfigError(
                        f"{source}: {shown(name)} in 'components' is not a validator name: "
                        f"use p1, p2, ...")
                members.append(int(name[1:]) - 1)
            comps.append(tuple(sorted(set(members))))
        out.append(tuple(comps))
    return tuple(out)


def validator_index(name: Any) -> int | None:
    """0 for "p1", 1 for "p2", ...; None if `name` is not a validator name."""
    if not (isinstance(name, str) and name[:1] == "p" and 2 <= len(name) <= 4
            and name[1:].isascii() and name[1:].isdigit() and name[1] != "0"):
        return None
    return int(name[1:]) - 1


def _whole(value: Any, key: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{source}: '{key}' must be a whole number, got {shown(value)}")
    return value




def load_toml(path: str | Path) -> Config:
    """Read a flat TOML file (see README) into a Config."""
    return read_toml(path)[0]


def read_toml(path: str | Path) -> tuple[Config, Origin]:
    """A flat TOML file (see README) as a Config (not yet validated) and the
    Origin that names its keys in messages."""
    p = Path(path)
    data = read_toml_table(p, ConfigError)
    cfg = Config.from_dict(data, source=str(p))
    if "name" not in data:
        cfg = cfg.with_changes(name=p.stem)
    return cfg, Origin.of_keys(str(p), data)
