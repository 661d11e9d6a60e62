"""The analyst's series (issue 35), unit by unit: cells tagged analyst pass
the shape check and reach the report marked; chapters and nodes of the
analyst's own are found, checked and placed; the configuration a run uses
is the first found and said; a finished run opens, and a run_dir that
holds none is an error naming it. The whole, from the wheel, is
tests/test_packaging.py's tutorial test."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from vga.config import config_notice, load_config
from vga.errors import UsageError, VgaError
from vga.notebook import open_chapter, open_run
from vga.present import chapters, report_order
from vga.run.analyst import analyst_nodes, compute_analyst_nodes
from vga.run.kernels import failed_cell
from vga.run.report import build_report
from vga.run.runner import reading_order
from vga.run.series import analyst_chapters, chapter_problems, check_folder, package_notebooks, shape_problems
from vga.run.workspace import init_folder

QUADRANT = package_notebooks() / "07_quadrant_view.ipynb"


def _cell(source: str, *tags: str, markdown: bool = False):
    cell = nbformat.v4.new_markdown_cell(source) if markdown else nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    return cell


def _quadrant_with(tmp_path: Path, *cells, at: int | None = None) -> Path:
    book = nbformat.read(QUADRANT, as_version=4)
    for cell in cells:
        book.cells.insert(len(book.cells) if at is None else at, cell)
    path = tmp_path / QUADRANT.name
    nbformat.write(book, path)
    return path


def test_cells_tagged_analyst_are_free_and_the_series_cells_keep_their_shape(tmp_path):
    free = "import pandas as pd\nimport my_charts\nframe = pd.DataFrame({'a': [1]})\nfor x in range(3):\n    x\nframe\n"
    assert shape_problems(_quadrant_with(tmp_path, _cell("## Mine", "analyst", markdown=True),
                                         _cell(free, "analyst"))) == []
    # The same cell untagged: every problem at once, numbered from the top as Jupyter's reader counts.
    path = _quadrant_with(tmp_path, _cell(free))
    n = len(nbformat.read(path, as_version=4).cells)
    problems = shape_problems(path)
    assert f"cell {n} has 6 lines, more than 5" in problems
    assert f"cell {n} imports pandas, from outside vga" in problems
    assert f"cell {n} imports my_charts, from outside vga" in problems
    assert any(p.startswith(f"cell {n} assigns something other") for p in problems)
    assert any(p.startswith(f"cell {n} holds logic") for p in problems)
    # Analyst cells do not count as the chapter's prose, nor replace its parameters cell.
    book = nbformat.read(QUADRANT, as_version=4)
    book.cells = [c for c in book.cells if c.cell_type == "code"] + [_cell("# Mine", "analyst", markdown=True),
                                                                      _cell("More", "analyst", markdown=True)]
    nbformat.write(book, tmp_path / "no_prose.ipynb")
    assert "it needs prose for the reader (at least two Markdown cells)" in shape_problems(tmp_path / "no_prose.ipynb")
    first = _quadrant_with(tmp_path, _cell("x = 1", "analyst"), at=0)
    assert "its first code cell must be the one cell tagged 'parameters'" not in " ".join(shape_problems(first))


def test_a_notebook_papermill_executed_in_place_keeps_its_shape(tmp_path):
    """papermill's injected-parameters cell and its error banner are papermill's, not the series'."""
    book = nbformat.read(QUADRANT, as_version=4)
    at = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    book.cells.insert(at, _cell('# Parameters\nrun_dir = "reports/2026Q3"\nperiod = "2026Q3"\n', "injected-parameters"))
    book.cells.insert(0, _cell('<span style="color:red">An Exception was encountered</span>',
                               "papermill-error-cell-tag", markdown=True))
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="x")]
    path = tmp_path / "in_place" / QUADRANT.name
    path.parent.mkdir()
    nbformat.write(book, path)
    assert shape_problems(path) == []
    assert shape_problems(path, committed=True) == ["it is saved with outputs (clear them before committing)"]


