"""The run's shape, held by tests: the package's layers, thin notebooks,
nodes that declare what they write, chapters found without a list."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from vga.nodes import NODES
from vga.present import chapters, report_order
from vga.run.series import PARAMETERS, shape_problems

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vga"

#: The layers of the package, bottom to top (ARCHITECTURE.md draws them). A
#: module may import its own layer's modules and those of the layers below,
#: never above; "entry" modules are imported by nothing of the package.
LAYERS = {
    "foundation": {"errors", "contract", "periods", "words", "stats", "spreadsheet", "privacy", "textscan", "config", "settings",
                   "outputs", "engine",
                   "inputs", "sample", "limits", "credentials", "__init__"},
    "load": {"load"},
    "analysis": {"analysis"},
    "nodes": {"nodes"},
    "present": {"present"},
    "run": {"run"},
    "entry": {"notebook", "cli", "__main__"},
}
#: What each layer may import (besides its own modules).
MAY_IMPORT = {
    "foundation": {"foundation"},
    "load": {"foundation"},
    "analysis": {"foundation"},
    "nodes": {"foundation", "analysis"},
    "present": {"foundation", "analysis"},
    "run": {"foundation", "load", "analysis", "nodes", "present"},
    "entry": {"foundation", "load", "analysis", "nodes", "present", "run"},
}


def _layer(top: str) -> str:
    for layer, members in LAYERS.items():
        if top in members:
            return layer
    raise AssertionError(f"vga/{top} is in no layer: add it to LAYERS (and to ARCHITECTURE.md)")


def _imports(path: Path) -> set[str]:
    """The vga modules ``path`` imports, as dotted paths below vga
    ("analysis.retention", "stats"), at any depth of the file."""
    tree = ast.parse(path.read_text())
    here = list(path.relative_to(PACKAGE).with_suffix("").parts)
    package = here if here[-1] == "__init__" else here[:-1]
    if package and package[-1] == "__init__":
        package = package[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and (node.module + ".").startswith("vga."):
                target = node.module.split(".")[1:]
            else:
                continue
            if node.module is None or not target:
                for a in node.names:  # a module of the package, or a name its __init__ defines
                    where = PACKAGE.joinpath(*target, a.name)
                    is_module = where.with_suffix(".py").is_file() or where.is_dir()
                    found.add(".".join(target + [a.name]) if is_module else ".".join(target) or "__init__")
            else:
                found.add(".".join(target))
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("vga."))
    return {f for f in found if f}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_is_in_a_layer_and_imports_only_downward():
    for path in _modules():
        mine = _layer(path.relative_to(PACKAGE).parts[0].removesuffix(".py"))
        for target in _imports(path):
            theirs = _layer(target.split(".")[0])
            assert theirs == mine or theirs in MAY_IMPORT[mine], \
                f"{path.relative_to(ROOT)} ({mine}) imports vga.{target} ({theirs})"


def test_nodes_never_import_nodes():
    """Helpers nodes share live in vga.analysis: a node's module imports
    only the package's declarations (vga.nodes), never another node."""
    for path in (PACKAGE / "nodes").glob("*.py"):
        siblings = {t for t in _imports(path) if t.startswith("nodes.") or t == "nodes"}
        assert siblings <= {"nodes", "nodes.Context", "nodes.Node", "nodes.Output"}, \
            f"{path.relative_to(ROOT)} imports {sorted(siblings)}"


def test_the_loader_imports_no_analysis():
    for path in (PACKAGE / "load").rglob("*.py"):
        assert not {t for t in _imports(path) if t.split(".")[0] in ("analysis", "nodes", "run", "present")}, path


def test_import_check_sees_a_forbidden_import():
    """The checker itself can fail: planted imports upward and sideways are found."""
    planted = PACKAGE / "analysis" / "_planted_for_test.py"
    planted.write_text("from ..run.runner import run_period\nfrom ..nodes.retention import compute\n")
    try:
        assert {"run.runner", "nodes.retention"} <= _imports(planted)
        with pytest.raises(AssertionError, match=r"imports vga\.(run\.runner|nodes\.retention)"):
            test_every_module_is_in_a_layer_and_imports_only_downward()
    finally:
        planted.unlink()


