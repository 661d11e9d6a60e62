"""Every connection vga opens, in one place: DuckDB (embedded, the default),
a warehouse Ibis supports (PostgreSQL, Snowflake, BigQuery...) and Spark.

- :func:`connect`: an Ibis connection; the configured warehouse, else a
  cursor on the process's in-memory DuckDB, set for out-of-core work (one
  memory bound for the process, a spill folder of its own, no progress bar,
  no insertion order kept).
- :func:`open_warehouse`: a warehouse URL to an Ibis connection;
  ``pyspark://`` URLs start (or join) a Spark session.
- :func:`as_table`: product events (a frame, files, a table name) as an
  Ibis table on a connection.
- :func:`keep`, :func:`upload` and :func:`once`: what a warehouse run
  computes once and reads many times (judged events, collapsed events, the
  decisions' pairs), kept in the warehouse session with the statistics its
  planner needs.

Analysis modules receive Ibis tables and data frames, never a connection's
settings.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import threading
import uuid
import weakref
from pathlib import Path
from urllib.parse import urlsplit

import ibis
import pandas as pd

from .errors import UsageError

#: The columns of usage_events the analyses read.
EVENT_COLUMNS = ("timestamp", "account_id", "user_id", "session_id", "feature")


def connect(config: dict | None = None):
    """An Ibis connection: the configured warehouse URL, else DuckDB.

    DuckDB connections of one process are cursors on one in-memory
    database, so its memory bound is the process's, however many steps run
    side by side (each thread its own cursor, with its own temporary tables)."""
    url = ((config or {}).get("warehouse") or {}).get("url")
    if url:
        return open_warehouse(url)
    import duckdb

    cursor = _database().cursor()
    try:  # never into a log; in Jupyter DuckDB refuses the setting without ipywidgets
        cursor.execute("SET enable_progress_bar = false")  # and draws no bar there either
    except duckdb.InvalidInputException:
        pass
    return ibis.duckdb.from_connection(cursor)


_DATABASE: dict = {}
_DATABASE_LOCK = threading.Lock()


def _database():
    """The process's in-memory DuckDB database, set for out-of-core work."""
    with _DATABASE_LOCK:
        database = _DATABASE.get(os.getpid())  # a forked child opens its own
        if database is None:
            import duckdb

            database = duckdb.connect()
            # Order of rows is never relied upon; dropping it lets DuckDB stream.
            database.execute("SET preserve_insertion_order = false")
            # Out of core: past this much memory DuckDB spills to disk (a billion
            # events aggregate in 3 GB); VGA_MEMORY_LIMIT sets another bound.
            database.execute(f"SET memory_limit = '{os.environ.get('VGA_MEMORY_LIMIT', '3GB')}'")
            database.execute(f"SET temp_directory = '{_spill_directory()}'")
            _DATABASE.clear()
            _DATABASE[os.getpid()] = database
            atexit.register(database.close)  # DuckDB removes its spill folder as it closes
        return database


_CONNECTIONS = itertools.count()


def _spill_directory() -> Path:
    """A spill folder of this connection's own. DuckDB releases before the
    fix of duckdb/duckdb#15173 name spill files alike in every instance, and
    an instance closing empties the folder of every instance's files, so
    connections sharing one (a run's kernels, parallel steps, two runs)
    would break each other's queries. DuckDB creates the folder on the
    first spill and removes it when the connection closes."""
    import tempfile

    return Path(tempfile.gettempdir()) / f"vga-duckdb-spill-{os.getpid()}-{next(_CONNECTIONS)}"