def test_chapters_of_the_analysts_own_are_found_checked_and_placed(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("12_tier_analysis", "05_partner_deep_dive", "07_quadrant_view", "notes", "3_bad"):
        params = _cell('run_dir: str = ""  # a run', "parameters")
        book = nbformat.v4.new_notebook(cells=[_cell(f"# {name.title()} heading", markdown=True), params])
        nbformat.write(book, folder / f"{name}.ipynb")
    found = analyst_chapters(folder)
    assert [(c.number, c.key, c.title) for c in found] == [(5, "partner_deep_dive", "05_Partner_Deep_Dive heading"),
                                                           (12, "tier_analysis", "12_Tier_Analysis heading")]
    assert all(chapter_problems(c.path) == [] for c in found)
    nbformat.write(nbformat.v4.new_notebook(cells=[_cell("x = 1"), _cell("y = 2", "parameters")]),
                   folder / "14_late.ipynb")
    assert chapter_problems(folder / "14_late.ipynb") == [
        "its first code cell must be the one cell tagged 'parameters' (data_dir, period, config, run_dir, "
        "reports_dir: the run sets them), as in the series' notebooks"]
    (folder / "15_not_json.ipynb").write_text("{")
    assert chapter_problems(folder / "15_not_json.ipynb")[0].startswith("it cannot be read as a notebook")
    # In the report: step 5's right after pattern slicing; one past the last step closes the story.
    order = reading_order(found)
    titles = [t for t, _, _ in order]
    story = [c.title for c in report_order()]
    slicing = chapters()["pattern_slicing"].title
    assert titles.index("05_Partner_Deep_Dive heading") == titles.index(slicing) + 1
    appendix = min(titles.index(c.title) for c in report_order() if c.appendix)
    assert titles.index("12_Tier_Analysis heading") == appendix - 1
    assert [t for t in titles if t in story] == story  # the series' own order is kept
    assert [mine for _, _, mine in order].count(True) == 2


def test_vga_check_lists_every_problem_of_a_folder_at_once(tmp_path):
    init_folder(tmp_path / "work")
    bad = tmp_path / "work" / "notebooks" / "05_pattern_slicing.ipynb"
    book = nbformat.read(bad, as_version=4)
    book.cells.append(_cell("import pandas"))
    book.cells.append(nbformat.v4.new_raw_cell("raw"))
    nbformat.write(book, bad)
    nbformat.write(nbformat.v4.new_notebook(cells=[_cell("x = 1")]), tmp_path / "work" / "notebooks" / "13_x.ipynb")
    (tmp_path / "work" / "helper.py").write_text("def broken(:\n")
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "work" / "notebooks" / "scratch.ipynb")
    problems, counts = check_folder(tmp_path / "work")
    n = len(book.cells)
    assert problems[:3] == [
        f"{bad}: cell {n} is a raw cell, which would reach the report unread (use Markdown)",
        f"{bad}: cell {n - 1} imports pandas, from outside vga",
        f"{tmp_path / 'work' / 'notebooks' / '13_x.ipynb'}: its first code cell must be the one cell tagged "
        "'parameters' (data_dir, period, config, run_dir, reports_dir: the run sets them), as in the series' notebooks",
    ], problems
    assert problems[3].startswith(f"{tmp_path / 'work' / 'helper.py'}: line 1: ")
    assert len(problems) == 4
    assert counts == {"series": 11, "yours": 1, "modules": 1, "ignored": ["scratch.ipynb"]}
    with pytest.raises(UsageError, match="no such folder"):
        check_folder(tmp_path / "nowhere")


def test_the_configuration_is_the_first_found_and_said(tmp_path):
    data, work = tmp_path / "data", tmp_path / "work"
    data.mkdir()
    work.mkdir()
    (work / "vga.toml").write_text('[report]\ncurrency = "EUR"\n')
    given = tmp_path / "given.toml"
    given.write_text('[report]\ncurrency = "GBP"\n')
    assert load_config(None, data, None)["_source"] == "defaults"
    mine = load_config(None, data, work)
    assert (mine["_source"], mine["report"]["currency"], mine["_trusted"]) == ("working folder", "EUR", True)
    assert config_notice(mine) == f"configuration: {work / 'vga.toml'} (the working folder's; the data folder has none)"
    (data / "vga.toml").write_text('[report]\ncurrency = "USD"\n')
    theirs = load_config(None, data, work)
    assert (theirs["_source"], theirs["report"]["currency"], theirs["_trusted"]) == ("data folder", "USD", False)
    assert f"pass --config {work / 'vga.toml'} to use yours" in config_notice(theirs)
    chosen = load_config(given, data, work)
    assert (chosen["_source"], chosen["report"]["currency"]) == ("--config", "GBP")
    assert config_notice(chosen, given) == f"configuration: {given} (given with --config)"
    # A working folder inside the data folder came with the data: its vga.toml is not the user's.
    (data / "vga.toml").unlink()
    (data / "inner").mkdir()
    (data / "inner" / "vga.toml").write_text('[report]\ncurrency = "JPY"\n')
    assert load_config(None, data, data / "inner")["_source"] == "defaults"
    assert config_notice(load_config(None, data, None)).startswith("configuration: the defaults")


