"""Nothing from a data folder runs code: its notebooks are never taken, a
notebook's every argument is a literal or a parameter, a module named like
a library in the folder is never imported, and Markdown reaches the report
only through an allow-list."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from vga.errors import UsageError
from vga.run.report import build_report, network_references
from vga.run.series import find_series, package_notebooks, shape_problems
from vga.sample import write_sample

from .common import one_line, vga

#: The attack's argument: it ran `id` as the user while the series' shape check looked only at statements.
PAYLOAD = '__import__("os").system("touch {marker}") == 0'


def _notebook(folder, source_cell: str, stem: str = "01_programme_setup"):
    """The package's notebook ``stem`` in ``folder``, its open_chapter cell replaced by ``source_cell``."""
    book = nbformat.read(package_notebooks() / f"{stem}.ipynb", as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code" and "view = open_chapter(" in cell.source:
            cell.source = "\n".join(line for line in cell.source.splitlines() if "import" in line) + "\n" + source_cell
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(book, folder / f"{stem}.ipynb")
    return folder / f"{stem}.ipynb"


@pytest.mark.parametrize("cell, words", [
    ('view = open_chapter("programme_setup", data_dir if {payload} else data_dir, period, config, run_dir, '
     'reports_dir)', "assigns something other"),
    ('view = open_chapter("programme_setup", data_dir, period, config=({payload}), run_dir=run_dir)',
     "assigns something other"),
    ('view = open_chapter("programme_setup", data_dir, period, config, run_dir, reports_dir)\n'
     'show.team(view, title={payload})', "holds logic"),
    ('view = open_chapter("programme_setup", data_dir, period, config, run_dir, reports_dir)\n'
     'show.team(*[view] if {payload} else [view])', "holds logic"),
    ('view = open_chapter("programme_setup", data_dir, period, config, run_dir, reports_dir)\n'
     'show.__class__.__init__(view)', "holds logic"),
    ('from vgaevil import payload\nview = open_chapter("programme_setup", data_dir, period, config, run_dir, '
     'reports_dir)', "from outside vga"),
    ('view = open_chapter("programme_setup", data_dir, period, config, run_dir, reports_dir)\n!touch {marker}',
     "not valid Python"),
])
def test_every_argument_of_every_call_is_checked(tmp_path, cell, words):
    marker = tmp_path / "pwned"
    path = _notebook(tmp_path / "work" / "notebooks", cell.format(payload=PAYLOAD.format(marker=marker),
                                                                  marker=marker))
    problems = shape_problems(path)
    assert any(words in p for p in problems), problems
    assert all(p.startswith(("cell ", "no cell")) for p in problems), problems  # numbered as in the notebook
    with pytest.raises(UsageError, match="does not keep the series' shape"):
        find_series(tmp_path / "work" / "notebooks")
    assert not marker.exists()


def test_the_series_own_notebooks_keep_the_shape():
    for path in sorted(package_notebooks().glob("*.ipynb")):
        assert shape_problems(path) == [], path


@pytest.mark.slow
def test_a_run_from_inside_a_data_folder_runs_none_of_its_code(tmp_path, listener):
    """The attack: `cd D && vga run --data .` took D/notebooks/ and ran
    what its cells held. Also here: a module in D named like a library
    (duckdb.py) and a segment that stopped matplotlib's mathtext."""
    data = tmp_path / "D"
    write_sample(data, accounts=60, seed=11, minimal=True)
    marker = tmp_path / "pwned"
    _notebook(data / "notebooks", 'view = open_chapter("programme_setup", data_dir if '
              + PAYLOAD.format(marker=marker) + " else data_dir, period, config, run_dir, reports_dir)")
    (data / "duckdb.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nraise SystemExit(9)\n")
    # A node "of the analyst's own" and a chapter that came with the data: neither runs.
    (data / "nodes").mkdir()
    (data / "nodes" / "evil.py").write_text(f"open({str(tmp_path / 'node_imported')!r}, 'w').close()\n")
    evil = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('run_dir: str = ""  # x'),
                                           nbformat.v4.new_code_cell(PAYLOAD.format(marker=marker))])
    evil.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(evil, data / "notebooks" / "12_evil.ipynb")
    accounts = (data / "accounts.csv").read_text().splitlines()
    header = accounts[0].split(",")
    segment = header.index("segment")
    rows = [line.split(",") for line in accounts[1:]]
    for row in rows[::3]:
        row[segment] = "Mid$\\fakecmd$Market"
    (data / "accounts.csv").write_text("\n".join([accounts[0]] + [",".join(r) for r in rows]) + "\n")
    (data / "notebooks" / "note.md").write_text(f"<img src='http://127.0.0.1:{listener}/x.png'>")
    done = vga("run", "--data", ".", "--period", "2026Q3", "--out", tmp_path / "reports", cwd=data)
    assert done.returncode == 0, done.stderr
    assert not marker.exists() and not (tmp_path / "imported").exists() and not (tmp_path / "node_imported").exists()
    assert "of yours" not in done.stdout and "12_evil" not in (tmp_path / "reports" / "2026Q3" / "report.html").read_text()
    assert "lies inside the data folder, and notebooks that come with data are never run" in done.stdout
    page = (tmp_path / "reports" / "2026Q3" / "report.html").read_text()
    assert "Mid$\\fakecmd$Market" in page
    # --notebooks pointing into the data folder is refused, naming the way that works.
    done = vga("run", "--data", ".", "--period", "2026Q3", "--out", tmp_path / "reports", "--force",
               "--notebooks", "notebooks", cwd=data)
    assert done.returncode == 2 and "copy the ones you have read and trust" in one_line(done)


