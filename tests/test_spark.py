"""The same Ibis expressions on DuckDB and on Apache Spark (Ibis's PySpark
backend, a local ``local[2]`` session started here): every usage measure,
the point-in-time scores, the contract's rules on warehouse events and the
steps that read events must give identical results on both engines.

PySpark is the optional extra ``.[spark]`` (``tasks.py test`` installs it
with ``VGA_EXTRAS=spark``; ``.ci/run`` does) and needs Java 17. Under
``VGA_REQUIRE_SPARK=1`` (set by ``.ci/run``) a missing PySpark or Java is a
failure, never a skip.
"""

from __future__ import annotations

import dataclasses

import os
import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.run import pipeline
from vga import engine
from vga.analysis import usage
from vga.inputs import Events
from vga.config import load_config
from vga.load import load_folder, to_inputs
from vga.periods import parse_period
from vga.sample import write_sample
from vga.analysis.scores import scores_for_pairs

from .helpers import assert_same_rows

pytestmark = pytest.mark.spark


def _unavailable(reason: str):
    if os.environ.get("VGA_REQUIRE_SPARK") == "1":
        pytest.fail(f"{reason} (VGA_REQUIRE_SPARK=1: .ci/run installs the spark extra and Java 17)", pytrace=False)
    pytest.skip(f"{reason}; install it with .venv/bin/pip install -e '.[spark]' and Java 17")


@pytest.fixture(scope="module")
def spark_url(tmp_path_factory):
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _unavailable("PySpark is not installed")
    if not shutil.which("java"):
        _unavailable("no java on PATH")
    where = tmp_path_factory.mktemp("spark")
    return (f"pyspark://{where}/warehouse?spark.master=local[2]&spark.ui.enabled=false"
            f"&spark.sql.shuffle.partitions=4&spark.driver.memory=2g&spark.local.dir={where}/tmp")


@pytest.fixture(scope="module")
def spark(spark_url):
    from vga.engine import open_warehouse

    con = open_warehouse(spark_url)
    con._session.sparkContext.setLogLevel("ERROR")
    yield con
    con._session.stop()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark-sample")
    write_sample(folder, accounts=120, seed=21)
    return load_folder(folder)


@pytest.fixture(scope="module")
def tables(spark, small):
    """The accepted events as DuckDB reads them and as Spark reads them."""
    return engine.as_table(engine.connect(), small.events_path()), spark.read_parquet(str(small.events_path()))


def _days(frame, column):
    return frame.assign(**{column: pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")})


def test_spark_reads_every_event(spark, tables, small):
    duck, sp = tables
    assert sp._find_backend().name == "pyspark"
    assert sp.count().execute() == duck.count().execute() == len(small.events_frame())


def test_usage_measures_are_identical(tables, small):
    duck, sp = tables
    core = small.config["usage"]["core_features"]
    features = usage.distinct_features(duck)
    assert usage.distinct_features(sp) == features and usage.top_features(sp, 5) == usage.top_features(duck, 5)
    assert_same_rows(_days(usage.monthly_usage(duck, core, features).to_pandas(), "month"),
          _days(usage.monthly_usage(sp, core, features).to_pandas(), "month"), ["account_id", "month"])
    for day in (date(2025, 9, 30), date(2026, 9, 30)):
        assert_same_rows(usage.window_usage(duck, day, 90, core, features).to_pandas(),
              usage.window_usage(sp, day, 90, core, features).to_pandas(), ["account_id"])
    assert_same_rows(usage.first_value(duck, ["sharing"]).to_pandas(), usage.first_value(sp, ["sharing"]).to_pandas(),
          ["account_id"])
    assert_same_rows(_days(usage.daily_events(duck, date(2025, 6, 1), date(2026, 9, 30)).to_pandas(), "day"),
          _days(usage.daily_events(sp, date(2025, 6, 1), date(2026, 9, 30)).to_pandas(), "day"), ["account_id", "day"])


def test_point_in_time_windows_and_scores_are_identical(tables, small):
    duck, sp = tables
    core = small.config["usage"]["core_features"]
    ids = small.tables["accounts"].accepted["account_id"].to_numpy()
    rng = np.random.default_rng(2)
    pairs = pd.DataFrame({"pair": np.arange(80), "account_id": rng.choice(ids, 80),
                          "day": pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 560, 80), unit="D")})
    assert_same_rows(usage.pair_usage(duck, pairs, 90, core), usage.pair_usage(sp, pairs, 90, core), ["pair"])
    assert_same_rows(usage.pair_feature_use(duck, pairs, core), usage.pair_feature_use(sp, pairs, core), ["pair"])
    local = to_inputs(small)
    remote = dataclasses.replace(to_inputs(small), events=Events(expression=sp, where="warehouse"))
    a = scores_for_pairs(local, pairs[["account_id", "day"]], small.config)
    b = scores_for_pairs(remote, pairs[["account_id", "day"]], small.config)
    assert a["usage_score"].notna().sum() > 40
    assert_same_rows(a.assign(pair=np.arange(len(a))), b.assign(pair=np.arange(len(b))), ["pair"])