def test_a_run_dir_that_holds_no_run_is_an_error_naming_it_never_a_recompute(tmp_path):
    with pytest.raises(UsageError, match=f"run_dir {tmp_path / 'gone'}: run folder .* does not exist"):
        open_chapter("quadrant_view", "data/sample", "2026Q3", "", str(tmp_path / "gone"), "")
    (tmp_path / "empty" / "results").mkdir(parents=True)
    with pytest.raises(UsageError, match="holds no run"):
        open_run(tmp_path / "empty")
    with pytest.raises(UsageError, match="no run folder given"):
        open_run("")


def test_a_finished_run_opens_with_its_figures_results_and_chapters(tmp_path):
    """A run folder made by hand, as a run writes one: the loader reads what is there, typed."""
    from vga.run import pipeline
    from vga.run.results import write_csv, write_json

    results = tmp_path / "2026Q3" / "results"
    write_json({"period": "2026Q3", "nrr": 0.91}, results / "summary.json")
    write_csv(pd.DataFrame({"name": ["nrr", "grr"], "label": ["net", "gross"], "value": [0.91, 0.83],
                            "unit": ["share", "share"], "population": ["p", "p"], "window": ["w", "w"]}),
              results / "figures.csv")
    write_csv(pd.DataFrame({"vertical": ["Retail", "Health"], "churn_rate": [0.25, 0.1]}), results / "mine.csv")
    run = open_run(tmp_path / "2026Q3")
    assert run.period.label == "2026Q3" and run.manifest == {}
    assert run.figure("nrr") == 0.91 and list(run.figures()["name"]) == ["nrr", "grr"]
    assert run.result("summary.json")["nrr"] == 0.91
    assert run.result("mine.csv")["churn_rate"].tolist() == [0.25, 0.1]  # a node of the analyst's own
    with pytest.raises(KeyError, match="no figure 'arr'"):
        run.figure("arr")
    with pytest.raises(KeyError, match="has no results/quadrants.csv; it has figures.csv, mine.csv, summary.json"):
        run.result("quadrants.csv")
    view = run.chapter("executive_summary")
    assert view.origin == "run" and view["summary.json"]["nrr"] == 0.91
    assert view.get("quadrants.csv") is None and pipeline.read(results, "quadrants.csv") is None
    with pytest.raises(UsageError, match="holds the run of 2026Q3, not of 2026Q2"):
        open_chapter("executive_summary", "", "2026Q2", "", str(tmp_path / "2026Q3"), "")


def test_a_failed_cell_is_named_as_jupyter_counts_it(tmp_path):
    source = _quadrant_with(tmp_path, _cell("1 / 0", "analyst"))
    book = nbformat.read(source, as_version=4)
    ran = nbformat.read(source, as_version=4)
    ran.cells.insert(0, _cell("banner", "papermill-error-cell-tag", markdown=True))  # what papermill adds
    ran.cells[-1].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="", traceback=[])]
    ran.cells[-1].execution_count = 41  # a reused kernel's count: not what the reader sees
    nbformat.write(ran, tmp_path / "ran.ipynb")
    assert failed_cell(source, tmp_path / "ran.ipynb") == (f"cell {len(book.cells)}",
                                                           "a cell of your own, tagged analyst")


def _node_module(folder: Path, name: str, body: str) -> None:
    (folder / "nodes").mkdir(parents=True, exist_ok=True)
    (folder / "nodes" / f"{name}.py").write_text("from vga.nodes import Node, Output\n" + body)


