"""An independent, deliberately plain implementation of the metric
definitions, straight from the CSV text with the standard library, used to
check the package's figures. It shares no code with ``vga``."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path


def _d(text: str) -> date | None:
    return date.fromisoformat(text[:10]) if text.strip() else None


def read(folder: Path, table: str) -> list[dict]:
    with open(folder / f"{table}.csv", newline="", encoding="utf-8") as fh:
        return [dict(row, _row=i) for i, row in enumerate(csv.DictReader(fh), start=1)]


def arr_at(account: dict, rows: list[dict], day: date) -> float:
    start = _d(account.get("contract_start", "") or "")
    if start and start > day:
        return 0.0
    mine = sorted(rows, key=lambda r: (_d(r["renewal_date"]), r["_row"]))
    before = [r for r in mine if _d(r["renewal_date"]) <= day]
    if before:
        return float(before[-1]["arr_after"])
    after = [r for r in mine if _d(r["renewal_date"]) > day]
    if after:
        return float(after[0]["arr_before"])
    return float(account["arr"])


def retention(folder: Path, as_of: date, window_start: date) -> dict:
    accounts = read(folder, "accounts")
    renewals = read(folder, "renewals")
    by_account: dict[str, list] = {}
    for r in renewals:
        by_account.setdefault(r["account_id"], []).append(r)
    cohort = []
    for a in accounts:
        rows = by_account.get(a["account_id"], [])
        s = arr_at(a, rows, window_start)
        start = _d(a.get("contract_start", "") or "")
        if s > 0 and (start is None or start <= window_start):
            cohort.append((a["account_id"], s, arr_at(a, rows, as_of)))
    denom = sum(s for _, s, _ in cohort)
    return {
        "cohort": {aid: (s, e) for aid, s, e in cohort},
        "cohort_accounts": len(cohort),
        "nrr": sum(e for _, _, e in cohort) / denom,
        "grr": sum(min(s, e) for _, s, e in cohort) / denom,
        "logo_churn_rate": sum(1 for _, _, e in cohort if e == 0) / len(cohort),
        "arr_churned": sum(s for _, s, e in cohort if e == 0),
        "arr_contracted": sum(s - e for _, s, e in cohort if 0 < e < s),
        "arr_expanded": sum(e - s for _, s, e in cohort if e > s),
        "arr_total": sum(arr_at(a, by_account.get(a["account_id"], []), as_of) for a in accounts),
    }


def quadrant(usage: float | None, health: float | None, u_cut=50.0, h_cut=50.0) -> str:
    if usage is None or health is None:
        return "Unscored"
    if usage >= u_cut:
        return "Champions" if health >= h_cut else "Frustrated Power Users"
    return "Relationship-Dependent" if health >= h_cut else "Churn Risk"