def as_table(con, events) -> ibis.Table:
    """An Ibis table over ``events``: a data frame, an Ibis table, the name of
    a table in the connection, a path (a Parquet file, a folder of Parquet
    files, or a CSV file) or a list of Parquet files."""
    if isinstance(events, ibis.Table):
        return events
    if isinstance(events, pd.DataFrame):
        cols = [c for c in EVENT_COLUMNS if c in events.columns]
        frame = events[cols].copy()
        for c in cols:
            if c != "timestamp":
                frame[c] = frame[c].astype(object)
        stamps = pd.to_datetime(frame["timestamp"])
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        frame["timestamp"] = stamps.astype("datetime64[us]")
        # Typed by the contract, not by the values: no events is a table of
        # typed columns, never of null-typed ones.
        schema = {c: ("timestamp" if c == "timestamp" else "string") for c in cols}
        con.create_table("vga_events", schema=ibis.schema(schema), temp=True, overwrite=True)
        con.insert("vga_events", frame)
        return con.table("vga_events")
    if isinstance(events, (list, tuple)):  # several Parquet files (the incremental store's parts)
        return con.read_parquet([str(p) for p in events])
    text = str(events)
    if "/" not in text and "." not in text and text in con.list_tables():
        return con.table(text)
    if text.endswith(".csv"):
        return con.read_csv(text)
    if not text.endswith(".parquet"):
        text = text.rstrip("/") + "/*.parquet"
    return con.read_parquet(text)


def open_warehouse(url: str):
    """An Ibis connection to the warehouse at ``url``.

    ``pyspark://`` URLs start a Spark session (or join the running one):
    query parameters are Spark settings (``pyspark://?spark.master=local[2]``,
    ``spark.remote=sc://host:15002`` for Spark Connect), a path is the SQL
    warehouse folder. The session keeps time in UTC, as the data contract
    does. Any other URL goes to ``ibis.connect`` (PostgreSQL, Snowflake,
    BigQuery, Trino, Databricks...)."""
    from .credentials import connectable

    url = connectable(url)  # a password holding '/', '#', '?' or '@' percent-encoded for the driver
    parts = urlsplit(url)
    if parts.scheme != "pyspark":
        con = ibis.connect(url)
        if con.name == "postgres":
            for setting, value in POSTGRES_SESSION.items():
                with con.raw_sql(f"SET {setting} = '{value}'"):
                    pass
            _one_transaction_at_a_time(con)
        return con
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("[warehouse] url is a pyspark:// URL, but PySpark is not installed: install vga with its "
                         "Spark extra (pip install -e '.[spark]') and Java 17") from None
    from urllib.parse import parse_qsl

    settings = dict(parse_qsl(parts.query))
    builder = SparkSession.builder
    remote = settings.pop("spark.remote", None)
    if remote:
        builder = builder.remote(remote)
    if parts.path not in ("", "/"):
        settings.setdefault("spark.sql.warehouse.dir", parts.path)
    # The contract's timestamps are UTC; Spark's are in the session's zone.
    settings.setdefault("spark.sql.session.timeZone", "UTC")
    for key, value in settings.items():
        builder = builder.config(key, value)
    return ibis.pyspark.connect(builder.getOrCreate())


#: Settings of vga's own PostgreSQL session (they change nothing for other
#: sessions). PostgreSQL's default of 4 MB per sort or hash sends every
#: aggregate of a few million events to disk and steers the planner to
#: sort-merge joins: at 6,000 accounts, 256 MB made the run's queries
#: several times faster. The server's own limits still apply.
POSTGRES_SESSION = {"work_mem": "256MB"}


def _one_transaction_at_a_time(con) -> None:
    """Let the steps of a run share one PostgreSQL session from several
    threads. The driver serialises single statements, but Ibis wraps each
    query in a transaction block, and two threads' blocks interleaved on one
    connection wait on each other for ever; here each block holds the
    session's lock until it ends. Threads still overlap their own work (data
    frames, models) with the other's query. Marks ``con`` as shared safely
    (:func:`shared_safely`)."""
    lock = threading.RLock()
    driver = con.con
    transaction = driver.transaction

    @contextlib.contextmanager
    def one_at_a_time(*args, **kwargs):
        with lock, transaction(*args, **kwargs) as block:
            yield block

    driver.transaction = one_at_a_time
    con._vga_lock = lock