def test_nodes_of_the_analysts_own_are_found_in_order_and_refused_with_a_reason(tmp_path):
    assert analyst_nodes(None) == [] and analyst_nodes(tmp_path) == []
    _node_module(tmp_path, "b_second", "NODE = Node('second', 'Second', lambda run, up: {'second.json': "
                 "{'twice': up['first.json']['n'] * 2}}, (Output('second.json', 'x'),), ('first',))\n")
    _node_module(tmp_path, "a_first", "NODE = Node('first', 'First', lambda run, up: {'first.json': {'n': "
                 "len(up['decisions.csv'])}}, (Output('first.json', 'x'),), ('churned_customers',))\n")
    (tmp_path / "nodes" / "_helper.py").write_text("raise SystemExit('a helper is not a node')\n")
    nodes = analyst_nodes(tmp_path)
    assert [n.key for n in nodes] == ["first", "second"]
    outputs = {"decisions.csv": pd.DataFrame({"a": range(7)})}
    made = compute_analyst_nodes(nodes, None, outputs)
    assert made == {"first.json": {"n": 7}, "second.json": {"twice": 14}} and outputs["second.json"]["twice"] == 14
    for name, body, words in [
        ("c", "x = 1\n", "declares no NODE"),
        ("c", "NODE = Node('retention', 'R', None, ())\n", "the node key 'retention' is taken"),
        ("c", "NODE = Node('mine', 'M', None, (Output('quadrants.csv', 'x'),))\n", "results/quadrants.csv is written"),
        ("c", "NODE = Node('mine', 'M', None, (), ('nobody',))\n", "it needs 'nobody', which no node declares"),
        ("c", "raise ValueError('broken')\n", "could not be imported (ValueError: broken)"),
    ]:
        _node_module(tmp_path, name, body)
        with pytest.raises(UsageError, match=words.replace("(", r"\(").replace(")", r"\)")):
            analyst_nodes(tmp_path)
    (tmp_path / "nodes" / "c.py").unlink()
    _node_module(tmp_path, "d", "NODE = Node('fails', 'Fails', lambda run, up: 1 / 0, (Output('f.json', 'x'),))\n")
    with pytest.raises(VgaError, match=r"Fails \(fails, a node of your own\) failed: ZeroDivisionError"):
        compute_analyst_nodes(analyst_nodes(tmp_path), None, dict(outputs))


def test_the_analysts_output_reaches_the_report_marked_and_held_to_its_rules(tmp_path):
    book = nbformat.v4.new_notebook(cells=[
        _cell("# Mine", markdown=True),
        _cell("vga's own"),
        _cell("mine", "analyst"),
    ])
    book.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<p>series text</p>"})]
    book.cells[2].outputs = [
        nbformat.v4.new_output("display_data", data={
            "text/html": "<p>kept words</p><script>alert(1)</script><img src=x onerror=y()>",
            "text/plain": "plain",
            "application/javascript": "alert(2)",
        }),
        nbformat.v4.new_output("stream", name="stdout", text="write to jane.doe@example.com\n"),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": "<svg onload='z()'></svg>"}),
        # A pyplot figure the cell also returned: Jupyter shows it twice, the report once.
        nbformat.v4.new_output("execute_result", data={"image/png": "iVBORw0KGgoPLANTED", "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgoPLANTED", "text/plain": "<Figure>"}),
    ]
    nbformat.write(book, tmp_path / "a.ipynb")
    yours = nbformat.v4.new_notebook(cells=[_cell("# Tier analysis", markdown=True), _cell("x")])
    yours.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="call +1 415 555 0100 now\n")]
    nbformat.write(yours, tmp_path / "b.ipynb")
    page = build_report([("Series chapter", tmp_path / "a.ipynb"), ("Tier analysis", tmp_path / "b.ipynb")],
                        tmp_path / "report.html", title="t", subtitle="s", yours=["Tier analysis"]).read_text()
    assert "kept words" in page and "series text" in page and page.count("iVBORw0KGgoPLANTED") == 1
    for gone in ("<script", "onerror", "alert(2)", "jane.doe@example.com", "<svg", "415 555 0100"):
        assert gone not in page, gone
    box = page.index('<div class="vga-analyst">')
    assert page.index("Added by the analyst", box) < page.index("kept words") and box > page.index("series text")
    assert '>Tier analysis (analyst)</a>' in page and 'class="vga-section vga-yours"' in page
    mine = page[page.index('class="vga-section vga-yours"'):]
    assert mine.index("Tier analysis") < mine.index("Added by the analyst")  # under its heading
