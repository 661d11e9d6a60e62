"""Finding a data folder's tables and reading one file as text.

Only this module opens input files (event files are scanned by DuckDB in
:mod:`vga.load.events`). Every cell comes back as trimmed text with
``source_row``, the 1-based record number, so that the parsing rules of the
contract apply the same to CSV, Parquet and Excel.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract import TABLES
from ..errors import DataError

EXTENSIONS = ("csv", "parquet", "xlsx")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_sources(data_dir: Path, config: dict) -> dict[str, Path]:
    """Map each table present to its file (or folder for usage_events)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"data folder {data_dir} does not exist or is not a folder")
    found: dict[str, Path] = {}
    for name, table in TABLES.items():
        configured = config.get("sources", {}).get(name, {}).get("path")
        if configured:
            path = Path(configured)
            path = path if path.is_absolute() else data_dir / path
            if not path.exists():
                raise DataError(
                    f"{path}: not found; vga.toml maps table '{name}' to it under [sources.{name}] path"
                )
            found[name] = path
            continue
        candidates = [data_dir / f"{name}.{ext}" for ext in EXTENSIONS if (data_dir / f"{name}.{ext}").is_file()]
        if table.allow_folder and (data_dir / name).is_dir():
            candidates.append(data_dir / name)
        if len(candidates) > 1:
            raise DataError(
                f"table '{name}' is given more than once in {data_dir} ({', '.join(c.name for c in candidates)}); "
                f"keep one, or choose with [sources.{name}] path in vga.toml"
            )
        if candidates:
            found[name] = candidates[0]
    if "accounts" not in found:
        raise DataError(
            f"no accounts table in {data_dir}: expected accounts.csv, accounts.parquet or accounts.xlsx "
            "(or name your file in vga.toml under [sources.accounts] path = ...)"
        )
    return found


def _arrow_column_to_text(values: pd.Series) -> pd.Series:
    """Render a typed column (from Parquet) as the text a CSV would hold."""
    missing = values.isna()
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.map(lambda v: v.isoformat() if pd.notna(v) else "")
    elif pd.api.types.is_bool_dtype(values):
        text = values.map(lambda v: "true" if v is True or v == True else "false")  # noqa: E712
    else:
        text = values.astype(object).map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    return text.where(~missing, "").astype(object)


def read_text_table(path: Path) -> pd.DataFrame:
    """Read one file as text: every cell a trimmed str, plus ``source_row``
    (1-based record number, header not counted)."""
    path = Path(path)
    try:
        return _read_one(path)
    except DataError:
        raise
    except Exception as exc:  # any reader failure: one clear message
        kind = path.suffix.lstrip(".") or "a table"
        raise DataError(f"{path}: cannot be read as {kind} ({type(exc).__name__}: {exc})") from None


def _read_one(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig", skipinitialspace=False
        )
    elif suffix == ".parquet":
        typed = pd.read_parquet(path)
        frame = pd.DataFrame({c: _arrow_column_to_text(typed[c]) for c in typed.columns})
    elif suffix == ".xlsx":
        frame = pd.read_excel(path, sheet_name=0, dtype=str, na_filter=False, keep_default_na=False)
        frame = frame.fillna("")
    else:
        raise DataError(f"{path}: unsupported file type '{suffix}'; use .csv, .parquet or .xlsx")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).apply(lambda col: col.astype(str).str.strip())
    frame.insert(0, "source_row", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame.reset_index(drop=True)


def missing_required_message(table: str, path: Path, found: list[str], missing: list[str]) -> str:
    """The one message for required columns absent from a file."""
    col = missing[0]
    return (
        f"column '{col}' missing from {path.name}{'/' if path.is_dir() else ''}; found [{', '.join(found)}]; "
        f"map it in vga.toml under [sources.{table}.columns] as {col} = \"<your column name>\""
        + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
    )