HOSTILE_MARKDOWN = """# Heading

Plain words, *emphasis* and a [link within the page](#section-1).

<script>document.title = 'pwned'</script>
<meta http-equiv="refresh" content="0;url=http://127.0.0.1:{port}/">
<base href="http://127.0.0.1:{port}/">
<iframe src="http://127.0.0.1:{port}/"></iframe>
<img src="x" onerror="fetch('http://127.0.0.1:{port}/')">
<a href="javascript:alert(1)">click</a> and [away](http://127.0.0.1:{port}/)
<form action="http://127.0.0.1:{port}/"><input name="q"></form>
<style>@import url(http://127.0.0.1:{port}/x.css);</style>
<object data="http://127.0.0.1:{port}/x"></object><embed src="http://127.0.0.1:{port}/x">
<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">
"""


def test_markdown_reaches_the_report_through_an_allow_list(tmp_path, listener):
    """The attack: Markdown cells carried <script> and a meta refresh into
    the report, and the network check saw neither."""
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN.format(port=listener)),
                  nbformat.v4.new_raw_cell("<script>raw()</script>")]
    book.cells[1].metadata["raw_mimetype"] = "text/html"
    path = tmp_path / "book.ipynb"
    nbformat.write(book, path)
    out = build_report([("Section", path)], tmp_path / "report.html", title="t", subtitle="s")
    page = out.read_text()
    for gone in ("<script", "http-equiv", "<base", "<iframe", "onerror", "javascript:", "<form", "@import",
                 "<object", "<embed", "<link", f'="http://127.0.0.1:{listener}', "raw()"):
        assert gone not in page, gone
    assert "Plain words" in page and "<em>emphasis</em>" in page and 'href="#section-1"' in page
    assert network_references(page) == []


@pytest.mark.parametrize("element", [
    "<script>x()</script>", '<meta http-equiv="refresh" content="0;url=/">', '<base href="/">',
    "<iframe srcdoc='x'></iframe>", "<object></object>", "<embed>", "<form></form>", '<link rel="icon">',
    '<img src="x" onerror="y()">', "<svg><a href='//e/'>x</a></svg>", "<div style=\"background:url(//e/x)\">",
])
def test_the_network_check_sees_what_runs_or_navigates(element):
    assert network_references(f"<html><body>{element}</body></html>"), element


def test_a_notebook_copy_outside_the_data_folder_is_still_used(tmp_path):
    """The refusal is for notebooks that come with data: a working folder's
    own copy (vga init) beside a data folder is the user's."""
    work = tmp_path / "work"
    shutil.copytree(package_notebooks(), work / "notebooks")
    (work / "data").mkdir()
    series, local = find_series(cwd=work, data_dir=work / "data")
    assert len(local) == 11 and all(p.parent == work / "notebooks" for p in series.values())
    series, local = find_series(cwd=work, data_dir=work)  # the working folder is the data folder
    assert local == [] and all(p.parent == package_notebooks() for p in series.values())
