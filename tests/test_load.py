"""Each bad-input rule of the data contract, one test at least."""

from __future__ import annotations

import pandas as pd
import pytest

from vga.config import load_config
from vga.errors import DataError, UsageError
from vga.load import load_folder

from .helpers import accounts, assert_balanced, write_csv


def reasons(dataset, table):
    q = dataset.tables[table].quarantined
    return dict(zip(q["source_row"].astype(int), q["reason"]))


def test_text_first_parsing_keeps_ids_and_na_values(tmp_path):
    write_csv(tmp_path, "accounts", ["account_id", "arr", "region", "segment"],
              [["00123", "10", "NA", " N/A "], ["123.0", "7.0", "None", "-"], ["  A3  ", "1e3", "null", ""]])
    ds = load_folder(tmp_path)
    acc = ds.get("accounts")
    assert list(acc["account_id"]) == ["00123", "123.0", "A3"]
    assert list(acc["region"]) == ["NA", "None", "null"]
    assert acc["segment"].tolist()[:2] == ["N/A", "-"] and pd.isna(acc["segment"].iloc[2])
    assert list(acc["arr"]) == [10.0, 7.0, 1000.0]
    assert_balanced(ds)


@pytest.mark.parametrize("bad", ["", "  ", "abc", "-1", "inf", "nan", "1,000", "$100", "1e"])
def test_required_value_missing_or_invalid_quarantines_the_row(tmp_path, bad):
    accounts(tmp_path, [["A1", "100", "EMEA", ""], ["A2", bad, "NA", ""]])
    ds = load_folder(tmp_path)
    assert list(ds.get("accounts")["account_id"]) == ["A1"]
    reason = reasons(ds, "accounts")[2]
    assert reason.startswith("arr: ")
    assert ("required value is empty" in reason) if not bad.strip() else (f"found '{bad}'" in reason)
    assert_balanced(ds)


def test_optional_invalid_value_is_blanked_and_listed(tmp_path):
    write_csv(tmp_path, "accounts", ["account_id", "arr", "contract_start", "health_score"],
              [["A1", "100", "31/12/2020", "101"], ["A2", "5", "2021-02-03", "99.5"]])
    ds = load_folder(tmp_path)
    acc = ds.get("accounts")
    assert len(acc) == 2 and pd.isna(acc["contract_start"].iloc[0]) and pd.isna(acc["health_score"].iloc[0])
    cells = ds.tables["accounts"].blanked
    assert cells[["source_row", "column", "value"]].values.tolist() == [
        [1, "contract_start", "31/12/2020"], [1, "health_score", "101"]]
    assert all("blanked" in r for r in cells["reason"])
    assert ds.data_quality()["accounts"]["cells_blanked"] == 2


def test_types_booleans_enums_integers_and_timestamps(tmp_path):
    accounts(tmp_path)
    write_csv(tmp_path, "support_tickets", ["ticket_id", "account_id", "opened_at", "priority", "escalated", "csat"], [
        ["T1", "A1", "2026-03-31T23:30:00-02:00", "URGENT", "Yes", "5"],
        ["T2", "A1", "2026-03-31 10:00:00", "Normal", "f", "1.0"],
        ["T3", "A1", "2026-03-31T10:00:00Z", "p1", "maybe", "0"],
    ])
    write_csv(tmp_path, "surveys", ["account_id", "responded_at", "kind", "score"], [
        ["A1", "2026-01-01", "NPS", "7.0"], ["A1", "2026-01-01", "nps", "7.5"],
        ["A1", "2026-01-01", "csat", "6"], ["A1", "2026-01-01", "csat", "5"], ["A1", "2026-01-01", "nps", "11"],
    ])
    ds = load_folder(tmp_path)
    t = ds.get("support_tickets")
    assert list(t["opened_at"].astype(str)) == ["2026-04-01 01:30:00", "2026-03-31 10:00:00", "2026-03-31 10:00:00"]
    assert list(t["priority"].fillna("")) == ["urgent", "normal", ""]
    assert t["escalated"].tolist()[:2] == [True, False] and pd.isna(t["escalated"].iloc[2])
    assert ds.tables["support_tickets"].blanked["column"].tolist() == ["priority", "escalated", "csat"]
    s = ds.get("surveys")
    assert s["score"].tolist() == [7.0, 5.0] and list(s["kind"]) == ["nps", "csat"]
    r = reasons(ds, "surveys")
    assert set(r) == {2, 3, 5} and "0..10 for nps" in r[2] and "1..5 for csat" in r[3]
    assert_balanced(ds)


