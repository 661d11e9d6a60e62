"""Validating product events at event scale, out of core, with DuckDB.

Events are by far the largest input (hundreds of millions of rows), so they
never pass through pandas. The contract's rules for ``usage_events`` are
those of :mod:`vga.load.event_rules` (the expression that also judges
events in a warehouse), compiled to DuckDB SQL and run here over the raw
rows read as text, on this module's own connection (sandboxed where a
mapping query reads the data folder), with the reasons of
:mod:`vga.load.messages`.

Accepted events are written to ``<work>/usage_events.parquet`` (columns
``timestamp``, ``account_id``, ``user_id``, ``session_id``, ``feature``,
``account_resolved_by``, ``source_row`` and, for folders, ``source_file``);
quarantined rows keep all their original columns, with personal columns
redacted. DuckDB spills to disk past its memory limit, so the size of the
events is bounded by disk, not memory.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import ibis
import pandas as pd

from ..config import source_spec
from ..contract import PERSONAL_COLUMNS, REDACTED, TABLES
from ..errors import DataError
from ..privacy import mask_contacts
from . import messages as msg
from .event_rules import FILE_RESERVED, LOOKUPS, lookups, reserved_name_message
from .event_rules import verdict as rules_verdict
from .files import SqlSource, csv_scan, execute_scan, missing_required_message
from .sandbox import bounded, query_failure, restrict

_lit = msg.sql_literal


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: DuckDB's memory for validating events; past it, it spills to the run's work folder.
EVENTS_MEMORY = "3GB"


def connect_for_events(work_dir: Path, memory_limit: str = EVENTS_MEMORY) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {_lit(memory_limit)}")
    con.execute(f"SET temp_directory = {_lit(str(work_dir / 'duckdb-spill'))}")
    return con


def _raw_relation(con, path, options: dict | None = None) -> tuple[str, list[str], bool]:
    """SQL for the raw rows as text, with source_row (and source_file).

    ``path`` is a file, a folder of Parquet files or a
    :class:`~vga.load.files.SqlSource` (a mapping query, run here by DuckDB
    out of core like a file scan; ``source_row`` is the row of its result)."""
    if isinstance(path, SqlSource):  # confined to the data folder, and the connection restricted, by validate_events
        probe = f"({path.confined.sql})"
        try:
            columns = [r[0] for r in bounded(con, lambda: con.execute(f"DESCRIBE SELECT * FROM {probe}").fetchall(),
                                              path.where(), path.limits.query_seconds)]
        except duckdb.Error as exc:
            raise query_failure(path.where(), exc, path.limits) from None
        text_cols = ", ".join(f"trim(coalesce(CAST({_q(c)} AS VARCHAR), '')) AS {_q(c)}" for c in columns)
        return f"SELECT {text_cols}, row_number() OVER () AS source_row FROM {probe}", columns, False
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        if not files:
            raise DataError(msg.no_event_files(path))
        glob = str(path / "*.parquet")
        probe = f"read_parquet({_lit(glob)}, union_by_name=true)"
        source = f"read_parquet({_lit(glob)}, union_by_name=true, filename=true, file_row_number=true)"
        folder = True
    elif path.suffix.lower() == ".parquet":
        probe = f"read_parquet({_lit(str(path))})"
        source = f"read_parquet({_lit(str(path))}, file_row_number=true)"
        folder = False
    elif path.suffix.lower() == ".csv":
        # One thread keeps record order, so row_number() is the record number.
        probe = csv_scan(path, "usage_events", options or {})  # header checked; encoding, delimiter applied
        source = probe
        folder = False
    else:
        raise DataError(f"{path}: usage_events at event scale must be .csv, .parquet or a folder of .parquet files")
    try:
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {probe}").fetchall()]
    except duckdb.Error as exc:
        raise DataError(f"{path}: cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    text_cols = ", ".join(f"trim(coalesce(CAST({_q(c)} AS VARCHAR), '')) AS {_q(c)}" for c in columns)
    if path.suffix.lower() == ".csv":
        sql = f"SELECT {text_cols}, row_number() OVER () AS source_row FROM {source}"
    elif folder:
        sql = (f"SELECT {text_cols}, file_row_number + 1 AS source_row, "
               f"regexp_extract(filename, '[^/\\\\]+$') AS source_file FROM {source}")
    else:
        sql = f"SELECT {text_cols}, file_row_number + 1 AS source_row FROM {source}"
    return sql, columns, folder


def validate_events(
    path: Path,
    config: dict,
    accounts: pd.DataFrame,
    users: pd.DataFrame | None,
    work_dir: Path,
    *,
    accepted_path: Path | None = None,
    source_file: str | None = None,
    identity: tuple[Path, str] | None = None,
    lookup_frames: dict[str, pd.DataFrame] | None = None,
) -> dict:
    """Validate, resolve and write the events; return counts and quarantine.

    Returns a dict with ``rows_read``, ``rows_accepted``, ``accepted_path``,
    ``quarantined`` (a data frame), ``resolved_by`` (counts per route),
    ``unresolved``, ``first_date``, ``last_date`` and ``months`` (the first
    days of the months with accepted events).

    For the incremental store (:mod:`vga.load.store`): ``accepted_path``
    names the Parquet file to write; ``source_file`` adds that file name as
    ``source_file`` to accepted and quarantined rows (one part of a folder);
    ``identity = (path, salt)`` also writes the identity keys the rows were
    resolved by (:func:`vga.load.store.identity_signature`), and writes
    ``user_id`` as its salted sha256 (the store outlives the run; distinct
    counts are unchanged). ``lookup_frames``: :func:`vga.load.event_rules.lookups`
    of ``accounts`` and ``users``, when the caller validates many parts
    (built once, not once a part: they grow with the accounts).
    """
    table = TABLES["usage_events"]
    work_dir.mkdir(parents=True, exist_ok=True)
    con = connect_for_events(work_dir)
    accepted_path = accepted_path or work_dir / "usage_events.parquet"
    if isinstance(path, SqlSource):  # a query from configuration: it reads the data folder and nothing else
        writes = (accepted_path,) + ((identity[0],) if identity is not None else ())
        # Events are many: the query spills to vga's own folder past the events' memory bound.
        restrict(con, path.confined, path.limits, writes=writes, folders=(work_dir / "duckdb-spill",),
                 memory=EVENTS_MEMORY)
    spec = source_spec(config, "usage_events")
    raw_sql, raw_columns, folder = _raw_relation(con, path, spec)
    mapping = spec.get("columns", {})
    reverse = {v: k for k, v in mapping.items()}
    contract_of = {c: reverse.get(c, c) for c in raw_columns}
    present = set(contract_of.values())
    missing = [c for c in table.required if c not in present]
    if missing:
        raise DataError(missing_required_message("usage_events", path, raw_columns, missing))
    clash = reserved_name_message(path.where() if isinstance(path, SqlSource) else path, raw_columns, FILE_RESERVED)
    if clash:
        raise DataError(clash)
    col = {name: _q(raw) for raw, name in contract_of.items()}  # contract name -> raw column SQL
    null = "CAST(NULL AS VARCHAR)"

    def opt(name):
        return f"NULLIF({col[name]}, '')" if name in col else null

    # The rules (vga.load.event_rules), compiled to DuckDB SQL over the raw rows and the lookups.
    for name, frame in (lookup_frames or lookups(accounts, users)).items():  # typed as text, even when empty
        con.register(f"{name}_frame", frame)
        casts = ", ".join(f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in LOOKUPS[name])
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT {casts} FROM {name}_frame")
    raw_types = {c: "string" for c in raw_columns} | {"source_row": "int64"} | ({"source_file": "string"} if folder else {})
    con.execute(f"CREATE TEMP VIEW vga_raw_events AS {raw_sql}")
    judged = rules_verdict(ibis.table(raw_types, name="vga_raw_events"), contract_of,
                           {name: ibis.table(schema, name=name) for name, schema in LOOKUPS.items()},
                           offsets_to_utc=True)
    extra_source = ", source_file" if folder else ""
    # DuckDB reads every row here: a malformed line of an event file is a DataError
    judging = f"CREATE TEMP TABLE verdict AS {ibis.to_sql(judged, dialect='duckdb')}"
    if isinstance(path, SqlSource):  # a mapping query runs here: bounded in time, and stopped by Ctrl-C
        try:
            bounded(con, lambda: con.execute(judging), path.where(), path.limits.query_seconds)
        except duckdb.Error as exc:
            raise query_failure(path.where(), exc, path.limits) from None
    else:
        execute_scan(con, path, judging)
    if source_file is not None:
        extra_source = f", {_lit(source_file)} AS source_file"
    user_out = col["user_id"]
    if identity is not None:
        keys_path, salt = identity
        user_out = f"sha256({_lit(salt)} || {col['user_id']})"
        # What resolution depends on: each row's given account, user and e-mail
        # domain (users and domains salted: the store outlives the run, and a
        # domain names a customer): the store re-checks these against the next
        # run's accounts and users instead of reading the file again.
        con.execute(f"""
            COPY (SELECT DISTINCT _given AS given_account, sha256({_lit(salt)} || {col['user_id']}) AS user_key,
                         sha256({_lit(salt)} || _domain) AS email_domain
                  FROM verdict WHERE NOT _value_bad) TO {_lit(str(keys_path))} (FORMAT parquet)
        """)
    # A feature name holding someone's e-mail or phone number is shown masked (vga.privacy):
    # the few such names are found among the distinct features and replaced by a join.
    feature = col["feature"]
    names = [r[0] for r in con.execute(f"SELECT DISTINCT {feature} FROM verdict").fetchall() if isinstance(r[0], str)]
    masked = {n: mask_contacts(n) for n in names if mask_contacts(n) != n}
    if masked:
        con.register("masked_features", pd.DataFrame({"raw": list(masked), "shown": list(masked.values())}))
        feature = f"coalesce((SELECT m.shown FROM masked_features m WHERE m.raw = {col['feature']}), {col['feature']})"
    con.execute(f"""
        COPY (
          SELECT _ts AS timestamp, _account AS account_id, {user_out} AS user_id,
                 {opt('session_id')} AS session_id, {feature} AS feature,
                 _resolved_by AS account_resolved_by, source_row{extra_source}
          FROM verdict WHERE reason IS NULL
        ) TO {_lit(str(accepted_path))} (FORMAT parquet)
    """)
    personal_raw = {raw for raw, name in contract_of.items() if name in PERSONAL_COLUMNS or "email" in raw.lower()}
    shown = ", ".join(
        (f"CASE WHEN {_q(c)} <> '' THEN '{REDACTED}' ELSE '' END AS {_q(c)}" if c in personal_raw else _q(c))
        for c in raw_columns
    )
    file_column = f"{_lit(source_file)} AS source_file, " if source_file is not None else (
        "source_file, " if folder else "")
    quarantined = con.execute(
        f"SELECT {file_column}source_row, {shown}, reason, reason_kind FROM verdict "
        f"WHERE reason IS NOT NULL ORDER BY {'source_file, ' if folder else ''}source_row"
    ).df()
    rows_read, rows_accepted, first, last = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE reason IS NULL), min(_ts) FILTER (WHERE reason IS NULL), "
        "max(_ts) FILTER (WHERE reason IS NULL) FROM verdict").fetchone()
    routes = dict(con.execute(
        "SELECT _resolved_by, count(*) FROM verdict WHERE reason IS NULL GROUP BY 1").fetchall())
    unresolved = con.execute(
        "SELECT count(*) FROM verdict WHERE NOT _value_bad AND _account IS NULL").fetchone()[0]
    months = [r[0] for r in con.execute(
        "SELECT DISTINCT CAST(date_trunc('month', _ts) AS DATE) FROM verdict WHERE reason IS NULL ORDER BY 1"
    ).fetchall()]
    con.close()
    quarantined["source_row"] = quarantined["source_row"].astype("int64")
    return {
        "rows_read": int(rows_read),
        "rows_accepted": int(rows_accepted),
        "accepted_path": accepted_path,
        "quarantined": quarantined,
        "resolved_by": {str(k): int(v) for k, v in routes.items()},
        "unresolved": int(unresolved),
        "first_date": None if first is None else pd.Timestamp(first).normalize(),
        "last_date": None if last is None else pd.Timestamp(last).normalize(),
        "months": [m.isoformat() for m in months],
    }
