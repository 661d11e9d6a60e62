"""Incremental refresh: a quarterly run through the store gives exactly the
figures of a full rebuild, while validating only the event files that
changed and aggregating only the months it had not seen.

The scenario: events exported as one Parquet file per month. Quarter one
runs with events to June and one account missing from the accounts export.
Quarter two adds July to October, changes one old month's file, deletes
another, and brings the missing account back (so the files holding its
events resolve differently and must be validated again). Its incremental
run must equal a run with ``--rebuild`` into a fresh reports folder, file
for file.
"""

from __future__ import annotations

import hashlib

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from vga.cli import main
from vga.load.store import EventStore, identity_signature
from vga.run.runner import STORE_DIR, run_period
from vga.sample import write_sample

pytestmark = pytest.mark.slow


def _monthly_parts(folder: Path) -> list[str]:
    """Rewrite the sample's event files as one file per month (the bad rows stay in their own file)."""
    raw = [pd.read_parquet(p) for p in sorted((folder / "usage_events").glob("*.parquet")) if p.name != "unparsed.parquet"]
    events = pd.concat(raw, ignore_index=True)
    for p in (folder / "usage_events").glob("*.parquet"):
        if p.name != "unparsed.parquet":
            p.unlink()
    month = events["timestamp"].str[:7]
    names = []
    for m, part in events.groupby(month):
        name = f"events-{m}.parquet"
        part.reset_index(drop=True).to_parquet(folder / "usage_events" / name, index=False)
        names.append(name)
    return names


