"""Regular expressions over whole text columns, in Arrow's compute.

Checking a column cell by cell with Python's ``re`` costs a Python call per
value: at 50,000 accounts, millions of calls while loading. Arrow runs the
same test over the whole column in compiled code (RE2). Patterns given here
must mean the same in both engines: no look-around or back-references, and
``\\d``, ``\\w`` and ``\\s`` read as ASCII (as Python reads them with
``re.ASCII``). A column Arrow cannot take as text (values that are not
strings) is matched by Python's ``re``, the same pattern, cell by cell.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _as_text(values: pd.Series) -> pa.Array | None:
    """The column as an Arrow string array (missing values null), or None
    when a value is neither text nor missing."""
    try:
        return pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def _mask(result: pa.Array, index) -> pd.Series:
    return pd.Series(result.fill_null(False).to_numpy(zero_copy_only=False).astype(bool), index=index)


def fullmatch(values: pd.Series, pattern: str) -> pd.Series:
    """Per cell, whether the whole text matches ``pattern`` (False for a
    missing value): ``re.fullmatch(pattern, cell, re.ASCII)``."""
    text = _as_text(values)
    if text is None:
        compiled = re.compile(pattern, re.ASCII)
        return values.map(lambda v: isinstance(v, str) and compiled.fullmatch(v) is not None).astype(bool)
    return _mask(pc.match_substring_regex(text, f"^(?:{pattern})$"), values.index)


def search(values: pd.Series, pattern: str, *, ignore_case: bool = False) -> pd.Series:
    """Per cell, whether ``pattern`` occurs anywhere in the text (False for a
    missing value or a value that is not text): ``re.search`` (``^`` anchors
    it at the start, as ``re.match``)."""
    text = _as_text(values)
    if text is None:
        compiled = re.compile(pattern, re.ASCII | (re.IGNORECASE if ignore_case else 0))
        return values.map(lambda v: isinstance(v, str) and compiled.search(v) is not None).astype(bool)
    if not len(text):
        return pd.Series(np.zeros(0, dtype=bool), index=values.index)
    return _mask(pc.match_substring_regex(text, pattern, ignore_case=ignore_case), values.index)


def replace(values: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """Every text cell with each match of ``pattern`` replaced by
    ``replacement`` (taken literally); other cells as they are."""
    text = _as_text(values)
    if text is None:
        compiled = re.compile(pattern, re.ASCII)
        return values.map(lambda v: compiled.sub(lambda _: replacement, v) if isinstance(v, str) else v)
    out = pc.replace_substring_regex(text, pattern, replacement.replace("\\", "\\\\"))
    return pd.Series(out.to_numpy(zero_copy_only=False), index=values.index, dtype=object).where(values.notna(), values)
