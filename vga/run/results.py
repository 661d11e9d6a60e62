"""Writing machine-readable results: CSV and JSON as the outputs spec says.

CSV: UTF-8 with a header; booleans ``true``/``false``, never empty; numbers
at full precision; a value that does not apply is an empty cell. JSON: rates
as fractions at full precision, null where a figure cannot be computed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..spreadsheet import safe_columns
import pandas as pd


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` following the CSV rules above; returns the path."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_bool_dtype(series) or (
            series.dtype == object and series.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all() and series.notna().any()
        ):
            # A value that does not apply (no row to say yes or no) is an empty cell.
            out[col] = series.map(lambda v: "" if pd.isna(v) else "true" if bool(v) else "false")
        elif pd.api.types.is_float_dtype(series):
            out[col] = series.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d").fillna("")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened in spreadsheets: text that would run as a formula gets an apostrophe.
    safe_columns(out).to_csv(path, index=False, encoding="utf-8")
    return path


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) or math.isinf(float(value)) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def write_json(data: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(data), indent=2, allow_nan=False), encoding="utf-8")
    return path


def read_csv(path: str | Path, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a results CSV back to the values that were written.

    ``columns`` declares types (``str``, ``int``, ``float``, ``bool``,
    ``date``); an undeclared column is ``bool`` when it holds only
    true/false, ``float`` when every non-empty cell is a number, else text.
    Text keeps ``""`` for an empty cell; numbers and dates read it as
    missing. Floats were written by ``repr``, so they read back exactly.
    """
    columns = columns or {}
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    out = pd.DataFrame(index=raw.index)
    for col in raw.columns:
        text = raw[col]
        kind = columns.get(col) or _infer(text, col)
        if kind == "str":
            out[col] = text.astype(object)
        elif kind == "bool":
            out[col] = text.str.lower().eq("true")
        elif kind == "int":
            values = pd.to_numeric(text.where(text != ""), errors="raise")
            out[col] = values.astype("int64") if values.notna().all() else values.astype("Int64")
        elif kind == "float":
            out[col] = pd.to_numeric(text.where(text != ""), errors="raise").astype(float)
        elif kind == "date":
            out[col] = pd.to_datetime(text.where(text != ""), format="ISO8601")
        else:
            raise ValueError(f"unknown column type {kind} for {col}")
    return out


def _infer(text: pd.Series, name: str) -> str:
    if name.endswith("_id"):
        return "str"
    present = text[text != ""]
    if len(present) and present.str.lower().isin(["true", "false"]).all():
        return "bool"
    if len(present) == len(text) and len(present) and present.str.fullmatch(r"-?\d+").all():
        return "int"
    if len(present) and pd.to_numeric(present, errors="coerce").notna().all():
        return "float"
    return "str"


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
