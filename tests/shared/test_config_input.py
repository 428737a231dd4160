"""Configuration input: every message names what the user wrote (the flag, or
the key and its file), NaN and infinity are refused, long values are cut."""

from __future__ import annotations

import pytest

from bftcheck.model.config import Config, ConfigError, Origin
from helpers import run_cli


def one_line_error(capsys, *argv: str) -> str:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "", (code, out, err)
    assert err.count("\n") == 1 and err.startswith("bftcheck: error: "), err
    assert "Traceback" not in err and "Error:" not in err and len(err) < 400, err
    return err


def toml(tmp_path, text: str) -> str:
    path = tmp_path / "x.toml"
    path.write_text(text)
    return str(path)


def test_toml_validators_200_names_the_key_and_the_file(tmp_path, capsys):
    f = toml(tmp_path, "validators = 200\n")
    err = one_line_error(capsys, "check", "--config", f)
    assert f"{f}: 'validators' = 200 is more than the supported 32: give at most 32" in err
    assert "--validators" not in err and "33" not in err


@pytest.mark.parametrize("key", ["validators", "byzantine", "byz_budget", "heights", "rounds",
                                 "values", "max_partitions"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+inf", "1.5"])
def test_nan_and_infinity_are_refused_by_every_numeric_key(tmp_path, capsys, key, value):
    err = one_line_error(capsys, "check", "--config", toml(tmp_path, f"{key} = {value}\n"))
    assert f"'{key}' must be a whole number, got {value.lstrip('+')}" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinity_in_powers(tmp_path, capsys, value):
    err = one_line_error(capsys, "check", "--config",
                         toml(tmp_path, f"powers = [1, 1, {value}, 1]\n"))
    assert "'powers' entry 3 (p3) is" in err and "--powers" not in err


def test_prove_quorum_with_40_powers_names_its_own_flag(capsys):
    err = one_line_error(capsys, "prove", "quorum", "--powers", ",".join(["1"] * 40))
    assert "--powers lists 40 validators, more than the supported 32" in err
    assert "--validators" not in err


def test_flags_are_named_as_flags(capsys):
    err = one_line_error(capsys, "check", "--powers", ",".join(["1"] * 40))
    assert "--powers lists 40 validators" in err and "--validators" not in err
    err = one_line_error(capsys, "check", "--validators", "200")
    assert "--validators 200 is more than the supported 32" in err
    err = one_line_error(capsys, "check", "--validators", "100000000000000000000")
    assert "is more than the supported 32" in err  # refused before building anything
    err = one_line_error(capsys, "check", "--rounds", "9")
    assert "--rounds 9 is out of range: pass --rounds R with R from 1 to 8" in err


def test_a_preset_value_broken_by_an_override_is_named_as_the_preset(capsys):
    err = one_line_error(capsys, "check", "--preset", "n4-f2", "--validators", "2")
    assert "all 2 validators (--validators 2) are Byzantine (byzantine 2 from preset n4-f2)" \
        in err
    assert "pass --byzantine K" in err


def test_a_key_broken_by_a_flag_names_both(tmp_path, capsys):
    f = toml(tmp_path, "byzantine = 2\n")
    err = one_line_error(capsys, "check", "--config", f, "--validators", "2")
    assert f"{f}: all 2 validators (--validators 2) are Byzantine ('byzantine' = 2)" in err
    f = toml(tmp_path, "validators = 3\n")
    err = one_line_error(capsys, "check", "--config", f, "--byzantine", "5")
    assert f"--byzantine 5 does not fit 3 validators ('validators' in {f})" in err


@pytest.mark.parametrize(("text", "needle"), [
    ("heights = 99\n", "'heights' = 99 is out of range: give 'heights' a value from 1 to 8"),
    ("byzantine = 4\n", "all 4 validators (the default) are Byzantine ('byzantine' = 4)"),
    ("powers = [1, 0]\n", "'powers' entry 2 (p2) is 0"),
    ("powers = [" + ", ".join(["1"] * 40) + "]\n", "'powers' lists 40 validators"),
    ("mutant = 'zz'\n", "unknown mutant 'zz' in 'mutant'"),
    ("mutant = 3\n", "'mutant' must be a mutant name (a string), got 3"),
    ("name = 3\n", "'name' must be a string, got 3"),
    ("max_partitions = 3\n", "'max_partitions' = 3 needs split patterns"),
    ('partitions = ["halves"]\n', "partition patterns are given but max_partitions is 0"),
    ('partitions = ["moat"]\nmax_partitions = 2\n', "unknown partition pattern 'moat'"),
    ("validators = 9\npartitions = ['halves']\nmax_partitions = 2\n",
     "partitions support at most 8 validators, not 9 validators ('validators')"),
    ('components = [[["p1", "p\u00b2"], ["p3", "p4"]]]\nmax_partitions = 2\n',
     "is not a validator name"),
    ('components = [[["p1", "p' + "9" * 5000 + '"], ["p3", "p4"]]]\nmax_partitions = 2\n',
     "is not a validator name"),
    ("rounds = 1979-05-27\n", "'rounds' must be a whole number, got 1979-05-27"),
    ("rounds = {a = 1}\n", "'rounds' must be a whole number, got a mapping"),
    ("validators = " + "9" * 400 + "\n", "'validators' = a 400-digit number is more than"),
    ("validators = " + "9" * 5000 + "\n", "holds a number too long to read"),
    ("x" * 500 + " = 1\n", "unknown key 'xxxx"),
])
def test_toml_messages_name_the_key_and_the_file(tmp_path, capsys, text, needle):
    f = toml(tmp_path, text)
    err = one_line_error(capsys, "check", "--config", f)
    assert needle in err and f in err
    assert "--" not in err.split(": ", 2)[-1].split("(see")[0] or "mutant" in text


def test_non_utf8_and_directory_config_files(tmp_path, capsys):
    f = tmp_path / "bin.toml"
    f.write_bytes(b"rounds = 1\n\xff\xfe\n")
    err = one_line_error(capsys, "check", "--config", str(f))
    assert "is not UTF-8 text (byte 0xff at offset 11)" in err
    err = one_line_error(capsys, "check", "--config", str(tmp_path))
    assert "it is a directory" in err and "Errno" not in err


def test_validated_without_origin_names_flags_and_with_origin_names_keys():
    with pytest.raises(ConfigError, match="--heights 0 is out of range"):
        Config(heights=0).validated()
    origin = Origin.of_keys("t.json", {"heights": 0})
    with pytest.raises(ConfigError, match="t.json: 'heights' = 0 is out of range"):
        Config(heights=0).validated(origin)
