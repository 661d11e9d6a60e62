"""Properties of the loader on generated tables, valid and hostile.

Tables of accounts, renewals and support tickets are drawn cell by cell
(valid values, bad ones, hostile strings), written as CSV, .xlsx or Parquet
and loaded. A small model of the contract (written here, independently of
the loader) says what must happen to each row and cell. Checked:

- nothing but a DataError ever escapes, and then as one line;
- for every table, rows read = accepted + quarantined = rows written;
- every quarantined row has a reason and its own source_row;
- exactly the rows the contract quarantines are quarantined, exactly the
  cells it blanks are blanked, and accepted rows hold the parsed values;
- a table of valid values loses nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vga.privacy import KEEP, mask_contacts
from vga.contract import TABLES
from vga.errors import DataError
from vga.load import load_folder

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BAD = object()  # a value the contract rejects

# --------------------------------------------------------------------------
# Cells: (text as written, value the contract gives it: None if empty, BAD if invalid)

HOSTILE = ["<script>alert(1)</script>", "=1+1", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "a\x07b\x1b[0m",
           "tab\there", "two\nlines", "cr\rlf", "NUL\x00byte", "Ünïcödé ☃ 東京", "RTL \u202e", "zero\u200bwidth",
           "NA", "null", "None", "-", "  padded  ", '"quoted"', "a,b;c|d", "x" * 3000]


def _text(value: str) -> str | None:
    return value.strip() or None


ids = st.one_of(st.sampled_from(["A1", "A2", " A1 ", "00123", "123.0", "", "   ", *HOSTILE]),
                st.text(max_size=6)).map(lambda t: (t, _text(t)))
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)).map(lambda t: (t, _text(t)))


def _number(text: str):
    t = text.strip()
    if not t:
        return None
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", t):
        return BAD
    value = float(t)
    return value if math.isfinite(value) else BAD


good_numbers = st.one_of(
    st.integers(0, 10**9).map(str),
    st.floats(0, 1e9, allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["7.0", "+5", "1e3", " 12 ", ".5", "5.", "0"]),
)
bad_numbers = st.sampled_from(["abc", "inf", "nan", "-inf", "1,000", "$5", "1e", "١٢٣", "0x10", "1_000", "1e400",
                               "=1+1", "1 000", "five", "12%"])
numbers = st.one_of(good_numbers, good_numbers, bad_numbers, st.sampled_from(["", "  ", "-1", "-0.5", "101", "3"])
                    ).map(lambda t: (t, _number(t)))

EARLIEST, LATEST = dt.datetime(1678, 1, 1), dt.datetime(2261, 12, 31)


@st.composite
def timestamps(draw, date_only=False):
    """ISO 8601 text in one of its shapes, with the UTC instant it means."""
    when = draw(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)).map(lambda d: d.replace(microsecond=0)))
    shape = draw(st.sampled_from(["date", "T", "space", "minutes", "Z", "z", "offset", "compact"]))
    if shape == "date":
        return when.strftime("%Y-%m-%d"), pd.Timestamp(when.date())
    minutes = draw(st.integers(-14 * 60, 14 * 60)) if shape in ("offset", "compact") else 0
    sign, hh, mm = "+" if minutes >= 0 else "-", abs(minutes) // 60, abs(minutes) % 60
    text = {
        "T": when.strftime("%Y-%m-%dT%H:%M:%S"), "space": when.strftime("%Y-%m-%d %H:%M:%S"),
        "minutes": when.strftime("%Y-%m-%dT%H:%M"), "Z": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "z": when.strftime("%Y-%m-%dT%H:%M:%Sz"),
        "offset": when.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hh:02d}:{mm:02d}",
        "compact": when.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hh:02d}{mm:02d}",
    }[shape]
    instant = pd.Timestamp(when.replace(second=0) if shape == "minutes" else when) - pd.Timedelta(minutes=minutes)
    return text, (instant.normalize() if date_only else instant)


bad_dates = st.sampled_from(["yesterday", "31/12/2020", "2020-13-01", "2020-02-30", "9999-12-31", "0001-01-01",
                             "2026-01-01 10:00 CET", "20260101", "2026-1-1", "=TODAY()"]).map(lambda t: (t, BAD))
empty = st.sampled_from(["", "  "]).map(lambda t: (t, None))


def dates(date_only=False):
    return st.one_of(timestamps(date_only), timestamps(date_only), bad_dates, empty)


def enums(choices):
    good = st.sampled_from(choices).flatmap(lambda c: st.sampled_from([c, c.upper(), c.title(), f" {c} "]))
    return st.one_of(good.map(lambda t: (t, t.strip().lower())),
                     st.sampled_from(["maybe", "p1", "-", "N/A"]).map(lambda t: (t, BAD)), empty)


bools = st.one_of(
    st.sampled_from(["true", "False", "YES", "no", "t", "F", "1", "0"]).map(lambda t: (t, t.lower() in ("true", "yes", "t", "1"))),
    st.sampled_from(["maybe", "2", "y", "ja"]).map(lambda t: (t, BAD)), empty)


# --------------------------------------------------------------------------
# Tables and the model of the contract

ACCOUNT_COLUMNS = {"account_id": ids, "arr": numbers, "account_name": texts, "contract_start": dates(True),
                   "health_score": numbers}


@st.composite
def folders(draw, valid_only=False):
    """{table: (format, columns, rows of (text, value) cells)} for accounts,
    renewals and support_tickets; with ``valid_only``, no bad cell and no
    duplicate or unknown key."""
    def cell(strategy, ok):
        while True:
            text, value = draw(strategy)
            if not valid_only or ok(value):
                return text, value

    present = lambda v: v is not None and v is not BAD  # noqa: E731
    acc = []
    for i in range(draw(st.integers(0 if not valid_only else 1, 8))):
        if valid_only:
            row = {"account_id": (f"A{i}", f"A{i}"), "arr": cell(numbers, lambda v: present(v) and v >= 0)}
        else:
            row = {"account_id": draw(ids), "arr": draw(numbers)}
        row["account_name"] = draw(texts)
        row["contract_start"] = cell(dates(True), lambda v: v is not BAD)
        row["health_score"] = cell(numbers, lambda v: v is None or (present(v) and 0 <= v <= 100))
        acc.append(row)
    known = [r["account_id"] for r in acc if r["account_id"][1]]
    refs = st.sampled_from(known) if valid_only else st.one_of(
        st.sampled_from(known or [("ZZ", "ZZ")]), st.sampled_from([("ZZ", "ZZ"), ("", None)]), ids)
    ren = []
    for _ in range(draw(st.integers(0, 8)) if known or not valid_only else 0):
        ren.append({
            "account_id": draw(refs),
            "renewal_date": cell(dates(True), present),
            "arr_before": cell(numbers, lambda v: present(v) and v >= 0),
            "arr_after": cell(numbers, lambda v: present(v) and v >= 0),
            "outcome": (("", None) if valid_only else draw(enums(["renewed", "expanded", "downgraded", "churned"]))),
        })
    tickets = []
    for i in range(draw(st.integers(0, 8)) if known or not valid_only else 0):
        key = (f"T{i}", f"T{i}") if valid_only else draw(st.sampled_from(["T1", "T2", " T1", ""]).map(lambda t: (t, _text(t))))
        opened = cell(dates(), present)
        closed = cell(dates(), lambda v: v is None or (present(v) and present(opened[1]) and v >= opened[1]))
        tickets.append({
            "ticket_id": key, "account_id": draw(refs), "opened_at": opened, "closed_at": closed,
            "priority": cell(enums(["low", "normal", "high", "urgent"]), lambda v: v is not BAD),
            "escalated": cell(bools, lambda v: v is not BAD),
            "csat": cell(numbers, lambda v: v is None or (present(v) and 1 <= v <= 5)),
        })
    fmt = lambda: draw(st.sampled_from(["csv", "xlsx", "parquet"]))  # noqa: E731
    out = {"accounts": (fmt(), list(ACCOUNT_COLUMNS), acc)}
    if ren or draw(st.booleans()):
        out["renewals"] = (fmt(), ["account_id", "renewal_date", "arr_before", "arr_after", "outcome"], ren)
    if tickets or draw(st.booleans()):
        out["support_tickets"] = (fmt(), ["ticket_id", "account_id", "opened_at", "closed_at", "priority", "escalated",
                                          "csat"], tickets)
    return out


def _for_excel(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def written(tables: dict) -> dict:
    """The tables as the loader will see them: what .xlsx cannot hold
    (control characters; a lone CR, which XML reads as LF) is taken out
    before writing, and the model uses the same text."""
    out = {}
    for name, (fmt, columns, rows) in tables.items():
        if fmt == "xlsx":
            rows = [{c: _excel_cell(name, c, *row[c]) for c in columns} for row in rows]
        out[name] = (fmt, columns, rows)
    return out


def _excel_cell(table: str, column: str, text: str, value):
    cleaned = _for_excel(text)
    if cleaned == text:
        return text, value
    # only free text and ids hold such characters here; their value is the trimmed text
    assert TABLES[table].column(column).type in ("id", "str"), (table, column, text)
    return cleaned, _text(cleaned)


def write(folder: Path, tables: dict) -> None:
    for name, (fmt, columns, rows) in tables.items():
        matrix = [[r[c][0] for c in columns] for r in rows]
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            with open(path, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows([columns, *matrix])
        elif fmt == "parquet":
            pd.DataFrame(matrix, columns=columns, dtype=object).astype(str).to_parquet(path) if matrix else \
                pd.DataFrame({c: pd.Series([], dtype=str) for c in columns}).to_parquet(path)
        else:
            import openpyxl

            book = openpyxl.Workbook()
            sheet = book.active
            for row in [columns, *matrix]:
                sheet.append(row)
            book.save(path)


def expected(tables: dict) -> dict:
    """Per table: {source_row: "quarantine" | set of blanked columns}, and the accepted account ids."""
    verdict: dict[str, dict] = {}

    def value_checks(name, columns, rows):
        table = TABLES[name]
        out = {}
        for i, row in enumerate(rows, start=1):
            blanked = set()
            bad = False
            for c in columns:
                col, value = table.column(c), row[c][1]
                if value is BAD or (value is not None and col.type == "number" and (
                        (col.min is not None and value < col.min) or (col.max is not None and value > col.max))):
                    if col.required:
                        bad = True
                    else:
                        blanked.add(c)
                elif value is None and col.required:
                    bad = True
            out[i] = "quarantine" if bad else blanked
        return out

    fmt, columns, rows = tables["accounts"]
    acc = value_checks("accounts", columns, rows)
    seen = set()
    for i, row in enumerate(rows, start=1):
        if acc[i] != "quarantine":
            if row["account_id"][1] in seen:
                acc[i] = "quarantine"
            seen.add(row["account_id"][1])
    verdict["accounts"] = acc
    kept = {rows[i - 1]["account_id"][1] for i, v in acc.items() if v != "quarantine"}
    if "renewals" in tables:
        _, columns, rows = tables["renewals"]
        ren = value_checks("renewals", columns, rows)
        for i, row in enumerate(rows, start=1):
            if ren[i] == "quarantine":
                continue
            before, after, given = row["arr_before"][1], row["arr_after"][1], row["outcome"][1]
            derived = "churned" if after == 0 else "expanded" if after > before else "downgraded" if after < before else "renewed"
            if given not in (None, BAD) and given != derived:
                ren[i] = ren[i] | {"outcome"}
            if row["account_id"][1] not in kept:
                ren[i] = "quarantine"
        verdict["renewals"] = ren
    if "support_tickets" in tables:
        _, columns, rows = tables["support_tickets"]
        tix = value_checks("support_tickets", columns, rows)
        for i, row in enumerate(rows, start=1):
            opened, closed = row["opened_at"][1], row["closed_at"][1]
            if tix[i] != "quarantine" and closed not in (None, BAD) and closed < opened:
                tix[i] = "quarantine"
        seen = set()
        for i, row in enumerate(rows, start=1):
            if tix[i] != "quarantine":
                if row["ticket_id"][1] in seen:
                    tix[i] = "quarantine"
                seen.add(row["ticket_id"][1])
        for i, row in enumerate(rows, start=1):
            if tix[i] != "quarantine" and row["account_id"][1] not in kept:
                tix[i] = "quarantine"
        verdict["support_tickets"] = tix
    return verdict


def load(tables: dict):
    """Write and load; only a one-line DataError may escape (returned as text)."""
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), tables)
        try:
            return load_folder(tmp, work_dir=Path(tmp) / "work")
        except DataError as exc:
            assert "\n" not in str(exc) and str(exc).strip()
            return str(exc)


def check_counts_and_reasons(ds, rows_written: dict[str, int]) -> None:
    for name, t in ds.tables.items():
        q = t.quality
        assert q["rows_read"] == q["rows_accepted"] + q["rows_quarantined"] == rows_written[name], (name, q)
        quarantined = t.quarantined
        assert quarantined["reason"].map(lambda r: isinstance(r, str) and r.strip() != "").all(), name
        rows = quarantined["source_row"].astype(int).tolist() + t.accepted["source_row"].astype(int).tolist()
        assert sorted(rows) == list(range(1, rows_written[name] + 1)), name
        if len(t.blanked):
            assert t.blanked["reason"].map(bool).all() and set(t.blanked["source_row"]) <= set(t.accepted["source_row"])


def _same(got, want) -> bool:
    if want is None:
        return got is None or (not isinstance(got, str) and pd.isna(got))
    if isinstance(want, float):
        return math.isclose(float(got), want, rel_tol=1e-12, abs_tol=0)
    if isinstance(want, pd.Timestamp):
        return pd.Timestamp(got) == want
    return got == want


# --------------------------------------------------------------------------
# Properties

@SETTINGS
@given(folders())
def test_loading_follows_the_contract_row_by_row_and_cell_by_cell(drawn):
    tables = written(drawn)
    ds = load(tables)
    assert not isinstance(ds, str), ds  # these files are well formed: nothing may stop the run
    check_counts_and_reasons(ds, {n: len(rows) for n, (_, _, rows) in tables.items()})
    for name, want in expected(tables).items():
        t = ds.tables[name]
        got_quarantined = set(t.quarantined["source_row"].astype(int))
        assert got_quarantined == {i for i, v in want.items() if v == "quarantine"}, (name, t.quarantined["reason"].tolist())
        got_blanked = {(int(r), c) for r, c in zip(t.blanked["source_row"], t.blanked["column"])}
        assert got_blanked == {(i, c) for i, v in want.items() if v != "quarantine" for c in v}, name
        _, columns, rows = tables[name]
        accepted = t.accepted.set_index("source_row")
        for i in accepted.index:
            for c in columns:
                value = None if c in want[i] else rows[i - 1][c][1]
                if isinstance(value, str) and c not in KEEP:
                    # Free text is kept as written but for contact details (a drawn "0@0" is an address).
                    value = mask_contacts(value)
                assert _same(accepted.at[i, c], value), (name, i, c, rows[i - 1][c], accepted.at[i, c])


@SETTINGS
@given(folders(valid_only=True))
def test_valid_tables_lose_nothing(drawn):
    tables = written(drawn)
    ds = load(tables)
    assert not isinstance(ds, str), ds
    for name, (_, _, rows) in tables.items():
        q = ds.data_quality()[name]
        assert q == {"rows_read": len(rows), "rows_accepted": len(rows), "rows_quarantined": 0, "cells_blanked": 0}, name


CSV_PIECES = st.lists(st.sampled_from(list('ab1,;"\n\r \t=é.-') + ["\x00", "\ufeff", "2026-01-01", "1e3"]),
                      max_size=40).map("".join)


@settings(max_examples=50, deadline=None)
@given(st.one_of(
    CSV_PIECES.map(lambda t: ("csv", ("account_id,arr,contract_start\n" + t).encode())),
    st.binary(max_size=120).map(lambda b: ("csv", b"account_id,arr\n" + b)),
    st.binary(max_size=120).map(lambda b: (st_format(b), b)),
))
def test_any_bytes_load_or_stop_with_one_clear_message(case):
    fmt, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"accounts.{fmt}"
        path.write_bytes(data)
        try:
            ds = load_folder(tmp, work_dir=Path(tmp) / "work")
        except DataError as exc:
            assert "\n" not in str(exc) and "accounts" in str(exc)
            return
    q = ds.data_quality()["accounts"]
    assert q["rows_read"] == q["rows_accepted"] + q["rows_quarantined"]
    assert ds.tables["accounts"].quarantined["reason"].map(bool).all()


def st_format(data: bytes) -> str:
    return ("csv", "xlsx", "parquet")[len(data) % 3]
