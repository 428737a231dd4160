"""One catalogue of variants (model/mutants.py), declared by every back-end.

Each back-end declares the variants it implements; a variant it does not
declare is refused with one line (exit 2), never explored as the real
protocol under the variant's name. A variant added to the catalogue must be
declared by every back-end, or say why one leaves it out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bftcheck.model import compiled, mutants, symbolic, tendermint
from bftcheck.model.config import Config
from bftcheck.model.mutants import BACKENDS, MUTANTS, Mutant, VariantUnsupported
from bftcheck.spec import mc
from helpers import run_cli

DECLARED = {
    "python": lambda: tendermint.VARIANTS,
    "compiled": compiled.variants,
    "z3": lambda: symbolic.VARIANTS,
    "tla": mc.variants,
}


def test_every_backend_is_named_and_declares():
    assert set(DECLARED) == set(BACKENDS)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_every_catalogue_variant_is_declared_or_left_out_with_a_reason(backend):
    if backend == "compiled" and not compiled.COMPILED:
        pytest.skip("the compiled rules are not built (tests/model/test_rules_compiled.py "
                    "fails in CI for that)")
    declared = DECLARED[backend]()
    for m in MUTANTS.values():
        reasons = dict(m.left_out)
        assert (m.name in declared) != (backend in reasons), (
            f"{m.name}: {BACKENDS[backend]} must declare it, or the catalogue must say why "
            f"they leave it out")
        assert backend not in reasons or reasons[backend].strip()
    assert declared <= MUTANTS.keys(), "a back-end declares a variant the catalogue lacks"


def _compared_names(*paths: Path) -> set[str]:
    """The variant names the code compares `mutant` with."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    return set(re.findall(r'mutant\s*[!=]=\s*"([a-z0-9-]+)"', text))


def test_the_python_rules_declare_exactly_what_they_compare():
    model_dir = Path(tendermint.__file__).parent
    assert _compared_names(model_dir / "tendermint.py", model_dir / "network.py",
                           model_dir / "blocksync.py", model_dir / "byzantine.py",
                           model_dir / "synchrony.py") \
        == set(tendermint.VARIANTS)


def test_the_z3_rules_declare_exactly_what_they_compare_or_share():
    own = _compared_names(Path(symbolic.__file__))
    assert own | symbolic.SHARED == set(symbolic.VARIANTS)
    assert not own & symbolic.SHARED
    assert symbolic.SHARED <= tendermint.VARIANTS  # the shared pieces are the Python rules


# -- the silent wrong-protocol path, closed -----------------------------------

NEW = Mutant("python-only", "line 22", "a variant only the Python rules know", "agreement",
             dict(MUTANTS["no-lock"].catch))


@pytest.fixture
def python_only(monkeypatch):
    """A variant registered in the catalogue and in the Python rules alone."""
    monkeypatch.setitem(MUTANTS, NEW.name, NEW)
    monkeypatch.setattr(tendermint, "VARIANTS", tendermint.VARIANTS | {NEW.name})
    return Config(**NEW.catch, mutant=NEW.name)


def test_the_compiled_rules_refuse_it(python_only):
    if not compiled.COMPILED:
        pytest.skip("the compiled rules are not built")
    with pytest.raises(VariantUnsupported, match="the compiled rules .* do not implement "
                                                 "variant 'python-only'"):
        tendermint.TendermintModel(python_only)


def test_the_python_rules_alone_run_it(python_only, monkeypatch):
    monkeypatch.setattr(compiled, "COMPILED", False)
    model = tendermint.TendermintModel(python_only)
    assert model.fast is None and model.mutant == "python-only"


def test_the_z3_rules_refuse_it(python_only, monkeypatch):
    monkeypatch.setattr(compiled, "COMPILED", False)
    model = tendermint.TendermintModel(python_only)
    with pytest.raises(VariantUnsupported, match="the Z3 rules"):
        symbolic.SymbolicRules(model)


def test_the_tla_twin_refuses_it(python_only):
    with pytest.raises(VariantUnsupported, match="the TLA\\+ twin"):
        mc.supported(python_only)


@pytest.mark.parametrize("command,backend", [
    (["check"], "the compiled rules"), (["tlc"], "the TLA+ twin"),
    (["spec", "export", "--out", "twin"], "the TLA+ twin"), (["fuzz"], "the compiled rules"),
])
def test_the_cli_refuses_it_with_one_line(python_only, capsys, tmp_path, monkeypatch,
                                          command, backend):
    if backend == "the compiled rules" and not compiled.COMPILED:
        pytest.skip("the compiled rules are not built")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *command, "--mutant", "python-only")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{backend} " in err and "'python-only'" in err


def test_the_cli_refuses_it_in_z3_on_the_python_rules(python_only, capsys, monkeypatch):
    monkeypatch.setattr(compiled, "COMPILED", False)
    for command in (["bmc", "--depth", "3"], ["induct"]):
        code, out, err = run_cli(capsys, *command, "--mutant", "python-only")
        assert code == 2 and out == "" and "the Z3 rules" in err


def test_a_variant_nobody_declares_is_refused_by_the_python_rules(monkeypatch):
    ghost = Mutant("ghost", "-", "declared nowhere", "agreement", {})
    monkeypatch.setitem(MUTANTS, ghost.name, ghost)
    with pytest.raises(VariantUnsupported, match="the Python rules"):
        tendermint.TendermintModel(Config(mutant="ghost"))


def test_require_accepts_the_real_protocol_and_declared_variants():
    mutants.require("tla", set(), None)
    mutants.require("z3", {"no-lock"}, "no-lock")
