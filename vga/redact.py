"""Stable pseudonyms for wide sharing (``vga run --redact``).

Account names and the names of people on the account team (CSM, sales
rep) are replaced by pseudonyms such as ``Account 3f9a2c`` or ``CSM
b71e04``: the same name gets the same pseudonym in every run, so two
quarters' reports still line up, and no name can be read from a report.
Account ids are kept (they are the key back to the data owner's systems).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pandas as pd

from .spreadsheet import safe_columns

#: column -> pseudonym prefix
PSEUDONYMS = {"account_name": "Account", "csm": "CSM", "sales_rep": "Sales rep"}


def pseudonym(value, prefix: str):
    """``prefix`` and 6 hex digits of the value's sha256; empty stays empty."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or str(value) == "":
        return value
    return f"{prefix} {hashlib.sha256(str(value).encode('utf-8')).hexdigest()[:6]}"


def redact_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every name column of :data:`PSEUDONYMS` pseudonymised."""
    out = frame.copy()
    for column, prefix in PSEUDONYMS.items():
        if column in out.columns:
            out[column] = out[column].map(lambda v, p=prefix: pseudonym(v, p))
    return out


def redact_inputs(inputs):
    """The run's inputs with names pseudonymised (accounts and touchpoints' csm)."""
    tables = {name: (redact_frame(frame) if any(c in frame.columns for c in PSEUDONYMS) else frame)
              for name, frame in inputs.tables.items()}
    return replace(inputs, tables=tables)


def redact_folder(folder) -> None:
    """Pseudonymise the name columns of every CSV in ``folder`` (the quarantine)."""
    from pathlib import Path

    for path in Path(folder).glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if any(c in frame.columns for c in PSEUDONYMS):
            safe_columns(redact_frame(frame)).to_csv(path, index=False, encoding="utf-8")
