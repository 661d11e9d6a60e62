"""The hostile-input corpus (tests/hostile/): every rule of the data
contract broken at least once, and the files real exports are made of.

Each case ends in a clear one-line message (a DataError naming the file,
the row where there is one, the column and what was expected) or in
quarantined rows and blanked cells with their reasons; never a traceback,
and for every table rows read = accepted + quarantined.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from vga.errors import DataError, UsageError
from vga.load import load_folder

from .helpers import accounts, assert_balanced

HOSTILE = Path(__file__).parent / "hostile"
_spec = importlib.util.spec_from_file_location("make_corpus", HOSTILE / "make_corpus.py")
make_corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_corpus)


# --------------------------------------------------------------------------
# The committed corpus is the script's output.

def _cells(path: Path, data: bytes):
    if path.suffix == ".xlsx" and data.startswith(b"PK"):
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data))
        return [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    if path.suffix == ".parquet" and data:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(io.BytesIO(data)).read()
        return [str(t) for t in table.schema.types], table.schema.names, [c.to_pylist() for c in table.columns]
    return data


def test_committed_corpus_is_what_make_corpus_writes():
    expected = make_corpus.corpus()
    committed = {p.relative_to(HOSTILE).as_posix() for p in HOSTILE.rglob("*")
                 if p.is_file() and p.parent != HOSTILE and "__pycache__" not in p.parts}
    assert committed == set(expected), "run python tests/hostile/make_corpus.py"
    for rel, data in expected.items():
        path = HOSTILE / rel
        assert _cells(path, path.read_bytes()) == _cells(path, data), rel
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    for rel in expected:
        name = rel.split("/", 1)[1].split("/")[0] if rel.startswith("files/") else rel
        assert f"`{name}`" in readme or f"`{Path(rel).name}`" in readme, f"README.md does not list {rel}"


# --------------------------------------------------------------------------
# rules/: every value, row and reference rule; each row says what must happen.

RULE_TABLES = sorted(make_corpus.RULES)


def _expectations(table: str) -> dict[int, str]:
    with open(HOSTILE / "rules" / f"{table}.csv", newline="", encoding="utf-8") as fh:
        records = [r for r in csv.DictReader(fh)]
    return {i + 1: r["expect"] for i, r in enumerate(records)}


def _shown(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text[:-9] if text.endswith(" 00:00:00") else text
    if isinstance(value, bool) or str(type(value)) == "<class 'numpy.bool'>":
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return load_folder(HOSTILE / "rules", work_dir=tmp_path_factory.mktemp("rules-work"))


@pytest.mark.parametrize("table", RULE_TABLES)
def test_every_rule_of_the_contract(rules, table):
    expect = _expectations(table)
    loaded = rules.tables[table]
    accepted = rules.events_frame() if table == "usage_events" else loaded.accepted
    accepted = accepted.set_index("source_row")
    quarantined = loaded.quarantined.set_index("source_row")["reason"]
    blanked = loaded.blanked
    assert loaded.rows_read == len(expect)
    assert loaded.quality["rows_accepted"] + loaded.quality["rows_quarantined"] == len(expect)
    assert sorted(list(accepted.index) + list(quarantined.index)) == sorted(expect)
    for row, verdict in expect.items():
        head, *checks = verdict.split("; ") if not verdict.startswith("quarantine") else (verdict, )
        cells = blanked[blanked["source_row"] == row]
        if head.startswith("quarantine: "):
            assert row in quarantined.index, (row, verdict)
            assert head.removeprefix("quarantine: ") in quarantined[row], (row, quarantined[row])
            continue
        assert row in accepted.index, (row, verdict, quarantined.get(row))
        if head == "accept":
            assert cells.empty, (row, cells["reason"].tolist())
        else:
            columns, phrase = head.removeprefix("blank ").split(": ", 1)
            assert sorted(cells["column"]) == sorted(columns.split(",")), (row, cells)
            assert all(phrase in r for r in cells["reason"]), (row, cells["reason"].tolist())
            for column in columns.split(","):
                assert _shown(accepted.at[row, column]) == "", (row, column)
        for check in checks:
            column, value = check.split("=", 1)
            assert _shown(accepted.at[row, column]) == value, (row, column, accepted.at[row, column])


def test_rules_quarantine_redacts_personal_values_and_writes_formula_safe_csv(rules, tmp_path):
    users = rules.tables["users"].quarantined
    assert set(users["user_id"]) == {"[redacted]"} and set(users["email"].replace("", "[redacted]")) == {"[redacted]"}
    surveys = rules.tables["surveys"].quarantined
    assert "r-2" not in surveys["respondent_id"].tolist() and "[redacted]" in surveys["respondent_id"].tolist()
    written = rules.write_quarantine(tmp_path)
    assert tmp_path / "accounts.csv" in written and tmp_path / "accounts_cells.csv" in written
    back = pd.read_csv(tmp_path / "support_tickets.csv", dtype=str, keep_default_na=False)
    assert back["source_row"].tolist() == [str(r) for r in sorted(rules.tables["support_tickets"].quarantined["source_row"])]


def test_validate_prints_balanced_counts_for_the_rules_folder():
    done = subprocess.run([sys.executable, "-m", "vga", "validate", "--data", HOSTILE / "rules"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for table in RULE_TABLES:
        line = next(l for l in done.stdout.splitlines() if l.startswith(table + " "))
        read, accepted, quarantined, _ = (int(x.replace(",", "")) for x in line.split()[2:])
        assert read == accepted + quarantined == len(_expectations(table)), line


# --------------------------------------------------------------------------
# files/: one hostile file per case.

def folder(tmp_path: Path, *names: str, toml: str | None = None) -> Path:
    """A data folder holding the corpus files ``names`` as ``<table>.<ext>``
    (and two clean accounts unless an accounts file is among them)."""
    data = tmp_path / "data"
    data.mkdir(parents=True)
    for name in names:
        source = HOSTILE / "files" / name
        target = data / name.split(".", 1)[1]
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
    if not any(n.split(".")[1] == "accounts" for n in names):
        accounts(data)
    if toml is not None:
        (data / "vga.toml").write_text(toml, encoding="utf-8")
    return data


def failure(data: Path, error=DataError) -> str:
    with pytest.raises(error) as caught:
        load_folder(data, work_dir=data.parent / "work")
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def load(data: Path):
    ds = load_folder(data, work_dir=data.parent / "work")
    assert_balanced(ds)
    for t in ds.tables.values():
        assert t.quarantined["reason"].map(lambda r: bool(r) and "\n" not in r).all()
    return ds


def reasons(ds, table: str) -> dict[int, str]:
    q = ds.tables[table].quarantined
    return dict(zip(q["source_row"].astype(int), q["reason"]))


def cells(ds, table: str) -> dict[tuple[int, str], str]:
    b = ds.tables[table].blanked
    return {(int(r), c): reason for r, c, reason in zip(b["source_row"], b["column"], b["reason"])}


def days(series) -> list[str]:
    return [_shown(v) for v in series]


# Encodings

def test_utf8_with_a_byte_order_mark_and_crlf(tmp_path):
    acc = load(folder(tmp_path, "utf8_bom.accounts.csv")).get("accounts")
    assert list(acc.columns[:3]) == ["account_id", "arr", "account_name"]
    assert acc["account_name"].tolist() == ["Café", "Ünïcödé"]


def test_cp1252_is_read_where_the_encoding_is_set(tmp_path):
    data = folder(tmp_path, "cp1252.accounts.csv", toml='[sources.accounts]\nencoding = "cp1252"\n')
    assert load(data).get("accounts")["account_name"].tolist() == ["Café Müller", "€uro “quotes” – dash"]


def test_cp1252_without_the_setting_names_file_row_column_and_the_setting(tmp_path):
    message = failure(folder(tmp_path, "cp1252.accounts.csv"))
    assert "accounts.csv: row 1, column 'account_name' holds byte 0xE9, which is not UTF-8 text" in message
    assert 'set encoding = "cp1252" under [sources.accounts] in vga.toml' in message


def test_utf16_is_named_and_read_with_its_settings(tmp_path):
    message = failure(folder(tmp_path, "utf16_tabs.accounts.csv"))
    assert "UTF-16" in message and 'set encoding = "utf-16" under [sources.accounts]' in message
    data = folder(tmp_path / "set", "utf16_tabs.accounts.csv",
                  toml='[sources.accounts]\nencoding = "utf-16"\ndelimiter = "\\t"\n')
    assert load(data).get("accounts")["account_name"].tolist() == ["Łódź", "東京"]


@pytest.mark.parametrize("setting, phrase", [
    ('encoding = "utf-9"', "encoding = 'utf-9' is not a text encoding Python knows"),
    ('encoding = "rot13"', "encoding = 'rot13' is not a text encoding"),
    ('delimiter = ";;"', "delimiter = ';;': expected one character"),
])
def test_a_bad_encoding_or_delimiter_setting_is_a_usage_error(tmp_path, setting, phrase):
    data = folder(tmp_path, "utf8_bom.accounts.csv", toml=f"[sources.accounts]\n{setting}\n")
    assert phrase in failure(data, UsageError)


# Line endings, delimiters, numbers

def test_crlf_line_endings_blank_lines_and_a_multiline_value(tmp_path):
    acc = load(folder(tmp_path, "crlf.accounts.csv")).get("accounts")
    assert acc["account_id"].tolist() == ["A1", "A2", "A3"] and acc["source_row"].tolist() == [1, 2, 3]
    assert acc["account_name"].tolist() == ["two\r\nlines", "after a blank line", "no newline at the end"]


def test_semicolons_with_the_delimiter_setting(tmp_path):
    data = folder(tmp_path, "semicolon.accounts.csv", toml=(
        '[sources.accounts]\ndelimiter = ";"\ndecimal = ","\nthousands = "."\n'
        '[sources.accounts.date_formats]\ncontract_start = "%d.%m.%Y"\n'))
    acc = load(data).get("accounts")
    assert acc["arr"].tolist() == [1234.5, 99.9]
    assert days(acc["contract_start"]) == ["2020-12-31", "2021-02-01"]


def test_semicolons_without_the_setting_hint_at_the_delimiter(tmp_path):
    message = failure(folder(tmp_path, "semicolon.accounts.csv"))
    assert "column 'account_id' missing from accounts.csv" in message
    assert 'the header holds ";": if that separates the columns, set delimiter = ";" under [sources.accounts]' in message


def test_thousands_separators_with_and_without_the_setting(tmp_path):
    ds = load(folder(tmp_path, "thousands.accounts.csv", toml='[sources.accounts]\nthousands = ","\n'))
    assert ds.get("accounts").set_index("account_id")["arr"].to_dict() == {"A1": 1234567.5, "A3": 100000.0, "A4": 999.0}
    assert reasons(ds, "accounts") == {2: "arr: expected a number >= 0, found '12,34'"}
    plain = load(folder(tmp_path / "plain", "thousands.accounts.csv"))
    assert plain.get("accounts")["account_id"].tolist() == ["A4"]
    assert all("set decimal and thousands under [sources.accounts]" in r for r in reasons(plain, "accounts").values())


def test_spaces_and_no_break_spaces_as_thousands(tmp_path):
    ds = load(folder(tmp_path, "spaces_as_thousands.accounts.csv", toml='[sources.accounts]\nthousands = " "\n'))
    assert ds.get("accounts")["arr"].tolist() == [1234.0, 1234.0, 1234.0]


def test_mixed_time_zones_are_converted_to_utc(tmp_path):
    ds = load(folder(tmp_path, "mixed_time_zones.support_tickets.csv"))
    t = ds.get("support_tickets").set_index("ticket_id")
    assert set(days(t.loc[["T1", "T2", "T3", "T4", "T5", "T6"], "opened_at"])) == {"2026-04-01 01:30:00"}
    assert days(t.loc[["T7", "T9"], "opened_at"]) == ["2026-04-01", "2026-04-01 01:00:00"]
    assert _shown(t.at["T9", "closed_at"]) == "2026-04-01 01:00:00"  # the same instant: not before
    r = reasons(ds, "support_tickets")
    assert set(r) == {8, 10}
    assert "found '2026-04-01T01:30:00 CEST'" in r[8]
    assert r[10] == "closed_at '2026-04-01T00:30:00Z' is before opened_at '2026-04-01T10:00:00+09:00'"


# Headers and empty files

@pytest.mark.parametrize("name, phrase", [
    ("duplicate_header.accounts.csv", "accounts.csv: column 'arr' appears twice in the header (columns 2 and 4)"),
    ("duplicate_header.accounts.parquet", "accounts.parquet: column 'arr' appears twice in the header (columns 2 and 3)"),
    ("duplicate_header.usage_events.csv", "usage_events.csv: column 'feature' appears twice in the header"),
    ("case_mismatch.accounts.csv", "column 'account_id' missing from accounts.csv; found [Account_ID, ARR]"),
    ("empty.accounts.csv", "accounts.csv: the file is empty (0 bytes); expected a header row naming at least account_id, arr"),
    ("empty.renewals.csv", "renewals.csv: the file is empty (0 bytes); expected a header row naming at least "
                           "account_id, renewal_date, arr_before, arr_after; remove it if there is no renewals data"),
    ("empty.renewals.parquet", "renewals.parquet: the file is empty (0 bytes)"),
    ("empty_part.usage_events", "part-1.parquet: the file is empty (0 bytes)"),
    ("blank_lines_only.accounts.csv", "accounts.csv: the file holds no header row"),
    ("not_a_workbook.accounts.xlsx", "accounts.xlsx: cannot be read as xlsx"),
    ("unclosed_quote.accounts.csv", "accounts.csv: row 1 (line 2) opens a quoted value that is never closed"),
])
def test_unreadable_files_stop_with_one_clear_message(tmp_path, name, phrase):
    message = failure(folder(tmp_path, name))
    assert phrase in message, message
    if name.startswith("case_mismatch"):
        assert "column names are matched exactly: found 'Account_ID'" in message


def test_header_only_files_load_as_empty_tables(tmp_path):
    ds = load(folder(tmp_path, "header_only.accounts.csv", "header_only.renewals.csv"))
    assert ds.data_quality()["accounts"] == ds.data_quality()["renewals"] == {
        "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0, "cells_blanked": 0}


def test_the_same_table_given_twice(tmp_path):
    data = folder(tmp_path, "utf8_bom.accounts.csv", "excel.accounts.xlsx")
    assert "table 'accounts' is given more than once" in failure(data)


# Ragged records

def test_records_that_do_not_fit_the_header_are_quarantined(tmp_path):
    ds = load(folder(tmp_path, "ragged.accounts.csv"))
    assert ds.get("accounts")["account_id"].tolist() == ["A1", "A4", "A5"]
    assert ds.get("accounts")["region"].tolist() == ["EU", "EU", "EU, West"]
    r = reasons(ds, "accounts")
    assert r[2].startswith("the record has 2 fields where the header has 3")
    assert r[3].startswith("the record has 4 fields where the header has 3 (extra values: 'extra')")
    assert "(extra values: 'West')" in r[6]
    q = ds.tables["accounts"].quarantined
    assert q.loc[q["source_row"] == 2, ["account_id", "arr", "region"]].values.tolist() == [["A2", "200", ""]]


def test_trailing_delimiters_and_unnamed_columns(tmp_path):
    acc = load(folder(tmp_path, "trailing_delimiters.accounts.csv")).get("accounts")
    assert acc["account_id"].tolist() == ["A1", "A2", "A3"]
    assert acc["unnamed_4"].tolist() == ["", "", "x"]


# Excel

def test_excel_dates_serials_formulas_and_typed_cells(tmp_path):
    ds = load(folder(tmp_path, "excel.accounts.xlsx"))
    acc = ds.get("accounts").set_index("account_id")
    assert ds.tables["accounts"].rows_read == 10  # the empty row is not a record
    assert acc.loc[["A1", "1002", "A3"], "arr"].tolist() == [1200.0, 2400.0, 1200.0]  # A3: a formula's saved result
    assert days(acc.loc[["A1"], "contract_start"]) == ["2020-01-31"]
    assert acc.at["A7", "account_name"] == '=CONCAT("a","b")'
    assert acc.at["A11", "region"] == "EMEA" and acc.at["A11", "source_row"] == 10
    r = reasons(ds, "accounts")
    assert r == {
        4: "arr: expected a number >= 0, found '=B2*2' (a formula with no saved result: open the file in Excel and save it)",
        5: "arr: expected a number >= 0, found '#DIV/0!'",
        6: "arr: expected a number >= 0, found '1.234,5' (if the file writes numbers as 1.234,5 or 1,234.5, set "
           "decimal and thousands under [sources.accounts] in vga.toml)",
        8: "arr: expected a number >= 0, found 'true'",
    }
    c = cells(ds, "accounts")
    assert set(c) == {(2, "contract_start"), (9, "contract_start")}
    assert "found '43831' (an Excel date serial number? format those cells as dates in Excel)" in c[(2, "contract_start")]
    assert "found '12:30:00'" in c[(9, "contract_start")]


def test_excel_typed_cells_ignore_the_text_conventions(tmp_path):
    data = folder(tmp_path, "excel_decimal_comma.accounts.xlsx", toml=(
        '[sources.accounts]\ndecimal = ","\nthousands = "."\n'
        '[sources.accounts.date_formats]\ncontract_start = "%d.%m.%Y"\n'))
    acc = load(data).get("accounts")
    assert acc["arr"].tolist() == [1234.5, 1234.5, 99.9]
    assert days(acc["contract_start"]) == ["2020-12-31", "2020-12-31", "2021-02-01"]


# Parquet

@pytest.mark.parametrize("toml", [None, '[sources.accounts]\ndecimal = ","\nthousands = "."\n'])
def test_parquet_typed_columns(tmp_path, toml):
    ds = load(folder(tmp_path, "typed.accounts.parquet", toml=toml))
    acc = ds.get("accounts").set_index("account_id")
    assert acc["arr"].to_dict() == {"1001": 1234.5, "1002": 7.0}
    assert reasons(ds, "accounts") == {3: "arr: required value is empty"}
    assert days(acc["contract_start"]) == ["2019-12-31", ""]  # 01:00 at +02:00 is the day before in UTC
    assert days(acc["renewal_date"]) == ["2027-01-01", ""] and acc["segment"].tolist() == ["SMB", "SMB"]
    assert acc["health_score"].tolist()[0] == 55.5
    c = cells(ds, "accounts")
    assert "found '9999-12-31' (outside 1678-2261" in c[(2, "renewal_date")]
    assert "found '101.00'" in c[(2, "health_score")]


def test_parquet_columns_of_all_nulls(tmp_path):
    ds = load(folder(tmp_path, "all_null.accounts.parquet"))
    acc = ds.get("accounts")
    assert len(acc) == 2 and ds.tables["accounts"].blanked.empty
    assert acc["region"].isna().all() and acc["health_score"].isna().all() and acc["contract_start"].isna().all()


# Long and hostile strings

def test_very_long_strings(tmp_path):
    ds = load(folder(tmp_path, "long_strings.accounts.csv"))
    acc = ds.get("accounts").set_index("source_row")
    assert acc.at[1, "account_name"] == make_corpus.LONG_NAME and len(acc.at[1, "account_name"]) == 100_000
    assert acc.at[3, "account_id"] == "Z" * 100_000
    reason = reasons(ds, "accounts")[2]
    assert reason.startswith("arr: expected a number >= 0, found '999") and "(1,000 characters)" in reason
    assert len(reason) < 200
    assert ds.tables["accounts"].quarantined["arr"].tolist() == [make_corpus.LONG_NUMBER]  # nothing lost


def test_names_with_html_formulas_and_control_characters(tmp_path):
    ds = load(folder(tmp_path, "hostile_names.accounts.csv"))
    acc = ds.get("accounts")
    names = dict(zip(acc["account_id"], acc["account_name"]))
    assert names["H1"] == "<script>alert('x')</script>"
    assert names["H2"] == '=HYPERLINK("http://evil.example","click")'
    assert names["H6"] == "Bell\x07 Esc\x1b[31m red" and names["H9"] == "NUL\x00byte"
    assert names["H7"] == "line\nbreak" and names["H8"] == "tab\tinside" and names["H10"] == "RTL \u202egnp.exe"
    assert names["=1+1"] == "a formula as the id" and len(acc) == 12
    reason = reasons(ds, "accounts")[13]
    assert reason == "arr: expected a number >= 0, found 'oops\\x07\\nmore'"
    ds.write_quarantine(tmp_path / "quarantine")
    written = (tmp_path / "quarantine" / "accounts.csv").read_text(encoding="utf-8")
    back = list(csv.DictReader(io.StringIO(written)))
    assert back[0]["account_name"] != '=HYPERLINK("http://evil.example")'
    assert back[0]["account_name"].endswith('=HYPERLINK("http://evil.example")')
    assert all("\n" not in line for line in ds.problems())


# Mapping

def test_a_mapped_column_beside_one_with_the_contract_name(tmp_path):
    data = folder(tmp_path, "two_arr_columns.accounts.csv", toml='[sources.accounts.columns]\narr = "ARR (EUR)"\n')
    acc = load(data).get("accounts")
    assert acc["arr"].tolist() == [2.0] and acc["arr (unmapped)"].tolist() == ["1"]


def test_a_mapped_column_missing_from_the_file(tmp_path):
    data = folder(tmp_path, "utf8_bom.accounts.csv", toml='[sources.accounts.columns]\ncontract_start = "Start"\n')
    assert ("vga.toml maps contract_start to 'Start' under [sources.accounts.columns], but accounts.csv has no "
            "column 'Start'; found [account_id, arr, account_name]") in failure(data)


# Event files (read by DuckDB)

def test_latin1_events(tmp_path):
    message = failure(folder(tmp_path, "latin1.usage_events.csv"))
    assert "usage_events.csv: row 1, column 'feature' holds byte 0xE9, which is not UTF-8 text" in message
    assert 'set encoding = "latin-1" under [sources.usage_events]' in message
    ok = load(folder(tmp_path / "latin1", "latin1.usage_events.csv",
                     toml='[sources.usage_events]\nencoding = "latin-1"\n'))
    assert ok.events_frame().sort_values("source_row")["feature"].tolist() == ["café", "naïve"]
    cp = failure(folder(tmp_path / "cp", "latin1.usage_events.csv", toml='[sources.usage_events]\nencoding = "cp1252"\n'))
    assert "event files are read by DuckDB, which reads UTF-8, UTF-16 and Latin-1 text only, not 'cp1252'" in cp


def test_semicolon_events(tmp_path):
    assert 'set delimiter = ";" under [sources.usage_events]' in failure(folder(tmp_path, "semicolon.usage_events.csv"))
    ok = load(folder(tmp_path / "set", "semicolon.usage_events.csv", toml='[sources.usage_events]\ndelimiter = ";"\n'))
    assert ok.events_frame()["feature"].tolist() == ["reports"]


def test_events_with_bom_crlf_and_a_blank_line(tmp_path):
    ev = load(folder(tmp_path, "bom_crlf.usage_events.csv")).events_frame().sort_values("source_row")
    assert ev[["source_row", "account_id", "feature"]].values.tolist() == [[1, "A1", "reports"], [2, "A2", "alerts"]]


@pytest.mark.parametrize("name, phrase", [
    ("ragged.usage_events.csv", "usage_events.csv: line 3 (the header is line 1) has 5 fields where the header has 4"),
    ("unclosed_quote.usage_events.csv", "usage_events.csv: line 2 (the header is line 1) has a quoted value that is never closed"),
])
def test_malformed_event_lines_stop_with_the_line(tmp_path, name, phrase):
    assert phrase in failure(folder(tmp_path, name))


def test_the_command_line_shows_the_message_without_a_traceback(tmp_path):
    data = folder(tmp_path, "cp1252.accounts.csv")
    done = subprocess.run([sys.executable, "-m", "vga", "validate", "--data", data], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "row 1, column 'account_name' holds byte 0xE9" in done.stderr and len(done.stderr.strip().splitlines()) == 1