def test_architecture_md_draws_these_layers():
    """ARCHITECTURE.md names every layer's folder or module, in this order."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    picture = text[text.index("## Layers"):]
    places = ["vga/load/", "vga/analysis/", "vga/nodes/", "vga/present/", "vga/run/"]
    at = [picture.index(p) for p in places]
    assert at == sorted(at)
    for module in sorted(LAYERS["foundation"] - {"sample"}):
        assert f"{module}.py" in picture, module


def test_no_duplicated_loader_constants():
    """The ISO shape, the redaction mark and the reason words live in one place."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if path.name in ("messages.py", "contract.py"):
            continue
        assert '"[redacted]"' not in text, path
        assert r"\d{4}-\d{2}-\d{2}" not in text, path
        assert "' is not among the accepted accounts" not in text, path


# --------------------------------------------------------------------------
# Notebooks: the .ipynb files are the source; each is held to its shape.

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_chapter_has_a_notebook_and_every_notebook_a_chapter():
    stems = {p.stem for p in NOTEBOOKS}
    assert stems == {c.notebook for c in chapters().values()}
    assert [c.notebook for c in chapters().values()] == sorted(stems)  # step order is file order
    assert [c.key for c in report_order()][0] == "executive_summary"  # the summary leads
    import importlib

    for chapter in chapters().values():
        assert chapter.node in NODES and chapter.notebook.split("_", 1)[1] == chapter.key
        assert importlib.import_module(chapter.presenter).CHAPTER.title == chapter.title


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin_and_committed_without_outputs(path):
    """The series' shape (vga.run.series.shape_problems, the check a run also
    applies to a working folder's copy) and no outputs in the commit."""
    problems = shape_problems(path, committed=True)
    assert problems == [], problems
    parameters = nbformat.read(path, as_version=4).cells
    names = [n.target.id for c in parameters if "parameters" in c.metadata.get("tags", [])
             for n in ast.parse(c.source).body]
    assert tuple(names) == PARAMETERS


@pytest.mark.parametrize("change, words", [
    (lambda b: b.cells.append(nbformat.v4.new_code_cell("for x in range(3):\n    show.sources(view)")), "holds logic"),
    (lambda b: b.cells.append(nbformat.v4.new_code_cell("import pandas as pd")), "from outside vga"),
    (lambda b: b.cells.append(nbformat.v4.new_code_cell("rows = view.frame('x').head()")), "assigns something other"),
    (lambda b: b.cells.append(nbformat.v4.new_code_cell("show.sources(view)\n" * 6)), "more than 5"),
    (lambda b: next(c for c in b.cells if c.cell_type == "code").metadata.update(tags=[]), "tagged 'parameters'"),
    (lambda b: next(c for c in b.cells if c.cell_type == "code").update(
        outputs=[nbformat.v4.new_output("stream", text="x")]), "saved with outputs"),
])
def test_notebook_shape_check_rejects_logic(tmp_path, change, words):
    """The shape check can fail: each way out of the shape is named."""
    book = nbformat.read(NOTEBOOKS[0], as_version=4)
    change(book)
    bad = tmp_path / NOTEBOOKS[0].name
    nbformat.write(book, bad)
    assert any(words in problem for problem in shape_problems(bad, committed=True)), shape_problems(bad, committed=True)
    with pytest.raises(AssertionError):
        test_notebook_is_thin_and_committed_without_outputs(bad)


def test_nodes_declare_their_results_and_chapters_show_only_declared_ones():
    names = [o.name for n in NODES.values() for o in n.outputs]
    assert len(names) == len(set(names)), "each results file has one owner"
    for node in NODES.values():
        assert set(node.needs) <= set(NODES), node.key
    for chapter in chapters().values():
        assert set(chapter.shows) <= set(names), chapter.key


def test_results_spec_files_have_owners():
    spec_files = {"summary.json", "quadrants.csv", "slices.csv"}
    assert spec_files <= {o.name for n in NODES.values() for o in n.outputs}
    assert json  # keep import used for readers extending this file


# --------------------------------------------------------------------------
# A chapter is one node, one presenter and one notebook: nothing else names it.

