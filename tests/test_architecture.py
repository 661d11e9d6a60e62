"""The run's shape, held by tests: dependency directions, thin notebooks,
steps that declare what they write."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from vga import runner
from vga.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vga"

#: Modules that compute: they take frames and return frames.
ANALYSIS = ["retention", "usage", "scores", "quadrant", "slicing", "coverage", "inputs", "periods", "contract",
            "steps", "decisions", "compare", "themes", "voice", "quick_wins", "interventions", "journey", "spreadsheet",
            "redact", "survival", "early_warning", "models", "adoption", "money_at_risk", "words"]
#: What analysis must never depend on.
OUTER = {"load", "runner", "cli", "notebook", "kernels", "report", "present", "pipeline", "refresh"}


def _imports(path: Path) -> set[str]:
    """The vga modules ``path`` imports (first component after vga)."""
    tree = ast.parse(path.read_text())
    relative_to = path.relative_to(PACKAGE).parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = list(relative_to[:-1])[: len(relative_to) - node.level]
                parts = base + (node.module.split(".") if node.module else [])
                names = [parts[0]] if parts else [a.name for a in node.names]
                if not parts:
                    found.update(a.name for a in node.names)
                else:
                    found.update(names)
            elif node.module and node.module.startswith("vga."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("vga."))
    return found


def _files(module: str) -> list[Path]:
    folder = PACKAGE / module
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{module}.py"]


@pytest.mark.parametrize("module", ANALYSIS)
def test_analysis_never_imports_the_loader_runner_or_cli(module):
    for path in _files(module):
        bad = _imports(path) & OUTER
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_loader_imports_no_analysis():
    # spreadsheet: formula-safe CSV cells; privacy: contact details masked as tables load
    allowed = {"load", "contract", "config", "errors", "inputs", "spreadsheet", "privacy"}
    for path in _files("load"):
        bad = _imports(path) - allowed
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_import_check_sees_a_forbidden_import(tmp_path, monkeypatch):
    """The checker itself can fail: a planted import is found."""
    planted = PACKAGE / "steps" / "_planted_for_test.py"
    planted.write_text("from ..runner import run_period\n")
    try:
        assert "runner" in _imports(planted)
    finally:
        planted.unlink()


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
MAX_CODE_CELLS = 16
MAX_LINES_PER_CELL = 5


def test_every_step_with_a_notebook_has_one_and_every_notebook_a_step():
    stems = {p.stem for p in NOTEBOOKS}
    assert stems == {s.notebook for s in STEPS.values() if s.notebook}
    assert [s for s, _ in runner.SERIES] == sorted(stems)  # step order is file order


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin_and_committed_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "commit without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0], "one tagged parameters cell, the first code cell"
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant), \
            "parameters are literals with type hints"
    lines = tagged[0].source.splitlines()
    assert all("#" in line for line in lines), "every parameter has a comment"
    assert len(code) <= MAX_CODE_CELLS
    step = path.stem.split("_", 1)[1]
    opened = False
    for cell in code[1:]:
        assert len(cell.source.splitlines()) <= MAX_LINES_PER_CELL, cell.source
        for node in ast.parse(cell.source).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                assert all(a.name.startswith("vga") or (node.module or "").startswith("vga") for a in node.names)
                continue
            if isinstance(node, ast.Assign):  # only: view = open_step("<this step>", <parameters>)
                call = node.value
                assert isinstance(call, ast.Call) and getattr(call.func, "id", "") == "open_step", cell.source
                assert call.args[0].value == step
                opened = True
                continue
            assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Call), f"no logic in notebooks: {cell.source}"
            func = node.value.func
            assert isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "show", cell.source
            assert all(isinstance(a, ast.Name) for a in node.value.args), cell.source
    assert opened
    assert sum(c.cell_type == "markdown" for c in book.cells) >= 2, "prose for the reader"


def test_notebook_shape_check_rejects_logic(tmp_path):
    """The shape test can fail: a notebook with a loop does not pass."""
    book = nbformat.read(NOTEBOOKS[0], as_version=4)
    book.cells.append(nbformat.v4.new_code_cell("for x in range(3):\n    show.sources(view)"))
    bad = tmp_path / NOTEBOOKS[0].name
    nbformat.write(book, bad)
    with pytest.raises(AssertionError):
        test_notebook_is_thin_and_committed_without_outputs(bad)


def test_steps_declare_their_results_and_need_only_earlier_steps():
    names = [o.name for s in STEPS.values() for o in s.outputs]
    assert len(names) == len(set(names)), "each results file has one owner"
    for step in STEPS.values():
        for need in step.needs:
            assert need in STEPS
        for shown in step.shows:
            assert shown in names


def test_results_spec_files_have_owners():
    spec_files = {"summary.json", "quadrants.csv", "slices.csv"}
    assert spec_files <= {o.name for s in STEPS.values() for o in s.outputs}
    assert json  # keep import used for readers extending this file
