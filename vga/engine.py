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

Analysis modules receive Ibis tables and data frames, never a connection's
settings.
"""

from __future__ import annotations

import atexit
import itertools
import os
import threading
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
    parts = urlsplit(url)
    if parts.scheme != "pyspark":
        return ibis.connect(url)
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
