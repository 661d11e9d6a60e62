"""The two dependency lists (pyproject.toml and environment.yml) agree."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The README example's company in the wheel test: as small as a whole run allows.
TINY = 150


def _environment_pip_lines() -> list[str]:
    lines, inside = [], False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("- pip:"):
            inside = True
            continue
        if inside and stripped.startswith("- "):
            lines.append(stripped[2:].strip())
        elif inside and stripped and not stripped.startswith("#"):
            inside = False
    return lines


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    listed = _environment_pip_lines()
    assert listed, "environment.yml has no pip section"
    assert sorted(listed) == sorted(declared)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the source tree (as pip builds one)."""
    tmp = tmp_path_factory.mktemp("wheel")
    tree = tmp / "src"
    shutil.copytree(ROOT, tree, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "reports", "test-output", "build", "site", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(tree)],
                   check=True, capture_output=True, timeout=600)
    return next((tmp / "dist").glob("vga-*.whl"))


def test_the_wheel_holds_the_source_tree(wheel):
    """Every module of every subpackage, the notebook series and vga init's
    templates are in the wheel, and nothing else of the package's folder."""
    names = {n for n in zipfile.ZipFile(wheel).namelist() if not n.startswith("vga-")}
    package = {str(p.relative_to(ROOT)) for p in (ROOT / "vga").rglob("*.py") if "__pycache__" not in p.parts}
    package |= {f"vga/notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    package |= {f"vga/templates/{p.name}" for p in (ROOT / "vga" / "templates").iterdir()}
    assert names == package
    assert {"vga/load/events.py", "vga/nodes/retention.py", "vga/present/blocks.py", "vga/run/runner.py",
            "vga/notebooks/11_executive_summary.ipynb", "vga/templates/vga.toml"} <= names
    from vga import __version__

    assert wheel.name.startswith(f"vga-{__version__}-")


def readme_commands() -> list[str]:
    """Every command line in the README's shell blocks."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|shell|bash|console)\n(.*?)```", text, re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_the_readme_has_only_commands_a_test_runs():
    """The README's commands are the two project commands (CI runs the test
    one; the demo is the fresh-venv test's example) and vga commands, which
    test_the_wheel_alone_runs_the_readme_example_from_any_folder runs."""
    commands = readme_commands()
    assert "python3.11 tasks.py demo" in commands and "python3.11 tasks.py test" in commands
    assert "python3.11 tasks.py test" in (ROOT / ".ci" / "run").read_text()
    others = [c for c in commands if not c.startswith("python3.11 tasks.py ")]
    assert others and all(re.match(r"(vga|cd) ", part.strip()) for c in others for part in c.split("&&")), others


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory) -> dict:
    """A fresh virtual environment with vga installed from the wheel (not
    editable), as a user's: the environment variables that put its ``bin``
    first on the PATH.

    Offline: the dependencies (pandas, jupyter...) come from this test's
    environment through a path file, while vga itself comes only from the
    wheel; the fixture checks that the vga it runs is the installed one."""
    import sysconfig

    tmp_path = tmp_path_factory.mktemp("fresh")
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True, timeout=120)
    python = fresh / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # A path line (not a site dir): the editable install's hooks there are not run.
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # nbconvert's templates are data files its install puts under the
    # environment's share/jupyter; no kernel spec is taken from there, so the
    # kernels run the fresh environment's own Python (ipykernel's native spec).
    (fresh / "share" / "jupyter").mkdir(parents=True)
    (fresh / "share" / "jupyter" / "nbconvert").symlink_to(Path(sys.prefix, "share", "jupyter", "nbconvert"))
    # papermill's command, as the fresh environment would install it.
    (fresh / "bin" / "papermill").write_text(f"#!{python}\nfrom papermill.__main__ import papermill\npapermill()\n")
    (fresh / "bin" / "papermill").chmod(0o755)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=600)
    where = subprocess.run([python, "-c", "import vga, vga.run.series as s; print(vga.__file__); "
                            "print(s.package_notebooks())"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert where.stdout.splitlines()[0].startswith(site) and str(ROOT) not in where.stdout
    assert Path(where.stdout.splitlines()[1], "03_churned_customers.ipynb").is_file()
    env = {**os.environ, "PATH": f"{fresh / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    return env


@pytest.mark.slow
def test_the_wheel_alone_runs_the_readme_example_from_any_folder(fresh_env, tmp_path):
    """The fresh environment runs the README's example in an unrelated
    folder: vga init, vga sample, vga run, each line as written, on a tiny
    company (VGA_SAMPLE_ACCOUNTS: the demo's 1,500 accounts are the sample
    tests' and the demo's own; here the commands and the wheel are tested)."""
    anywhere = tmp_path / "somewhere" / "else"
    anywhere.mkdir(parents=True)
    script = " && ".join(c for c in readme_commands() if not c.startswith("python3.11 tasks.py "))
    done = subprocess.run(["bash", "-c", f"set -e; {script}"], capture_output=True, text=True, cwd=anywhere,
                          env={**fresh_env, "VGA_SAMPLE_ACCOUNTS": str(TINY)}, timeout=1200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    reports = list(anywhere.rglob("reports/*/report.html"))
    assert len(reports) == 1 and "Value gap analysis" in reports[0].read_text()
    assert "Traceback" not in done.stderr
    assert f"for {TINY} accounts" in done.stdout  # the variable reached vga sample


def tutorial_steps() -> list[tuple[str, str, str]]:
    """The tutorial of docs/analysts/notebooks.md: (kind, title, text) of
    each titled block, in order."""
    page = (ROOT / "docs" / "analysts" / "notebooks.md").read_text()
    return re.findall(r'```(\w+) title="([^"]+)"\n(.*?)```', page, re.S)


def _apply(step: tuple[str, str, str], work: Path, base: Path, env: dict) -> subprocess.CompletedProcess | None:
    """Do what one block of the tutorial says, as a reader would."""
    import nbformat

    kind, title, text = step
    if title == "terminal":
        where = base if "vga init" in text else work
        done = subprocess.run(["bash", "-c", "set -e\n" + text], cwd=where, env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, (text, done.stdout[-3000:], done.stderr[-3000:])
        return done
    if title.startswith("file "):
        path = work / title.split(" ", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    elif title.startswith("a new last cell of "):
        path = work / title.split(" of ", 1)[1].split(",")[0]
        book = nbformat.read(path, as_version=4)
        cell = nbformat.v4.new_code_cell(text.strip())
        cell.metadata["tags"] = ["analyst"]
        book.cells.append(cell)
        nbformat.write(book, path)
    elif re.match(r"notebooks/\d\d_\w+\.ipynb, cell \d", title):
        path = work / title.split(",")[0]
        book = nbformat.read(path, as_version=4) if path.is_file() else nbformat.v4.new_notebook()
        if "(Markdown)" in title:
            cell = nbformat.v4.new_markdown_cell(text.strip())
        else:
            cell = nbformat.v4.new_code_cell(text.strip())
            if "tagged parameters" in title:
                cell.metadata["tags"] = ["parameters"]
        book.cells.append(cell)
        assert len(book.cells) == int(title.split("cell ")[1].split()[0])  # numbered as the page says
        nbformat.write(book, path)
    elif title.startswith("in Python"):
        script = text + ("\nimport json\nprint(json.dumps({'nrr': run.figure('nrr'), 'figures': len(figures), "
                         "'quadrants': len(quadrants), 'verticals': churn_by_vertical['vertical'].tolist(), "
                         "'view': view.origin, 'shows': sorted(view.outputs)}))")
        done = subprocess.run(["python", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done
    else:
        raise AssertionError(f"the test does not know how to follow the tutorial's block {title!r}")
    return None


@pytest.mark.slow
def test_the_analysts_tutorial_runs_as_written_from_the_wheel(fresh_env, tmp_path):
    """docs/analysts/notebooks.md's tutorial, every block as written, in a
    vga init folder of the fresh environment: a chart cell of the analyst's
    own, an imported module, a node and a chapter notebook of the analyst's
    own all run and reach the report, marked as the analyst's; papermill in
    place is accepted; the run opens in Python. Then a broken cell stops the
    run naming the notebook and the cell as Jupyter counts it, and vga check
    lists every problem of a planted bad notebook."""
    import json

    import nbformat

    work = tmp_path / "my-vga"
    said = [_apply(step, work, tmp_path, fresh_env) for step in tutorial_steps()]
    assert len(said) >= 10
    report = (work / "reports" / "2026Q3" / "report.html").read_text()
    toc = re.search(r'<nav class="vga-toc">(.*?)</nav>', report, re.S).group(1)
    titles = [re.sub(r"<[^>]+>", "", a) for a in re.findall(r"<a [^>]*>.*?</a>", toc)]
    assert "Churn by vertical (analyst)" in titles
    # Placed by its number: after every chapter of the story, before the appendix.
    assert titles.index("Churn by vertical (analyst)") == titles.index("Appendix: Programme set-up") - 1
    section = report[report.index("Which verticals lost the most"):]
    section = section[:section.index("</section>")]
    assert "Added by the analyst" in report[report.index('class="vga-section vga-yours"'):][:2000]
    verticals = pd.read_csv(work / "reports" / "2026Q3" / "results" / "vertical_churn.csv")
    worst = verticals.sort_values("churn_rate", ascending=False).iloc[0]
    assert f"{worst['vertical']} churned {worst['churn_rate']:.1%} of {worst['decisions']} renewal decisions" in section
    decisions = pd.read_csv(work / "reports" / "2026Q3" / "results" / "decisions.csv")
    assert verticals["decisions"].sum() == len(decisions)  # the node's table adds up to the look-back's decisions
    # Both figures of the analyst's cells, once each, in the quadrant chapter, boxed as the analyst's.
    anchors = dict((re.sub(r"<[^>]+>", "", a), h) for h, a in re.findall(r'<a href="#([^"]+)"[^>]*>(.*?)</a>', toc))
    chapter = report[report.index(f'id="{anchors["The Usage-Health quadrant"]}"'):]
    chapter = chapter[:chapter.index("</section>")]
    for alt in ("ARR of the active accounts by quadrant (cell of my own)", "ARR by quadrant (module of my own)"):
        assert report.count(f'alt="{alt}') == 1 and chapter.count(f'alt="{alt}') == 1, alt
        box = chapter.rfind('<div class="vga-analyst">', 0, chapter.index(f'alt="{alt}'))
        assert box >= 0 and "Added by the analyst" in chapter[box:box + 200]
    last_run = said[-3].stdout  # the terminal block of step 5
    assert "1 of yours (12_vertical_churn.ipynb)" in last_run and "1 of yours (vertical_churn" in last_run
    assert "[vga] configuration: " in last_run and "is not read, as the data folder's comes first" in last_run
    facts = json.loads(said[-1].stdout.strip().splitlines()[-1])
    figures = pd.read_csv(work / "reports" / "2026Q3" / "results" / "figures.csv")
    assert facts["nrr"] == float(figures.set_index("name").loc["nrr", "value"])
    assert facts["verticals"] == verticals["vertical"].tolist() and facts["view"] == "run"
    assert "quadrants.csv" in facts["shows"]
    # The run's executed notebooks name the run's folder, and re-run from it.
    executed = work / "reports" / "2026Q3" / "notebooks" / "07_quadrant_view.ipynb"
    assert ".partial" not in executed.read_text() and str(work / "reports" / "2026Q3") in executed.read_text()
    again = subprocess.run(["papermill", str(executed), str(tmp_path / "again.ipynb")], cwd=work, env=fresh_env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    # A broken cell of the analyst's own: the run stops, naming the notebook and the cell as Jupyter counts it.
    path = work / "notebooks" / "07_quadrant_view.ipynb"
    book = nbformat.read(path, as_version=4)
    broken = nbformat.v4.new_code_cell("view['no_such_output.csv']")
    broken.metadata["tags"] = ["analyst"]
    book.cells.insert(len(book.cells) - 1, broken)
    nbformat.write(book, path)
    done = subprocess.run(["vga", "run", "--data", "data/sample", "--period", "2026Q3", "--force"], cwd=work,
                          env=fresh_env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stderr[-2000:]
    assert (f"notebook 07_quadrant_view ({path}) failed in cell {len(book.cells) - 1} (a cell of your own, "
            "tagged analyst): KeyError") in done.stderr
    assert "Churn by vertical (analyst)" in (work / "reports" / "2026Q3" / "report.html").read_text()  # untouched
    # vga check: every problem of a planted bad notebook, at once, numbered as Jupyter counts.
    bad = work / "notebooks" / "05_pattern_slicing.ipynb"
    book = nbformat.read(bad, as_version=4)
    book.cells.append(nbformat.v4.new_code_cell("import pandas as pd\nframe = pd.read_csv('x.csv')"))
    book.cells.append(nbformat.v4.new_raw_cell("raw"))
    book.cells.append(nbformat.v4.new_code_cell("show.slices(view)\n" * 6))
    nbformat.write(book, bad)
    mine = work / "notebooks" / "13_broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), mine)
    done = subprocess.run(["vga", "check"], cwd=work, env=fresh_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    n, bad, mine = len(book.cells), bad.relative_to(work), mine.relative_to(work)  # named as given: vga check's "."
    for line in (f"{bad}: cell {n - 2} imports pandas, from outside vga", f"{bad}: cell {n - 2} assigns something",
                 f"{bad}: cell {n - 1} is a raw cell", f"{bad}: cell {n} has 6 lines, more than 5",
                 f"{mine}: its first code cell must be the one cell tagged 'parameters'"):
        assert line in done.stdout, (line, done.stdout)
    assert "5 problems in 11 notebooks of the series, 2 of yours, 2 modules" in done.stderr
    assert "tag its cell 'analyst'" in done.stderr