@pytest.fixture(scope="module")
def quarters(tmp_path_factory):
    base = tmp_path_factory.mktemp("refresh")
    second = base / "data-q3"
    write_sample(second, accounts=80, seed=11)
    months = _monthly_parts(second)
    first = base / "data-q2"
    shutil.copytree(second, first)
    for name in months:  # quarter one's export ends in June
        if name > "events-2026-06.parquet":
            (first / "usage_events" / name).unlink()
    accounts = pd.read_csv(first / "accounts.csv", dtype=str, keep_default_na=False)
    events = pd.concat([pd.read_parquet(p) for p in (first / "usage_events").glob("events-*.parquet")])
    # an account whose events fall in few months: most files do not hold it and must be reused
    given = events[events["account_id"] != ""]
    spread = given.groupby("account_id")["timestamp"].agg(lambda t: t.str[:7].nunique())
    missing = spread[spread >= 1].sort_values(kind="stable").index[0]
    accounts[accounts["account_id"] != missing].to_csv(first / "accounts.csv", index=False)
    # Quarter two: one old month changed, one deleted.
    changed = second / "usage_events" / "events-2025-03.parquet"
    frame = pd.read_parquet(changed)
    frame.iloc[: len(frame) // 2].to_parquet(changed, index=False)
    (second / "usage_events" / "events-2024-11.parquet").unlink()
    out = base / "reports"
    q2 = run_period(first, "2026Q2", out=out, quiet=True)
    q3 = run_period(second, "2026Q3", out=out, quiet=True)
    incremental = base / "incremental-2026Q3"
    shutil.copytree(q3, incremental)
    store = json.loads((out / STORE_DIR / "hashes.json").read_text())
    # The same reports folder (so the same previous run is found), the store emptied first.
    assert main(["run", "--data", str(second), "--period", "2026Q3", "--out", str(out), "--rebuild", "--force"]) == 0
    return {"q2": q2, "q3": incremental, "rebuilt": out / "2026Q3", "missing": missing, "first": first,
            "second": second, "out": out, "hashes_before_rebuild": store}


def _files(run: Path) -> dict[str, object]:
    """Every result and quarantine file: bytes, or cell values for workbooks
    (their bytes carry the time they were written)."""
    import openpyxl

    out = {}
    for sub in ("results", "quarantine"):
        for p in sorted((run / sub).rglob("*")):
            if p.suffix == ".xlsx":
                book = openpyxl.load_workbook(p)
                out[str(p.relative_to(run))] = {ws.title: [[c.value for c in row] for row in ws.iter_rows()]
                                                for ws in book.worksheets}
            elif p.is_file():
                out[str(p.relative_to(run))] = p.read_bytes()
    return out


def test_an_incremental_refresh_equals_a_full_rebuild(quarters):
    incremental, full = _files(quarters["q3"]), _files(quarters["rebuilt"])
    assert set(incremental) == set(full) and len(incremental) > 30
    different = [name for name in full if incremental[name] != full[name]]
    assert not different, f"incremental and rebuilt runs differ in {different}"
    a = json.loads((quarters["q3"] / "manifest.json").read_text())["inputs"]
    b = json.loads((quarters["rebuilt"] / "manifest.json").read_text())["inputs"]
    assert a == b


def test_the_refresh_redid_only_what_changed(quarters):
    store = json.loads((quarters["q3"] / "manifest.json").read_text())["incremental_store"]
    validated, reused = set(store["event_files"]["validated"]), set(store["event_files"]["reused"])
    new = {f"events-2026-{m:02d}.parquet" for m in (7, 8, 9, 10)}
    assert new | {"events-2025-03.parquet"} <= validated  # the new months and the changed file
    assert "events-2024-11.parquet" not in validated | reused  # the deleted one is no longer read
    # the account that came back: exactly the files holding its events were validated again
    held = {p.name for p in (quarters["second"] / "usage_events").glob("events-*.parquet")
            if quarters["missing"] in set(pd.read_parquet(p)["account_id"])}
    assert held - new - {"events-2025-03.parquet"} <= validated
    assert reused and not (reused & validated) and len(reused) >= 5
    months = store["months"]
    assert {"2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2025-03-01"} <= set(months["aggregated"])
    assert "2024-11-01" not in months["aggregated"] + months["reused"] and len(months["reused"]) >= 3
    full = json.loads((quarters["rebuilt"] / "manifest.json").read_text())["incremental_store"]
    assert full["event_files"]["reused"] == [] and full["months"]["reused"] == []


def test_the_store_keeps_no_user_id_in_clear(quarters):
    root = quarters["out"] / STORE_DIR
    assert (root.stat().st_mode & 0o077) == 0 and ((root / "salt").stat().st_mode & 0o077) == 0
    users = set(pd.read_csv(quarters["second"] / "users.csv", dtype=str)["user_id"])
    for path in (root / "events").rglob("*.parquet"):
        frame = pd.read_parquet(path)
        for column in frame.columns:
            values = set(frame[column].dropna().astype(str))
            assert not values & users, f"{path.relative_to(root)} holds user ids in {column}"


def test_an_identity_change_changes_the_signature(quarters, tmp_path):
    store = EventStore(tmp_path / "store")
    salted = hashlib.sha256((store.salt + "x.example").encode()).hexdigest()  # domains are kept salted, as users
    keys = pd.DataFrame({"given_account": [None, "A1"], "user_key": ["k1", "k2"], "email_domain": [salted, None]})
    keys.to_parquet(tmp_path / "keys.parquet", index=False)
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "domain": ["y.example", "x.example"]})
    before = identity_signature(tmp_path / "keys.parquet", accounts, None, store.salt)
    assert identity_signature(tmp_path / "keys.parquet", accounts, None, store.salt) == before
    # the domain now belongs to two accounts: k1 no longer resolves
    moved = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "domain": ["y.example", "x.example", "x.example"]})
    assert identity_signature(tmp_path / "keys.parquet", moved, None, store.salt) != before
    # an account unrelated to the file's keys changes nothing
    more = pd.concat([accounts, pd.DataFrame({"account_id": ["A9"], "domain": ["z.example"]})])
    assert identity_signature(tmp_path / "keys.parquet", more, None, store.salt) == before
