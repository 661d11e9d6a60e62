"""Finding a data folder's tables and reading one file as text.

Only this module opens input files (event files are scanned by DuckDB in
:mod:`vga.load.events`). Every cell comes back as trimmed text with
``source_row``, the 1-based record number, so that the parsing rules of the
contract apply the same to CSV, Parquet and Excel.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import math
import re
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import source_spec
from ..contract import TABLES
from ..errors import DataError, UsageError
from ..limits import Limits, limits_of, size
from . import messages as msg

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
    returns goes through the contract's rules like any file.

    The query is confined as it is found (:func:`vga.load.sandbox.confine`):
    a query that would read outside the data folder is refused before any
    file is read, and :attr:`files` are the files it reads, resolved."""

    def __init__(self, data_dir: Path, table: str, sql: str, config_file: str | None, limits: Limits = Limits()):
        from .sandbox import confine

        self.data_dir, self.table, self.sql, self.config_file = Path(data_dir), table, sql, config_file
        self.name = f"[sources.{table}] sql"
        self.limits = limits
        self.confined = confine(sql, self.data_dir, self.where(), limits)

    def __str__(self) -> str:
        return f"{self.name} in {self.config_file or 'the configuration'}"

    def is_dir(self) -> bool:
        return False

    @property
    def files(self) -> list[Path]:
        """The files the query reads, resolved (their sha256 go in the manifest)."""
        return list(self.confined.files)

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
    """Run a ``sql`` source with DuckDB, sandboxed and bounded
    (:mod:`vga.load.sandbox`), and return its rows as text (like
    :func:`read_text_table`), with ``source_row`` the 1-based row of the
    query's result."""
    from .sandbox import run_confined

    typed = run_confined(source.confined, source.limits)
    check_cells(Path(source.where()), _texts(typed), source.limits)
    names = _column_names(Path(source.where()), [str(c) for c in typed.columns])
    frame = pd.DataFrame({n: _arrow_column_to_text(typed.iloc[:, i]) for i, n in enumerate(names)},
                         index=typed.index)
    frame = frame.astype(object).apply(lambda col: col.astype(str).str.strip()) if len(frame.columns) else frame
    frame.insert(0, "source_row", np.arange(1, len(frame) + 1, dtype=np.int64))
    frame = frame.reset_index(drop=True)
    # columns the query returned typed (numbers, dates): the file conventions do not apply to them
    frame.attrs["typed_columns"] = [n for i, n in enumerate(names)
                                    if not (pd.api.types.is_object_dtype(typed.dtypes.iloc[i])
                                            or pd.api.types.is_string_dtype(typed.dtypes.iloc[i]))]
    return frame


def _texts(frame: pd.DataFrame) -> pd.DataFrame:
    """The text columns of ``frame``."""
    return frame[[c for c in frame.columns if pd.api.types.is_object_dtype(frame[c])
                  or pd.api.types.is_string_dtype(frame[c])]]


def outside_of(path: Path, data_dir: Path) -> Path | None:
    """The first file of ``path`` (itself, or a Parquet part of a folder)
    that lies outside ``data_dir`` once symbolic links are followed; None
    when all lie inside."""
    folder = Path(data_dir).resolve()
    parts = [path] + (sorted(path.iterdir()) if path.is_dir() else [])
    for part in parts:
        try:
            part.resolve().relative_to(folder)
        except ValueError:
            return part
    return None


