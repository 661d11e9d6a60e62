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


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def find_series(notebooks: str | Path | None = None, cwd: str | Path | None = None,
                data_dir: str | Path | None = None) -> tuple[dict[str, Path], list[str]]:
    """Each chapter's notebook (stem -> path) for a run, and the stems taken
    from the working folder rather than the package.

    ``notebooks`` is the ``--notebooks`` folder; without it, ``<cwd>/notebooks``
    is used when it holds any of the series' notebooks (a ``vga init``
    folder). A chapter whose notebook the folder lacks comes from the
    package. Notebooks are code: a folder inside ``data_dir`` is never used
    (a data folder is data, whoever sent it): ``./notebooks`` there is
    passed over (:func:`passed_over` says so), and ``--notebooks`` there is
    refused. Raises :class:`UsageError` when ``--notebooks`` names no folder
    or one without any of the series' notebooks, and for a notebook that
    breaks the series' shape (every problem, numbered as Jupyter numbers
    cells)."""
    shipped = package_notebooks()
    stems = [c.notebook for c in chapters().values()]
    series = {stem: shipped / f"{stem}.ipynb" for stem in stems}
    if notebooks is not None:
        folder = Path(notebooks)
        if not folder.is_dir():
            raise UsageError(f"--notebooks {folder}: no such folder; pass a folder made by vga init (its notebooks/)")
        if _inside(folder, data_dir):
            raise UsageError(f"--notebooks {folder} lies inside the data folder {data_dir}: notebooks that come with "
                             "data are never run; copy the ones you have read and trust to a folder of your own "
                             "(vga init DIR makes one) and pass that")
        if not any((folder / f"{stem}.ipynb").is_file() for stem in stems):
            raise UsageError(f"--notebooks {folder} holds none of the series' notebooks "
                             f"({stems[0]}.ipynb ... {stems[-1]}.ipynb); vga init DIR writes a copy to start from")
    else:
        folder = Path(cwd or Path.cwd()) / "notebooks"
        if not folder.is_dir() or folder.resolve() == shipped.resolve() or _inside(folder, data_dir):
            return series, []
    local = [stem for stem in stems if (folder / f"{stem}.ipynb").is_file()]
    for stem in local:
        series[stem] = folder / f"{stem}.ipynb"
    for stem in local:
        problems = shape_problems(series[stem])
        if problems:
            raise UsageError(f"{series[stem]} does not keep the series' shape: " + "; ".join(problems)
                             + "; move the logic into a module of your own or of vga, and call it from one line")
    return series, local


def passed_over(cwd: str | Path | None, data_dir: str | Path | None) -> Path | None:
    """``<cwd>/notebooks`` when it holds notebooks but lies inside the data
    folder, so that :func:`find_series` did not use it (the run says so)."""
    folder = Path(cwd or Path.cwd()) / "notebooks"
    if folder.is_dir() and any(folder.glob("*.ipynb")) and _inside(folder, data_dir):
        return folder
    return None


def shape_problems(path: str | Path, *, committed: bool = False) -> list[str]:
    """What in the notebook at ``path`` breaks the series' shape (empty when
    none). ``committed`` also asks for a notebook saved without outputs, as
    the project's own are committed.

    Every node of every code cell's syntax tree is looked at, not only the
    statements: an argument of ``open_chapter`` or a keyword of a
    ``show.<block>`` call is a name of the parameters or a literal, never an
    expression that runs something."""
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
    raw = [i for i, c in enumerate(book.cells, start=1) if c.cell_type == "raw"]
    if raw:
        problems.append(f"cell {raw[0]} is a raw cell, which would reach the report unread (use Markdown)")
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if not code or len(tagged) != 1 or code[0] is not tagged[0]:
        return problems + ["its first code cell must be the one cell tagged 'parameters'"]
    params = _parse(tagged[0].source)
    if params is None:
        return problems + ["its parameters cell is not valid Python"]
    for node in params.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.annotation, ast.Name)):
            problems.append("its parameters must be literals with type hints (name: str = \"...\")")
            break
    if not all("#" in line for line in tagged[0].source.splitlines()):
        problems.append("every parameter needs a comment saying what it is")
    if len(code) > MAX_CODE_CELLS:
        problems.append(f"it has {len(code)} code cells, more than {MAX_CODE_CELLS}")
    chapter = stem.split("_", 1)[1] if "_" in stem else stem
    number = {id(c): i for i, c in enumerate(book.cells, start=1)}
    opened = False
    for cell in code[1:]:
        where = f"cell {number[id(cell)]}"
        if len(cell.source.splitlines()) > MAX_LINES_PER_CELL:
            problems.append(f"{where} has {len(cell.source.splitlines())} lines, more than {MAX_LINES_PER_CELL}")
        tree = _parse(cell.source)
        if tree is None:
            problems.append(f"{where} is not valid Python (or holds a magic or shell command)")
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if getattr(node, "level", 0) or not all(_is_vga(n) for n in names):
                    problems.append(f"{where} imports from outside vga")
            elif isinstance(node, ast.Assign):
                if not _opens(node, chapter):
                    problems.append(f"{where} assigns something other than view = open_chapter({chapter!r}, "
                                    "data_dir, period, config, run_dir, reports_dir)")
                else:
                    opened = True
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _shows(node.value):
                continue
            else:
                problems.append(f"{where} holds logic (only imports, open_chapter and show.<block>(view) calls)")
    if not opened:
        problems.append(f"no cell opens its chapter: view = open_chapter({chapter!r}, data_dir, period, ...)")
    if sum(c.cell_type == "markdown" for c in book.cells) < 2:
        problems.append("it needs prose for the reader (at least two Markdown cells)")
    return problems


def _is_vga(module: str) -> bool:
    return module == "vga" or module.startswith("vga.")


def _plain(node) -> bool:
    """A literal, or a name of the notebook's parameters or ``view``."""
    return (isinstance(node, ast.Constant) and not isinstance(node.value, bytes)) or (
        isinstance(node, ast.Name) and node.id in (*PARAMETERS, "view"))


def _opens(node: ast.Assign, chapter: str) -> bool:
    """``view = open_chapter("<chapter>", <parameters or literals>)``, nothing more."""
    call = node.value
    return (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "view"
            and isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "open_chapter"
            and bool(call.args) and isinstance(call.args[0], ast.Constant) and call.args[0].value == chapter
            and all(_plain(a) for a in call.args[1:]) and len(call.args) <= 1 + len(PARAMETERS)
            and all(k.arg in PARAMETERS and _plain(k.value) for k in call.keywords))


def _shows(call: ast.Call) -> bool:
    """``show.<block>(view, name=<literal>...)``: a public name of the
    chapter's presenter module, called with the view and literals only."""
    func = call.func
    return (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "show"
            and not func.attr.startswith("_") and all(_plain(a) for a in call.args)
            and all(k.arg is not None and _plain(k.value) for k in call.keywords))


def _parse(source: str):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None
