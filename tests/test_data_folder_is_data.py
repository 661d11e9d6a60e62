"""A data folder is data, not code: what a hostile mapping file can no
longer do. Each attack is planted in a ``vga.toml`` inside the data folder
(read automatically) and must be refused with one clear message, with
nothing read or written outside the folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from vga.config import load_config
from vga.errors import DataError
from vga.load import load_folder

OUTSIDE = "secret-outside.csv"


@pytest.fixture
def folder(tmp_path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "export.csv").write_text("id,amount\na,10\nb,5\n")
    (tmp_path / OUTSIDE).write_text("id,amount\nSECRET,1\n")
    return data


def _load(folder: Path, toml: str):
    (folder / "vga.toml").write_text(toml)
    return load_folder(folder, load_config(None, folder))


def _accounts(sql: str) -> str:
    return f'[sources.accounts]\nsql = """\n{sql}\n"""\n'


ATTACKS = {
    "a file written": ("COPY (SELECT 'x' AS account_id, 1 AS arr) TO 'written.csv'", "COPY"),
    "a database attached": ("ATTACH 'attached.db'", "ATTACH"),
    "an extension installed": ("INSTALL httpfs", "INSTALL"),
    "a setting changed": ("SET enable_external_access = true", "SET"),
    "two statements": ("SELECT id AS account_id, 1 AS arr FROM read_csv('export.csv'); "
                       "COPY (SELECT 1) TO 'written.csv'", "2 statements"),
    "the environment read": ("SELECT content AS account_id, 1 AS arr FROM read_text('/proc/self/environ')",
                             "outside the data folder|not a file of the data folder|disabled"),
    "the password file read": ("SELECT column0 AS account_id, 1 AS arr FROM read_csv('/etc/passwd', header = false)",
                               "outside the data folder|not a file of the data folder"),
    "a file beside the folder": (f"SELECT id AS account_id, amount AS arr FROM read_csv('../{OUTSIDE}')",
                                 "outside the data folder"),
    "the network": ("SELECT * FROM read_csv('https://example.com/accounts.csv')", "not a file of the data folder"),
    "a glob out of the folder": ("SELECT id AS account_id, amount AS arr FROM read_csv('../*.csv')",
                                 "outside the data folder"),
    "a path built at run time": ("SELECT column0 AS account_id, 1 AS arr FROM "
                                 "read_csv(concat(chr(47), 'etc', chr(47), 'passwd'), header = false)",
                                 "must be written as text in the query"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_mapping_query_reads_the_data_folder_and_nothing_else(folder, attack):
    sql, message = ATTACKS[attack]
    with pytest.raises(DataError, match=message) as info:
        _load(folder, _accounts(sql))
    assert "\n" not in str(info.value) and "SECRET" not in str(info.value)
    assert sorted(p.name for p in folder.iterdir()) == ["export.csv", "vga.toml"]  # nothing written
    assert not (folder.parent / "attached.db").exists()


def test_a_symbolic_link_out_of_the_folder_is_refused(folder):
    (folder / "link.csv").symlink_to(folder.parent / OUTSIDE)
    with pytest.raises(DataError, match="outside the data folder .*symbolic links are followed"):
        _load(folder, _accounts("SELECT id AS account_id, amount AS arr FROM read_csv('link.csv')"))
    with pytest.raises(DataError, match="outside the data folder"):
        _load(folder, _accounts(f"SELECT id AS account_id, amount AS arr FROM read_csv('{folder}/link.csv')"))


def test_a_python_startup_file_cannot_be_written(folder):
    """The attack that made the next ``vga --help`` run code: a ``.pth`` file in site-packages."""
    site = next(p for p in sys.path if p.endswith("site-packages"))
    target = os.path.join(site, "vga_attack_test.pth")
    with pytest.raises(DataError):
        _load(folder, _accounts(f"COPY (SELECT 'import os' AS line) TO '{target}' (HEADER false)"))
    assert not os.path.exists(target)


def test_what_a_mapping_may_do_still_works(folder):
    loaded = _load(folder, _accounts(
        "WITH e AS (SELECT * FROM read_csv('export.csv', all_varchar = true))\n"
        f"SELECT id AS account_id, CAST(amount AS DOUBLE) * 12 AS arr FROM e UNION ALL\n"
        f"SELECT 'c', 7 FROM (SELECT * FROM read_csv('{folder}/export.csv') LIMIT 1)"))
    assert sorted(loaded.tables["accounts"].accepted["account_id"]) == ["a", "b", "c"]
    loaded = _load(folder, _accounts("SELECT id AS account_id, amount AS arr FROM read_csv('*.csv')")
                   + '[churn_labels]\n"flag" = "SELECT id AS account_id FROM \'export.csv\' WHERE amount > 6"\n')
    assert set(loaded.churn_labels["account_id"]) == {"a"}


def test_churn_labels_and_event_queries_are_sandboxed_too(folder):
    base = _accounts("SELECT id AS account_id, amount AS arr FROM read_csv('export.csv')")
    with pytest.raises(DataError, match=r'\[churn_labels\] "x".*outside the data folder'):
        _load(folder, base + f'[churn_labels]\n"x" = "SELECT id AS account_id FROM read_csv(\'../{OUTSIDE}\')"\n')
    with pytest.raises(DataError, match=r"\[churn_labels\] \"x\".*one SELECT"):
        _load(folder, base + '[churn_labels]\n"x" = "COPY (SELECT 1 AS account_id) TO \'w.csv\'"\n')
    events = ('[sources.usage_events]\nsql = """\nSELECT \'2026-01-01\' AS timestamp, \'f\' AS feature, '
              f"id AS user_id, id AS account_id FROM read_csv('../{OUTSIDE}')\n\"\"\"\n")
    with pytest.raises(DataError, match="outside the data folder"):
        _load(folder, base + events)
    fine = events.replace(f"../{OUTSIDE}", "export.csv")
    assert _load(folder, base + fine).tables["usage_events"].quality["rows_accepted"] == 2
    assert sorted(p.name for p in folder.iterdir()) == ["export.csv", "vga.toml"]