def find_sources(data_dir: Path, config: dict, allow_outside: bool = False) -> dict[str, Path]:
    """Map each table present to its file (or folder for usage_events).

    Every file must lie inside ``data_dir`` once symbolic links are followed
    (a path in vga.toml, absolute or with ``..``, or a link to elsewhere is
    refused), unless ``allow_outside`` (``--allow-outside-paths``)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        # A path that names nothing is a mistake in the command, not in the data (exit 2).
        raise UsageError(f"data folder {data_dir} does not exist or is not a folder; pass --data with the folder "
                         "holding your exports (vga sample --out DIR writes one to try)")
    found: dict[str, Path] = {}
    for name, table in TABLES.items():
        query = source_spec(config, name).get("sql")
        if query:
            found[name] = SqlSource(data_dir, name, query, config.get("_file"), limits_of(config))
            continue
        configured = source_spec(config, name).get("path")
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
    for name, path in found.items():
        if isinstance(path, SqlSource):
            continue
        away = None if allow_outside else outside_of(path, data_dir)
        if away is not None:
            how = "is a symbolic link to" if away.is_symlink() else "is"
            raise DataError(f"{away}: table '{name}' {how} a file outside the data folder {data_dir.resolve()} "
                            f"({away.resolve()}); a data folder's tables are its own files. Copy the file into the "
                            "folder, or pass --allow-outside-paths if you mean it")
        check_not_empty(path, name)
    if "accounts" not in found:
        raise DataError(
            f"no accounts table in {data_dir}: expected accounts.csv, accounts.parquet or accounts.xlsx "
            "(or name your file in vga.toml under [sources.accounts] path = ...)"
        )
    return found


def _arrow_column_to_text(values: pd.Series) -> pd.Series:
    """Render a typed column (from Parquet or a query) as the text a CSV would hold."""
    missing = values.isna()
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.map(lambda v: v.isoformat() if pd.notna(v) else "")
    elif pd.api.types.is_bool_dtype(values):
        text = values.map(lambda v: "true" if v is True or v == True else "false")  # noqa: E712
    else:
        text = values.astype(object).map(_typed_value_text)
    return text.where(~missing, "").astype(object)


def _typed_value_text(v) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "backslashreplace")
    if isinstance(v, bool):
        return "true" if v else "false"
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


@dataclass
class RawTable:
    """One file read as text, before any rule of the contract.

    ``frame`` holds every cell as trimmed text under the file's own column
    names, plus ``source_row``. ``typed`` marks, per column, the cells the
    file held as a typed value (an Excel or Parquet number, date or boolean)
    rather than as text: a file's number convention (``decimal``,
    ``thousands``) and declared date formats apply to text only. ``formulas``
    marks .xlsx formula cells with no saved result (their text is the
    formula). ``malformed`` holds, per row index, why a CSV record could not
    be split into the header's columns: such a row is quarantined.
    """

    frame: pd.DataFrame
    typed: dict[str, np.ndarray] = field(default_factory=dict)
    formulas: dict[str, np.ndarray] = field(default_factory=dict)
    malformed: dict[int, tuple[str, str]] = field(default_factory=dict)


# Settings of a source file ([sources.<table>] encoding, delimiter).

#: Python codec names DuckDB's CSV reader (events) can read, as DuckDB names them.
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "ascii": "utf-8", "utf-16": "utf-16",
                     "iso8859-1": "latin-1"}


def text_encoding(table: str, options: dict) -> str:
    """The Python codec of ``[sources.<table>] encoding`` (default UTF-8)."""
    name = options.get("encoding") or "utf-8"
    try:
        info = codecs.lookup(name) if isinstance(name, str) else None
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise UsageError(
            f"[sources.{table}] encoding = {name!r} is not a text encoding Python knows; use for example "
            '"utf-8", "cp1252" (Excel on Windows), "latin-1" or "utf-16"'
        )
    return info.name


def csv_delimiter(table: str, options: dict) -> str:
    """The one character of ``[sources.<table>] delimiter`` (default ``,``)."""
    delimiter = options.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
        raise UsageError(
            f"[sources.{table}] delimiter = {delimiter!r}: expected one character, for example "
            '";" or "\\t" (a tab)'
        )
    return delimiter


def _required(table: str | None) -> str:
    return ", ".join(TABLES[table].required) if table in TABLES else "the contract's columns"


def _empty_message(path: Path, table: str | None, what: str = "the file is empty (0 bytes)") -> str:
    expected = "a header row" if path.suffix.lower() in (".csv", ".xlsx") else "columns"
    hint = "" if table in (None, "accounts") else f"; remove it if there is no {table} data"
    return f"{path}: {what}; expected {expected} naming at least {_required(table)}{hint}"


def _column_names(path: Path, header: list[str]) -> list[str]:
    """Trimmed header names; an empty one is ``unnamed_<n>``; a name given
    twice stops the run (which of the two holds the data is unknowable)."""
    names = [str(h).strip() or f"unnamed_{i + 1}" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise DataError(
                f"{path}: column '{msg.shown(None, name)}' appears twice in the header (columns {seen[name] + 1} "
                f"and {i + 1}); "
                "rename or remove one of them"
            )
        seen[name] = i
    return names


def check_not_empty(path: Path, table: str) -> None:
    """Stop on a 0-byte file (or a 0-byte part of a folder of Parquet files)."""
    files = sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
    for f in files:
        if f.is_file() and f.stat().st_size == 0:
            raise DataError(_empty_message(f, table))


# Bounds: a file from elsewhere must not keep a run busy for hours or fill
# memory (vga.limits: each bound, and how the user's own vga.toml raises it).

#: Columns a table may have (the contract's tables have about twenty).
MAX_COLUMNS = 1000


def _too_wide(path, table: str | None, columns: int) -> DataError:
    return DataError(f"{path}: {columns:,} columns, more than the {MAX_COLUMNS:,} a table of vga may have; export "
                     f"only the columns {table or 'the table'} needs")


def _raise_it(setting: str) -> str:
    return f"or raise [limits] {setting} in a vga.toml of your own (--config)"


def check_bounds(path: Path, table: str | None, options: dict, limits: Limits = Limits()) -> None:
    """Refuse, before reading it, a file larger than ``limits.file_bytes``,
    wider than :data:`MAX_COLUMNS`, or a workbook that would expand past
    ``limits.workbook_bytes`` (every part of its archive counted, wherever
    it lies: a workbook's parts may be named anything)."""
    suffix = path.suffix.lower()
    if path.stat().st_size > limits.file_bytes:
        raise DataError(f"{path}: {size(path.stat().st_size)}, more than the {size(limits.file_bytes)} vga reads "
                        f"into memory for one table; export only the rows and columns {table or 'the table'} needs, "
                        + _raise_it("file_bytes"))
    if suffix == ".csv":
        with open(path, "rb") as fh:
            first = fh.read(4 * 1024 * 1024).split(b"\n", 1)[0]
        if first.count(csv_delimiter(table or "<table>", options).encode()) + 1 > MAX_COLUMNS:
            raise _too_wide(path, table, first.count(csv_delimiter(table or "<table>", options).encode()) + 1)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            width = len(pq.read_schema(path).names)
        except Exception:
            return  # unreadable: the reader says so
        if width > MAX_COLUMNS:
            raise _too_wide(path, table, width)
    elif suffix == ".xlsx":
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                # Every part: openpyxl follows the archive's relationships, which may name parts anywhere.
                expanded = sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return  # not a workbook: the reader says so
        if expanded > limits.workbook_bytes:
            raise DataError(f"{path}: the workbook would expand to {expanded / 2**20:,.0f} MiB, more than the "
                            f"{limits.workbook_bytes / 2**20:,.0f} MiB vga reads from a workbook; export the table "
                            "as CSV or Parquet, " + _raise_it("workbook_bytes"))


def check_cells(path, frame: pd.DataFrame, limits: Limits = Limits(), first_row: int = 1) -> None:
    """Refuse a text cell of ``frame`` longer than ``limits.cell_bytes``
    characters, naming its row (``first_row`` for the frame's first) and column."""
    for column in frame.columns:
        if column == "source_row" or not (pd.api.types.is_object_dtype(frame[column])
                                          or pd.api.types.is_string_dtype(frame[column])):
            continue
        lengths = frame[column].map(lambda v: len(v) if isinstance(v, (str, bytes)) else 0)
        if len(lengths) and lengths.max() > limits.cell_bytes:
            at = int(np.argmax(lengths.to_numpy()))
            raise DataError(f"{path}: row {at + first_row}, column '{msg.shown(None, column, 80)}': a value of "
                            f"{lengths.iloc[at]:,} characters, more than the {size(limits.cell_bytes)} a cell may "
                            "hold; shorten it in the export, " + _raise_it("cell_bytes"))


# Reading one file.

def read_table(path, table: str | None = None, options: dict | None = None, limits: Limits = Limits()) -> RawTable:
    """Read one source (a file or a ``sql`` source) as text, see :class:`RawTable`.

    ``options`` are the ``[sources.<table>]`` settings; ``encoding`` and
    ``delimiter`` apply to CSV files. An unreadable file is a
    :class:`DataError` naming the file (and the row, where there is one);
    so is a file past a bound of ``limits`` (:func:`check_bounds`,
    :func:`check_cells`).
    """
    if isinstance(path, SqlSource):
        frame = read_sql_table(path)
        if len(frame.columns) - 1 > MAX_COLUMNS:
            raise _too_wide(path.where(), table, len(frame.columns) - 1)
        typed = {c: np.full(len(frame), True) for c in frame.attrs.pop("typed_columns", [])}
        return RawTable(frame, typed)
    path = Path(path)
    options = options or {}
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(_empty_message(path, table))
    suffix = path.suffix.lower()
    if suffix == ".csv":  # settings first: a bad setting is the configuration's fault, not the file's
        encoding, delimiter = text_encoding(table or "<table>", options), csv_delimiter(table or "<table>", options)
    if path.is_file():
        check_bounds(path, table, options, limits)
    try:
        if suffix == ".csv":
            raw = _read_csv(path, table, encoding, delimiter, limits)
        elif suffix == ".parquet":
            raw = _read_parquet(path)
        elif suffix == ".xlsx":
            raw = _read_xlsx(path, table)
        else:
            raise DataError(f"{path}: unsupported file type '{suffix}'; use .csv, .parquet or .xlsx")
    except (DataError, UsageError):
        raise
    except Exception as exc:  # any reader failure: one clear message
        kind = suffix.lstrip(".") or "a table"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise DataError(f"{path}: cannot be read as {kind} ({type(exc).__name__}: {detail[:300]})") from None
    if suffix != ".csv":  # the CSV reader bounds its cells as it reads
        check_cells(path, raw.frame, limits)
    raw.frame.insert(0, "source_row", np.arange(1, len(raw.frame) + 1, dtype=np.int64))
    raw.frame = raw.frame.reset_index(drop=True)
    return raw


def read_text_table(path: Path, table: str | None = None, options: dict | None = None) -> pd.DataFrame:
    """Read one file as text: every cell a trimmed str, plus ``source_row``
    (1-based record number, header not counted)."""
    return read_table(path, table, options).frame


def _text_frame(names: list[str], rows: list[list[str]]) -> pd.DataFrame:
    columns = list(zip(*rows)) if rows else [()] * len(names)
    return pd.DataFrame({name: pd.Series(list(col), dtype=object) for name, col in zip(names, columns)},
                        index=pd.RangeIndex(len(rows)))


# CSV: decoded here (so an undecodable byte is found and named), split by
# Python's csv module (every record, however ragged, is seen).

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long cells are bounded per file, by _field_limit
_FIELD_LIMIT = threading.RLock()


@contextmanager
def _field_limit(characters: int):
    """Python's csv module bounds a cell for the whole process: set it for
    one file at a time."""
    with _FIELD_LIMIT:
        before = csv.field_size_limit(min(sys.maxsize, 2**31 - 1, characters))
        try:
            yield
        finally:
            csv.field_size_limit(before)

_MARK = "\ue000"  # stands for an undecodable byte while locating it


#: One line and its end, as a file opened with newline="" gives them (\r\n, \r or \n).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str, start: int = 0, block: int = 1 << 20):
    """The lines of ``text`` from offset ``start``, one at a time, with their
    ends: what ``io.StringIO(text, newline="")`` gives, read a block of about
    ``block`` characters at a time (a StringIO holds its text at four bytes a
    character: a whole file at once was four times its size in memory), and
    a very long line as it is, never copied that way."""
    while start < len(text):
        cut = text.find("\n", start + block)
        end = len(text) if cut < 0 else cut + 1
        if end - start <= 4 * block:
            yield from io.StringIO(text[start:end], newline="")
            start = end
            continue
        for match in _LINE.finditer(text, start):  # a very long line ahead: line by line through it
            yield match.group()
            start = match.end()
            if start >= end:
                break


def _csv_reader(text: str, delimiter: str, strict: bool = False, start: int = 0):
    return csv.reader(_lines(text, start), delimiter=delimiter, quotechar='"', doublequote=True,
                      strict=strict)


def _byte_order_mark(path: Path, data: bytes, codec: str, table: str | None) -> tuple[bytes, str]:
    """A UTF-8 byte-order mark says what the file is (and is dropped); a
    UTF-16 one where another encoding is set is named in a message."""
    if data.startswith(codecs.BOM_UTF8) and not codec.startswith(("utf-16", "utf-32")):
        return data[len(codecs.BOM_UTF8):], "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not codec.startswith(("utf-16", "utf-32")):
        raise DataError(f"{path}: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
                        f'set encoding = "utf-16" under [sources.{table}] in vga.toml')
    return data, codec


def _decode(path: Path, data: bytes, codec: str, delimiter: str, table: str | None) -> str:
    data, codec = _byte_order_mark(path, data, codec, table)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise DataError(_undecodable_message(path, data, codec, exc, delimiter, table)) from None


def _undecodable_message(path: Path, data: bytes, codec: str, exc: UnicodeDecodeError, delimiter: str,
                         table: str | None) -> str:
    """'accounts.csv row 3, column 'account_name': byte 0xE9 is not UTF-8; ...'"""
    prefix = data[:exc.start].decode(codec, errors="replace") + _MARK
    header, row, column = None, -1, None
    for record in _csv_reader(prefix, delimiter):
        if not record:
            continue
        row += 1  # 0: the header
        header = record if header is None else header
        hit = next((i for i, cell in enumerate(record) if _MARK in cell), None)
        if hit is not None:
            if row > 0 and hit < len(header):
                column = header[hit].strip() or None
            break
    label = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(codec, codec)
    where = "the header row" if row == 0 else f"row {row}" + (f", column '{column}'" if column else "")
    byte = f"0x{data[exc.start]:02X}"
    if codec in ("utf-8", "utf-8-sig") and table == "usage_events":  # read by DuckDB: no cp1252 there
        hint = ('save it as UTF-8 ("CSV UTF-8" in Excel), or set encoding = "latin-1" under '
                "[sources.usage_events] in vga.toml if it is Latin-1 text")
    elif codec in ("utf-8", "utf-8-sig"):
        hint = (f'if it was saved by Excel or another Windows program, set encoding = "cp1252" under '
                f'[sources.{table}] in vga.toml (or save it again as "CSV UTF-8")')
    else:
        hint = f"set the file's real encoding under [sources.{table}] encoding in vga.toml"
    return f"{path}: {where} holds byte {byte}, which is not {label} text; {hint}"


def _read_csv(path: Path, table: str | None, encoding: str, delimiter: str, limits: Limits = Limits()) -> RawTable:
    text = _decode(path, path.read_bytes(), encoding, delimiter, table)
    reader = _csv_reader(text, delimiter)
    header, rows, first_lines, previous = None, [], [], 0
    with _field_limit(limits.cell_bytes):
        try:
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if not record:  # a blank line is not a record
                    continue
                if header is None:
                    header = record
                    continue
                rows.append(record)
                first_lines.append(start)
        except csv.Error as exc:
            if "field larger than field limit" not in str(exc):
                raise
            long = _long_field(text, previous, delimiter, limits.cell_bytes)
            column = (f", column '{msg.shown(None, header[long], 80)}'"
                      if header is not None and long is not None and long < len(header) else "")
            where = f"row {len(rows) + 1} (line {previous + 1}){column}" if header is not None else "the header row"
            raise DataError(f"{path}: {where}: a value of more than {size(limits.cell_bytes)}, the most a cell may "
                            "hold; shorten it in the export, " + _raise_it("cell_bytes")) from None
    if header is None:
        raise DataError(_empty_message(path, table, "the file holds no header row"))
    if rows and any("\n" in cell or "\r" in cell for cell in rows[-1]):
        _check_closed(path, text, delimiter, first_lines[-1], len(rows))
    names = _column_names(path, header)
    width = len(names)
    needed = max((i + 1 for i, h in enumerate(header) if h.strip()), default=width)
    malformed: dict[int, tuple[str, str]] = {}
    for i, record in enumerate(rows):
        if len(record) > width:
            extra = record[width:]
            if any(cell.strip() for cell in extra):
                malformed[i] = msg.field_count(len(record), width, [cell.strip() for cell in extra])
            record = record[:width]
        elif len(record) < needed:
            malformed[i] = msg.field_count(len(record), width, [])
        rows[i] = [cell.strip() for cell in record] + [""] * (width - len(record))
    return RawTable(_text_frame(names, rows), malformed=malformed)


def _line_offset(text: str, lines: int) -> int | None:
    """Where line ``lines + 1`` of ``text`` starts (None past the end)."""
    offset = 0
    for _ in range(lines):
        found = _LINE.match(text, offset)
        if found is None or not found.group():
            return None
        offset = found.end()
    return offset


def _long_field(text: str, after_line: int, delimiter: str, limit: int) -> int | None:
    """Which field of the record starting after line ``after_line`` is
    longer than ``limit`` characters: the record is walked only as far as
    that field (quotes followed), never read whole."""
    offset = _line_offset(text, after_line)
    if offset is None:
        return None
    field, length, quoted, i = 0, 0, False, offset
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"' and text.startswith('""', i):
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"' and length == 0:
            quoted = True
        elif c == delimiter:
            field, length = field + 1, -1
        elif c in "\r\n":
            return None
        length += 1
        if length > limit:
            return field
        i += 1
    return None


def _check_closed(path: Path, text: str, delimiter: str, first_line: int, row: int) -> None:
    """Stop on a quoted value left open at the end of the file: it swallowed
    every line after it, so rows cannot be told apart."""
    tail = text[_line_offset(text, first_line - 1) or 0:]
    try:
        for _ in _csv_reader(tail, delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise DataError(
                f"{path}: row {row} (line {first_line}) opens a quoted value that is never closed, so every "
                'line after it would be one value; remove the stray " or close the quote'
            ) from None


def csv_header(path: Path, table: str, options: dict) -> list[str]:
    """The header of a CSV file as :func:`read_table` names its columns,
    read from the file's start only (for event files read by DuckDB)."""
    encoding, delimiter = text_encoding(table, options), csv_delimiter(table, options)
    with open(path, "rb") as fh:
        head = fh.read(4 << 20)
    whole = len(head) < (4 << 20)
    head, encoding = _byte_order_mark(path, head, encoding, table)
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
    except UnicodeDecodeError as exc:
        raise DataError(_undecodable_message(path, head, encoding, exc, delimiter, table)) from None
    header = next((record for record in _csv_reader(text, delimiter) if record), None)
    if header is None:
        raise DataError(_empty_message(path, table, "the file holds no header row"))
    return _column_names(path, header)


def csv_scan(path: Path, table: str, options: dict) -> str:
    """DuckDB's ``read_csv(...)`` for an event file: the header checked and
    named as for other tables, every column text, the ``encoding`` and
    ``delimiter`` settings applied, records in file order (one thread)."""
    encoding = text_encoding(table, options)
    duck = _DUCKDB_ENCODINGS.get(encoding)
    if duck is None:
        raise DataError(
            f"{path}: event files are read by DuckDB, which reads UTF-8, UTF-16 and Latin-1 text only, not "
            f'{options.get("encoding")!r}; save the file as UTF-8 ("CSV UTF-8" in Excel) or give the events as '
            "Parquet"
        )
    names = csv_header(path, table, options)
    lit = msg.sql_literal
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
    scan = (f"read_csv({lit(str(path))}, header=true, auto_detect=false, columns={columns}, "
            f"delim={lit(csv_delimiter(table, options))}, quote='\"', escape='\"', encoding={lit(duck)}, "
            "parallel=PARALLEL)")
    _check_quotes_closed(path, encoding, scan.replace("parallel=PARALLEL", "parallel=true"))
    return scan.replace("parallel=PARALLEL", "parallel=false")


def _check_quotes_closed(path: Path, encoding: str, parallel_scan: str) -> None:
    """DuckDB's one-thread CSV scan drops, without a word, the records after
    a quote left open at the end of the file; its parallel scan reports it.
    An odd number of quote characters is the sign (UTF-16 is always checked)."""
    import duckdb

    if encoding.startswith("utf-8") or encoding in ("ascii", "iso8859-1"):
        quotes = 0
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 24), b""):
                quotes += block.count(b'"')
        if quotes % 2 == 0:
            return
    con = duckdb.connect()
    try:
        con.execute(f"SELECT count(*) FROM {parallel_scan}").fetchone()
    except duckdb.Error as exc:
        raise DataError(scan_error_message(path, exc)) from None
    finally:
        con.close()


