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


class SqlSource:
    """A contract table built by a DuckDB query over the data folder's files
    (``[sources.<table>] sql``): one table from several files, one file into
    several tables, derived columns, filters, constants. What the query
    returns goes through the contract's rules like any file."""

    def __init__(self, data_dir: Path, table: str, sql: str, config_file: str | None):
        self.data_dir, self.table, self.sql, self.config_file = Path(data_dir), table, sql, config_file
        self.name = f"[sources.{table}] sql"

    def __str__(self) -> str:
        return f"{self.name} in {self.config_file or 'the configuration'}"

    def is_dir(self) -> bool:
        return False

    @property
    def files(self) -> list[Path]:
        """The data folder's files the query names (their sha256 go in the manifest)."""
        return sorted(p for p in self.data_dir.rglob("*") if p.is_file() and p.name in self.sql)

    def where(self) -> str:
        """'vga.toml line 12' for the query's first line, for messages."""
        if not self.config_file or not Path(self.config_file).is_file():
            return str(self)
        lines = Path(self.config_file).read_text(encoding="utf-8").splitlines()
        header = next((i for i, line in enumerate(lines) if line.strip() == f"[sources.{self.table}]"), None)
        for i in range((header or 0) + 1, len(lines)):
            if lines[i].strip().startswith("sql") and "=" in lines[i]:
                return f"{Path(self.config_file).name} line {i + 1} ({self.name})"
        return str(self)


def read_sql_table(source: SqlSource) -> pd.DataFrame:
    """Run a ``sql`` source with DuckDB, file names relative to the data
    folder, and return its rows as text (like :func:`read_text_table`), with
    ``source_row`` the 1-based row of the query's result."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET file_search_path = ?", [str(source.data_dir)])
        typed = con.sql(source.sql).df()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"{source.where()}: the query failed: {first}") from None
    finally:
        con.close()
    frame = pd.DataFrame({str(c): _arrow_column_to_text(typed[c]) for c in typed.columns})
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(object).apply(lambda col: col.astype(str).str.strip()) if len(frame.columns) else frame
    frame.insert(0, "source_row", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame.reset_index(drop=True)


def find_sources(data_dir: Path, config: dict) -> dict[str, Path]:
    """Map each table present to its file (or folder for usage_events)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"data folder {data_dir} does not exist or is not a folder")
    found: dict[str, Path] = {}
    for name, table in TABLES.items():
        query = config.get("sources", {}).get(name, {}).get("sql")
        if query:
            found[name] = SqlSource(data_dir, name, query, config.get("_file"))
            continue
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