def test_date_column_given_a_timestamp_keeps_the_utc_date(tmp_path):
    write_csv(tmp_path, "accounts", ["account_id", "arr", "contract_start"],
              [["A1", "1", "2021-05-05T23:30:00-02:00"], ["A2", "1", "2021-05-05T01:00:00+03:00"]])
    acc = load_folder(tmp_path).get("accounts")
    assert list(acc["contract_start"].dt.strftime("%Y-%m-%d")) == ["2021-05-06", "2021-05-04"]


@pytest.mark.parametrize("table, header, rows, bad_row, phrase", [
    ("support_tickets", ["ticket_id", "account_id", "opened_at", "closed_at"],
     [["T1", "A1", "2026-01-02", "2026-01-03"], ["T2", "A1", "2026-01-02T10:00:00Z", "2026-01-02T09:59:59Z"]],
     2, "closed_at '2026-01-02T09:59:59Z' is before opened_at"),
    ("workflow_runs", ["account_id", "workflow", "started_at", "completed_at"],
     [["A1", "w", "2026-01-02", ""], ["A1", "w", "2026-01-02", "2026-01-01"]], 2, "completed_at '2026-01-01' is before started_at"),
])
def test_date_order_violation_quarantines_even_though_later_column_is_optional(tmp_path, table, header, rows, bad_row, phrase):
    accounts(tmp_path)
    write_csv(tmp_path, table, header, rows)
    ds = load_folder(tmp_path)
    assert phrase in reasons(ds, table)[bad_row]
    assert len(ds.get(table)) == len(rows) - 1
    assert_balanced(ds)


@pytest.mark.parametrize("table, header, make_row", [
    ("accounts", ["account_id", "arr"], lambda key, ok: [key, "10" if ok else "x"]),
    ("support_tickets", ["ticket_id", "account_id", "opened_at"], lambda key, ok: [key, "A1", "2026-01-01" if ok else "bad"]),
    ("users", ["user_id", "account_id"], lambda key, ok: [key, "A1" if ok else ""]),
    ("product_fixes", ["fix_id", "account_id", "raised_at"], lambda key, ok: [key, "A1", "2026-01-01" if ok else ""]),
])
def test_duplicate_key_keeps_the_first_valid_row(tmp_path, table, header, make_row):
    if table != "accounts":
        accounts(tmp_path, [["A1", "1", "", ""]])
    # row 1 invalid, row 2 the first valid (kept), row 3 a later duplicate
    write_csv(tmp_path, table, header, [make_row("K", False), make_row("K", True), make_row("K", True)])
    ds = load_folder(tmp_path)
    kept = ds.get(table)
    assert kept["source_row"].tolist() == [2]
    r = reasons(ds, table)
    assert set(r) == {1, 3} and "first valid row (2) is kept" in r[3]
    assert_balanced(ds)


def test_references_cascade_from_quarantined_accounts(tmp_path):
    accounts(tmp_path, [["A1", "100", "", ""], ["A2", "-1", "", ""]])
    write_csv(tmp_path, "renewals", ["account_id", "renewal_date", "arr_before", "arr_after"],
              [["A1", "2026-01-01", "1", "2"], ["A2", "2026-01-01", "1", "2"], ["ZZ", "2026-01-01", "1", "2"]])
    ds = load_folder(tmp_path)
    r = reasons(ds, "renewals")
    assert r == {2: "account_id 'A2' is not among the accepted accounts", 3: "account_id 'ZZ' is not among the accepted accounts"}
    assert_balanced(ds)


def test_outcome_disagreeing_with_numbers_is_blanked(tmp_path):
    accounts(tmp_path)
    write_csv(tmp_path, "renewals", ["account_id", "renewal_date", "arr_before", "arr_after", "outcome"], [
        ["A1", "2026-01-01", "100", "80", "expanded"], ["A1", "2026-02-01", "80", "0", "Churned"],
        ["A1", "2026-03-01", "80", "80", "downgraded"],
    ])
    ds = load_folder(tmp_path)
    cells = ds.tables["renewals"].blanked
    assert cells["source_row"].tolist() == [1, 3]
    assert "outcome 'expanded' but arr_after '80' < arr_before '100'" in cells["reason"].iloc[0]
    assert ds.get("renewals")["outcome"].isna().tolist() == [True, False, True]


