"""Every notebook of the series, run on its own by nbval.

The notebooks are committed with the sample folder as their default; here
each is given the suite's shared run of the sample as ``run_dir`` (papermill
injects the parameters without running anything) and executed by nbval
(``--nbval-lax``: every cell must run without error; outputs are not
compared, they depend on the data). One notebook is also given only a small
data folder, so the path that computes a chapter from data (no run) runs
too: once, not eleven times (each would load the data and compute again).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vga.sample import write_sample

pytestmark = pytest.mark.slow
NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


#: The notebook also run from a data folder alone: it shows the results of
#: several steps (churn, its signals, survival), so the compute path is not trivial.
FROM_DATA = "03_churned_customers.ipynb"


def test_every_notebook_runs_on_its_own_under_nbval(sample_run, tmp_path):
    """On the shared run of the sample, and one from a small full sample (the
    accounts-and-renewals-only case runs through papermill in the minimal
    run, tests/test_series.py)."""
    import papermill

    data = tmp_path / "data"
    write_sample(data, accounts=150, seed=5)
    books = tmp_path / "books"
    books.mkdir()
    for path in NOTEBOOKS:  # parameters injected, nothing run
        papermill.execute_notebook(str(path), str(books / path.name), prepare_only=True,
                                   parameters={"run_dir": str(sample_run), "period": "2026Q3"})
    papermill.execute_notebook(str(NOTEBOOKS[0].parent / FROM_DATA), str(books / f"from_data_{FROM_DATA}"),
                               prepare_only=True, parameters={"data_dir": str(data), "period": "2026Q3"})
    # The outer run's PYTEST_ADDOPTS (a --junitxml, --cov) are not this run's: "-o addopts=" clears only the ini's.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=", str(books)], capture_output=True, text=True, cwd=tmp_path, timeout=900,
                          env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    cells = sum(1 for path in books.glob("*.ipynb") for line in path.read_text().splitlines()
                if '"cell_type": "code"' in line)
    assert f"{cells} passed" in done.stdout  # every code cell of every notebook ran
