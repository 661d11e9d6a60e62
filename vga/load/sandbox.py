"""Queries from configuration, run so that a data folder stays data.

A mapping file (``vga.toml``) may build contract tables and churn labels
with DuckDB queries over the data folder's files. Such a file can come with
the data, from whoever exported it, so every query is treated as hostile:

- **One read, nothing else.** The query is parsed (sqlglot, DuckDB's
  dialect) before it runs: exactly one ``SELECT`` (``WITH ... SELECT``,
  ``UNION`` and the like included). ``COPY``, ``ATTACH``, ``INSTALL``,
  ``LOAD``, ``SET``, ``PRAGMA``, ``CREATE``, several statements... are
  refused with the line of the mapping that holds them.
- **Every table it reads is named.** Each table of the query is a name its
  ``WITH`` defines, a file name in quotes (``FROM 'accounts.csv'``), one of
  the file readers of :data:`READERS` with its file names written as text,
  or one of :data:`GENERATORS`. Anything else (a system view, a Python
  variable, ``query(...)``, ``glob(...)``) is refused.
- **Paths resolved before DuckDB sees them.** Every file name is taken out
  of the parsed query (its syntax tree, not its text) and resolved against
  the data folder, symbolic links followed; a glob is expanded here, each
  match checked. A name must stay inside the folder and be a regular file:
  ``~``, ``$VARIABLE``, URLs (``http://``, ``s3://``), absolute paths and
  ``..`` leading elsewhere, FIFOs and devices are refused. The query DuckDB
  runs is the parsed one written back with each name replaced by its
  absolute path, so DuckDB never resolves a name against the working folder
  or the home folder.
- **DuckDB may open those files and nothing else.** The connection's
  ``allowed_paths`` are exactly the resolved files; external access is off
  (no other file, no directory listing, no network, no environment
  variable), extensions are neither installed nor loaded, Python variables
  are not tables, and the configuration is locked so the query cannot
  loosen any of it.
- **Bounded.** A query runs with a time limit and a memory limit
  (:mod:`vga.limits`), on a thread of its own, so Ctrl-C and SIGTERM stop
  it at once; what it returns is bounded too. A query past a bound stops
  the run with one line naming the query and the setting that bounds it.

What a query can do: read the data folder's CSV, Parquet, JSON and Excel
files, join, filter, aggregate and derive columns. Excel sheets are read by
vga itself (``read_xlsx('file.xlsx', sheet = 'Name')``, every cell as text;
no DuckDB extension is downloaded or loaded). What it cannot do: write
anything, read anything outside the folder, reach the network, run several
statements, change DuckDB's settings, or run for ever.
"""

from __future__ import annotations

import glob as globbing
import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..limits import Limits, size

#: Glob characters DuckDB expands in a file name.
GLOB_CHARACTERS = set("*?[")
#: Table functions that read files: their first argument is the file name(s).
READERS = {"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
           "read_ndjson", "read_ndjson_auto", "read_json_objects", "read_json_objects_auto",
           "read_ndjson_objects", "read_text", "read_blob", "read_xlsx"}
#: Table functions that read nothing.
GENERATORS = {"range", "generate_series"}
#: The reader a glob of a quoted file name becomes, by extension.
READER_OF = {".csv": "read_csv", ".tsv": "read_csv", ".txt": "read_csv", ".parquet": "read_parquet",
             ".json": "read_json_auto", ".ndjson": "read_ndjson_auto", ".jsonl": "read_ndjson_auto"}
#: What ``read_xlsx`` takes in a mapping query.
SHEET_OPTIONS = {"sheet", "header"}
ROUTE = "name a file of the data folder relative to it, in quotes ('accounts.csv', 'crm/*.csv')"


@dataclass(frozen=True)
class Confined:
    """A mapping query as it may run: ``sql`` with every file name replaced
    by the absolute path of a regular file inside the data folder, the
    ``files`` it reads (resolved; their sha256 go in the manifest), and the
    Excel sheets vga reads for it (name in ``sql`` -> (file, sheet, header))."""

    sql: str
    files: tuple[Path, ...]
    where: str
    sheets: dict = field(default_factory=dict)