def shared_safely(table: ibis.Table) -> bool:
    """Whether steps in several threads may query ``table``'s connection at
    once: DuckDB (a cursor per thread) and PostgreSQL (one transaction at a
    time), not other warehouses, whose drivers vga has not tested so."""
    backend = _backend(table)
    return backend is None or backend.name == "duckdb" or hasattr(backend, "_vga_lock")


def _session_lock(backend):
    """The lock of a shared PostgreSQL session, for statements sent outside
    Ibis's transaction blocks; else a lock of no consequence."""
    return getattr(backend, "_vga_lock", None) or contextlib.nullcontext()


def _backend(table: ibis.Table):
    try:
        return table._find_backend()
    except Exception:  # an unbound table (memtables only): nothing to keep it in
        return None


def keep(table: ibis.Table) -> ibis.Table:
    """``table`` computed once and kept for the session: a temporary table
    of the warehouse session (on PostgreSQL with its statistics gathered:
    autovacuum never visits temporary tables, and a planner that guesses a
    table's size picks sort-merge joins that spill to disk), a cached data
    frame on Spark. Where the backend keeps nothing (a read-only role), the
    expression itself: the same figures, computed again by each query."""
    backend = _backend(table)
    if backend is None or backend.name == "duckdb":
        return table
    name = f"vga_kept_{uuid.uuid4().hex[:12]}"
    try:  # gone when the session ends (Ibis's own cache would drop it at exit, on a closed connection)
        if backend.name == "postgres":
            return _created_as(backend, name, table)
        return backend.create_table(name, table, temp=True)
    except Exception:  # the same figures either way; only slower
        return table


def _created_as(backend, name: str, table: ibis.Table) -> ibis.Table:
    """``CREATE TEMPORARY TABLE name AS`` the query, then ``ANALYZE``. One
    statement, not Ibis's create-then-insert: PostgreSQL runs the query of a
    ``CREATE TABLE AS`` with parallel workers where it reads no temporary
    table (judging the events: about half the time on 2 cores), and never
    an ``INSERT``'s. Columns are cast to the expression's types (a sum of
    integers would otherwise be kept as a decimal)."""
    import sqlglot as sg

    backend._run_pre_execute_hooks(table)  # its memtables, if any, exist in the session
    dialect = backend.dialect
    columns = ", ".join(
        f"CAST(t.{sg.to_identifier(c, quoted=True).sql(dialect)} AS {d.args['kind'].sql(dialect)}) "
        f"AS {sg.to_identifier(c, quoted=True).sql(dialect)}"
        for c, d in zip(table.schema().names, table.schema().to_sqlglot_column_defs(dialect)))
    with _session_lock(backend), backend.con.cursor() as cursor, backend.con.transaction():
        cursor.execute(f'CREATE TEMPORARY TABLE "{name}" AS SELECT {columns} FROM ({backend.compile(table)}) AS t')
        cursor.execute(f'ANALYZE "{name}"')
    return backend.table(name)


def upload(like: ibis.Table, frame: pd.DataFrame, schema: dict) -> ibis.Table:
    """``frame`` (columns typed by ``schema``) as a table on the backend of
    ``like``, to join to it there. PostgreSQL takes it by COPY into a
    temporary table with statistics (Ibis would insert row by row, and the
    planner would guess its size); elsewhere it is an Ibis memtable."""
    backend = _backend(like)
    if backend is None or backend.name != "postgres":
        return ibis.memtable(frame, schema=schema)
    name = f"vga_upload_{uuid.uuid4().hex[:12]}"
    backend.create_table(name, schema=ibis.schema(schema), temp=True)
    _copy_into(backend, name, frame, schema)
    return backend.table(name)