def execute_scan(con, path, sql: str):
    """Run ``sql``, which scans the event file ``path`` with DuckDB: a
    malformed line found there is a :class:`DataError` naming the line."""
    import duckdb

    try:
        return con.execute(sql)
    except duckdb.Error as exc:
        raise DataError(scan_error_message(path, exc)) from None


def scan_error_message(path, exc: Exception) -> str:
    """One line for a DuckDB failure while scanning an event file."""
    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if "Invalid unicode" in text or "byte sequence mismatch" in text:
        detail = ("is not UTF-8 text; save the file as UTF-8, or set encoding = \"latin-1\" or \"utf-16\" "
                  "under [sources.usage_events] in vga.toml")
    elif counts:
        detail = f"has {counts.group(2)} fields where the header has {counts.group(1)}"
    elif "unterminated quote" in text.lower():
        detail = 'has a quoted value that is never closed (a stray ")'
    elif "Maximum line size" in text:
        detail = "is longer than the 2 MB a line of an event file may hold"
    else:
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return f"{path}: cannot be read ({first})"
    where = f"line {line.group(1)} (the header is line 1)" if line else "a line"
    return f"{path}: {where} {detail}"


# .xlsx: the first sheet, with openpyxl: saved results of formulas, typed cells kept apart.

def _cell_text(value) -> tuple[str, bool]:
    """A cell as text, and whether it was typed (not text) in the sheet."""
    if value is None:
        return "", False
    if isinstance(value, str):
        return value.strip(), False
    if isinstance(value, bool):
        return ("true" if value else "false"), True
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value)), True
        return repr(value), True
    if isinstance(value, datetime.datetime):
        return str(value), True  # 2026-03-31 00:00:00
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat(), True
    return str(value).strip(), True


