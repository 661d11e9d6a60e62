"""Every optional table of the contract is optional for real: each one is
taken out of the sample in turn and the whole series runs in this process
(:class:`tests.company.InProcessSeries`): every section of every chapter
shows findings or says why not. (Columns: ``tests/test_optional_parts.py``.)
"""

from __future__ import annotations

import pytest

from vga.contract import TABLES

from .company import InProcessSeries, says_something, table_file
from .test_optional_parts import PERIOD, _check, small_sample  # noqa: F401  (a fixture, used by name)


@pytest.mark.slow
def test_every_optional_table_is_optional(small_sample, tmp_path):  # noqa: F811
    series = InProcessSeries(PERIOD, tmp_path / "work", figures=False)
    says_something(series.run(small_sample), "the sample")
    tables = [t for t in TABLES if t != "accounts" and table_file(small_sample, t) is not None]
    assert len(tables) == len(TABLES) - 1  # the sample has every table
    _check(series, small_sample, tmp_path, [({t: None}, f"without the {t} table") for t in tables])