def test_event_identity_resolution_and_personal_data_redaction(tmp_path):
    write_csv(tmp_path, "accounts", ["account_id", "arr", "domain"],
              [["A1", "1", "one.example"], ["A2", "1", "shared.example"], ["A3", "1", "Shared.example"]])
    write_csv(tmp_path, "users", ["user_id", "account_id", "email"], [["u1", "A1", "u1@one.example"]])
    write_csv(tmp_path, "usage_events", ["timestamp", "feature", "user_id", "account_id", "user_email"], [
        ["2026-01-01T00:00:00Z", "f", "u1", "", ""],                       # via users
        ["2026-01-01T00:00:00Z", "f", "u9", "", "x@ONE.example"],          # via domain
        ["2026-01-01T00:00:00Z", "f", "u8", "", "y@shared.example"],       # ambiguous domain
        ["2026-01-01T00:00:00Z", "f", "u7", "", "z@nowhere.example"],      # unknown
        ["2026-01-01T00:00:00Z", "f", "u6", "A9", ""],                     # unknown account given
    ])
    ds = load_folder(tmp_path)
    ev = ds.events_frame().sort_values("source_row")
    assert ev[["account_id", "account_resolved_by"]].values.tolist() == [["A1", "users"], ["A1", "domain"]]
    r = reasons(ds, "usage_events")
    assert set(r) == {3, 4, 5} and "could not be resolved" in r[3] and "'A9'" in r[5]
    q = ds.tables["usage_events"].quarantined
    assert set(q["user_id"]) == {"[redacted]"} and set(q.loc[q["user_email"] != "", "user_email"]) == {"[redacted]"}
    assert ds.tables["usage_events"].notes["resolved_by"] == {"users": 1, "domain": 1}
    assert_balanced(ds)


def test_events_timestamps_offsets_and_required_values(tmp_path):
    accounts(tmp_path)
    write_csv(tmp_path, "usage_events", ["timestamp", "feature", "user_id", "account_id"], [
        ["2026-03-31T23:30:00-02:00", "f", "u1", "A1"],   # UTC 2026-04-01 01:30
        ["2026-03-31 10:00:00", "f", "u1", "A1"],         # no offset: UTC
        ["31/03/2026", "f", "u1", "A1"],                  # not ISO 8601
        ["2026-03-31", "", "u1", "A1"],                   # feature missing
        ["", "f", "", "A1"],                              # two problems, one row
        ["2026-03-31", "f", "u1", "A1"],
    ])
    ds = load_folder(tmp_path)
    ev = ds.events_frame().sort_values("source_row")
    assert ev["timestamp"].astype(str).tolist() == ["2026-04-01 01:30:00", "2026-03-31 10:00:00", "2026-03-31 00:00:00"]
    assert ev["source_row"].tolist() == [1, 2, 6]
    r = reasons(ds, "usage_events")
    assert r[3] == "timestamp: expected an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optional offset), found '31/03/2026'"
    assert r[4] == "feature: required value is empty"
    assert r[5] == "timestamp: required value is empty; user_id: required value is empty"
    assert_balanced(ds)


def test_events_columns_are_mapped_by_the_configuration(tmp_path):
    accounts(tmp_path)
    write_csv(tmp_path, "usage_events", ["ts", "event", "uid", "acct"], [["2026-01-01", "f", "u1", "A2"]])
    (tmp_path / "vga.toml").write_text(
        '[sources.usage_events.columns]\ntimestamp = "ts"\nfeature = "event"\nuser_id = "uid"\naccount_id = "acct"\n')
    ev = load_folder(tmp_path).events_frame()
    assert ev[["account_id", "feature", "user_id"]].values.tolist() == [["A2", "f", "u1"]]
    (tmp_path / "vga.toml").write_text('[sources.usage_events.columns]\ntimestamp = "ts"\n')
    with pytest.raises(DataError, match="column 'feature' missing from usage_events.csv"):
        load_folder(tmp_path)