def _sheet_rows(path: Path, data_only: bool, sheet: str | None = None) -> tuple[list[tuple], set[tuple[int, int]]]:
    """A sheet's values (the first sheet, or the one named ``sheet``), and
    where a cell is written but holds no value (with ``data_only``: a
    formula with no saved result, or a styled empty cell)."""
    import openpyxl
    from openpyxl.cell.read_only import EmptyCell

    book = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    rows, unsaved = [], set()
    try:
        if sheet is not None and sheet not in book.sheetnames:
            shown = ", ".join(repr(n[:40]) for n in book.sheetnames[:20])
            raise DataError(f"{path}: no sheet named {sheet[:80]!r}; its sheets: {shown}")
        chosen = book[sheet] if sheet is not None else (book.worksheets[0] if book.worksheets else None)
        for i, row in enumerate(chosen.iter_rows() if chosen is not None else []):
            rows.append(tuple(c.value for c in row))
            unsaved.update((i, j) for j, c in enumerate(row) if c.value is None and not isinstance(c, EmptyCell))
    finally:
        book.close()
    return rows, unsaved


def read_sheet_text(path: Path, sheet: str | None = None, header: bool = True) -> pd.DataFrame:
    """One sheet of a workbook as text (for a mapping query's ``read_xlsx``):
    the first non-empty row names the columns (``header``; else
    ``column1``, ``column2``...), every cell is its text, empty rows are not
    records. Formulas give their saved result."""
    values, _ = _sheet_rows(path, data_only=True, sheet=sheet)
    kept = [r for r in values if any(_cell_text(v)[0] for v in r)]
    width = max((len(r) for r in kept), default=0)
    cells = [[_cell_text(v)[0] for v in r] + [""] * (width - len(r)) for r in kept]
    if header and cells:
        names, cells = _column_names(path, cells[0]), cells[1:]
    else:
        names = [f"column{j + 1}" for j in range(width)]
    return _text_frame(names, cells)


