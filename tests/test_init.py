"""`vga init`: the working folder, its commented vga.toml, its notebooks;
where a run finds the series; the notebooks' default parameters."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from vga.config import DEFAULTS, load_config
from vga.errors import UsageError
from vga.notebook import resolve_data_dir
from vga.present import chapters
from vga.run.series import find_series, package_notebooks
from vga.run.workspace import init_folder, template
from vga.sample import write_sample

from .helpers import accounts

STEMS = [c.notebook for c in chapters().values()]


def vga(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "vga", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_the_commented_vga_toml_is_every_default_and_parses_as_is(tmp_path):
    """Uncommenting every setting line of the template gives the defaults
    exactly, and every default setting is there: the file a user fills in
    cannot drift from the code. (Lines under a commented-out section header,
    such as [sources.accounts], are examples to copy, not defaults.)"""
    text = template("vga.toml")
    defaults = load_config(None) | {"_file": str(tmp_path / "vga.toml"), "_source": "--config"}
    assert load_config(_written(tmp_path, text)) == defaults  # as shipped: all defaults
    lines, section, example, shown = [], "", False, set()
    for line in text.splitlines():
        if line.startswith("["):
            section = line.split("]")[0].strip("[")
            example = section == "quick_wins.playbook"
        elif line.startswith("# ["):
            example = True
        setting = re.match(r"# ([a-z_]+) = (.*?)(\s+#.*)?$", line)
        if setting and not example:
            lines.append(f"{setting.group(1)} = {setting.group(2)}")
            shown.add(f"{section}.{setting.group(1)}")
        else:
            lines.append(line)
    assert load_config(_written(tmp_path, "\n".join(lines))) == defaults
    expected = set()
    for section, values in DEFAULTS.items():
        for key, value in values.items():
            if (section, key) == ("usage", "weights"):
                expected |= {f"usage.weights.{k}" for k in value}
            elif (section, key) not in {("quick_wins", "playbook"), ("programme", "workstreams")}:
                expected.add(f"{section}.{key}")
    assert expected - shown == set()
    assert len(shown) > 40


def _written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vga.toml"
    path.write_text(text)
    return path


def test_init_writes_the_folder_and_refuses_one_in_use(tmp_path):
    work = tmp_path / "work"
    done = vga("init", work)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (work / "notebooks").glob("*.ipynb")) == [f"{s}.ipynb" for s in STEMS]
    assert (work / "vga.toml").read_text() == template("vga.toml")
    assert (work / "data").is_dir() and (work / "reports").is_dir() and "vga init" in (work / "README.md").read_text()
    (work / "data" / "mine.csv").write_text("kept")
    again = vga("init", work)
    assert again.returncode == 2 and "is not empty" in again.stderr and "Traceback" not in again.stderr
    forced = vga("init", work, "--force")
    assert forced.returncode == 0 and (work / "data" / "mine.csv").read_text() == "kept"
    file = tmp_path / "afile"
    file.write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        init_folder(file)


def test_a_run_takes_the_working_folders_notebooks_where_present(tmp_path):
    assert find_series(cwd=tmp_path) == ({s: package_notebooks() / f"{s}.ipynb" for s in STEMS}, [])
    repo = Path(__file__).resolve().parents[1]
    assert find_series(cwd=repo)[1] == []  # the repository's notebooks are the package's
    init_folder(tmp_path / "work")
    for stem in STEMS[1:]:
        (tmp_path / "work" / "notebooks" / f"{stem}.ipynb").unlink()
    series, local = find_series(cwd=tmp_path / "work")
    assert local == [STEMS[0]] and series[STEMS[0]] == tmp_path / "work" / "notebooks" / f"{STEMS[0]}.ipynb"
    assert all(series[s] == package_notebooks() / f"{s}.ipynb" for s in STEMS[1:])
    with pytest.raises(UsageError, match="no such folder"):
        find_series(tmp_path / "nowhere")
    with pytest.raises(UsageError, match="holds none of the series"):
        find_series(tmp_path)


def test_a_working_copy_with_logic_is_refused_before_any_data_is_read(tmp_path):
    """The shape the project's notebooks keep applies to a working folder's
    copy: a run refuses it (exit 2) naming the notebook and the cell, before
    the reports folder is made or a table read."""
    init_folder(tmp_path / "work")
    path = tmp_path / "work" / "notebooks" / "05_pattern_slicing.ipynb"
    book = nbformat.read(path, as_version=4)
    book.cells.append(nbformat.v4.new_code_cell("import pandas as pd\nframe = pd.read_csv('x.csv')"))
    nbformat.write(book, path)
    accounts(tmp_path / "data")
    done = vga("run", "--data", tmp_path / "data", "--period", "2026Q3", "--out", tmp_path / "reports",
               cwd=tmp_path / "work")
    assert done.returncode == 2, done.stderr
    assert "05_pattern_slicing.ipynb does not keep the series' shape" in done.stderr
    assert "imports pandas, from outside vga" in done.stderr and "tag its cell 'analyst'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "reports").exists() and "loading" not in done.stdout


@pytest.mark.slow
def test_a_run_says_it_uses_the_working_copy_and_the_report_shows_it(tmp_path):
    """A chapter's prose edited in the working folder reaches the report."""
    init_folder(tmp_path / "work")
    path = tmp_path / "work" / "notebooks" / "01_programme_setup.ipynb"
    book = nbformat.read(path, as_version=4)
    book.cells.insert(1, nbformat.v4.new_markdown_cell("Planted note 4711 from the working folder."))
    nbformat.write(book, path)
    write_sample(tmp_path / "work" / "data" / "sample", accounts=120, seed=3, minimal=True)
    done = vga("run", "--data", "data/sample", "--period", "2026Q3", cwd=tmp_path / "work")
    assert done.returncode == 0, done.stderr
    assert "notebooks: 10 of 11 from" not in done.stdout  # all 11 are in the folder
    assert "11 of 11 from" in done.stdout and "none from the package" in done.stdout
    assert "Planted note 4711" in (tmp_path / "work" / "reports" / "2026Q3" / "report.html").read_text()


