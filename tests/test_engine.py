"""The process's DuckDB: one database, a cursor per connection, so the
memory bound holds for every step running beside another."""

from __future__ import annotations

import threading

import duckdb
import pytest

from vga import engine


def test_connections_are_cursors_on_one_database_with_one_memory_bound(monkeypatch):
    first, second = engine.connect(), engine.connect()
    first.raw_sql("CREATE OR REPLACE TABLE vga_engine_probe AS SELECT 42 AS x")
    # Seen from another connection opened on another thread: the same database.
    seen = {}
    thread = threading.Thread(target=lambda: seen.update(
        rows=engine.connect().raw_sql("SELECT x FROM vga_engine_probe").fetchall()))
    thread.start()
    thread.join()
    assert seen["rows"] == [(42,)]
    # One bound for all: a setting changed through one connection is the other's too.
    limit = second.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    first.raw_sql("SET memory_limit = '1GB'")
    try:
        assert second.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0] != limit
    finally:
        first.raw_sql(f"SET memory_limit = '{limit.replace(' ', '').replace('iB', 'B')}'")
    # Temporary tables (the steps' uploads of pairs and frames) stay each connection's own.
    first.raw_sql("CREATE TEMP TABLE vga_engine_mine AS SELECT 1 AS y")
    with pytest.raises(duckdb.CatalogException):
        second.raw_sql("SELECT * FROM vga_engine_mine").fetchall()
    first.raw_sql("DROP TABLE vga_engine_probe")