def test_tables_come_from_the_data_folder_unless_asked(folder, tmp_path):
    outside = folder.parent / OUTSIDE
    outside.write_text("account_id,arr\nSECRET,1\n")
    for path in (str(outside), f"../{OUTSIDE}"):
        with pytest.raises(DataError, match="outside the data folder.*--allow-outside-paths"):
            _load(folder, f'[sources.accounts]\npath = "{path}"\n')
    loaded = load_folder(folder, load_config(None, folder), allow_outside=True)
    assert list(loaded.tables["accounts"].accepted["account_id"]) == ["SECRET"]
    (folder / "vga.toml").unlink()
    (folder / "accounts.csv").symlink_to(outside)
    with pytest.raises(DataError, match="accounts.csv: table 'accounts' is a symbolic link to a file outside"):
        load_folder(folder)
    (folder / "accounts.csv").unlink()
    (folder / "accounts.csv").write_text("account_id,arr\na,1\n")
    (folder / "usage_events").mkdir()
    (folder / "usage_events" / "part.parquet").symlink_to(outside)
    with pytest.raises(DataError, match="part.parquet: table 'usage_events' is a symbolic link"):
        load_folder(folder)
    # And from the command line: one line, exit 1; the flag lets it through.
    import subprocess

    (folder / "usage_events" / "part.parquet").unlink()
    (folder / "usage_events").rmdir()
    (folder / "accounts.csv").unlink()
    (folder / "accounts.csv").symlink_to(outside)
    done = subprocess.run([sys.executable, "-m", "vga", "validate", "--data", str(folder)], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "outside the data folder" in done.stderr
    done = subprocess.run([sys.executable, "-m", "vga", "validate", "--data", str(folder), "--allow-outside-paths"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_secrets_in_any_form_of_url_are_kept_out_and_cannot_be_guessed_from_the_fingerprint():
    from vga.config import config_hash, load_config, redacted, scrub

    forms = {
        "postgresql://u:hunter22@host/db": "hunter22",
        "postgresql://u@host/db?password=hunter22&sslmode=require": "hunter22",
        "postgresql://u@host/db?sslpassword=hunter%2522": "hunter%2522",
        "pyspark://?spark.remote=sc://host:15002/;token=hunter22;user_id=me": "hunter22",
        "snowflake://u@acct/db?private_key_passphrase=hunter22&warehouse=wh": "hunter22",
    }
    for url, secret in forms.items():
        config = load_config() | {"warehouse": {"url": url, "url_env": "", "events_table": "e", "events_path": ""}}
        shown = str(redacted(config)) + scrub(f"connection to {url} failed: {secret} refused", config)
        assert secret not in shown and "hunter" not in shown, url
        # The fingerprint is taken over what may be written down: the same for any password.
        other = config | {"warehouse": config["warehouse"] | {"url": url.replace("hunter22", "guess")}}
        assert config_hash(config) == config_hash(other), url


def test_inputs_are_bounded_and_refused_in_one_line_before_any_work(tmp_path, monkeypatch):
    import time
    import zipfile

    from vga.errors import UsageError

    wide = tmp_path / "wide"
    wide.mkdir()
    n = 20_000
    (wide / "accounts.csv").write_text(",".join(["account_id", "arr"] + [f"c{i}" for i in range(n)]) + "\n"
                                       + ",".join(["a", "1"] + ["x"] * n) + "\n")
    started = time.perf_counter()
    with pytest.raises(DataError, match="20,002 columns, more than the 1,000"):
        load_folder(wide)
    assert time.perf_counter() - started < 10

    # A workbook bomb: a few kilobytes that would expand far past the limit (lowered here to keep the test small).
    bomb = tmp_path / "bomb"
    bomb.mkdir()
    (bomb / "accounts.csv").write_text("account_id,arr\na,1\n")
    with zipfile.ZipFile(bomb / "training.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<row/>" * 4_000_000)
    assert (bomb / "training.xlsx").stat().st_size < 200_000
    (tmp_path / "mine.toml").write_text(f"[limits]\nworkbook_bytes = {16 * 1024 * 1024}\n")
    with pytest.raises(DataError, match="would expand to 23 MiB, more than the 16 MiB"):
        load_folder(bomb, load_config(tmp_path / "mine.toml"))

    deep = tmp_path / "deep"
    deep.mkdir()
    (deep / "accounts.csv").write_text("account_id,arr\na,1\n")
    (deep / "vga.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(UsageError, match="nested too deeply"):
        load_config(None, deep)
    (deep / "vga.toml").write_text("[analysis]\nassumptions = " + "[" * 30 + '"a"' + "]" * 30 + "\n")
    with pytest.raises(UsageError, match="nested more than 12 levels"):
        load_config(None, deep)


def test_a_header_from_the_data_cannot_run_as_a_formula_in_the_quarantine(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text('account_id,arr,"=HYPERLINK(""http://evil"",""x"")"\na,1,x\nb,-5,y\n')
    loaded = load_folder(data)
    written = loaded.write_quarantine(tmp_path / "quarantine")
    header = written[0].read_text().splitlines()[0]
    assert "=HYPERLINK" in header and ",=HYPERLINK" not in header and "'=HYPERLINK" in header


@pytest.mark.slow
def test_a_report_refused_at_the_last_stage_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    from vga.run import report
    from vga.run.runner import run_period

    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text("account_id,arr\na,1\nb,2\n")
    monkeypatch.setattr(report, "network_references", lambda page: ["<img src='//planted'>"])
    from vga.errors import VgaError

    with pytest.raises(VgaError, match="would load from the network .*planted.*not written") as info:
        run_period(data, "2026Q3", out=tmp_path / "reports", quiet=True)
    assert "\n" not in str(info.value)
    assert [p.name for p in (tmp_path / "reports").iterdir() if not p.name.startswith(".vga")] == []
