"""Reading, parsing and validating a data folder against the contract.

Only this module reads input files. Every cell is read as text, trimmed,
then parsed by its column's type (see :mod:`vga.contract`). Bad input never
stops a run and is never silently dropped; the rules, in order:

1. Value checks: a missing or invalid *required* value quarantines the row;
   an invalid *optional* value is blanked and the cell is listed.
2. Row rules: a violated date order (``closed_at`` before ``opened_at``,
   ``completed_at`` before ``started_at``) quarantines the row; a duplicate
   unique key keeps the first valid row and quarantines the later ones.
3. References: a row naming an account that is not among the kept accounts
   (after identity resolution, for events) is quarantined.

For every table, rows read = rows accepted + rows quarantined. A file that
cannot be read, a missing ``accounts`` table or a missing required column is
a :class:`~vga.errors.DataError` raised before any analysis runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import load_config
from .contract import PERSONAL_COLUMNS, TABLES, Column, Table
from .errors import DataError
from .retention import derived_outcome

EXTENSIONS = ("csv", "parquet", "xlsx")
REDACTED = "[redacted]"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?"
)
_TRUE = {"true", "yes", "t", "1"}
_FALSE = {"false", "no", "f", "0"}


# --------------------------------------------------------------------------
# Result objects


@dataclass
class TableLoad:
    """One table after loading: what was accepted, quarantined and blanked."""

    table: str
    source: str  # the file or folder, as the user named it
    files: list[Path]
    accepted: pd.DataFrame  # parsed; with source_row (and source_file for folders)
    quarantined: pd.DataFrame  # original columns, source_row, reason; personal columns redacted
    blanked: pd.DataFrame  # source_row, column, value, reason
    rows_read: int
    notes: dict = field(default_factory=dict)
    #: Event-scale tables keep their accepted rows on disk, not in memory.
    accepted_path: Path | None = None
    accepted_rows: int | None = None

    @property
    def quality(self) -> dict:
        return {
            "rows_read": int(self.rows_read),
            "rows_accepted": int(len(self.accepted) if self.accepted_rows is None else self.accepted_rows),
            "rows_quarantined": int(len(self.quarantined)),
            "cells_blanked": int(len(self.blanked)),
        }


@dataclass
class Dataset:
    """A loaded data folder: accepted tables plus everything set aside."""

    data_dir: Path
    config: dict
    tables: dict[str, TableLoad]

    def get(self, table: str):
        """The accepted rows of ``table`` (a data frame), or None when it was
        not given. For ``usage_events``, which can be far larger than
        memory, the path of the accepted events' Parquet file instead; read
        it with Ibis/DuckDB (:mod:`vga.usage`) or :meth:`events_frame`."""
        loaded = self.tables.get(table)
        if loaded is None:
            return None
        return loaded.accepted_path if loaded.accepted_path is not None else loaded.accepted

    def events_frame(self) -> pd.DataFrame | None:
        """The accepted events in memory: for small data and tests only."""
        path = self.get("usage_events")
        return None if path is None else pd.read_parquet(path)

    def has(self, table: str) -> bool:
        return table in self.tables

    def data_quality(self) -> dict:
        return {name: t.quality for name, t in self.tables.items()}

    def reasons(self, first_rows: int = 5) -> pd.DataFrame:
        """Each distinct reason per table with a count and the first row numbers."""
        rows = []
        for name, t in self.tables.items():
            for kind, frame in (("quarantined", t.quarantined), ("blanked", t.blanked)):
                if frame.empty:
                    continue
                keyed = frame.assign(_kind=_reason_kind(frame["reason"]))
                for reason, group in keyed.groupby("_kind", sort=True):
                    where = group["source_row"].astype(int).head(first_rows).tolist()
                    if "source_file" in group.columns:
                        where = [f"{f}:{r}" for f, r in zip(group["source_file"].head(first_rows), where)]
                    rows.append({"table": name, "action": kind, "reason": reason, "count": len(group),
                                 "first_rows": ", ".join(map(str, where))})
        return pd.DataFrame(rows, columns=["table", "action", "reason", "count", "first_rows"])

    def write_quarantine(self, folder: Path) -> list[Path]:
        """Write ``<table>.csv`` and ``<table>_cells.csv`` for tables with any."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, t in self.tables.items():
            if len(t.quarantined):
                path = folder / f"{name}.csv"
                t.quarantined.to_csv(path, index=False)
                written.append(path)
            if len(t.blanked):
                path = folder / f"{name}_cells.csv"
                t.blanked.to_csv(path, index=False)
                written.append(path)
        return written

    def problems(self, limit: int = 20) -> list[str]:
        """One line per quarantined row or blanked cell: file, row, column, reason."""
        lines = []
        for name, t in self.tables.items():
            for frame in (t.quarantined, t.blanked):
                for _, r in frame.head(limit).iterrows():
                    where = r.get("source_file") if "source_file" in frame.columns else t.source
                    col = f" column '{r['column']}'" if "column" in frame.columns else ""
                    lines.append(f"{where} row {int(r['source_row'])}{col}: {r['reason']}")
        return lines


