"""Where a run finds the notebook series, and the shape every notebook keeps.

The series ships inside the package (``vga/notebooks``, package data found
with :mod:`importlib.resources`), so an installed wheel runs from any folder.
An analyst's working folder made by ``vga init`` holds its own
``notebooks/`` copy: a run started there (or given ``--notebooks``) uses the
folder's copy of each chapter's notebook when present, the package's for the
rest, and says which. Whichever folder a notebook comes from, it must keep the
series' shape (:func:`shape_problems`): one tagged parameters cell of
literals, then only imports from ``vga``, ``view = open_chapter(...)`` and
``show.<block>(...)`` calls, each cell a few lines; logic belongs in the
package, where it is tested.
"""

from __future__ import annotations

import ast
import importlib.resources
from pathlib import Path

import nbformat

from ..errors import UsageError
from ..present import chapters

#: Code cells a notebook of the series may have, and lines per cell after the parameters.
MAX_CODE_CELLS = 16
MAX_LINES_PER_CELL = 5
#: The parameters every notebook of the series takes (papermill injects them).
PARAMETERS = ("data_dir", "period", "config", "run_dir", "reports_dir")


def package_notebooks() -> Path:
    """The folder of the series shipped with the package."""
    folder = importlib.resources.files("vga") / "notebooks"
    return Path(str(folder))


def find_series(notebooks: str | Path | None = None, cwd: str | Path | None = None) -> tuple[dict[str, Path], list[str]]:
    """Each chapter's notebook (stem -> path) for a run, and the stems taken
    from the working folder rather than the package.

    ``notebooks`` is the ``--notebooks`` folder; without it, ``<cwd>/notebooks``
    is used when it holds any of the series' notebooks (a ``vga init``
    folder). A chapter whose notebook the folder lacks comes from the
    package. Raises :class:`UsageError` when ``--notebooks`` names no folder
    or one without any of the series' notebooks."""
    shipped = package_notebooks()
    stems = [c.notebook for c in chapters().values()]
    series = {stem: shipped / f"{stem}.ipynb" for stem in stems}
    if notebooks is not None:
        folder = Path(notebooks)
        if not folder.is_dir():
            raise UsageError(f"--notebooks {folder}: no such folder; pass a folder made by vga init (its notebooks/)")
        if not any((folder / f"{stem}.ipynb").is_file() for stem in stems):
            raise UsageError(f"--notebooks {folder} holds none of the series' notebooks "
                             f"({stems[0]}.ipynb ... {stems[-1]}.ipynb); vga init DIR writes a copy to start from")
    else:
        folder = Path(cwd or Path.cwd()) / "notebooks"
        if not folder.is_dir() or folder.resolve() == shipped.resolve():
            return series, []
    local = [stem for stem in stems if (folder / f"{stem}.ipynb").is_file()]
    for stem in local:
        series[stem] = folder / f"{stem}.ipynb"
    for stem in local:
        problems = shape_problems(series[stem])
        if problems:
            raise UsageError(f"{series[stem]} does not keep the series' shape: {problems[0]}"
                             + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                             + "; move the logic into a module of your own or of vga, and call it from one line")
    return series, local


def shape_problems(path: str | Path, *, committed: bool = False) -> list[str]:
    """What in the notebook at ``path`` breaks the series' shape (empty when
    none). ``committed`` also asks for a notebook saved without outputs, as
    the project's own are committed."""
    path = Path(path)
    try:
        book = nbformat.read(path, as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        return [f"it cannot be read as a notebook ({type(exc).__name__})"]
    stem = path.stem
    problems: list[str] = []
    code = [c for c in book.cells if c.cell_type == "code"]
    if committed and any(c.get("outputs") or c.get("execution_count") is not None for c in code):
        problems.append("it is saved with outputs (clear them before committing)")
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1 or code[0] is not tagged[0]:
        return problems + ["its first code cell must be the one cell tagged 'parameters'"]
    params = _parse(tagged[0].source)
    if params is None:
        return problems + ["its parameters cell is not valid Python"]
    for node in params.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant)):
            problems.append("its parameters must be literals with type hints (name: str = \"...\")")
            break
    if not all("#" in line for line in tagged[0].source.splitlines()):
        problems.append("every parameter needs a comment saying what it is")
    if len(code) > MAX_CODE_CELLS:
        problems.append(f"it has {len(code)} code cells, more than {MAX_CODE_CELLS}")
    chapter = stem.split("_", 1)[1] if "_" in stem else stem
    opened = False
    for number, cell in enumerate(code[1:], start=2):
        where = f"code cell {number}"
        if len(cell.source.splitlines()) > MAX_LINES_PER_CELL:
            problems.append(f"{where} has {len(cell.source.splitlines())} lines, more than {MAX_LINES_PER_CELL}")
        tree = _parse(cell.source)
        if tree is None:
            problems.append(f"{where} is not valid Python")
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if not all(a.name.startswith("vga") or (getattr(node, "module", None) or "").startswith("vga")
                           for a in node.names):
                    problems.append(f"{where} imports from outside vga")
            elif isinstance(node, ast.Assign):
                call = node.value
                if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "open_chapter"
                        and call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value == chapter):
                    problems.append(f"{where} assigns something other than view = open_chapter({chapter!r}, ...)")
                else:
                    opened = True
            elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                  and isinstance(node.value.func, ast.Attribute) and getattr(node.value.func.value, "id", "") == "show"
                  and all(isinstance(a, ast.Name) for a in node.value.args)):
                continue
            else:
                problems.append(f"{where} holds logic (only imports, open_chapter and show.<block>(view) calls)")
    if not opened:
        problems.append(f"no cell opens its chapter: view = open_chapter({chapter!r}, data_dir, period, ...)")
    if sum(c.cell_type == "markdown" for c in book.cells) < 2:
        problems.append("it needs prose for the reader (at least two Markdown cells)")
    return problems


def _parse(source: str):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None