def check_query(sql: str, where: str):
    """Refuse anything but one read-only query (see the module docstring);
    ``where`` names the query in messages (``vga.toml line 12 (...)``).
    Returns the parsed statement."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{where}: the query could not be read: {first[:200]}") from None
    if len(statements) != 1:
        raise DataError(f"{where}: the mapping holds {len(statements)} statements; a mapping query is one SELECT "
                        "(several statements could do more than read)")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper() if hasattr(statement, "key") else type(statement).__name__
        raise DataError(f"{where}: a mapping query is one SELECT, and this is {kind}: a mapping may only read "
                        "the data folder's files")
    for node in statement.walk():
        if isinstance(node, (exp.Command, exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Copy,
                             exp.Attach, exp.Detach, exp.Set, exp.Pragma)):
            raise DataError(f"{where}: a mapping query is one SELECT; it holds {node.key.upper()}, which could do more "
                            "than read the data folder")
    return statement


def _function_name(func) -> str:
    from sqlglot import exp

    return (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()


def _shown(text: str) -> str:
    return repr(text[:120])


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _regular_file(path: Path, text: str, folder: Path, where: str) -> Path:
    """``path`` resolved (links followed), refused unless it is a regular
    file inside ``folder``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise DataError(f"{where}: the query reads {_shown(text)}, which is no file of the data folder {folder}; "
                        f"{ROUTE}") from None
    if not _is_inside(real, folder):
        raise DataError(f"{where}: {_shown(text)} is outside the data folder {folder} (symbolic links are followed); "
                        "a mapping reads only the data folder's files")
    mode = real.stat().st_mode
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a pipe or a device)"
        raise DataError(f"{where}: {_shown(text)} is {kind}; a mapping reads the data folder's files "
                        "(a folder of Parquet files: 'events/*.parquet')")
    return real


def resolve(text: str, data_dir: Path, where: str, limits: Limits = Limits()) -> list[Path]:
    """The files a file name of a mapping query stands for, each resolved
    to an absolute path inside ``data_dir`` (every match of a glob, sorted).
    Refuses, in one line naming ``where``: a URL, ``~``, ``$VARIABLE``, a
    name leading out of the folder by any path, no such file, a glob with
    no match or more than ``limits.glob_files``."""
    folder = Path(data_dir).resolve()
    if not text or "\x00" in text or len(text) > 4096:
        raise DataError(f"{where}: the query names an empty or unreadable file name; {ROUTE}")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", text):
        raise DataError(f"{where}: the query names {_shown(text)}, which is not a file of the data folder (no URL "
                        "is read: a mapping reads only the data folder's files)")
    if text.startswith("~") or re.search(r"\$\{?[A-Za-z_]", text):
        raise DataError(f"{where}: the query names {_shown(text)}: a file name relative to the home folder or to an "
                        f"environment variable is not read; {ROUTE}")
    path = Path(text)
    full = path if path.is_absolute() else folder / path
    literal = full.exists() or full.is_symlink()
    if literal or not GLOB_CHARACTERS & set(text):
        if not literal:
            if path.is_absolute() or ".." in path.parts:
                raise DataError(f"{where}: {_shown(text)} is not a file of the data folder {folder}; a mapping reads "
                                "only the data folder's files")
            raise DataError(f"{where}: the query reads {_shown(text)}, which is no file of the data folder {folder}; "
                            f"{ROUTE}")
        return [_regular_file(full, text, folder, where)]
    if path.is_absolute() and not _is_inside(Path(os.path.normpath(str(full).split("*")[0] or "/")), folder):
        raise DataError(f"{where}: {_shown(text)} reaches outside the data folder {folder}; a mapping reads only "
                        "the data folder's files")
    matches = []
    for match in globbing.iglob(str(full), recursive=True):
        matches.append(Path(match))
        if len(matches) > limits.glob_files:
            raise DataError(f"{where}: {_shown(text)} matches more than {limits.glob_files:,} files, the most one "
                            "glob of a mapping may read ([limits] glob_files in your own vga.toml)")
    outside = [m for m in matches if not _is_inside(m.resolve(), folder)]
    if outside:
        raise DataError(f"{where}: {_shown(text)} reaches outside the data folder {folder} (symbolic links are "
                        "followed); a mapping reads only the data folder's files")
    if not matches:
        raise DataError(f"{where}: {_shown(text)} matches no file of the data folder {folder}; {ROUTE}")
    return sorted({_regular_file(m, text, folder, where) for m in matches})


def _path_argument(func):
    """The expression holding a reader's file name(s): its first argument."""
    from sqlglot import exp

    first = func.args.get("this")
    if not isinstance(first, exp.Expression):  # an Anonymous function's name, or no "this" (read_parquet)
        rest = func.args.get("expressions") or []
        first = rest[0] if rest else None
    return first


def _options(func) -> dict:
    """A reader's named arguments (``sheet = 'x'``), by name, as written."""
    from sqlglot import exp

    out = {}
    for arg in func.args.get("expressions") or []:
        if isinstance(arg, (exp.EQ, exp.PropertyEQ, exp.Kwarg)):
            out[arg.this.name.lower()] = arg.expression
    return out