PLANTED_NODE = '''"""A node planted by the test: counts the accounts."""

from . import Context, Node, Output


def compute(run: Context, upstream: dict) -> dict:
    return {"planted.json": {"accounts": int(len(run.inputs.table("accounts")))}}


NODE = Node(key="planted", title="Planted", compute=compute,
            outputs=(Output("planted.json", "accounts counted by the planted node"),))
'''

PLANTED_PRESENTER = '''"""A chapter planted by the test."""

from . import Chapter
from .blocks import finding

CHAPTER = Chapter(number=12, title="A planted chapter", notebook="12_planted", node="planted")


def findings(view):
    return finding(f"The planted chapter counted {view['planted.json']['accounts']} accounts.")
'''


def _planted_notebook(path: Path) -> None:
    book = nbformat.read(ROOT / "notebooks" / "05_pattern_slicing.ipynb", as_version=4)
    parameters = next(c for c in book.cells if "parameters" in c.metadata.get("tags", []))
    book.cells = [
        nbformat.v4.new_markdown_cell("# A planted chapter"),
        parameters,
        nbformat.v4.new_code_cell("from vga.notebook import open_chapter\nfrom vga.present import planted as show\n\n"
                                  "view = open_chapter(\"planted\", data_dir, period, config, run_dir, reports_dir)"),
        nbformat.v4.new_code_cell("show.findings(view)"),
        nbformat.v4.new_markdown_cell("Planted by a test."),
    ]
    nbformat.write(book, path)


@pytest.mark.slow
def test_a_planted_chapter_reaches_the_report_with_no_list_edited(minimal_dir, tmp_path):
    """In a copy of the project, one new node, presenter and notebook: the
    run computes the node, executes the notebook and puts the chapter in the
    report, after the story's chapters and before the appendix, with the
    summary still first."""
    copy = tmp_path / "project"
    shutil.copytree(PACKAGE, copy / "vga", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "notebooks", copy / "notebooks")
    (copy / "vga" / "nodes" / "planted.py").write_text(PLANTED_NODE)
    (copy / "vga" / "present" / "planted.py").write_text(PLANTED_PRESENTER)
    _planted_notebook(copy / "notebooks" / "12_planted.ipynb")
    test_notebook_is_thin_and_committed_without_outputs(copy / "notebooks" / "12_planted.ipynb")
    env = {"PYTHONPATH": str(copy), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "HOME": str(tmp_path), "VGA_NOTEBOOK_WORKERS": "2"}
    done = subprocess.run([sys.executable, "-m", "vga", "run", "--data", str(minimal_dir), "--period", "2026Q3",
                           "--out", str(tmp_path / "reports")], cwd=copy, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    run = tmp_path / "reports" / "2026Q3"
    accounts = json.loads((run / "results" / "planted.json").read_text())["accounts"]
    page = (run / "report.html").read_text()
    assert f"The planted chapter counted {accounts} accounts." in page
    main = page[page.index("<main>"):]
    # the summary, the story, a chapter without a place in it, then the appendix (the method)
    headings = [main.index(title) for title in ("Executive summary", "Step 10 · The customer journey",
                                                "A planted chapter", "Appendix: how this analysis was run",
                                                "Step 1 · Programme set-up")]
    assert headings == sorted(headings)
    assert (run / "notebooks" / "12_planted.ipynb").is_file()


def test_a_step_without_a_chapter_is_named_in_the_report(monkeypatch):
    import vga.present as present

    monkeypatch.setattr(present, "_CHAPTERS", {k: c for k, c in chapters().items() if c.number != 6})
    assert present.missing_steps() == ["Step 6"]


def test_nodes_and_chapters_name_outputs_by_their_constants():
    """Every results/ file is named once (vga/outputs.py); a node or chapter
    that spells a name as a string could drift from it unseen."""
    import io
    import tokenize

    from vga import outputs

    names = {value for key, value in vars(outputs).items() if key.isupper()}
    assert names == {o.name for n in NODES.values() for o in n.outputs}  # one constant per output, no spare
    for folder in ("nodes", "present"):
        for path in (PACKAGE / folder).glob("*.py"):
            tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
            spelled = [t.string for t in tokens if t.type == tokenize.STRING and t.string.strip("\"'") in names]
            assert not spelled, f"{path.relative_to(ROOT)} spells {spelled}: use vga.outputs"