def test_warehouse_events_on_spark_go_through_the_contract_rules(spark_url, small, tmp_path):
    """Events read from Parquet by Spark ([warehouse] events_path), dirty rows
    included: the same accepted rows and the same reasons as the loader's."""
    events = small.events_frame()[["timestamp", "account_id", "user_id", "session_id", "feature"]].copy()
    events["timestamp"] = pd.to_datetime(events["timestamp"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    known = small.get("users").iloc[0]
    dirty = pd.DataFrame([
        ("2026-09-01T11:00:00", None, known["user_id"], None, "reports"),  # resolved through users
        ("", events["account_id"].iloc[0], "u-a", None, "reports"),  # timestamp empty
        ("yesterday", events["account_id"].iloc[0], "u-b", None, "reports"),  # timestamp invalid
        ("2026-09-03T10:00:00", "NOPE", "u-d", None, "reports"),  # unknown account
    ], columns=["timestamp", "account_id", "user_id", "session_id", "feature"])
    lake = tmp_path / "lake"
    lake.mkdir()
    pd.concat([events, dirty], ignore_index=True).astype(object).to_parquet(lake / "part-0.parquet", index=False)
    data = tmp_path / "data"
    shutil.copytree(small.data_dir, data, ignore=shutil.ignore_patterns("usage_events", "usage_events.*"))
    config = (data / "vga.toml").read_text() if (data / "vga.toml").exists() else ""
    (data / "vga.toml").write_text(config + f'\n[warehouse]\nurl = "{spark_url}"\nevents_path = "{lake}"\n')
    remote = load_folder(data, load_config(data / "vga.toml"))  # the user's own: it names Spark
    loaded = remote.tables["usage_events"]
    assert loaded.quality["rows_read"] == len(events) + 4
    assert loaded.quality["rows_accepted"] == len(events) + 1
    assert sorted(loaded.quarantined["reason"]) == sorted([
        "timestamp: required value is empty",
        "timestamp: expected an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS, optional offset), found 'yesterday'",
        "account_id 'NOPE' is not among the accepted accounts"])
    assert set(loaded.quarantined["user_id"]) == {"[redacted]"}
    assert loaded.last_date == small.tables["usage_events"].last_date


@pytest.mark.slow
def test_the_steps_that_read_events_are_identical(tables, small):
    """Decisions and their point-in-time features, the quadrant, the early
    warnings and the models, from events on Spark against DuckDB."""
    _, sp = tables
    period = parse_period("2026Q3")
    local = to_inputs(small)
    remote = dataclasses.replace(to_inputs(small), events=Events(expression=sp, where="warehouse"))
    steps = ["churned_customers", "early_warning", "quadrant_view", "renewal_model"]
    a, _ = pipeline.compute(local, period, small.config, steps)
    b, _ = pipeline.compute(remote, period, small.config, steps)
    for name in ("decisions.csv", "early_warning.csv", "early_warning_decisions.csv", "quadrants.csv",
                 "model_terms.csv", "renewal_scores.csv"):
        x, y = a[name].reset_index(drop=True), b[name].reset_index(drop=True)
        assert list(x.columns) == list(y.columns) and len(x) == len(y) > 0, name
        if "usage_source" in x.columns:  # where the events were read, by design different
            assert set(y["usage_source"]) <= {"warehouse", ""}
            x, y = x.drop(columns="usage_source"), y.drop(columns="usage_source")
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-12, obj=name)
