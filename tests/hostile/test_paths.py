"""Files outside the data folder, through a decoy: every path a mapping query
names is taken from its syntax tree, resolved inside the folder and handed
to DuckDB as that absolute path, so a file of the same name in the home or
working folder, or behind a link, is never what is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vga.config import load_config
from vga.errors import DataError
from vga.load import load_folder
from vga.load.sandbox import confine

from .common import data_folder, mapping, one_line, vga


def _names(folder: Path) -> list[str]:
    return load_folder(folder, load_config(None, folder)).tables["accounts"].accepted["account_name"].tolist()


def test_a_decoy_of_the_home_folder_does_not_open_the_users_key(tmp_path):
    """The attack: <folder>/~/.ssh/id_rsa present, read_text('~/.ssh/id_rsa')
    read the user's own key (DuckDB expanded '~')."""
    folder = data_folder(tmp_path)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("REAL-PRIVATE-KEY")
    (folder / "~" / ".ssh").mkdir(parents=True)
    (folder / "~" / ".ssh" / "id_rsa").write_text("DECOY")
    mapping(folder, "SELECT 'a' AS account_id, 1 AS arr, content AS account_name FROM read_text('~/.ssh/id_rsa')")
    done = vga("validate", "--data", folder, env={"HOME": str(home)})
    assert done.returncode == 1
    line = one_line(done)
    assert "vga.toml line 2" in line and "home folder" in line and "REAL-PRIVATE-KEY" not in done.stdout + line
    # What the console promised before the refusal: only the files the queries name, in the data folder.
    assert "its mapping queries read only the data folder's files they name" in done.stdout


def test_a_name_is_a_file_of_the_data_folder_never_of_the_working_folder(tmp_path, monkeypatch):
    """The attack: '.aws/credentials' read the working folder's file."""
    folder = data_folder(tmp_path)
    work = tmp_path / "work"
    (work / ".aws").mkdir(parents=True)
    (work / ".aws" / "credentials").write_text("REAL-CREDENTIALS")
    (folder / ".aws").mkdir()
    (folder / ".aws" / "credentials").write_text("DECOY")
    monkeypatch.chdir(work)
    mapping(folder, "SELECT 'a' AS account_id, 1 AS arr, content AS account_name FROM read_text('.aws/credentials')")
    assert _names(folder) == ["DECOY"]
    # The manifest hashes the file that was read, by its resolved path.
    loaded = load_folder(folder, load_config(None, folder))
    files = next(t["files"] for t in loaded.manifest() if t["table"] == "accounts")
    assert [f["path"] for f in files] == [str((folder / ".aws" / "credentials").resolve())]