def _read_xlsx(path: Path, table: str | None) -> RawTable:
    values, unsaved = _sheet_rows(path, data_only=True)
    kept = [(i, r) for i, r in enumerate(values) if any(_cell_text(v)[0] for v in r)]
    if not kept:
        raise DataError(_empty_message(path, table, "the first sheet holds no rows"))
    width = max(len(r) for _, r in kept)
    (_, header), data = kept[0], kept[1:]
    names = _column_names(path, [_cell_text(v)[0] for v in header] + [""] * (width - len(header)))
    rows, typed, formula = [], np.zeros((len(data), width), bool), np.zeros((len(data), width), bool)
    for k, (_, r) in enumerate(data):
        cells = [_cell_text(v) for v in r] + [("", False)] * (width - len(r))
        rows.append([c[0] for c in cells])
        typed[k] = [c[1] for c in cells]
    sheet_row = {i: k for k, (i, _) in enumerate(data)}
    empty = [(sheet_row[i], j) for i, j in unsaved if i in sheet_row]
    if empty:  # a formula with no saved result reads as empty: show the formula instead
        formulas, _ = _sheet_rows(path, data_only=False)
        for k, j in empty:
            line = formulas[data[k][0]]
            cell = line[j] if j < len(line) else None
            if isinstance(cell, str) and cell.startswith("="):
                rows[k][j], formula[k, j] = cell.strip(), True
            elif cell is not None and not isinstance(cell, str):  # e.g. an array formula
                rows[k][j], formula[k, j] = "=" + str(getattr(cell, "text", cell)).lstrip("="), True
    frame = _text_frame(names, rows)
    return RawTable(frame, {n: typed[:, j] for j, n in enumerate(names)},
                    {n: formula[:, j] for j, n in enumerate(names) if formula[:, j].any()})