def _reason_kind(reasons: pd.Series) -> pd.Series:
    """Group reasons by kind: drop the quoted values so counts are useful."""
    out = reasons.astype(str).str.replace(r"'[^']*'", "'…'", regex=True)
    return out.str.replace(r"\(\d+\)", "(…)", regex=True)


# --------------------------------------------------------------------------
# Finding and reading files


def _sha256(path: Path) -> str:
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


def read_text_table(path: Path, table: str) -> pd.DataFrame:
    """Read one file as text: every cell a trimmed str, plus ``source_row``
    (1-based record number, header not counted). Event folders are read by
    :mod:`vga.load_events` instead."""
    path = Path(path)
    try:
        frame = _read_one(path)
    except DataError:
        raise
    except Exception as exc:  # any reader failure: one clear message
        kind = path.suffix.lstrip(".") or "a table"
        raise DataError(f"{path}: cannot be read as {kind} ({type(exc).__name__}: {exc})") from None
    return frame


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


# --------------------------------------------------------------------------
# Parsing one column


def _expectation(col: Column, table: str) -> str:
    if col.type == "number":
        if col.min is not None and col.max is not None:
            return f"a number from {col.min:g} to {col.max:g}"
        if col.min is not None:
            return f"a number >= {col.min:g}"
        return "a number"
    if col.type == "integer":
        return "a whole number"
    if col.type == "date":
        return "an ISO 8601 date (YYYY-MM-DD)"
    if col.type == "timestamp":
        return "an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optional offset)"
    if col.type == "bool":
        return "true/false, yes/no, t/f or 1/0"
    if col.type == "enum":
        return "one of " + "|".join(col.choices)
    return "text"


