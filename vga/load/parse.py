"""Parsing a column of trimmed text by its contract type."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..contract import Column
from .messages import FALSE_WORDS, ISO_PATTERN, NUMBER_PATTERN, TRUE_WORDS


def parse_column(text: pd.Series, col: Column, options: dict | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse trimmed text by the column's type.

    Returns ``(values, invalid)``: parsed values (missing where the text was
    empty or invalid) and a boolean mask of non-empty cells that failed.
    ``options`` may hold ``decimal``, ``thousands`` and ``date_format``.
    Timestamps are stored as naive UTC; dates keep the UTC date.
    """
    options = options or {}
    present = text != ""
    if col.type in ("id", "str"):
        values = text.where(present, None).astype(object)
        return values, pd.Series(False, index=text.index)
    if col.type in ("number", "integer"):
        t = text
        if options.get("thousands"):
            t = t.str.replace(options["thousands"], "", regex=False)
        if options.get("decimal") and options["decimal"] != ".":
            t = t.str.replace(".", "\0", regex=False).str.replace(options["decimal"], ".", regex=False)
        shaped = t.str.fullmatch(NUMBER_PATTERN)
        values = pd.to_numeric(t.where(shaped & present), errors="coerce").astype(float)
        bad = present & (values.isna() | ~np.isfinite(values.fillna(0)))
        if col.type == "integer":
            bad |= present & values.notna() & (values % 1 != 0)
        if col.min is not None:
            bad |= values < col.min
        if col.max is not None:
            bad |= values > col.max
        return values.where(~bad), bad
    if col.type in ("date", "timestamp"):
        fmt = options.get("date_format")
        if fmt:
            parsed = pd.to_datetime(text.where(present), format=fmt, errors="coerce", utc=True)
        else:
            shaped = text.str.fullmatch(ISO_PATTERN)
            candidate = text.where(present & shaped)
            parsed = pd.to_datetime(candidate, format="ISO8601", errors="coerce", utc=True)
        values = parsed.dt.tz_convert(None).astype("datetime64[ns]")
        if col.type == "date":
            values = values.dt.normalize()
        bad = present & values.isna()
        return values, bad
    if col.type == "bool":
        lower = text.str.lower()
        values = pd.Series(pd.NA, index=text.index, dtype="boolean")
        values[lower.isin(TRUE_WORDS)] = True
        values[lower.isin(FALSE_WORDS)] = False
        return values, present & values.isna()
    if col.type == "enum":
        lower = text.str.lower()
        ok = lower.isin(col.choices)
        return lower.where(ok & present, None).astype(object), present & ~ok
    raise ValueError(f"unknown column type {col.type}")
