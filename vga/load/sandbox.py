"""Queries from configuration, run so that a data folder stays data.

A mapping file (``vga.toml``) may build contract tables and churn labels
with DuckDB queries over the data folder's files. Such a file can come with
the data, from whoever exported it, so every query is treated as untrusted:

- **One read, nothing else.** The query is parsed (sqlglot, DuckDB's
  dialect) before it runs: exactly one ``SELECT`` (``WITH ... SELECT``,
  ``UNION`` and the like included). ``COPY``, ``ATTACH``, ``INSTALL``,
  ``LOAD``, ``SET``, ``PRAGMA``, ``CREATE``, several statements... are
  refused with the line of the mapping that holds them.
- **The data folder and nothing else.** Every file the query names is
  resolved against the data folder, symbolic links followed, and must lie
  inside it (a glob's every match too); the query then runs on a DuckDB
  connection that may read only those files and the folder (``allowed_paths``,
  ``allowed_directories``), with external access off (no other file, no
  network, no environment), extensions neither installed nor loaded, and
  the configuration locked, so the query cannot loosen any of it.

What a query can do: read the data folder's CSV, Parquet, JSON and Excel
files (``read_csv``, ``read_parquet``, ... or a file name as a table), join,
filter, aggregate and derive columns. What it cannot do: write anything,
read anything outside the folder, reach the network, run several statements
or change DuckDB's settings.
"""

from __future__ import annotations

import glob as globbing
from pathlib import Path

from ..errors import DataError

#: Glob characters DuckDB expands in a file name.
GLOB_CHARACTERS = set("*?[")


def check_query(sql: str, where: str) -> None:
    """Refuse anything but one read-only query (see the module docstring);
    ``where`` names the query in messages (``vga.toml line 12 (...)``)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"{where}: the query could not be read: {first}") from None
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


def _candidates(sql: str) -> list[str]:
    """Every string literal and quoted table name of ``sql``: the file names
    it may read (and other text, sorted out by :func:`confine`)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    found = [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]
    found += [t.name for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Identifier) and t.this.quoted]
    return list(dict.fromkeys(found))


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


def confine(sql: str, data_dir: Path, where: str) -> list[str]:
    """The file names ``sql`` reads, each checked to lie inside
    ``data_dir`` once symbolic links are followed (every match of a glob
    too); refuses a name that leaves the folder. Text that names no file
    ('yes', a delimiter) is no file name and passes."""
    folder = Path(data_dir).resolve()
    allowed = []
    for text in _candidates(sql):
        if not text or len(text) > 4096 or "\x00" in text:
            continue
        if "://" in text:
            raise DataError(f"{where}: the query names '{text[:120]}', which is not a file of the data folder; a "
                            "mapping reads only the data folder's files")
        path = Path(text)
        full = path if path.is_absolute() else folder / path
        if GLOB_CHARACTERS & set(text):
            matches = [Path(m) for m in globbing.glob(str(full), recursive=True)]
            outside = [m for m in matches if not _inside(m, folder)]
            if outside or (path.is_absolute() and not _inside(Path(str(full).split("*")[0] or "/"), folder)):
                raise DataError(f"{where}: '{text[:120]}' reaches outside the data folder {folder}; a mapping reads "
                                "only the data folder's files")
            if matches:
                allowed.append(text)
            continue
        if not (full.exists() or full.is_symlink()):
            if path.is_absolute() or ".." in path.parts:
                raise DataError(f"{where}: '{text[:120]}' is not a file of the data folder {folder}")
            continue  # not a file name: a value such as 'yes'
        if not _inside(full, folder):
            raise DataError(f"{where}: '{text[:120]}' is outside the data folder {folder} (symbolic links are "
                            "followed); a mapping reads only the data folder's files")
        allowed.append(text)
    return allowed


def restrict(con, data_dir: Path, allowed: list[str], writes: tuple[Path, ...] = (), folders: tuple[Path, ...] = ()):
    """Lock ``con`` down to the data folder: it may read ``allowed`` (file
    names as a query writes them, relative to ``data_dir``) and files of the
    data folder, write only the files ``writes`` and inside ``folders``
    (vga's own work: spill files, accepted events), and nothing else: no
    other file, no network, no extension; settings locked."""
    folder = str(Path(data_dir).resolve())
    con.execute("SET file_search_path = ?", [folder])
    con.execute("SET allowed_directories = ?", [[str(d).rstrip("/") + "/" for d in (folder, *folders)]])
    paths = list(allowed) + [str(p) for p in writes]
    if paths:
        con.execute("SET allowed_paths = ?", [paths])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def sandboxed(data_dir: Path, allowed: list[str]):
    """A DuckDB connection of its own, :func:`restrict`-ed to the data folder."""
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    return restrict(con, data_dir, allowed)


def run_query(sql: str, data_dir: Path, where: str):
    """``sql`` checked (:func:`check_query`, :func:`confine`) and run
    sandboxed (:func:`sandboxed`); its result as a data frame. A query that
    fails names ``where``."""
    import duckdb

    check_query(sql, where)
    con = sandboxed(data_dir, confine(sql, data_dir, where))
    try:
        return con.sql(sql).df()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        if "disabled by configuration" in first:
            first += " (a mapping reads only the data folder's files)"
        raise DataError(f"{where}: the query failed: {first}") from None
    finally:
        con.close()
