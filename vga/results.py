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
import pandas as pd


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` following the CSV rules above; returns the path."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_bool_dtype(series) or (
            series.dtype == object and series.dropna().map(lambda v: isinstance(v, (bool, np.bool_))).all() and series.notna().any()
        ):
            out[col] = series.map(lambda v: "true" if bool(v) else "false")
        elif pd.api.types.is_float_dtype(series):
            out[col] = series.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d").fillna("")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8")
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
