"""The command line: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .helpers import accounts, write_csv


def vga(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "vga", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env)


def test_sample_then_validate_prints_counts_and_reasons(tmp_path):
    out = tmp_path / "s"
    done = vga("sample", "--out", out, "--accounts", "80", "--seed", "5")
    assert done.returncode == 0, done.stderr
    truth = json.loads((out / "truth.json").read_text())
    checked = vga("validate", "--data", out)
    assert checked.returncode == 0, checked.stderr
    line = next(l for l in checked.stdout.splitlines() if l.startswith("renewals "))
    numbers = [int(x.replace(",", "")) for x in line.split()[2:]]
    assert numbers[0] == truth["rows_written"]["renewals"]
    assert numbers[2:] == [truth["bad_rows"]["renewals"]["quarantined"], truth["bad_rows"]["renewals"]["blanked"]]
    assert numbers[0] == numbers[1] + numbers[2]
    assert "duplicate account_id" in checked.stdout and "[rows " in checked.stdout


def test_sample_replaces_an_earlier_sample_but_not_other_data(tmp_path):
    out = tmp_path / "s"
    assert vga("sample", "--out", out, "--accounts", "60").returncode == 0
    assert vga("sample", "--out", out, "--accounts", "61").returncode == 0
    assert json.loads((out / "truth.json").read_text())["accounts"] == 61
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "accounts.csv").write_text("account_id,arr\nA,1\n")
    refused = vga("sample", "--out", mine)
    assert refused.returncode == 2 and "holds no earlier sample" in refused.stderr
    assert (mine / "accounts.csv").read_text() == "account_id,arr\nA,1\n"


def test_the_sample_size_may_come_from_the_environment_and_a_bad_one_is_named(tmp_path):
    import os

    env = {**os.environ, "VGA_SAMPLE_ACCOUNTS": "64"}
    assert vga("sample", "--out", tmp_path / "a", env=env).returncode == 0
    assert json.loads((tmp_path / "a" / "truth.json").read_text())["accounts"] == 64
    assert vga("sample", "--out", tmp_path / "b", "--accounts", "62", env=env).returncode == 0  # the flag wins
    assert json.loads((tmp_path / "b" / "truth.json").read_text())["accounts"] == 62
    bad = vga("sample", "--out", tmp_path / "c", env={**os.environ, "VGA_SAMPLE_ACCOUNTS": "many"})
    assert bad.returncode == 2 and "'many' is not a whole number of accounts" in bad.stderr
    assert "VGA_SAMPLE_ACCOUNTS" in bad.stderr and not (tmp_path / "c").exists()


def test_sample_is_deterministic_by_seed(tmp_path):
    for name in ("a", "b"):
        assert vga("sample", "--out", tmp_path / name, "--accounts", "70", "--seed", "9").returncode == 0
    for f in ("accounts.csv", "renewals.csv", "support_tickets.csv", "truth.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert vga("sample", "--out", tmp_path / "c", "--accounts", "70", "--seed", "10").returncode == 0
    assert (tmp_path / "a" / "renewals.csv").read_bytes() != (tmp_path / "c" / "renewals.csv").read_bytes()


def test_strict_validate_fails_with_exit_1_and_names_the_row(tmp_path):
    accounts(tmp_path, [["A1", "100", "", ""], ["A2", "oops", "", ""]])
    loose = vga("validate", "--data", tmp_path)
    assert loose.returncode == 0
    strict = vga("validate", "--data", tmp_path, "--strict")
    assert strict.returncode == 1
    assert "accounts.csv row 2: arr: expected a number >= 0, found 'oops'" in strict.stderr
    assert "Traceback" not in strict.stderr


@pytest.mark.parametrize("setup, args, code, phrase", [
    ("empty", ["validate"], 1, "no accounts table"),
    ("missing_column", ["validate"], 1, "column 'arr' missing from accounts.csv"),
    ("ok", ["run", "--period", "2026Q5"], 2, "period '2026Q5' is not understood"),
    ("ok", ["validate", "--bogus"], 2, "unrecognized arguments: --bogus"),
    ("bad_config", ["validate"], 2, "unknown setting 'analysis.alfa'"),
])
def test_failures_exit_codes_and_messages(tmp_path, setup, args, code, phrase):
    if setup == "missing_column":
        write_csv(tmp_path, "accounts", ["account_id", "mrr"], [["A1", "1"]])
    elif setup in ("ok", "bad_config"):
        accounts(tmp_path)
    if setup == "bad_config":
        (tmp_path / "vga.toml").write_text("[analysis]\nalfa = 0.1\n")
    result = vga(*args[:1], "--data", tmp_path, *args[1:])
    assert result.returncode == code
    assert phrase in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    result = vga("--debug", "validate", "--data", tmp_path)
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_version_comes_from_one_place():
    """`vga --version`, the installed metadata and the manifest (test_runner)
    all say the package's own __version__."""
    from importlib import metadata

    from vga import __version__

    done = vga("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"vga {__version__}"
    assert metadata.version("vga") == __version__


def test_a_vga_command_starts_without_compiling_jsonschemas_iri_grammar():
    """jsonschema imports rfc3987-syntax, which compiles an Earley grammar
    (3 s of CPU) in every process that imports nbformat: each `vga`
    command, each test worker. vga marks it absent (vga/__init__.py); the
    notebooks still read and validate."""
    probe = ("import sys, vga.run.runner, nbformat\n"
             "book = nbformat.v4.new_notebook(); nbformat.validate(book)\n"
             "print('lark' in sys.modules, 'rfc3987_syntax' in sys.modules and sys.modules['rfc3987_syntax'] is not None)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