def confine(sql: str, data_dir: Path, where: str, limits: Limits = Limits()) -> Confined:
    """``sql`` checked (:func:`check_query`) and rewritten so that every file
    it reads is an absolute path inside ``data_dir`` (see the module
    docstring); refuses, in one line naming ``where``, a table that is not a
    file of the folder, a reader's file name that is not written as text,
    and every path form that leads elsewhere."""
    from sqlglot import exp

    statement = check_query(sql, where)
    folder = Path(data_dir).resolve()
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    files: list[Path] = []
    sheets: dict = {}

    def literal_files(node) -> list[Path]:
        found = resolve(node.this, folder, where, limits)
        files.extend(found)
        return found

    for table in list(statement.find_all(exp.Table)):
        target = table.this
        qualified = bool(table.args.get("db") or table.args.get("catalog"))
        if isinstance(target, exp.Identifier):
            if not qualified and target.this.lower() in ctes:
                continue
            if not target.quoted or qualified:
                raise DataError(f"{where}: the query reads {_shown(table.sql('duckdb'))}, which is neither a file of "
                                "the data folder nor a name its WITH defines; write file names in quotes "
                                "('accounts.csv') or read them with read_csv(...)")
            found = literal_files(target)
            if len(found) == 1 and not GLOB_CHARACTERS & set(target.this):
                table.set("this", exp.to_identifier(str(found[0]), quoted=True))
                continue
            reader = READER_OF.get(found[0].suffix.lower())
            if reader is None:
                raise DataError(f"{where}: the glob {_shown(target.this)} names {found[0].suffix or 'files'} files; "
                                "read them with read_csv(...), read_parquet(...) or read_json_auto(...)")
            table.set("this", exp.Anonymous(this=reader, expressions=[
                exp.Array(expressions=[exp.Literal.string(str(f)) for f in found])]))
            continue
        if not isinstance(target, exp.Func):
            continue  # a subquery, VALUES, UNNEST: their own tables are visited too
        name = _function_name(target)
        if name in GENERATORS:
            continue
        if name not in READERS:
            raise DataError(f"{where}: the query reads from {name}(...), which a mapping may not use; it may read "
                            "files with read_csv, read_parquet, read_json_auto, read_text or read_xlsx, or a "
                            "file name in quotes")
        argument = _path_argument(target)
        names = argument.expressions if isinstance(argument, exp.Array) else [argument]
        if argument is None or not all(isinstance(n, exp.Literal) and n.is_string for n in names):
            raise DataError(f"{where}: the file name of {name}(...) must be written as text in the query "
                            f"({name}('accounts.csv')), not computed or named by an option")
        if name == "read_xlsx":
            options = _options(target)
            unknown = set(options) - SHEET_OPTIONS
            if unknown or len(names) != 1:
                raise DataError(f"{where}: read_xlsx in a mapping reads one workbook, with the options sheet = "
                                f"'<name>' and header = true|false (found {', '.join(sorted(unknown)) or 'a list'})")
            found = literal_files(names[0])
            if len(found) != 1:
                raise DataError(f"{where}: read_xlsx reads one workbook; {_shown(names[0].this)} matches {len(found)}")
            sheet = options.get("sheet")
            header = options.get("header")
            key = f"vga_sheet_{len(sheets) + 1}"
            sheets[key] = (found[0], sheet.this if sheet is not None else None,
                           header is None or str(header.this).lower() not in ("false", "0"))
            table.set("this", exp.to_identifier(key))
            continue
        resolved = [exp.Literal.string(str(f)) for n in names for f in literal_files(n)]
        argument.replace(exp.Array(expressions=resolved) if isinstance(argument, exp.Array) or len(resolved) > 1
                         else resolved[0])
    return Confined(statement.sql(dialect="duckdb"), tuple(dict.fromkeys(files)), where, sheets)


def restrict(con, confined: Confined, limits: Limits = Limits(), writes: tuple[Path, ...] = (),
             folders: tuple[Path, ...] = (), memory: str | None = None):
    """Lock ``con`` down to ``confined``'s files: it may read them, write only
    the files ``writes`` and inside ``folders`` (vga's own work: spill files,
    accepted events), and nothing else: no other file, no network, no
    extension, no Python variable; memory bounded by ``memory`` (default
    ``limits.query_memory``); settings locked. The Excel sheets the query
    reads are registered first."""
    for key, (path, sheet, header) in confined.sheets.items():
        con.register(key, read_sheet(path, sheet, header, confined.where, limits))
    con.execute("SET python_enable_replacements = false")
    con.execute("SET memory_limit = ?", [memory or limits.query_memory])
    if folders:
        con.execute("SET allowed_directories = ?", [[str(d).rstrip("/") + "/" for d in folders]])
    else:
        con.execute("SET temp_directory = ''")  # nothing spilled: the memory limit is the bound
    paths = [str(p) for p in (*confined.files, *writes)]
    if paths:
        con.execute("SET allowed_paths = ?", [paths])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def read_sheet(path: Path, sheet: str | None, header: bool, where: str, limits: Limits) -> pd.DataFrame:
    """One sheet of a workbook in the data folder, every cell as text (the
    first sheet when ``sheet`` is None); its bounds are those of any
    workbook (:func:`vga.load.files.check_bounds`)."""
    from .files import check_bounds, read_sheet_text

    check_bounds(path, None, {}, limits)
    try:
        return read_sheet_text(path, sheet, header)
    except DataError:
        raise
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{where}: {path.name} cannot be read as a workbook ({detail[:200]})") from None