# Parquet: typed columns rendered as the text a CSV would hold.

def _read_parquet(path: Path) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    names = _column_names(path, parquet.schema_arrow.names)
    table = parquet.read()
    frame, typed = {}, {}
    for i, name in enumerate(names):
        column = table.column(i)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        is_text = pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind) or (
            hasattr(pa.types, "is_string_view") and pa.types.is_string_view(kind))
        values = column.to_pandas(timestamp_as_object=True, date_as_object=True)
        frame[name] = _arrow_column_to_text(values).str.strip() if len(values) else values.astype(object)
        typed[name] = np.full(len(values), not is_text)
    return RawTable(pd.DataFrame(frame, index=pd.RangeIndex(table.num_rows)), typed)


def missing_required_message(table: str, path: Path, found: list[str], missing: list[str]) -> str:
    """The one message for required columns absent from a file, with a hint
    when the header looks split by another delimiter or differs only in case."""
    col = missing[0]
    hints = []
    joined = "".join(str(f) for f in found)
    is_csv = str(getattr(path, "suffix", "")).lower() == ".csv"
    separators = [s for s in (";", "\t", "|", ",") if s in joined] if is_csv else []
    if separators:
        sep = max(separators, key=joined.count)
        shown = "\\t" if sep == "\t" else sep
        hints.append(f'the header holds "{shown}": if that separates the columns, set delimiter = "{shown}" '
                     f"under [sources.{table}] in vga.toml")
    near = [f for f in found for m in missing if str(f).strip().lower() == m and f != m]
    if near:
        hints.append(f"column names are matched exactly: found '{msg.shown(None, near[0])}'")
    found = [msg.shown(None, f, 200) for f in found]
    return (
        f"column '{col}' missing from {path.name}{'/' if path.is_dir() else ''}; found [{', '.join(found)}]; "
        f"map it in vga.toml under [sources.{table}.columns] as {col} = \"<your column name>\""
        + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
        + "".join(f"; {h}" for h in hints)
    )