def test_multiline_quoted_field_is_one_record(tmp_path):
    (tmp_path / "accounts.csv").write_text('account_id,arr,account_name\nA1,1,"two\nlines"\nA2,x,b\n')
    ds = load_folder(tmp_path)
    assert reasons(ds, "accounts") == {2: "arr: expected a number >= 0, found 'x'"}


def test_strict_mode_fails_with_file_row_column(tmp_path):
    accounts(tmp_path, [["A1", "100", "", "31/12/2020"]])
    with pytest.raises(DataError) as err:
        load_folder(tmp_path, strict=True)
    assert "accounts.csv row 1 column 'contract_start'" in str(err.value)


def test_fatal_inputs_stop_with_one_clear_message(tmp_path):
    with pytest.raises(DataError, match="no accounts table"):
        load_folder(tmp_path)
    write_csv(tmp_path, "accounts", ["account_id", "name", "mrr"], [["A1", "x", "1"]])
    with pytest.raises(DataError) as err:
        load_folder(tmp_path)
    text = str(err.value)
    assert "column 'arr' missing from accounts.csv" in text and "found [account_id, name, mrr]" in text
    assert "[sources.accounts.columns]" in text
    (tmp_path / "accounts.csv").unlink()
    (tmp_path / "accounts.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"accounts.parquet: cannot be read as parquet"):
        load_folder(tmp_path)


def test_configuration_maps_files_columns_and_conventions(tmp_path):
    write_csv(tmp_path / "crm", "export", ["Account ID", "ARR (EUR)", "Start"],
              [["A1", "1.234,5", "31/12/2020"], ["A2", "12,0", "01/02/2021"]])
    (tmp_path / "vga.toml").write_text(
        '[sources.accounts]\npath = "crm/export.csv"\ndecimal = ","\nthousands = "."\n'
        '[sources.accounts.columns]\naccount_id = "Account ID"\narr = "ARR (EUR)"\ncontract_start = "Start"\n'
        '[sources.accounts.date_formats]\ncontract_start = "%d/%m/%Y"\n'
    )
    acc = load_folder(tmp_path).get("accounts")
    assert acc["arr"].tolist() == [1234.5, 12.0]
    assert acc["contract_start"].dt.strftime("%Y-%m-%d").tolist() == ["2020-12-31", "2021-02-01"]


def test_configuration_typos_are_usage_errors(tmp_path):
    (tmp_path / "vga.toml").write_text("[analysis]\nusage_treshold = 40\n")
    with pytest.raises(UsageError, match="usage_treshold"):
        load_config(None, tmp_path)
    (tmp_path / "vga.toml").write_text('[sources.accounts.columns]\narr_eur = "ARR"\n')
    with pytest.raises(UsageError, match="arr_eur"):
        load_config(None, tmp_path)


def test_parquet_folder_and_xlsx_are_read_as_text_with_source_file(tmp_path):
    accounts(tmp_path)
    (tmp_path / "usage_events").mkdir()
    pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z"]),
                  "feature": ["a", "b"], "user_id": ["u1", "u2"], "account_id": ["A1", "A1"]}
                 ).to_parquet(tmp_path / "usage_events" / "p1.parquet")
    pd.DataFrame({"timestamp": ["2026-01-03T00:00:00Z", "bad"], "feature": ["c", "d"], "user_id": ["u1", "u1"],
                  "account_id": ["A2", "A2"]}).to_parquet(tmp_path / "usage_events" / "p2.parquet")
    pd.DataFrame({"account_id": ["A1", "A2"], "course": ["x", "y"], "completed_at": ["2026-01-01", "soon"]}
                 ).to_excel(tmp_path / "training.xlsx", index=False)
    ds = load_folder(tmp_path)
    q = ds.tables["usage_events"].quarantined
    assert q[["source_file", "source_row"]].values.tolist() == [["p2.parquet", 2]]
    assert len(ds.events_frame()) == 3
    # Row order across files is not guaranteed (DuckDB reads them in parallel): compare by origin.
    ev = ds.events_frame().sort_values(["source_file", "source_row"])
    assert ev["timestamp"].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2026-01-01 10:00", "2026-01-02 10:00", "2026-01-03 00:00"]
    assert ev[["source_file", "source_row"]].values.tolist() == [["p1.parquet", 1], ["p1.parquet", 2], ["p2.parquet", 1]]
    assert reasons(ds, "training") == {2: "completed_at: expected an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optional offset), found 'soon'"}
    assert_balanced(ds)
