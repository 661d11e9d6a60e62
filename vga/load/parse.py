"""Parsing a column of trimmed text by its contract type."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..contract import Column
from ..textscan import fullmatch, replace, search
from . import messages as msg
from .messages import FALSE_WORDS, ISO_PATTERN, NUMBER_PATTERN, TRUE_WORDS

#: The range of dates a timestamp column can hold (nanoseconds since 1970 in 64 bits).
EARLIEST, LATEST = pd.Timestamp.min, pd.Timestamp.max
#: Spaces a "thousands = ' '" setting also stands for (what spreadsheets write).
_SPACES = ("\u00a0", "\u202f")


def parse_column(text: pd.Series, col: Column, options: dict | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse trimmed text by the column's type.

    Returns ``(values, invalid)``: parsed values (missing where the text was
    empty or invalid) and a boolean mask of non-empty cells that failed.
    ``options`` may hold ``decimal``, ``thousands`` and ``date_format`` (which
    apply to text cells only), ``typed`` (a boolean mask of the cells the
    file held as typed values), ``formula`` (a mask of .xlsx formulas with no
    saved result), ``excel`` (the file is .xlsx) and ``table`` (for hints).
    Timestamps are stored as naive UTC; dates keep the UTC date.
    """
    values, bad, _ = parse_column_with_hints(text, col, options)
    return values, bad


def parse_column_with_hints(text: pd.Series, col: Column, options: dict | None = None):
    """:func:`parse_column`, plus per cell a hint (what an invalid value
    looks like, what to do) for its reason; empty where there is none."""
    options = options or {}
    present = text != ""
    typed = _mask(options.get("typed"), text)
    hints = pd.Series("", index=text.index, dtype=object)
    table = options.get("table") or "<table>"
    if col.type in ("id", "str"):
        values = text.where(present, None).astype(object)
        return values, pd.Series(False, index=text.index), hints
    if col.type in ("number", "integer"):
        values, unparsed = _numbers(text, options, typed)
        bad = present & (values.isna() | ~np.isfinite(values.fillna(0)))
        convention = bool(options.get("thousands")) or options.get("decimal") not in (None, ".")
        for i in text.index[bad & unparsed & ~typed]:
            hints[i] = msg.number_hint(text[i], table, convention)
        if col.type == "integer":
            bad |= present & values.notna() & (values % 1 != 0)
        if col.min is not None:
            bad |= values < col.min
        if col.max is not None:
            bad |= values > col.max
        return values.where(~bad), bad, _formula_hints(hints, bad, options, text)
    if col.type in ("date", "timestamp"):
        fmt = options.get("date_format")
        shaped = fullmatch(text, ISO_PATTERN)
        upper_z = replace(text, "z$", "Z")  # the contract's shape allows 'z'; the parser wants 'Z'
        iso = pd.to_datetime(upper_z.where(present & shaped & (typed | (fmt is None))), format="ISO8601",
                             errors="coerce", utc=True)
        if fmt:  # a declared format applies to text cells; typed cells (Excel dates) are ISO already
            declared = pd.to_datetime(text.where(present & ~typed), format=fmt, errors="coerce", utc=True)
            iso = iso.where(typed, declared)
        naive = iso.dt.tz_convert(None)
        outside = naive.notna() & ((naive < EARLIEST) | (naive > LATEST))
        values = naive.where(~outside).astype("datetime64[ns]")
        if col.type == "date":
            values = values.dt.normalize()
        bad = present & values.isna()
        hints[outside] = msg.DATE_OUT_OF_RANGE
        serial = bad & typed & fullmatch(text, NUMBER_PATTERN)
        if options.get("excel"):
            hints[serial] = msg.EXCEL_SERIAL
        other = bad & ~outside & ~typed & search(text, f"^(?:{msg.OTHER_DATE_SHAPE})")
        if not fmt:
            hints[other.astype(bool)] = msg.date_hint(col.name, table)
        return values, bad, _formula_hints(hints, bad, options, text)
    if col.type == "bool":
        lower = text.str.lower()
        values = pd.Series(pd.NA, index=text.index, dtype="boolean")
        values[lower.isin(TRUE_WORDS)] = True
        values[lower.isin(FALSE_WORDS)] = False
        bad = present & values.isna()
        return values, bad, _formula_hints(hints, bad, options, text)
    if col.type == "enum":
        lower = text.str.lower()
        ok = lower.isin(col.choices)
        bad = present & ~ok
        return lower.where(ok & present, None).astype(object), bad, _formula_hints(hints, bad, options, text)
    raise ValueError(f"unknown column type {col.type}")


def _mask(values, text: pd.Series) -> pd.Series:
    if values is None:
        return pd.Series(False, index=text.index)
    return pd.Series(np.asarray(values, dtype=bool), index=text.index)


def _formula_hints(hints: pd.Series, bad: pd.Series, options: dict, text: pd.Series) -> pd.Series:
    formula = _mask(options.get("formula"), text)
    hints[bad & formula] = msg.UNSAVED_FORMULA
    return hints


def _numbers(text: pd.Series, options: dict, typed: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from text, the file's convention applied to text cells only.
    Returns the values and a mask of cells whose text is not a number."""
    t = text
    thousands, decimal = options.get("thousands"), options.get("decimal")
    grouped_bad = pd.Series(False, index=text.index)
    if thousands:
        if thousands == " ":
            for space in _SPACES:
                t = t.str.replace(space, " ", regex=False)
        has = t.str.contains(thousands, regex=False)
        sep, dec = re.escape(thousands), re.escape(decimal or ".")
        grouping = rf"[+-]?(\d{{1,3}}({sep}\d{{3}})+|\d{{1,2}}({sep}\d{{2}})+{sep}\d{{3}})({dec}\d*)?"
        grouped_bad = has & ~fullmatch(t, grouping)
        t = t.str.replace(thousands, "", regex=False)
    if decimal and decimal != ".":
        t = t.str.replace(".", "\0", regex=False).str.replace(decimal, ".", regex=False)
    t = text.where(typed, t)  # typed cells are written with "." already
    grouped_bad = grouped_bad & ~typed
    shaped = fullmatch(t, NUMBER_PATTERN) & ~grouped_bad
    values = pd.to_numeric(t.where(shaped & (text != "")), errors="coerce").astype(float)
    return values, ~shaped