def test_relative_data_folders_are_found_from_here_or_the_folder_above(tmp_path):
    (tmp_path / "data" / "sample").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    assert resolve_data_dir("data/sample", tmp_path) == str(tmp_path / "data" / "sample")
    assert resolve_data_dir("data/sample", tmp_path / "notebooks") == str(tmp_path / "data" / "sample")
    assert resolve_data_dir("elsewhere", tmp_path) == "elsewhere"  # named as missing by the loader
    assert resolve_data_dir("/abs/path", tmp_path) == "/abs/path"


@pytest.mark.parametrize("where", ["root", "notebooks"])
def test_a_notebooks_default_parameters_work_from_the_root_and_its_folder(tmp_path, where):
    """Plain papermill with no parameter, from the project root and from
    notebooks/: the default data_dir (data/sample) is found either way."""
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    write_sample(root / "data" / "sample", accounts=120, seed=3, minimal=True)
    shutil.copy(package_notebooks() / "02_data_gathering.ipynb", root / "notebooks")
    cwd = root if where == "root" else root / "notebooks"
    source = (root / "notebooks" / "02_data_gathering.ipynb").relative_to(cwd)
    done = subprocess.run([sys.executable, "-m", "papermill", str(source), str(tmp_path / "out.ipynb"), "-k", "python3"],
                          capture_output=True, text=True, cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    text = "".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("text", ""))
                   for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "120" in text  # the sample's 120 accounts were read


@pytest.mark.parametrize("command", [["run", "--period", "2026Q3", "--out", "reports"], ["validate"]])
def test_a_data_folder_that_is_not_there_is_a_usage_error_refused_first(tmp_path, command):
    """Exit 2 (the command names nothing), before a reports folder is made."""
    done = vga(command[0], "--data", tmp_path / "dta", *command[1:], cwd=tmp_path)
    assert done.returncode == 2 and "data folder" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "reports").exists()