@contextlib.contextmanager
def lookup_tables(like: ibis.Table, frames: dict[str, tuple[pd.DataFrame, dict]]):
    """Small tables (name -> (frame, schema)) beside ``like``, for one
    query over ``like`` that :func:`keep` runs with parallel workers; yields
    name -> table. On PostgreSQL they are ordinary unlogged tables named
    ``vga_lookup_*`` (parallel workers cannot read a session's temporary
    tables), readable by the run's role alone and dropped on leaving, even
    on failure; where the role may not create tables there (PostgreSQL 15
    lets only a schema's owner create in ``public``), and elsewhere, they
    are :func:`upload` tables and the query runs on one core."""
    backend = _backend(like)
    made: list[str] = []
    tables = {}
    try:
        for key, (frame, schema) in frames.items():
            table = _unlogged_upload(backend, frame, schema) if backend is not None and backend.name == "postgres" \
                else None
            if table is None:
                table = upload(like, frame, schema)
            else:
                made.append(table.get_name())
            tables[key] = table
        yield tables
    finally:
        for name in made:
            with contextlib.suppress(Exception), _session_lock(backend), backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"'):
                pass


def _unlogged_upload(backend, frame: pd.DataFrame, schema: dict) -> ibis.Table | None:
    """``frame`` as an unlogged table by COPY, with statistics, readable by
    its owner only; None where the role may not create one."""
    name = f"vga_lookup_{uuid.uuid4().hex[:12]}"
    columns = ", ".join(f'"{c}" {d.args["kind"].sql(backend.dialect)}'
                        for c, d in zip(schema, ibis.schema(schema).to_sqlglot_column_defs(backend.dialect)))
    try:
        with _session_lock(backend), backend.con.cursor() as cursor, backend.con.transaction():
            cursor.execute(f'CREATE UNLOGGED TABLE "{name}" ({columns})')
            cursor.execute(f'REVOKE ALL ON "{name}" FROM PUBLIC')
    except Exception:
        return None
    _copy_into(backend, name, frame, schema)
    return backend.table(name)


def _copy_into(backend, name: str, frame: pd.DataFrame, schema: dict) -> None:
    """COPY ``frame``'s columns of ``schema`` into ``name``, then ANALYZE it."""
    rows = frame[list(schema)].astype(object)
    rows = rows.where(rows.notna(), None)  # missing values as NULL, never the text 'nan'
    with _session_lock(backend), backend.con.cursor() as cursor:
        with cursor.copy(f'COPY "{name}" FROM STDIN') as copy:
            for row in rows.itertuples(index=False, name=None):
                copy.write_row(row)
        cursor.execute(f'ANALYZE "{name}"')


_ONCE: dict = {}  # id(backend) -> (answers, a lock per key being built)
_ONCE_LOCK = threading.Lock()


def once(table: ibis.Table, what: str, build):
    """``build()``, computed once per warehouse session for ``table`` and
    ``what`` (a name and the arguments that change the answer) and then
    reused: the distinct features, the collapsed events. Only for warehouse
    tables: their name is unique to the run, so the answer cannot go stale.
    DuckDB (files, frames) computes it each time, as it does everything."""
    backend = _backend(table)
    if backend is None or backend.name == "duckdb":
        return build()
    key = (what, table.op())
    with _ONCE_LOCK:
        # By identity: Ibis counts two sessions of one database as equal, but
        # each has its own temporary tables.
        if id(backend) not in _ONCE:
            _ONCE[id(backend)] = ({}, {})
            weakref.finalize(backend, _ONCE.pop, id(backend), None)
        answers, building = _ONCE[id(backend)]
        lock = building.setdefault(key, threading.Lock())
    with lock:  # a second thread asking waits for the first one's answer
        if key not in answers:
            answers[key] = build()
        return answers[key]


def distinct_features(events: ibis.Table) -> list[str]:
    """Every feature name in the events, sorted (one scan of one column;
    once per run on a warehouse, for the loader and the analyses alike)."""
    return list(once(events, "distinct_features", lambda: sorted(
        str(f) for f in events.select("feature").distinct().to_pandas()["feature"].dropna())))
