"""Small helpers for writing data folders in tests."""

from __future__ import annotations

import csv
from pathlib import Path


def write_csv(folder: Path, name: str, header: list[str], rows: list[list]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


ACCOUNT_HEADER = ["account_id", "arr", "region", "contract_start"]


def accounts(folder: Path, rows=None) -> Path:
    rows = rows or [["A1", "100", "EMEA", "2020-01-01"], ["A2", "200", "NA", ""]]
    return write_csv(folder, "accounts", ACCOUNT_HEADER, rows)


def assert_balanced(dataset) -> None:
    for name, t in dataset.tables.items():
        q = t.quality
        assert q["rows_read"] == q["rows_accepted"] + q["rows_quarantined"], name


def assert_same_rows(a, b, keys: list[str]) -> None:
    """Two engines' results are the same rows: same columns, numbers equal
    to 1e-12 (booleans as 0/1), text equal, after sorting by ``keys``."""
    import numpy as np
    import pandas as pd

    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(a[col]) or pd.api.types.is_bool_dtype(a[col]):
            assert np.allclose(a[col].astype(float), b[col].astype(float), rtol=1e-12, equal_nan=True), col
        else:
            assert (a[col].astype(str) == b[col].astype(str)).all(), col
