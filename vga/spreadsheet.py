"""Files people open in a spreadsheet, safe against formula injection.

Every CSV a run writes (results and quarantine) and the per-CSM workbook may
be opened in Excel or Google Sheets. A text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return and is not a number would be
run as a formula there (an account named ``=HYPERLINK(...)``), so such text
is written with a leading apostrophe, which spreadsheets show as text (the
OWASP advice). Numbers, negative ones included, stay as they are. In the
Excel workbook every text cell is also stored as a string, never a formula.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Excel forbids these in sheet names; names are at most 31 characters.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


def safe_text(value):
    """``value`` made inert for a spreadsheet: text starting with a formula
    character gets a leading apostrophe; control characters other than tab
    and newline are removed. Non-text values are returned unchanged."""
    if not isinstance(value, str):
        return value
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    """'-12.5' or '+3' is a number, not a formula; 'nan' and 'inf' are not numbers here."""
    try:
        value = float(text)
    except ValueError:
        return False
    return value == value and abs(value) != float("inf")


def safe_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text cells (not its numbers) through :func:`safe_text`."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_text)
    return out


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of ``frame`` through :func:`safe_text`."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_text)
    out.columns = [safe_text(str(c)) for c in out.columns]
    return out


def sheet_names(owners: list[str]) -> dict[str, str]:
    """owner -> a valid, unique Excel sheet name (forbidden characters
    replaced, at most 31 characters, numbered when two would clash)."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for owner in owners:
        base = _SHEET_FORBIDDEN.sub("_", safe_text(str(owner)).lstrip("'")).strip() or "(no owner)"
        base = re.sub(r"[\x00-\x1f\x7f]", "", base)[:31]
        name, i = base, 2
        while name.lower() in used:
            suffix = f" ({i})"
            name, i = base[: 31 - len(suffix)] + suffix, i + 1
        used.add(name.lower())
        names[owner] = name
    return names


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """One sheet per key (an owner); text cells are safe and stored as
    strings. An empty ``sheets`` writes one sheet saying there is nothing."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    path = Path(path)
    book = Workbook()
    book.remove(book.active)
    names = sheet_names(list(sheets))
    for owner, frame in sheets.items() or {"(none)": pd.DataFrame({"note": ["no actions"]})}.items():
        sheet = book.create_sheet(names.get(owner, "(none)"))
        shown = safe_frame(frame)
        sheet.append(list(shown.columns))
        for row in shown.itertuples(index=False):
            sheet.append([None if (not isinstance(v, str) and pd.isna(v)) else v for v in row])
        for column in sheet.iter_cols():
            for cell in column:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[get_column_letter(column[0].column)].width = min(60, max(10, width + 2))
        sheet.freeze_panes = "A2"
    book.save(path)
    return path


def read_workbook(path: str | Path) -> dict[str, pd.DataFrame]:
    """The sheets of a workbook written by :func:`write_workbook`, as frames."""
    sheets = pd.read_excel(path, sheet_name=None, dtype=object)
    return {name: frame for name, frame in sheets.items()}