def sandboxed(confined: Confined, limits: Limits = Limits()):
    """A DuckDB connection of its own, :func:`restrict`-ed to ``confined``."""
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        return restrict(con, confined, limits)
    except BaseException:
        con.close()
        raise


def bounded(con, work, where: str, seconds: float):
    """``work()`` (DuckDB work on ``con``) on a thread of its own, stopped by
    ``con.interrupt()`` after ``seconds``, on Ctrl-C or on SIGTERM: the
    calling thread only waits, so a signal reaches it while DuckDB runs.
    Past the time limit, a :class:`DataError` naming ``where``."""
    result: dict = {}
    # Finished is said by an event, not by Thread.is_alive(): a join that a
    # signal interrupts marks the thread stopped while it still runs.
    finished = threading.Event()

    def target():
        try:
            result["value"] = work()
        except BaseException as exc:  # handed to the caller
            result["error"] = exc
        finally:
            finished.set()

    worker = threading.Thread(target=target, name="vga-mapping-query", daemon=True)
    deadline = time.monotonic() + seconds
    worker.start()
    try:
        while not finished.wait(0.05):
            if time.monotonic() > deadline:
                con.interrupt()
                finished.wait(30)
                raise DataError(f"{where}: the query ran for more than {seconds:g} s, the most a mapping query may "
                                "take; simplify it, or raise [limits] query_seconds in a vga.toml of your own "
                                "(--config)")
    except BaseException:
        if not finished.is_set():
            con.interrupt()
            finished.wait(30)
        raise
    if "error" in result:
        raise result["error"]
    return result.get("value")


def query_failure(where: str, exc: Exception, limits: Limits) -> DataError:
    """One line for a DuckDB failure of a mapping query."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "Out of Memory" in first or "could not allocate" in first.lower():
        return DataError(f"{where}: the query needs more than the {limits.query_memory} of memory a mapping query may "
                         "use; simplify it, or raise [limits] query_memory in a vga.toml of your own (--config)")
    if "disabled by configuration" in first:
        first += " (a mapping reads only the data folder's files)"
    return DataError(f"{where}: the query failed: {first[:300]}")


def _fetch(con, confined: Confined, limits: Limits) -> pd.DataFrame:
    """The query's rows, refused past ``limits.result_bytes``. The query is
    computed whole into a table of the sandbox's own first, so that all of
    its work happens where the memory limit and an interrupt reach it (a
    streamed result does its work while rows are fetched)."""
    con.execute(f"CREATE TEMP TABLE vga_mapping_result AS {confined.sql}")
    cursor = con.execute("SELECT * FROM vga_mapping_result")
    chunks, held = [], 0
    while True:
        chunk = cursor.fetch_df_chunk(8)
        if len(chunk) or not chunks:
            chunks.append(chunk)
        if not len(chunk):
            break
        held += int(chunk.memory_usage(deep=True).sum())
        if held > limits.result_bytes:
            cursor.close()
            raise DataError(f"{confined.where}: the query returns more than {size(limits.result_bytes)}, the most a "
                            "mapping query may return; select only the columns and rows the table needs, or raise "
                            "[limits] result_bytes in a vga.toml of your own (--config)")
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)


def run_confined(confined: Confined, limits: Limits = Limits()) -> pd.DataFrame:
    """``confined`` run sandboxed (:func:`sandboxed`) and bounded
    (:func:`bounded`); its result as a data frame. A query that fails
    names its place in the configuration."""
    import duckdb

    con = sandboxed(confined, limits)
    try:
        return bounded(con, lambda: _fetch(con, confined, limits), confined.where, limits.query_seconds)
    except duckdb.Error as exc:
        raise query_failure(confined.where, exc, limits) from None
    finally:
        _close(con)


def _close(con) -> None:
    """Close ``con`` on a thread of its own: a query that did not stop when
    interrupted would hold the caller here for ever; the run goes on (or
    ends) without it."""
    closing = threading.Thread(target=con.close, name="vga-mapping-close", daemon=True)
    closing.start()
    closing.join(10)


def run_query(sql: str, data_dir: Path, where: str, limits: Limits = Limits()) -> pd.DataFrame:
    """``sql`` confined to ``data_dir`` (:func:`confine`) and run
    (:func:`run_confined`)."""
    return run_confined(confine(sql, data_dir, where, limits), limits)