def test_a_link_inside_the_folder_cannot_climb_to_the_environment(tmp_path, monkeypatch):
    """The attack: with <folder>/~/.cache a link that stays inside the folder,
    '~/.cache/../../../../proc/self/environ' read the process's environment."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "PLANTED-SECRET-VALUE")
    folder = data_folder(tmp_path)
    deep = folder / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    (folder / "~").mkdir()
    (folder / "~" / ".cache").symlink_to(deep)
    (folder / "cache").symlink_to(deep)
    (folder / "proc" / "self").mkdir(parents=True)
    (folder / "proc" / "self" / "environ").write_text("DECOY")
    mapping(folder, "SELECT 'a' AS account_id, 1 AS arr, content AS account_name "
                    "FROM read_text('~/.cache/../../../../proc/self/environ')")
    with pytest.raises(DataError, match="home folder") as info:
        _names(folder)
    assert "\n" not in str(info.value)
    # Without '~' the link is followed, as the operating system follows it: the decoy inside the folder.
    mapping(folder, "SELECT 'a' AS account_id, 1 AS arr, content AS account_name "
                    "FROM read_text('cache/../../../../proc/self/environ')")
    assert _names(folder) == ["DECOY"]
    for escape in ("cache/../../../../../proc/self/environ", "/proc/self/environ", "../../proc/self/environ",
                   "cache/../../../../../*", "$HOME/.ssh/id_rsa", "${HOME}/x.csv"):
        mapping(folder, f"SELECT 'a' AS account_id, 1 AS arr, content AS account_name FROM read_text('{escape}')")
        with pytest.raises(DataError) as info:
            _names(folder)
        assert "PLANTED" not in str(info.value) and "vga.toml line 2" in str(info.value), escape


@pytest.mark.parametrize("sql, words", [
    ("SELECT * FROM read_csv('accounts.csv') WHERE (SELECT count(*) FROM query('SELECT 1')) > 0", "query(...)"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    ("SELECT * FROM glob('*')", "glob"),
    ("SELECT * FROM information_schema.tables", "neither a file"),
    ("SELECT * FROM accounts", "neither a file"),
    ("SELECT * FROM read_csv(concat('acc', 'ounts.csv'))", "written as text"),
    ("SELECT * FROM read_csv(files = 'accounts.csv')", "written as text"),
    ("SELECT * FROM 'fifo.csv'", "not a regular file"),
    ("SELECT * FROM read_csv('https://example.com/a.csv')", "no URL"),
    ("SELECT * FROM read_csv('file:///etc/passwd')", "no URL"),
])
def test_a_query_reads_only_named_files_of_the_folder(tmp_path, sql, words):
    import os

    folder = data_folder(tmp_path)
    os.mkfifo(folder / "fifo.csv")  # reading it would wait for ever
    with pytest.raises(DataError, match=words.replace("(", r"\(").replace(")", r"\)")):
        confine(sql, folder, "vga.toml line 2")


def test_the_query_duckdb_runs_names_each_file_by_its_absolute_path(tmp_path):
    folder = data_folder(tmp_path)
    (folder / "crm").mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / "crm" / name).write_text("id\nx\n")
    (folder / "deep" / "x").mkdir(parents=True)
    (folder / "deep" / "x" / "yes").write_text("a decoy of a value, never read")
    confined = confine("WITH t AS (SELECT * FROM 'crm/*.csv') SELECT id AS account_id FROM t, "
                       "read_csv(['accounts.csv']) WHERE id <> 'yes'", folder, "q")
    real = folder.resolve()
    assert sorted(confined.files) == [real / "accounts.csv", real / "crm" / "a.csv", real / "crm" / "b.csv"]
    assert f"'{real}/crm/a.csv'" in confined.sql and "'accounts.csv'" not in confined.sql
    assert "'yes'" in confined.sql  # a value stays a value


def test_a_mapping_reads_an_excel_sheet_without_an_extension(tmp_path):
    """The docs promise Excel in mapping queries: vga reads the sheet itself."""
    from openpyxl import Workbook

    folder = data_folder(tmp_path)
    (folder / "accounts.csv").unlink()
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["ignore me"])
    sheet = book.create_sheet("Customers")
    sheet.append(["Customer", "ARR (EUR)"])
    sheet.append(["x1", 1200])
    sheet.append(["x2", 2400.5])
    book.save(folder / "crm.xlsx")
    mapping(folder, "SELECT Customer AS account_id, CAST(\"ARR (EUR)\" AS DOUBLE) * 2 AS arr "
                    "FROM read_xlsx('crm.xlsx', sheet = 'Customers')")
    accepted = load_folder(folder, load_config(None, folder)).tables["accounts"].accepted
    assert accepted.set_index("account_id")["arr"].to_dict() == {"x1": 2400.0, "x2": 4801.0}
    mapping(folder, "SELECT * FROM read_xlsx('crm.xlsx', sheet = 'Nope')")
    with pytest.raises(DataError, match="no sheet named 'Nope'; its sheets: 'Notes', 'Customers'"):
        load_folder(folder, load_config(None, folder))


def test_the_manifest_hashes_only_what_a_query_read(tmp_path):
    """The attack's manifest recorded the decoys' hashes: every file whose
    name appeared anywhere in the query text."""
    folder = data_folder(tmp_path)
    (folder / "export.csv").write_text("id,amount\na,10\nb,20\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "export.csv").write_text("a decoy of the same name")
    mapping(folder, "SELECT id AS account_id, amount AS arr FROM read_csv('export.csv') WHERE id <> 'export.csv'")
    inputs = json.loads(json.dumps(load_folder(folder, load_config(None, folder)).manifest()))  # as written
    files = next(t["files"] for t in inputs if t["table"] == "accounts")
    assert [f["path"] for f in files] == [str((folder / "export.csv").resolve())]
