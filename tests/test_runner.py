"""Run-folder behaviour: atomic replacement, refusals, missing inputs."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from vga.present import chapters
from vga.run import runner
from vga.run.series import package_notebooks
from vga.errors import UsageError, VgaError

from .helpers import accounts, write_csv

pytestmark = pytest.mark.slow


@pytest.fixture()
def accounts_only(tmp_path):
    """Only the required table: every optional analysis must say it is skipped."""
    folder = tmp_path / "data"
    write_csv(folder, "accounts", ["account_id", "arr", "region", "health_score"],
              [[f"A{i}", str(100 * (i + 1)), ["NA", "EMEA"][i % 2], str(30 + 5 * i)] for i in range(12)])
    return folder


def test_missing_inputs_are_notes_not_failures(accounts_only, tmp_path):
    final = runner.run_period(accounts_only, "2026Q3", out=tmp_path / "reports", quiet=True)
    summary = json.loads((final / "results/summary.json").read_text())
    for key in ("nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded"):
        assert summary[key] is None
    assert "renewals" in summary["null_reasons"]["retention"]
    assert summary["accounts_total"] == 12 and summary["arr_total"] == sum(100 * (i + 1) for i in range(12))
    assert summary["quadrants"]["Unscored"]["accounts"] == 12  # health but no usage: shown, counted
    page = (final / "report.html").read_text()
    assert "Slices cannot be compared: no renewals table was given" in page
    assert "Retention figures are not shown" in page
    assert "No usage_events table was given" in page


def test_existing_period_needs_force_and_failed_run_leaves_it_untouched(accounts_only, tmp_path, monkeypatch, capsys):
    out = tmp_path / "reports"
    final = runner.run_period(accounts_only, "2026Q3", out=out, quiet=True)
    before = {p.relative_to(final): p.read_bytes() for p in final.rglob("*") if p.is_file()}
    with pytest.raises(UsageError, match="already exists"):
        runner.run_period(accounts_only, "2026Q3", out=out, quiet=True)
    # ...refused before any data is read
    capsys.readouterr()
    with pytest.raises(UsageError, match="already exists"):
        runner.run_period(accounts_only, "2026Q3", out=out)
    assert "loading" not in capsys.readouterr().out
    # A notebook that fails mid-series (a working folder's copy, in the
    # series' shape but calling a block that is not there): the earlier
    # report must survive, byte for byte.
    broken = tmp_path / "nb"
    broken.mkdir()
    book = nbformat.read(package_notebooks() / "05_pattern_slicing.ipynb", as_version=4)
    book.cells.append(nbformat.v4.new_code_cell("show.planted_failure(view)"))
    nbformat.write(book, broken / "05_pattern_slicing.ipynb")
    with pytest.raises(VgaError, match=r"notebook 05_pattern_slicing \(.*\) failed in cell \d+: .*planted_failure"):
        runner.run_period(accounts_only, "2026Q3", out=out, force=True, quiet=True, notebooks=broken)
    after = {p.relative_to(final): p.read_bytes() for p in final.rglob("*") if p.is_file()}
    assert after == before
    # A node that fails: named with its error, the report still untouched.
    import dataclasses

    from vga import nodes

    def boom(*args):
        raise ZeroDivisionError("planted in the step")

    monkeypatch.setitem(nodes.NODES, "quick_wins", dataclasses.replace(nodes.NODES["quick_wins"], compute=boom))
    with pytest.raises(VgaError, match=r"Quick wins \(quick_wins\) failed: ZeroDivisionError: planted in the step"):
        runner.run_period(accounts_only, "2026Q3", out=out, force=True, quiet=True)
    assert {p.relative_to(final): p.read_bytes() for p in final.rglob("*") if p.is_file()} == before


def test_data_failure_stops_before_any_notebook(tmp_path):
    accounts(tmp_path / "data", [["A1", "1", "", ""], ["A2", "x", "", ""]])
    out = tmp_path / "reports"
    result = subprocess.run([sys.executable, "-m", "vga", "run", "--data", tmp_path / "data", "--period", "2026Q3",
                             "--out", out, "--strict"], capture_output=True, text=True)
    assert result.returncode == 1 and "strict mode" in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_manifest_records_inputs_parameters_and_versions(sample_run, sample_dir):
    manifest = json.loads((sample_run / "manifest.json").read_text())
    tables = {i["table"]: i for i in manifest["inputs"]}
    assert tables["accounts"]["rows_read"] == tables["accounts"]["rows_accepted"] + tables["accounts"]["rows_quarantined"]
    assert len(tables["usage_events"]["files"]) == len(list((sample_dir / "usage_events").glob("*.parquet")))
    assert all(len(f["sha256"]) == 64 for t in tables.values() for f in t["files"])
    assert manifest["parameters"]["period"] == "2026Q3" and len(manifest["configuration_sha256"]) == 64
    assert manifest["versions"]["pandas"] and set(manifest["timings_seconds"]) >= {c.notebook for c in chapters().values()}
    from vga import __version__

    assert manifest["versions"]["vga"] == __version__


def test_a_notebook_runs_on_its_own_with_plain_papermill(minimal_dir, tmp_path):
    import papermill

    out = tmp_path / "07.ipynb"
    papermill.execute_notebook(
        str(package_notebooks() / "07_quadrant_view.ipynb"), str(out),
        parameters={"data_dir": str(minimal_dir), "period": "2026Q3"}, progress_bar=False, kernel_name="python3",
    )
    book = nbformat.read(out, as_version=4)
    assert book.metadata["papermill"]["parameters"]["data_dir"] == str(minimal_dir)
    text = json.dumps([c.get("outputs", []) for c in book.cells])
    assert "Frustrated Power Users" in text and "image/png" in text


def test_a_kernel_runs_notebooks_in_turn_without_leaking_names(tmp_path):
    """One warm kernel runs several notebooks; no name of one is seen by the
    next, and a kernel whose notebook failed is replaced, not reused."""
    import nbformat

    from vga.errors import VgaError
    from vga.run.kernels import KernelPool, execute

    def book(name, *cells):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        nb.cells[0].metadata["tags"] = ["parameters"]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, path)
        return path

    first = book("a", "x = 0", "leaked = 'from a'\nimport os\npid = os.getpid()\nprint(pid)")
    second = book("b", "x = 0", "import os\nprint(os.getpid())\nprint('leaked' in globals())")
    pool = KernelPool(1, 3, tmp_path / "k.log", tmp_path)
    try:
        jobs = [("a", first, tmp_path / "a.out.ipynb"), ("b", second, tmp_path / "b.out.ipynb")]
        execute(jobs[:1], {"x": 1}, pool, workers=1)
        execute(jobs[1:], {"x": 1}, pool, workers=1)
        out_a = nbformat.read(tmp_path / "a.out.ipynb", as_version=4)
        out_b = nbformat.read(tmp_path / "b.out.ipynb", as_version=4)
        text_a = "".join(o.get("text", "") for c in out_a.cells for o in c.get("outputs", []))
        text_b = "".join(o.get("text", "") for c in out_b.cells for o in c.get("outputs", []))
        assert text_a.split()[0] == text_b.split()[0]  # the same kernel process ran both
        assert text_b.split()[-1] == "False"  # ...and the second did not see the first's names
        assert [c.execution_count for c in out_b.cells if c.cell_type == "code"] == [1, 2, 3]
        bad = book("c", "x = 0", "raise ValueError('planted')")
        with pytest.raises(VgaError, match="planted"):
            execute([("c", bad, tmp_path / "c.out.ipynb")], {"x": 1}, pool, workers=1)
        execute([("b", second, tmp_path / "b2.out.ipynb")], {"x": 1}, pool, workers=1)
        out = nbformat.read(tmp_path / "b2.out.ipynb", as_version=4)
        pid = "".join(o.get("text", "") for c in out.cells for o in c.get("outputs", [])).split()[0]
        assert pid != text_a.split()[0]  # a fresh kernel replaced the failed one
    finally:
        pool.close()


def _notebook(path, source: str):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
    return path


def test_a_notebook_that_hangs_is_run_again_on_a_fresh_kernel_then_named(tmp_path, monkeypatch):
    """A kernel that stops answering must not hang a scheduled run: past the
    cell time limit the notebook runs once more on a fresh kernel; hanging
    twice stops the run with its name. (With blocking kernel managers the
    limit was ignored and papermill waited forever.)"""
    from vga.run import kernels

    monkeypatch.setattr(kernels, "CELL_TIMEOUT", 5)
    marker = tmp_path / "hung-once"
    once = _notebook(tmp_path / "once.ipynb", f"import pathlib, time\nmarker = pathlib.Path({str(marker)!r})\n"
                                              "if not marker.exists():\n    marker.touch()\n    time.sleep(120)")
    pool = kernels.KernelPool(1, 1, tmp_path / "k.log", tmp_path)
    try:
        seconds = kernels.execute([("once", once, tmp_path / "once-out.ipynb")], {}, pool, workers=1)
    finally:
        pool.close()
    assert marker.exists() and 5 <= seconds["once"] < 100
    always = _notebook(tmp_path / "always.ipynb", "import time\ntime.sleep(120)")
    pool = kernels.KernelPool(1, 1, tmp_path / "k2.log", tmp_path)
    try:
        with pytest.raises(VgaError, match=r"notebook always did not finish, twice.*at most 5 s"):
            kernels.execute([("always", always, tmp_path / "always-out.ipynb")], {}, pool, workers=1)
    finally:
        pool.close()