def parse_column(text: pd.Series, col: Column, options: dict | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse trimmed text by the column's type.

    Returns ``(values, invalid)``: parsed values (missing where the text was
    empty or invalid) and a boolean mask of non-empty cells that failed.
    ``options`` may hold ``decimal``, ``thousands`` and ``date_format``.
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
        shaped = t.str.fullmatch(_NUMBER.pattern)
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
            shaped = text.str.fullmatch(_ISO.pattern)
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
        values[lower.isin(_TRUE)] = True
        values[lower.isin(_FALSE)] = False
        return values, present & values.isna()
    if col.type == "enum":
        lower = text.str.lower()
        ok = lower.isin(col.choices)
        return lower.where(ok & present, None).astype(object), present & ~ok
    raise ValueError(f"unknown column type {col.type}")


# --------------------------------------------------------------------------
# One table


class _Collector:
    """Reasons per row (to quarantine) and per cell (to blank)."""

    def __init__(self):
        self.row_reasons: dict[int, list[str]] = {}
        self.cells: list[tuple[int, str, str, str]] = []

    def quarantine(self, index, reason_of):
        for i in index:
            self.row_reasons.setdefault(int(i), []).append(reason_of(i))

    def blank(self, index, column, value_of, reason_of):
        for i in index:
            self.cells.append((int(i), column, value_of(i), reason_of(i)))


def _shown(col: Column, value: str) -> str:
    return REDACTED if col.personal else value


def _validate_values(table: Table, text: pd.DataFrame, options: dict) -> tuple[pd.DataFrame, _Collector]:
    parsed = pd.DataFrame(index=text.index)
    found = _Collector()
    for name in text.columns:
        col = table.column(name)
        if col is None or name in ("source_row", "source_file"):
            continue
        col_options = {
            "decimal": options.get("decimal"),
            "thousands": options.get("thousands"),
            "date_format": options.get("date_formats", {}).get(name),
        }
        values, bad = parse_column(text[name], col, col_options)
        expected = _expectation(col, table.name)
        if col.type == "date" and col_options["date_format"]:
            expected = f"a date as {col_options['date_format']}"
        if col.required:
            missing = text.index[text[name] == ""]
            found.quarantine(missing, lambda i, n=name: f"{n}: required value is empty")
            found.quarantine(
                text.index[bad],
                lambda i, n=name, c=col, e=expected: f"{n}: expected {e}, found '{_shown(c, text.at[i, n])}'",
            )
        else:
            found.blank(
                text.index[bad], name, lambda i, n=name, c=col: _shown(c, text.at[i, n]),
                lambda i, n=name, c=col, e=expected: f"{n}: expected {e}, found '{_shown(c, text.at[i, n])}'; blanked",
            )
        parsed[name] = values
    return parsed, found


def _table_rules(table: Table, text: pd.DataFrame, parsed: pd.DataFrame, found: _Collector) -> None:
    """Rules that need more than one column of a row."""
    if table.name == "surveys" and {"kind", "score"} <= set(parsed.columns):
        kind, score = parsed["kind"], parsed["score"]
        nps = kind == "nps"
        bad_nps = nps & score.notna() & ((score < 0) | (score > 10) | (score % 1 != 0))
        bad_other = kind.notna() & ~nps & score.notna() & ((score < 1) | (score > 5))
        found.quarantine(parsed.index[bad_nps], lambda i: f"score: expected a whole number 0..10 for nps, found '{text.at[i, 'score']}'")
        found.quarantine(
            parsed.index[bad_other], lambda i: f"score: expected 1..5 for {parsed.at[i, 'kind']}, found '{text.at[i, 'score']}'"
        )
    if table.name == "renewals" and "outcome" in parsed.columns:
        derived = derived_outcome(parsed.fillna({"arr_before": np.nan, "arr_after": np.nan}))
        given = parsed["outcome"]
        numbers = parsed["arr_before"].notna() & parsed["arr_after"].notna()
        wrong = given.notna() & numbers & (given != derived)
        relation = {"expanded": ">", "downgraded": "<", "renewed": "=", "churned": "="}

        def reason(i):
            d = derived[i]
            if d == "churned":
                detail = "arr_after is 0"
            else:
                detail = f"arr_after '{text.at[i, 'arr_after']}' {relation[d]} arr_before '{text.at[i, 'arr_before']}'"
            return f"outcome '{given[i]}' but {detail}, so it is '{d}'; the numbers win, outcome blanked"

        found.blank(parsed.index[wrong], "outcome", lambda i: text.at[i, "outcome"], reason)


def _row_rules(table: Table, text: pd.DataFrame, parsed: pd.DataFrame, keep: pd.Series, found: _Collector) -> pd.Series:
    """Date order and duplicate keys, on rows that passed the value checks."""
    for earlier, later in table.date_order:
        if earlier in parsed.columns and later in parsed.columns:
            wrong = keep & parsed[later].notna() & parsed[earlier].notna() & (parsed[later] < parsed[earlier])
            found.quarantine(
                parsed.index[wrong],
                lambda i, a=earlier, b=later: f"{b} '{text.at[i, b]}' is before {a} '{text.at[i, a]}'",
            )
            keep = keep & ~wrong
    key = table.unique_key
    if key and key in parsed.columns:
        candidates = parsed[key].where(keep)
        dup = keep & candidates.duplicated(keep="first") & candidates.notna()
        first_row = text.loc[keep & ~dup].set_index(parsed.loc[keep & ~dup, key])["source_row"]
        col = table.column(key)
        found.quarantine(
            parsed.index[dup],
            lambda i: f"duplicate {key} '{_shown(col, text.at[i, key])}': the first valid row "
            f"({int(first_row[parsed.at[i, key]])}) is kept",
        )
        keep = keep & ~dup
    return keep


def _redact(raw: pd.DataFrame, personal_raw_names: set[str]) -> pd.DataFrame:
    out = raw.copy()
    for name in out.columns:
        if name in personal_raw_names or "email" in name.lower():
            out[name] = np.where(out[name].astype(str) != "", REDACTED, "")
    return out


@dataclass
class _Stage:
    """A table between the value checks and the reference check."""

    table: Table
    source: str
    files: list[Path]
    raw: pd.DataFrame  # original column names
    text: pd.DataFrame  # contract column names
    parsed: pd.DataFrame
    keep: pd.Series
    found: _Collector
    personal_raw: set[str]


def _stage_table(name: str, path: Path, config: dict) -> _Stage:
    table = TABLES[name]
    options = config.get("sources", {}).get(name, {})
    raw = read_text_table(path, name)
    mapping = options.get("columns", {})  # contract name -> name in the file
    reverse = {v: k for k, v in mapping.items()}
    text = raw.rename(columns=reverse)
    missing = [c for c in table.required if c not in text.columns]
    if missing:
        shown = [c for c in raw.columns if c not in ("source_row", "source_file")]
        col = missing[0]
        raise DataError(
            f"column '{col}' missing from {path.name}{'/' if path.is_dir() else ''}; found [{', '.join(shown)}]; "
            f"map it in vga.toml under [sources.{name}.columns] as {col} = \"<your column name>\""
            + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
        )
    personal_raw = {mapping.get(c, c) for c in PERSONAL_COLUMNS}
    parsed, found = _validate_values(table, text, options)
    _table_rules(table, text, parsed, found)
    keep = pd.Series(True, index=text.index)
    keep[list(found.row_reasons)] = False
    keep = _row_rules(table, text, parsed, keep, found)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    return _Stage(table, str(path), files, raw, text, parsed, keep, found, personal_raw)


def _check_references(stage: _Stage, account_ids: set[str]) -> None:
    parsed = stage.parsed
    bad = stage.keep & ~parsed["account_id"].isin(account_ids)
    stage.found.quarantine(
        parsed.index[bad],
        lambda i: f"account_id '{parsed.at[i, 'account_id']}' is not among the accepted accounts",
    )
    stage.keep = stage.keep & ~bad


def _finish(stage: _Stage, notes: dict | None = None) -> TableLoad:
    keep = stage.keep
    # Blank every listed cell (the type parser already blanked its own).
    for i, col, _, _ in stage.found.cells:
        if col in stage.parsed.columns and pd.notna(stage.parsed.at[i, col]):
            stage.parsed.at[i, col] = None
    accepted = stage.parsed.loc[keep].copy()
    # Unknown extra columns are kept (as text) and ignored by the analyses.
    for extra in stage.text.columns:
        if extra not in accepted.columns:
            accepted[extra] = stage.text.loc[keep, extra]
    accepted["source_row"] = stage.text.loc[keep, "source_row"].astype(np.int64)
    accepted = accepted.reset_index(drop=True)
    bad_index = sorted(stage.found.row_reasons)
    quarantined = _redact(stage.raw.loc[bad_index], stage.personal_raw)
    quarantined["reason"] = ["; ".join(stage.found.row_reasons[i]) for i in bad_index]
    quarantined = quarantined.reset_index(drop=True)
    kept_cells = [c for c in stage.found.cells if keep.iloc[c[0]]]
    blanked = pd.DataFrame(
        [(int(stage.text.at[i, "source_row"]), col, value, reason) for i, col, value, reason in kept_cells],
        columns=["source_row", "column", "value", "reason"],
    )
    if "source_file" in stage.text.columns:
        blanked.insert(0, "source_file", [stage.text.at[c[0], "source_file"] for c in kept_cells])
    return TableLoad(
        stage.table.name, stage.source, stage.files, accepted, quarantined, blanked, len(stage.text), notes or {}
    )


def load_folder(
    data_dir: str | Path, config: dict | None = None, *, strict: bool = False, work_dir: str | Path | None = None
) -> Dataset:
    """Load every contract table found in ``data_dir``.

    ``config`` is a resolved configuration (:func:`vga.config.load_config`);
    by default the folder's ``vga.toml`` or the defaults. With ``strict``,
    any quarantined row or blanked cell raises :class:`DataError` naming
    file, row, column and reason.
    """
    data_dir = Path(data_dir)
    config = config if config is not None else load_config(None, data_dir)
    sources = find_sources(data_dir, config)
    # Read every file first: an unreadable file or a missing column stops
    # the run before any analysis. Events are checked apart, out of core.
    stages = {name: _stage_table(name, path, config) for name, path in sources.items() if name != "usage_events"}
    loaded: dict[str, TableLoad] = {}
    accounts = _finish(stages["accounts"])
    loaded["accounts"] = accounts
    account_ids = set(accounts.accepted["account_id"])
    if "users" in stages:
        _check_references(stages["users"], account_ids)
        loaded["users"] = _finish(stages["users"])
    for name, stage in stages.items():
        if name in loaded:
            continue
        _check_references(stage, account_ids)
        loaded[name] = _finish(stage)
    if "usage_events" in sources:
        loaded["usage_events"] = _load_events(sources["usage_events"], config, loaded, work_dir)
    ordered = {name: loaded[name] for name in TABLES if name in loaded}
    dataset = Dataset(data_dir, config, ordered)
    _check_accepted_against_schema(dataset)
    if strict:
        lines = dataset.problems()
        if lines:
            total = sum(t.quality["rows_quarantined"] + t.quality["cells_blanked"] for t in ordered.values())
            raise DataError(
                f"strict mode: {total} quarantined row(s) or blanked cell(s); fix the data or run without --strict\n  "
                + "\n  ".join(lines[:20])
                + (f"\n  … and {total - 20} more" if total > 20 else "")
            )
    return dataset


def _load_events(path: Path, config: dict, loaded: dict, work_dir) -> TableLoad:
    """Events through DuckDB (:mod:`vga.load_events`), never through pandas."""
    import atexit
    import shutil
    import tempfile

    from .load_events import validate_events

    if work_dir is None:
        work_dir = Path(tempfile.mkdtemp(prefix="vga-events-"))
        atexit.register(shutil.rmtree, work_dir, ignore_errors=True)
    users = loaded["users"].accepted if "users" in loaded else None
    result = validate_events(Path(path), config, loaded["accounts"].accepted, users, Path(work_dir))
    files = sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
    return TableLoad(
        "usage_events", str(path), files, pd.DataFrame(), result["quarantined"],
        pd.DataFrame(columns=["source_row", "column", "value", "reason"]), result["rows_read"],
        {"resolved_by": result["resolved_by"], "unresolved": result["unresolved"]},
        accepted_path=result["accepted_path"], accepted_rows=result["rows_accepted"],
    )


def _check_accepted_against_schema(dataset: Dataset) -> None:
    """Validate accepted rows with the pandera schema of each table.

    The loader has already enforced the contract; a failure here is a bug in
    vga, not in the data, and is reported as such.
    """
    from .contract import pandera_schema

    for name, t in dataset.tables.items():
        if name == "usage_events" or t.accepted.empty:
            continue  # events are checked column by column above; too many rows to re-check
        schema = pandera_schema(name, list(t.accepted.columns))
        schema.validate(t.accepted, lazy=True)


def input_manifest(dataset: Dataset) -> list[dict]:
    """Per table: source path, sha256 of each file, rows read/accepted/quarantined."""
    out = []
    for name, t in dataset.tables.items():
        out.append({
            "table": name,
            "path": t.source,
            "files": [{"path": str(f), "sha256": _sha256(f)} for f in t.files],
            **t.quality,
        })
    return out
