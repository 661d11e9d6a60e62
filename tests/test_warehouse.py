"""The same Ibis expressions on DuckDB and on a real PostgreSQL server.

This also guards the pinned ibis-framework / sqlglot pair: sqlglot 30.18.0
and later break ibis 12.0.0's table creation on PostgreSQL, which the
``create_table`` below would catch.
"""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from vga import analysis, usage
from vga.load import load_folder
from vga.periods import parse_period
from vga.sample import write_sample

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pg-sample")
    write_sample(folder, accounts=200, seed=21)
    return load_folder(folder)


@pytest.fixture(scope="module")
def warehouse(postgres_url, small_sample):
    con = ibis.connect(postgres_url)
    events = small_sample.events_frame()[["timestamp", "account_id", "user_id", "session_id", "feature"]]
    con.create_table("usage_events", events, overwrite=True)
    yield con
    con.drop_table("usage_events", force=True)
    con.disconnect()


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(a[col]):
            assert np.allclose(a[col].astype(float), b[col].astype(float), rtol=1e-12, equal_nan=True), col
        else:
            assert (a[col].astype(str) == b[col].astype(str)).all(), col


def test_events_load_into_postgres_intact(warehouse, small_sample):
    assert warehouse.table("usage_events").count().execute() == len(small_sample.events_frame())


def test_monthly_and_window_aggregation_identical_on_duckdb_and_postgres(warehouse, small_sample):
    core = small_sample.config["usage"]["core_features"]
    duck = usage.as_table(usage.connect(), small_sample.get("usage_events"))
    pg = warehouse.table("usage_events")
    features = usage.distinct_features(duck)
    assert usage.distinct_features(pg) == features
    monthly_duck = usage.monthly_usage(duck, core, features).to_pandas()
    monthly_pg = usage.monthly_usage(pg, core, features).to_pandas()
    for frame in (monthly_duck, monthly_pg):
        frame["month"] = pd.to_datetime(frame["month"]).dt.strftime("%Y-%m-%d")
    _same(monthly_duck, monthly_pg, ["account_id", "month"])
    for day in (date(2025, 9, 30), date(2026, 9, 30)):
        _same(usage.window_usage(duck, day, 90, core, features).to_pandas(),
              usage.window_usage(pg, day, 90, core, features).to_pandas(), ["account_id"])
    _same(usage.first_value(duck, ["sharing"]).to_pandas(), usage.first_value(pg, ["sharing"]).to_pandas(), ["account_id"])


def test_a_run_reads_events_where_they_live(warehouse, small_sample, postgres_url):
    p = parse_period("2026Q3")
    local = analysis.scores_at(small_sample, p.as_of, run_as_of=True)
    config = dict(small_sample.config, warehouse={"url": postgres_url, "events_table": "usage_events"})
    remote_data = type(small_sample)(small_sample.data_dir, config,
                                     {k: v for k, v in small_sample.tables.items() if k != "usage_events"})
    remote = analysis.scores_at(remote_data, p.as_of, run_as_of=True)
    assert set(remote["usage_source"]) == {"warehouse"}
    _same(local[["account_id", "usage_score"]], remote[["account_id", "usage_score"]], ["account_id"])
