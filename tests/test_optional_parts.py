"""Every optional column and table of the contract is optional for real.

Each optional column of every contract table, and each optional table, is
taken out of the sample and the whole series runs in this process
(:class:`tests.company.InProcessSeries`, which runs again only the steps
that read what changed): every section of every chapter shows findings or
says why not, and no figure is computed from nothing. The same with every
optional part taken out at once, through ``vga run``, is in
``tests/test_shapes.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vga.sample import write_sample

from .company import InProcessSeries, optional_columns, says_something, variant

PERIOD = "2026Q3"


def by_table_sets(by_table: dict[str, list[str]]) -> dict[str, set[str]]:
    return {t: set(cs) for t, cs in by_table.items()}


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small-sample")
    write_sample(folder, accounts=80, seed=5)
    return folder


def _check(series, small_sample, tmp_path, variants) -> dict:
    """Each variant through the series: every section says something, and the
    run's own account of what was given matches what was taken out."""
    full = {}
    for drop, label in variants:
        texts = series.run(variant(small_sample, tmp_path / "variant", drop))
        says_something(texts, label)
        gathering = series.outputs["data_gathering.json"]
        for table, gone in drop.items():
            if gone is None:
                assert table in {m["table"] for m in gathering["missing_tables"]}, label
            elif table != "usage_events":
                assert not gone & set(series.inputs.table(table).columns), label
        full.update(texts)
    return full


def _by_table(small_sample) -> dict[str, list[str]]:
    columns = optional_columns(small_sample)
    assert ("accounts", "segment") in columns and ("support_tickets", "escalated") in columns and len(columns) >= 30
    by_table: dict[str, list[str]] = {}
    for table, column in columns:
        by_table.setdefault(table, []).append(column)
    return by_table


@pytest.mark.slow
def test_every_optional_column_is_optional(small_sample, tmp_path):
    """Each optional column is dropped once, with its table's other optional
    columns kept: round k drops the k-th optional column of every table at
    once (a run of every step costs the same for one table changed or all),
    so every column is missing in one round, alone of its table. Then every
    optional column at once, and every one kept but empty."""
    series = InProcessSeries(PERIOD, tmp_path / "work", figures=False)
    base = series.run(small_sample)
    says_something(base, "the sample")
    by_table = _by_table(small_sample)
    rounds = [{t: {cols[k]} for t, cols in by_table.items() if k < len(cols)}
              for k in range(max(len(cols) for cols in by_table.values()))]
    assert sum(len(d) for d in rounds) == sum(len(c) for c in by_table.values())  # each column dropped exactly once
    full = _check(series, small_sample, tmp_path,
                  [(drop, "without " + ", ".join(f"{t}.{c}" for t, cs in drop.items() for c in cs)) for drop in rounds])
    # Every chapter that reads data was presented again after a change (the programme reads vga.toml alone).
    assert {k for k in base if k[0] != "01_programme_setup"} <= set(full)
    texts = series.run(variant(small_sample, tmp_path / "variant", by_table_sets(by_table)))
    says_something(texts, "every optional column taken out")
    assert not set(by_table["accounts"]) & set(series.inputs.table("accounts").columns)
    # Every optional column kept, but empty in every row: an all-null column is no data.
    texts = series.run(variant(small_sample, tmp_path / "variant", by_table_sets(by_table), blank=True))
    says_something(texts, "every optional column empty")
    assert all(series.inputs.table("accounts")[c].isna().all() for c in by_table["accounts"])
